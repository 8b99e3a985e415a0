"""The array parameters of the set-based imports (`= ANY(%s::type[])`, issue 12 §6): typed, and exact."""

from __future__ import annotations

import datetime

import pytest

from merchants.kernel.importing import any_of
from merchants.models import Order, OrderItem, ShopDay
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_B3_array_parameters_are_typed_for_ids_text_and_dates():
    """psycopg sends small ints as smallint[]: against a bigint column PostgreSQL then tests each row against
    the whole array (20k ids: 0.6 s); the `__any` lookup casts to the column's own type (bigint[]), without a
    length (varchar[], never varchar(32)[])."""
    from django.db import connection

    def sql(queryset):
        return queryset.query.get_compiler(connection=connection).as_sql()[0]

    if connection.vendor != "postgresql":
        assert "json_each" in sql(Order.objects.filter(pk__any=[1]))
        return
    assert "= ANY(%s::bigint[])" in sql(Order.objects.filter(pk__any=[1]))
    assert "= ANY(%s::bigint[])" in sql(
        OrderItem.objects.filter(order_id__any=[1])
    )  # a foreign key: its target's
    assert "= ANY(%s::varchar[])" in sql(Order.objects.filter(order_no__any=["A"]))
    assert "= ANY(%s::date[])" in sql(ShopDay.objects.filter(day__any=[datetime.date(2026, 5, 1)]))


def test_B3_any_of_never_matches_a_value_cut_to_the_column_length(shop):
    # order_no is varchar(32): a varchar(32)[] cast would cut a 40-character number to an existing one.
    order = OrderFactory(merchant=shop, order_no="A" * 32, items=0)
    numbers = [row.order_no for row in any_of(Order.objects.all(), "order_no", ["A" * 40, "B"])]
    assert numbers == []
    assert [row.pk for row in any_of(Order.objects.all(), "order_no", ["A" * 32])] == [order.pk]
