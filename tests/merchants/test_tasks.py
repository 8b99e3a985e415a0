"""Periodic order tasks (M-3 unpaid cancel, S-5 auto receipt) and the deadline engine they share."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from merchants import services, tasks
from merchants.kernel import deadlines
from merchants.models import ActorKind, Merchant, Order, OrderEvent, PlatformSettings
from merchants.services import BUYER, EventKind, ItemLine
from merchants.transitions import Carrier, OrderStatus, PaymentMethod
from tests.factories import OrderFactory, ProductFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 20, 10, 0, tzinfo=SHANGHAI)  # a Friday


def _place(shop, *, paid=False, payment_method=PaymentMethod.ONLINE):
    return services.place_order(
        shop,
        order_no=f"T{Order.objects.count() + 1:010d}",
        buyer_id="B000009",
        buyer_name="王五",
        payment_method=payment_method,
        paid=paid,
        lines=[ItemLine(product=ProductFactory(merchant=shop), quantity=1, paid_amount=Decimal("20.00"))],
    )


def _shipped(shop, clerk, at):
    with time_machine.travel(at, tick=False):
        order = OrderFactory(merchant=shop)
        services.ship(
            order, items=list(order.items.all()), carrier=Carrier.YTO, tracking_no="YT1234567890", actor=clerk
        )
    order.refresh_from_db()
    return order


def _run(task, at):
    with time_machine.travel(at, tick=False):
        return task()


# --- M-3 cancel_unpaid_orders


def test_M3_unpaid_order_is_kept_until_24_hours_have_passed(shop):
    with time_machine.travel(T0, tick=False):
        order = _place(shop)

    changed = _run(tasks.cancel_unpaid_orders, T0 + timedelta(hours=23, minutes=59))

    order.refresh_from_db()
    assert changed == 0
    assert order.status == OrderStatus.UNPAID
    assert not order.events.filter(kind=EventKind.AUTO_CANCELLED).exists()


def test_M3_unpaid_order_is_cancelled_after_24_hours_by_the_system(shop):
    with time_machine.travel(T0, tick=False):
        order = _place(shop)
    now = T0 + timedelta(hours=24, minutes=1)

    changed = _run(tasks.cancel_unpaid_orders, now)

    order.refresh_from_db()
    assert changed == 1
    assert order.status == OrderStatus.CANCELLED
    assert order.cancelled_at == now
    assert order.deadline_at is None
    assert "超时未付款" in order.cancel_reason
    event = order.events.get(kind=EventKind.AUTO_CANCELLED)
    assert (event.actor, event.actor_kind, event.source_status, event.target_status, event.created_at) == (
        None,
        ActorKind.SYSTEM,
        OrderStatus.UNPAID,
        OrderStatus.CANCELLED,
        now,
    )


def test_M3_paid_and_cod_orders_are_not_cancelled(shop, clerk):
    with time_machine.travel(T0, tick=False):
        unpaid = _place(shop)
        paid_later = _place(shop)
        paid = _place(shop, paid=True)
        cod = _place(shop, payment_method=PaymentMethod.COD)
        cod_confirmed = _place(shop, payment_method=PaymentMethod.COD)
        services.confirm_cod(cod_confirmed, actor=clerk)
    with time_machine.travel(T0 + timedelta(hours=23), tick=False):
        services.pay_order(paid_later)
    untouched = [paid_later, paid, cod, cod_confirmed]
    before = {
        o.pk: (o.status, o.events.count()) for o in Order.objects.filter(pk__in=[o.pk for o in untouched])
    }

    changed = _run(tasks.cancel_unpaid_orders, T0 + timedelta(days=3))

    assert changed == 1
    assert Order.objects.get(pk=unpaid.pk).status == OrderStatus.CANCELLED
    after = {
        o.pk: (o.status, o.events.count()) for o in Order.objects.filter(pk__in=[o.pk for o in untouched])
    }
    assert after == before


def test_M3_cancel_task_run_twice_changes_nothing_the_second_time(shop):
    with time_machine.travel(T0, tick=False):
        orders = [_place(shop) for _ in range(3)]
    later = T0 + timedelta(hours=25)

    first = _run(tasks.cancel_unpaid_orders, later)
    second = _run(tasks.cancel_unpaid_orders, later + timedelta(minutes=1))

    assert (first, second) == (3, 0)
    assert OrderEvent.objects.filter(order__in=orders, kind=EventKind.AUTO_CANCELLED).count() == 3


def test_M3_payment_window_comes_from_platform_settings(shop):
    settings_ = PlatformSettings.load()
    settings_.unpaid_cancel_hours = 2
    settings_.save()
    with time_machine.travel(T0, tick=False):
        order = _place(shop)

    early = _run(tasks.cancel_unpaid_orders, T0 + timedelta(hours=1, minutes=59))
    late = _run(tasks.cancel_unpaid_orders, T0 + timedelta(hours=2, minutes=1))

    order.refresh_from_db()
    assert (early, late) == (0, 1)
    assert order.status == OrderStatus.CANCELLED


# --- S-5 auto_confirm_receipts


def test_S5_shipped_order_is_kept_until_15_days_have_passed(shop, clerk):
    order = _shipped(shop, clerk, T0)

    changed = _run(tasks.auto_confirm_receipts, T0 + timedelta(days=14, hours=23))

    order.refresh_from_db()
    assert changed == 0
    assert order.status == OrderStatus.SHIPPED
    assert order.received_at is None


@pytest.mark.parametrize(
    ("cycle", "due"),
    [
        # received Saturday 2026-04-04 10:01
        (Merchant.SettlementCycle.WEEKLY, date(2026, 4, 6)),
        (Merchant.SettlementCycle.HALF_MONTHLY, date(2026, 4, 16)),
        (Merchant.SettlementCycle.MONTHLY, date(2026, 5, 1)),
    ],
)
def test_S5_shipped_order_is_received_after_15_days_and_settles_next_cycle(shop, clerk, cycle, due):
    shop.settlement_cycle = cycle
    shop.save()
    order = _shipped(shop, clerk, T0)
    now = T0 + timedelta(days=15, minutes=1)

    changed = _run(tasks.auto_confirm_receipts, now)

    order.refresh_from_db()
    assert changed == 1
    assert order.status == OrderStatus.RECEIVED
    assert order.received_at == now
    assert order.deadline_at is None
    assert order.settlement_due_on == due
    event = order.events.get(kind=EventKind.AUTO_RECEIVED)
    assert (event.actor, event.actor_kind, event.source_status, event.target_status) == (
        None,
        ActorKind.SYSTEM,
        OrderStatus.SHIPPED,
        OrderStatus.RECEIVED,
    )


def test_S5_shops_with_different_cycles_settle_in_one_run(shop, other_shop, clerk, other_clerk):
    other_shop.settlement_cycle = Merchant.SettlementCycle.MONTHLY
    other_shop.save()
    weekly = _shipped(shop, clerk, T0)
    monthly = _shipped(other_shop, other_clerk, T0)

    changed = _run(tasks.auto_confirm_receipts, T0 + timedelta(days=15, minutes=1))

    weekly.refresh_from_db()
    monthly.refresh_from_db()
    assert changed == 2
    assert (weekly.settlement_due_on, monthly.settlement_due_on) == (date(2026, 4, 6), date(2026, 5, 1))


def test_S5_receipt_period_comes_from_the_platform_setting_at_shipping_time(shop, clerk):
    settings_ = PlatformSettings.load()
    settings_.auto_receive_days = 7
    settings_.save()
    order = _shipped(shop, clerk, T0)

    early = _run(tasks.auto_confirm_receipts, T0 + timedelta(days=6, hours=23))
    late = _run(tasks.auto_confirm_receipts, T0 + timedelta(days=7, minutes=1))

    assert (early, late) == (0, 1)
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED


def test_S5_partially_shipped_and_buyer_confirmed_orders_are_untouched(shop, clerk):
    with time_machine.travel(T0, tick=False):
        partial = OrderFactory(merchant=shop, items=2)
        services.ship(
            partial,
            items=[partial.items.first()],
            carrier=Carrier.SF,
            tracking_no="SF1234567890",
            actor=clerk,
        )
    confirmed = _shipped(shop, clerk, T0)
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        services.confirm_receipt(confirmed, actor=BUYER)

    changed = _run(tasks.auto_confirm_receipts, T0 + timedelta(days=30))

    partial.refresh_from_db()
    confirmed.refresh_from_db()
    assert changed == 0
    assert partial.status == OrderStatus.PARTIALLY_SHIPPED
    assert confirmed.received_at == T0 + timedelta(days=2)
    assert not OrderEvent.objects.filter(kind=EventKind.AUTO_RECEIVED).exists()


def test_S5_auto_confirm_run_twice_changes_nothing_the_second_time(shop, clerk):
    orders = [_shipped(shop, clerk, T0) for _ in range(3)]
    later = T0 + timedelta(days=16)

    first = _run(tasks.auto_confirm_receipts, later)
    second = _run(tasks.auto_confirm_receipts, later)

    assert (first, second) == (3, 0)
    assert OrderEvent.objects.filter(order__in=orders, kind=EventKind.AUTO_RECEIVED).count() == 3


def _order_selects(queries):
    # On PostgreSQL the id read is a server-side cursor: "DECLARE … CURSOR FOR SELECT …".
    return [q["sql"] for q in queries if "SELECT" in q["sql"] and 'FROM "merchants_order"' in q["sql"]]


def test_S5_auto_confirm_reads_only_due_rows(shop, clerk):
    # Two rounds with the same number of due orders; the second one among many more orders that are not due.
    for _ in range(2):
        _shipped(shop, clerk, T0)
    _shipped(shop, clerk, T0 + timedelta(days=10))  # due on day 25
    with CaptureQueriesContext(connection) as few_bystanders:
        first = _run(tasks.auto_confirm_receipts, T0 + timedelta(days=15, minutes=1))
    for _ in range(2):
        _shipped(shop, clerk, T0 + timedelta(days=1))
    OrderFactory.create_batch(
        15, merchant=shop, status=OrderStatus.SHIPPED, deadline_at=T0 + timedelta(days=40)
    )
    OrderFactory.create_batch(15, merchant=shop, status=OrderStatus.UNPAID, deadline_at=T0)  # due, other task
    OrderFactory.create_batch(15, merchant=shop, status=OrderStatus.TO_SHIP, deadline_at=None)

    with CaptureQueriesContext(connection) as many_bystanders:
        second = _run(tasks.auto_confirm_receipts, T0 + timedelta(days=16, minutes=1))

    assert (first, second) == (2, 2)
    assert len(many_bystanders) == len(few_bystanders)
    selects = _order_selects(many_bystanders.captured_queries)
    id_query, lock_query = selects
    assert 'SELECT "merchants_order"."id" AS "pk" FROM "merchants_order" WHERE' in id_query
    assert '"merchants_order"."status" = \'shipped\'' in id_query
    assert '"merchants_order"."deadline_at" <=' in id_query
    if connection.vendor == "postgresql":  # a row a person holds is skipped, never waited for
        assert "FOR UPDATE" in lock_query and "SKIP LOCKED" in lock_query
    for sql in selects:  # the lock query re-checks both too: never a read of all orders
        assert '"merchants_order"."status" = \'shipped\'' in sql
        assert '"merchants_order"."deadline_at" <=' in sql


def test_M3_cancel_task_reads_only_due_rows(shop, clerk):
    with time_machine.travel(T0, tick=False):
        _place(shop)
    with CaptureQueriesContext(connection) as few_bystanders:
        first = _run(tasks.cancel_unpaid_orders, T0 + timedelta(hours=25))
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        _place(shop)
    OrderFactory.create_batch(
        15, merchant=shop, status=OrderStatus.UNPAID, deadline_at=T0 + timedelta(days=9)
    )
    OrderFactory.create_batch(
        15, merchant=shop, status=OrderStatus.SHIPPED, deadline_at=T0
    )  # due, other task

    with CaptureQueriesContext(connection) as many_bystanders:
        second = _run(tasks.cancel_unpaid_orders, T0 + timedelta(hours=26))

    assert (first, second) == (1, 1)
    assert len(many_bystanders) == len(few_bystanders)
    for sql in _order_selects(many_bystanders.captured_queries):
        assert '"merchants_order"."status" = \'unpaid\'' in sql
        assert '"merchants_order"."deadline_at" <=' in sql


def test_M3_S5_the_sweeps_take_the_same_queries_for_more_due_orders(shop, other_shop, clerk, other_clerk):
    """No query per row: the due orders are loaded with what their moves read (SWEPT_ORDER_FIELDS), the
    shops' settlement cycles in one query; a field deferred and then read would cost one per order."""
    counts = []
    for round_, due in enumerate((2, 6)):
        start = T0 + timedelta(days=30 * round_)
        with time_machine.travel(start, tick=False):
            unpaid = [_place(shop) for _ in range(due)]
        shipped = [
            _shipped(shop if i % 2 else other_shop, clerk if i % 2 else other_clerk, start)
            for i in range(due)
        ]
        with CaptureQueriesContext(connection) as cancelling:
            assert _run(tasks.cancel_unpaid_orders, start + timedelta(hours=25)) == due
        with CaptureQueriesContext(connection) as receiving:
            assert _run(tasks.auto_confirm_receipts, start + timedelta(days=15, minutes=1)) == due
        counts.append((len(cancelling), len(receiving)))
        cancelled = Order.objects.filter(pk__in=[o.pk for o in unpaid])
        assert {o.status for o in cancelled} == {OrderStatus.CANCELLED}
        assert all(o.cancelled_at and o.cancel_reason for o in cancelled)
        received = Order.objects.filter(pk__in=[o.pk for o in shipped])
        assert {o.status for o in received} == {OrderStatus.RECEIVED}
        assert all(o.settlement_due_on and o.received_at and o.deadline_at is None for o in received)
        assert OrderEvent.objects.filter(order__in=received, kind=EventKind.AUTO_RECEIVED).count() == due
    assert counts[0] == counts[1]  # 2 due or 6 due: the same queries


