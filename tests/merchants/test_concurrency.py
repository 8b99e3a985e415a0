"""N-8 on PostgreSQL: two actors (people, or a person and a sweep) at the same moment make one change.

Each actor runs in its own thread with its own connection; a barrier releases them together, and a
short pause inside the writing transaction makes sure the second one arrives while the first still
holds its row locks.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone

from merchants import selectors, services, tasks
from merchants.models import Order, OrderEvent, Package
from merchants.services import BUYER, EventKind
from merchants.transitions import Carrier, OrderStatus
from tests.factories import OrderFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (DATABASE_URL)"),
]


def _race(*calls, timeout=30):
    """Run the calls in threads released together; returns each call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=timeout)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001  (the refusal is the outcome under test)
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a racer is stuck (deadlock?)"
    return outcomes


@pytest.fixture
def slow_writes(monkeypatch):
    """Hold the row locks a little longer: the other racer must arrive while the first is still writing."""
    record, bulk_record = services.record_event, services.record_events

    def slow_record(*args, **kwargs):
        time.sleep(0.3)
        return record(*args, **kwargs)

    def slow_bulk_record(*args, **kwargs):
        time.sleep(0.3)
        return bulk_record(*args, **kwargs)

    monkeypatch.setattr(services, "record_event", slow_record)
    monkeypatch.setattr(services, "record_events", slow_bulk_record)


def _fresh_user(user):
    return type(user).objects.get(pk=user.pk)  # one object per thread: roles are cached on the user


def test_S1_N8_two_people_shipping_the_same_item_at_once_make_one_package(shop, clerk, owner, slow_writes):
    order = OrderFactory(merchant=shop, items=2)
    item = order.items.order_by("pk").first()

    outcomes = _race(
        lambda: services.ship(
            order, items=[item.pk], carrier=Carrier.SF, tracking_no="SF1111111111", actor=_fresh_user(clerk)
        ),
        lambda: services.ship(
            order, items=[item.pk], carrier=Carrier.ZTO, tracking_no="ZT2222222222", actor=_fresh_user(owner)
        ),
    )

    packages = [o for o in outcomes if isinstance(o, Package)]
    refusals = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(packages), len(refusals)) == (1, 1), outcomes
    assert "不能拆分到多个运单" in " ".join(refusals[0].messages)
    assert Package.objects.filter(order=order).count() == 1
    item.refresh_from_db()
    assert item.package == packages[0]
    assert OrderEvent.objects.filter(order=order, kind=EventKind.SHIPPED).count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PARTIALLY_SHIPPED


def test_S1_N8_two_people_shipping_the_whole_order_at_once_make_one_package(shop, clerk, owner, slow_writes):
    order = OrderFactory(merchant=shop, items=2)
    items = list(order.items.values_list("pk", flat=True))

    outcomes = _race(
        lambda: services.ship(
            order, items=items, carrier=Carrier.SF, tracking_no="SF1111111111", actor=_fresh_user(clerk)
        ),
        lambda: services.ship(
            order, items=items, carrier=Carrier.SF, tracking_no="SF1111111111", actor=_fresh_user(owner)
        ),
    )

    refusals = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(refusals) == 1, outcomes
    assert "已发货" in " ".join(refusals[0].messages)  # the order moved on: a clear message, not a 500
    assert Package.objects.filter(order=order).count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED


@pytest.mark.parametrize("round_", range(3))
def test_S5_N8_auto_confirm_and_buyer_confirming_at_once_record_one_receipt(shop, clerk, slow_writes, round_):
    order = OrderFactory(merchant=shop)
    services.ship(
        order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )
    Order.objects.filter(pk=order.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))

    task_changed, person = _race(
        tasks.auto_confirm_receipts,
        lambda: services.confirm_receipt(order, actor=BUYER),
    )

    events = OrderEvent.objects.filter(order=order, kind__in=[EventKind.RECEIVED, EventKind.AUTO_RECEIVED])
    assert events.count() == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.RECEIVED
    if task_changed == 1:  # the sweep won: the buyer is told the order is already received
        assert isinstance(person, ValidationError), person
        assert "已收货" in " ".join(person.messages)
        assert events.get().kind == EventKind.AUTO_RECEIVED
    else:  # the buyer won: the sweep skipped the locked row (or found it no longer shipped)
        assert task_changed == 0
        assert isinstance(person, Order), person
        assert events.get().kind == EventKind.RECEIVED


def test_S5_N3_two_sweeps_at_once_receive_each_order_once(shop, clerk, slow_writes):
    orders = []
    for _ in range(12):
        order = OrderFactory(merchant=shop)
        services.ship(
            order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
        )
        orders.append(order)
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        deadline_at=timezone.now() - timedelta(minutes=1)
    )

    first, second = _race(tasks.auto_confirm_receipts, tasks.auto_confirm_receipts)

    assert first + second == 12, (first, second)
    assert OrderEvent.objects.filter(kind=EventKind.AUTO_RECEIVED).count() == 12
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.RECEIVED}


@pytest.mark.parametrize("round_", range(3))
def test_M3_buyer_paying_while_the_sweep_cancels_ends_in_one_state(shop, slow_writes, round_):
    order = OrderFactory(
        merchant=shop, status=OrderStatus.UNPAID, deadline_at=timezone.now() - timedelta(minutes=1)
    )

    task_changed, payment = _race(tasks.cancel_unpaid_orders, lambda: services.pay_order(order))

    order.refresh_from_db()
    kinds = list(order.events.values_list("kind", flat=True))
    if task_changed == 1:
        assert isinstance(payment, ValidationError), payment
        assert order.status == OrderStatus.CANCELLED
        assert kinds == [EventKind.AUTO_CANCELLED]
    else:
        assert isinstance(payment, Order), payment
        assert order.status == OrderStatus.TO_SHIP
        assert kinds == [EventKind.PAID]


def test_S5_sweep_skips_a_row_a_person_is_holding_and_takes_it_next_run(shop, clerk):
    order = OrderFactory(merchant=shop)
    services.ship(
        order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )
    Order.objects.filter(pk=order.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                selectors.order_for_update(order.pk, actor=None)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert locked.wait(10)
    started = time.monotonic()
    while_held = tasks.auto_confirm_receipts()
    waited = time.monotonic() - started
    release.set()
    holder.join(10)

    after_release = tasks.auto_confirm_receipts()

    assert (while_held, after_release) == (0, 1)
    assert waited < 5  # skipped, not blocked behind the person's lock
    assert OrderEvent.objects.filter(order=order, kind=EventKind.AUTO_RECEIVED).count() == 1
