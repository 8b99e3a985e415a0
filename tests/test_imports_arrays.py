"""The array parameters of the set-based imports (`= ANY(%s::type[])`, issue 12 §6): typed, and exact."""

from __future__ import annotations

import pytest

from merchants.kernel.importing import any_of, any_sql
from merchants.models import Order, OrderItem, ShopDay
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_B3_array_parameters_are_typed_for_ids_and_text_and_left_alone_otherwise():
    # psycopg sends small ints as smallint[]: against a bigint column PostgreSQL then tests each row
    # against the whole array (20k ids: 0.6 s); bigint[] is hashed.
    assert any_sql(Order, "id").endswith("= ANY(%s::bigint[])")
    assert any_sql(OrderItem, "order_id").endswith("= ANY(%s::bigint[])")  # a foreign key: its target's type
    assert any_sql(Order, "order_no").endswith("= ANY(%s::text[])")
    assert any_sql(ShopDay, "day").endswith("= ANY(%s)")  # a date: the type psycopg gives the values


def test_B3_any_of_never_matches_a_value_cut_to_the_column_length(shop):
    # order_no is varchar(32): a varchar(32)[] cast would cut a 40-character number to an existing one.
    order = OrderFactory(merchant=shop, order_no="A" * 32, items=0)
    numbers = [row.order_no for row in any_of(Order.objects.all(), "order_no", ["A" * 40, "B"])]
    assert numbers == []
    assert [row.pk for row in any_of(Order.objects.all(), "order_no", ["A" * 32])] == [order.pk]