# --- The deadline engine (merchants/deadlines.py)


def _unpaid_due(shop, count):
    with time_machine.travel(T0, tick=False):
        return [_place(shop) for _ in range(count)]


def test_deadline_engine_falls_back_row_by_row_when_a_batch_fails(shop):
    orders = _unpaid_due(shop, 4)
    bad = orders[1]
    calls = []

    def handler(rows, now):
        calls.append([row.pk for row in rows])
        changed = services.auto_cancel_unpaid(rows, now)  # writes, then the batch fails: all of it rolls back
        if any(row.pk == bad.pk for row in rows):
            raise RuntimeError("a row the handler cannot digest")
        return changed

    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        changed = deadlines.run_sweeps(
            [deadlines.Sweep("unpaid", Order.objects.filter(status=OrderStatus.UNPAID), handler)],
            now=timezone.now(),
            batch=3,
        ).changed

    assert changed == 3
    statuses = dict(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("pk", "status"))
    assert statuses == {o.pk: OrderStatus.UNPAID if o == bad else OrderStatus.CANCELLED for o in orders}
    assert not bad.events.filter(kind=EventKind.AUTO_CANCELLED).exists()
    for order in orders:
        if order != bad:
            assert order.events.filter(kind=EventKind.AUTO_CANCELLED).count() == 1
    # the failing batch of 3, then its rows one by one, then the untouched second batch
    assert calls[0] == [o.pk for o in orders[:3]]
    assert sorted(calls[1:4]) == sorted([[o.pk] for o in orders[:3]])
    assert calls[4] == [orders[3].pk]


