"""STYLE rule 6 for orders (M-3, S-5): the system's move on one due order and the sweep leave the same rows.

Twin orders fall due together; one is moved by the Contract's service as the system (`cancel_order`,
`confirm_receipt` with actor=None), the other by the periodic task's sweep (the batch forms
auto_cancel_unpaid / auto_confirm_receipt). Every column of the order and its events must agree.
Before the deadline, the system's call is not the deadline's move and says so in its event.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from merchants import services, tasks
from merchants.models import ActorKind, Order, OrderEvent
from merchants.services import EventKind, ItemLine
from merchants.transitions import Carrier, OrderStatus
from tests.factories import OrderFactory, ProductFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)
IDENTITY = {"id", "order_no", "buyer_id", "buyer_name", "buyer_phone"}


def _unpaid(shop, n):
    return services.place_order(
        shop,
        order_no=f"P{n:010d}",
        buyer_id="B000001",
        buyer_name="张三",
        paid=False,
        lines=[ItemLine(product=ProductFactory(merchant=shop), quantity=1, paid_amount=Decimal("20.00"))],
    )


def _shipped(shop, clerk, n):
    order = OrderFactory(merchant=shop)
    services.ship(
        order, items=list(order.items.all()), carrier=Carrier.YTO, tracking_no=f"YT{n:010d}", actor=clerk
    )
    return Order.objects.get(pk=order.pk)


def _outcome(order: Order, since: int) -> dict:
    """The order's columns and the events written after event `since` (the move's, not the set-up's)."""
    order = Order.objects.get(pk=order.pk)
    return {
        "order": {
            f.attname: getattr(order, f.attname)
            for f in order._meta.concrete_fields
            if f.attname not in IDENTITY
        },
        "events": [
            (
                e.kind,
                e.params,
                e.actor_kind,
                e.actor_id,
                e.source_status,
                e.target_status,
                e.message,
                e.data,
                e.created_at,
            )
            for e in order.events.filter(pk__gt=since).order_by("pk")
        ],
    }


def _same(single, batch, since: int) -> dict:
    ours, theirs = _outcome(single, since), _outcome(batch, since)
    columns = {k: (v, theirs["order"][k]) for k, v in ours["order"].items() if v != theirs["order"][k]}
    assert not columns, columns  # (single, batch) of each column that differs
    assert ours == theirs
    return ours


def test_M3_rule6_system_cancel_and_sweep_leave_the_same_rows(shop):
    with time_machine.travel(T0, tick=False):
        single, batch = _unpaid(shop, 1), _unpaid(shop, 2)
    since = OrderEvent.objects.latest("pk").pk

    with time_machine.travel(T0 + timedelta(hours=24, minutes=1), tick=False):
        services.cancel_order(single, actor=None, reason="")
        assert tasks.cancel_unpaid_orders() == 1  # the twin only

    outcome = _same(single, batch, since)
    assert outcome["order"]["status"] == OrderStatus.CANCELLED
    [(kind, _params, actor_kind, *_rest)] = outcome["events"]
    assert (kind, actor_kind) == (EventKind.AUTO_CANCELLED, ActorKind.SYSTEM)


def test_S5_rule6_system_receipt_and_sweep_leave_the_same_rows(shop, clerk):
    with time_machine.travel(T0, tick=False):
        single, batch = _shipped(shop, clerk, 1), _shipped(shop, clerk, 2)
    since = OrderEvent.objects.latest("pk").pk

    with time_machine.travel(T0 + timedelta(days=15, minutes=1), tick=False):
        services.confirm_receipt(single, actor=None)
        assert tasks.auto_confirm_receipts() == 1  # the twin only

    outcome = _same(single, batch, since)
    assert outcome["order"]["status"] == OrderStatus.RECEIVED
    assert outcome["order"]["settlement_due_on"] is not None
    [(kind, _params, actor_kind, *_rest)] = outcome["events"]
    assert (kind, actor_kind) == (EventKind.AUTO_RECEIVED, ActorKind.SYSTEM)


def test_S5_system_receipt_before_the_period_is_a_plain_receipt(shop, clerk):
    # The system confirming on a logistics feed's word before the S-5 period is not the deadline's move.
    with time_machine.travel(T0, tick=False):
        order = _shipped(shop, clerk, 1)

    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        services.confirm_receipt(order, actor=None)

    event = order.events.latest("pk")
    assert (event.kind, event.actor_kind) == (EventKind.RECEIVED, ActorKind.SYSTEM)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RECEIVED


def test_M3_system_cancel_before_the_deadline_keeps_its_own_record(shop):
    with time_machine.travel(T0, tick=False):
        order = _unpaid(shop, 1)

    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        services.cancel_order(order, actor=None, reason="")

    event = order.events.latest("pk")
    assert (event.kind, event.actor_kind) == (EventKind.CANCELLED, ActorKind.SYSTEM)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
