"""N-8 for the batch forms on PostgreSQL: two batch-shipping imports of overlapping orders at once, taken in
opposite row orders, lock in one stable order (no deadlock) and ship each item once (S-1); the loser's
refused rows are named."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from merchants import services
from merchants.models import OrderEvent, OrderItem, Package
from tests.aftersales.test_concurrency import together
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (export DATABASE_URL=$(scripts/pg.sh start))")


def test_S1_N8_two_overlapping_batches_at_once_ship_each_item_once(shop, clerk):
    orders = []
    for n in range(20):
        order = OrderFactory(merchant=shop, order_no=f"O-RACE-{n}", items=0)
        OrderItemFactory(order=order, product=ProductFactory(merchant=shop), paid_amount=Decimal("10.00"))
        orders.append(order)
    items = {o.pk: o.items.get().pk for o in orders}

    def batch(order_list, prefix):
        lines = [
            services.ShipLine(
                order_id=o.pk, item_ids=[items[o.pk]], carrier="sf", tracking_no=f"SF{prefix}{n:08d}", key=n
            )
            for n, o in enumerate(order_list)
        ]
        return lambda: services.ship_many(lines, actor=clerk)

    results = together(batch(orders, "10"), batch(list(reversed(orders)), "20"))

    ok = [value for success, value in results if success]
    refused = [value for success, value in results if not success]
    assert len(ok) == 1 and len(refused) == 1  # all or nothing: one batch wins whole
    assert isinstance(refused[0], services.ShipRefused) and len(refused[0].refusals) == 20
    assert {error.code for _key, error in refused[0].refusals} == {"invalid_state"}  # already shipped
    assert Package.objects.count() == 20 and OrderEvent.objects.filter(kind="shipped").count() == 20
    assert not OrderItem.objects.filter(package__isnull=True).exists()


def test_S1_events_written_by_copy_match_the_insert_path(shop, clerk, monkeypatch):
    from merchants.kernel import events

    orders = []
    for n in range(4):
        order = OrderFactory(merchant=shop, order_no=f"O-COPY-{n}", items=0)
        OrderItemFactory(order=order, product=ProductFactory(merchant=shop), paid_amount=Decimal("10.00"))
        orders.append(order)

    def ship(pair, threshold):
        monkeypatch.setattr(events, "COPY_THRESHOLD", threshold)
        lines = [
            services.ShipLine(
                order_id=o.pk, item_ids=[o.items.get().pk], carrier="sf", tracking_no=f"SF{o.pk:010d}"
            )
            for o in pair
        ]
        services.ship_many(lines, actor=clerk)

    ship(orders[:2], 1)  # COPY
    ship(orders[2:], 10_000)  # INSERT

    def shape(order):
        event = OrderEvent.objects.get(order=order, kind="shipped")
        return (
            event.actor_id,
            event.actor_kind,
            event.source_status,
            event.target_status,
            tuple(sorted(event.params)),
        )

    assert {shape(o) for o in orders[:2]} == {shape(o) for o in orders[2:]}
    assert (
        OrderEvent.objects.get(order=orders[0], kind="shipped").data["tracking_no"]
        == f"SF{orders[0].pk:010d}"
    )