def test_deadline_engine_skips_rows_no_longer_due_at_lock_time(shop, monkeypatch):
    paid_meanwhile, extended, due = _unpaid_due(shop, 3)
    read_ids = deadlines.due_ids

    def racing_due_ids(queryset, *, now, **kwargs):
        chunks = list(read_ids(queryset, now=now, **kwargs))
        # Between reading the ids and locking them, the buyer pays one order and another gets more time.
        services.pay_order(paid_meanwhile)
        Order.objects.filter(pk=extended.pk).update(deadline_at=now + timedelta(hours=1))
        yield from chunks

    monkeypatch.setattr(deadlines, "due_ids", racing_due_ids)

    changed = _run(tasks.cancel_unpaid_orders, T0 + timedelta(days=2))

    assert changed == 1
    statuses = dict(
        Order.objects.filter(pk__in=[o.pk for o in (paid_meanwhile, extended, due)]).values_list(
            "pk", "status"
        )
    )
    assert statuses == {
        paid_meanwhile.pk: OrderStatus.TO_SHIP,
        extended.pk: OrderStatus.UNPAID,
        due.pk: OrderStatus.CANCELLED,
    }
    assert OrderEvent.objects.filter(kind=EventKind.AUTO_CANCELLED).count() == 1


def test_deadline_engine_hands_rows_over_in_batches_oldest_first(shop):
    with time_machine.travel(T0, tick=False):
        newer = _place(shop)
    with time_machine.travel(T0 - timedelta(hours=3), tick=False):
        older = [_place(shop), _place(shop)]
    seen = []

    def handler(rows, now):
        seen.append([row.pk for row in rows])
        return len(rows)

    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        changed = deadlines.run_sweeps(
            [deadlines.Sweep("unpaid", Order.objects.filter(status=OrderStatus.UNPAID), handler)],
            now=timezone.now(),
            batch=2,
        ).changed

    assert changed == 3
    assert [sorted(chunk) for chunk in seen] == [sorted(o.pk for o in older), [newer.pk]]


def test_deadline_engine_save_batch_writes_each_rows_values_in_one_update(shop, clerk, monkeypatch):
    orders = OrderFactory.create_batch(5, merchant=shop)
    others = OrderFactory.create_batch(2, merchant=shop, cancel_reason="原样")
    for order, reason in zip(orders, ["甲", "乙", "丙", "", "甲"], strict=True):
        order.cancel_reason = reason
    orders[1].deadline_at = None  # a column of mixed NULLs keeps its type (PostgreSQL casts the first row)
    orders[2].deadline_at = T0

    with CaptureQueriesContext(connection) as ctx:
        deadlines.save_batch(orders, ["cancel_reason", "deadline_at"])

    assert len([q for q in ctx.captured_queries if "UPDATE" in q["sql"]]) == 1
    saved = dict(Order.objects.values_list("pk", "cancel_reason"))
    assert [saved[o.pk] for o in orders] == ["甲", "乙", "丙", "", "甲"]
    assert [saved[o.pk] for o in others] == ["原样", "原样"]
    due = dict(Order.objects.values_list("pk", "deadline_at"))
    assert (due[orders[1].pk], due[orders[2].pk]) == (None, T0)

    # SQLite binds every value: beyond SAVE_BATCH_ROWS rows a batch takes one more statement.
    # PostgreSQL binds one array per column: one statement whatever the rows.
    monkeypatch.setattr(deadlines, "SAVE_BATCH_ROWS", 2)
    with CaptureQueriesContext(connection) as ctx:
        deadlines.save_batch(orders, ["cancel_reason"])
    expected = 1 if connection.vendor == "postgresql" else 3
    assert len([q for q in ctx.captured_queries if "UPDATE" in q["sql"]]) == expected


def test_deadline_engine_reads_the_deadline_field_it_is_given(shop):
    # Tickets sweep on `due_at`; any indexed datetime column works the same way (here: the ship-by time).
    late = OrderFactory.create_batch(2, merchant=shop, status=OrderStatus.TO_SHIP, ship_by=T0)
    OrderFactory(merchant=shop, status=OrderStatus.TO_SHIP, ship_by=T0 + timedelta(days=2))
    OrderFactory(merchant=shop, status=OrderStatus.TO_SHIP, ship_by=None, deadline_at=T0)
    seen = []

    def handler(rows, now):
        seen.extend(row.pk for row in rows)
        return len(rows)

    run = deadlines.run_sweeps(
        [deadlines.Sweep("late", Order.objects.filter(status=OrderStatus.TO_SHIP), handler, "ship_by")],
        now=T0 + timedelta(hours=1),
    )

    assert (run.changed, run.resume) == (2, None)
    assert sorted(seen) == sorted(o.pk for o in late)


# --- Bounded beat runs (issue 6 §5): the beat passes a limit, the task re-queues itself for the rest


def _chain(task, django_capture_on_commit_callbacks, monkeypatch, at, **kwargs) -> list[int]:
    """Run `task` as its beat entry does, then every follow-up it queues; what each run changed."""
    queued: list[dict] = []
    monkeypatch.setattr(task, "apply_async", lambda *args, **options: queued.append(options["kwargs"]))
    changed = []
    with time_machine.travel(at, tick=False):
        while True:
            with django_capture_on_commit_callbacks(execute=True):
                changed.append(task(**kwargs))
            if not queued:
                return changed
            kwargs = queued.pop()


def test_M3_bounded_run_and_its_follow_ups_cancel_every_due_order_exactly_once(
    shop, django_capture_on_commit_callbacks, monkeypatch
):
    orders = _unpaid_due(shop, 5)

    changed = _chain(
        tasks.cancel_unpaid_orders,
        django_capture_on_commit_callbacks,
        monkeypatch,
        T0 + timedelta(days=2),
        limit=2,
    )

    assert changed == [2, 2, 1]
    for order in orders:
        assert order.events.filter(kind=EventKind.AUTO_CANCELLED).count() == 1
    assert not Order.objects.filter(status=OrderStatus.UNPAID).exists()


def test_S5_bounded_run_and_its_follow_up_confirm_every_due_order_exactly_once(
    shop, clerk, django_capture_on_commit_callbacks, monkeypatch
):
    orders = [_shipped(shop, clerk, T0) for _ in range(3)]

    changed = _chain(
        tasks.auto_confirm_receipts,
        django_capture_on_commit_callbacks,
        monkeypatch,
        T0 + timedelta(days=16),
        limit=2,
    )

    assert changed == [2, 1]
    assert OrderEvent.objects.filter(order__in=orders, kind=EventKind.AUTO_RECEIVED).count() == 3


def test_bounded_run_that_took_the_last_due_row_queues_nothing(
    shop, django_capture_on_commit_callbacks, monkeypatch
):
    _unpaid_due(shop, 2)

    changed = _chain(
        tasks.cancel_unpaid_orders,
        django_capture_on_commit_callbacks,
        monkeypatch,
        T0 + timedelta(days=2),
        limit=2,
    )

    assert changed == [2]


def test_beat_entries_of_the_sweeps_pass_the_limit_and_sync_writes_it(settings, db):
    import json

    from django_celery_beat.models import PeriodicTask

    from merchants.kernel.beat import sync_beat_schedule

    sweeps = ("merchants.cancel_unpaid_orders", "merchants.auto_confirm_receipts", "aftersales.run_deadlines")
    for name in sweeps:
        assert settings.SHOUHOU_BEAT_SCHEDULE[name]["kwargs"] == {"limit": settings.SHOUHOU_SWEEP_LIMIT}
    PeriodicTask.objects.filter(name=sweeps[0]).update(kwargs="{}")  # a task made before it had kwargs

    sync_beat_schedule()

    for name in sweeps:
        assert json.loads(PeriodicTask.objects.get(name=name).kwargs) == {
            "limit": settings.SHOUHOU_SWEEP_LIMIT
        }
    assert json.loads(PeriodicTask.objects.get(name="merchants.nightly").kwargs) == {}
