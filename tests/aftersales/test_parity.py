"""STYLE rule 6 / A-5: the system's move on one due case and the sweep's batch form leave the same rows.

For every state the sweep acts on, two twin cases (same shop, same kind of order, same instant) fall
due together. One is moved by `services.on_deadline` — the single form: the case locked, the locked
step a person's move uses, the single-row effects. The other by `run_deadlines` — the batch form:
save_batch, one event INSERT, the batch effects. Then every column of the case, its events, its item,
its order and the order's events, the violations and notices it caused and the refund it queued must
be the same (ids and numbers aside).
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from aftersales import services
from aftersales.models import AfterSaleCase
from aftersales.tasks import run_deadlines
from aftersales.transitions import CaseStatus, CaseType
from merchants.models import Notice, Order, OrderItem, Violation
from merchants.transitions import OrderStatus, PaymentMethod
from tests.aftersales.factories import CaseFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
MINUTE = timedelta(minutes=1)

# (swept state, case type, payment, amount of a 100.00 item) -> the state both forms must reach
SCENARIOS = {
    "pending_refund_only": (CaseStatus.PENDING, CaseType.REFUND_ONLY, PaymentMethod.ONLINE, "50.00"),
    "pending_return_cod": (CaseStatus.PENDING, CaseType.RETURN_REFUND, PaymentMethod.COD, "50.00"),
    "negotiating": (CaseStatus.NEGOTIATING, CaseType.REFUND_ONLY, PaymentMethod.ONLINE, "50.00"),
    "rejected": (CaseStatus.REJECTED, CaseType.RETURN_REFUND, PaymentMethod.ONLINE, "50.00"),
    "awaiting_return": (CaseStatus.AWAITING_RETURN, CaseType.RETURN_REFUND, PaymentMethod.ONLINE, "50.00"),
    "return_in_transit": (
        CaseStatus.RETURN_IN_TRANSIT,
        CaseType.RETURN_REFUND,
        PaymentMethod.ONLINE,
        "50.00",
    ),
    "return_in_transit_exchange": (
        CaseStatus.RETURN_IN_TRANSIT,
        CaseType.EXCHANGE,
        PaymentMethod.ONLINE,
        "50.00",
    ),
    "awaiting_voucher_partial": (
        CaseStatus.AWAITING_VOUCHER,
        CaseType.REFUND_ONLY,
        PaymentMethod.COD,
        "30.00",
    ),
    # in full, before anything shipped: the item leaves shipping and the order closes (S-2)
    "awaiting_voucher_full": (CaseStatus.AWAITING_VOUCHER, CaseType.REFUND_ONLY, PaymentMethod.COD, "100.00"),
    "exchange_shipped": (CaseStatus.EXCHANGE_SHIPPED, CaseType.EXCHANGE, PaymentMethod.ONLINE, "50.00"),
    "arbitration": (CaseStatus.ARBITRATION, CaseType.RETURN_REFUND, PaymentMethod.ONLINE, "50.00"),
}
TARGETS = {
    "pending_refund_only": CaseStatus.REFUNDING,
    "pending_return_cod": CaseStatus.AWAITING_RETURN,
    "negotiating": CaseStatus.PENDING,
    "rejected": CaseStatus.CLOSED,
    "awaiting_return": CaseStatus.CLOSED,
    "return_in_transit": CaseStatus.REFUNDING,
    "return_in_transit_exchange": CaseStatus.RESHIPPING,
    "awaiting_voucher_partial": CaseStatus.REFUNDED,
    "awaiting_voucher_full": CaseStatus.REFUNDED,
    "exchange_shipped": CaseStatus.EXCHANGED,
    "arbitration": CaseStatus.ARBITRATION,
}
# Columns that name the case rather than describe what happened to it.
IDENTITY = {
    *("id", "case_no", "order_id", "item_id", "product_id", "order_no", "buyer_id", "buyer_name"),
    *("return_tracking_no", "reship_tracking_no"),  # the factory draws a parcel number per case
}


def _twin(shop, scenario):
    status, case_type, payment, amount = SCENARIOS[scenario]
    case = CaseFactory(
        merchant=shop, status=status, type=case_type, payment_method=payment, amount=Decimal(amount)
    )
    # The merchant's own clock later than the proposal's: a case back in pending is not due again.
    AfterSaleCase.objects.filter(pk=case.pk).update(merchant_deadline_at=T0 + timedelta(days=30))
    return case


def _outcome(case: AfterSaleCase, refund_queue: list[int]) -> dict:
    """Everything a move may have written about `case`, with the case's own ids and number taken out."""
    case = AfterSaleCase.objects.get(pk=case.pk)
    item = OrderItem.objects.get(pk=case.item_id)
    order = Order.objects.get(pk=case.order_id)

    def named(text: str) -> str:
        return text.replace(case.case_no, "<case>")

    return {
        "case": {
            f.attname: getattr(case, f.attname)
            for f in case._meta.concrete_fields
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
                e.amount,
                e.message,
                e.data,
                e.created_at,
            )
            for e in case.events.order_by("pk")
        ],
        "item": (item.aftersale_lock, item.refunded_amount, item.package_id is None),
        "order": (order.status, order.cancel_reason, order.deadline_at, order.cancelled_at),
        "order_events": [
            (e.kind, e.params, e.actor_kind, e.source_status, e.target_status, e.message, e.created_at)
            for e in order.events.order_by("pk")
        ],
        "violations": [
            (v.merchant_id, v.rule, v.points, v.source_type, v.episode, v.note, v.excluded, v.created_at)
            for v in Violation.objects.filter(source_id=case.pk).order_by("pk")
        ],
        "notices": [
            (
                n.kind,
                {k: v for k, v in n.params.items() if k not in ("case_id", "no")},  # the case's own
                n.audience,
                n.merchant_id,
                named(n.title),
                named(n.body),
                n.link,
                n.created_at,
            )
            for n in Notice.objects.filter(title__contains=case.case_no).order_by("pk")
        ],
        "refund_queued": refund_queue.count(case.pk),
    }


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_A5_rule6_single_move_and_sweep_leave_the_same_rows(
    scenario, shop, refund_queue, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False):
        single, batch = _twin(shop, scenario), _twin(shop, scenario)
    assert single.deadline_at == batch.deadline_at

    with time_machine.travel(single.deadline_at + MINUTE, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.on_deadline(single) is not None
        with django_capture_on_commit_callbacks(execute=True):
            assert run_deadlines() == 1  # the twin: the first one is no longer due

    ours, theirs = _outcome(single, refund_queue), _outcome(batch, refund_queue)
    columns = {k: (v, theirs["case"][k]) for k, v in ours["case"].items() if v != theirs["case"][k]}
    assert not columns, columns  # (single, batch) of each column that differs
    assert ours == theirs
    assert ours["case"]["status"] == TARGETS[scenario]
    assert len(ours["events"]) == 1  # the factory writes none: this is the move's own
    if scenario.startswith("awaiting_voucher"):
        assert len(ours["violations"]) == 1 and len(ours["notices"]) == 1
    if scenario == "awaiting_voucher_full":
        assert ours["order"][0] == OrderStatus.CANCELLED and ours["order_events"]
    if scenario == "arbitration":
        assert ours["case"]["escalated"] and len(ours["notices"]) == 1
    assert ours["refund_queued"] == (1 if TARGETS[scenario] == CaseStatus.REFUNDING else 0)


@pytest.mark.parametrize("scenario", ["pending_refund_only", "arbitration", "awaiting_voucher_full"])
def test_A5_on_deadline_twice_or_before_the_deadline_does_nothing(scenario, shop, refund_queue):
    with time_machine.travel(T0, tick=False):
        case = _twin(shop, scenario)

    with time_machine.travel(case.deadline_at - MINUTE, tick=False):
        assert services.on_deadline(case) is None
    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        assert services.on_deadline(case) is not None
        assert services.on_deadline(case) is None

    assert case.events.count() == 1
    assert Violation.objects.count() == (1 if scenario.startswith("awaiting_voucher") else 0)


# --------------------------------------------------------------------------------------------
# A-10 bulk approval: approve's batch form (the sweep's too), each case its own result and refund


def test_A10_rule6_bulk_approve_and_approve_leave_the_same_rows(
    shop, clerk, refund_queue, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False):
        singles = [_twin(shop, "pending_refund_only"), _twin(shop, "pending_return_cod")]
        batch = [_twin(shop, "pending_refund_only"), _twin(shop, "pending_return_cod")]

    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            for case in singles:
                services.approve(case, actor=clerk)
        with django_capture_on_commit_callbacks(execute=True):
            results = services.bulk_approve(batch, actor=clerk)

    assert [(r.case_id, r.case_no, r.ok) for r in results] == [(c.pk, c.case_no, True) for c in batch]
    for single, twin in zip(singles, batch, strict=True):
        ours, theirs = _outcome(single, refund_queue), _outcome(twin, refund_queue)
        assert ours == theirs
        assert ours["events"][0][2:4] == ("merchant", clerk.pk)  # the person, not the system
    assert refund_queue.count(batch[0].pk) == 1 and batch[1].pk not in refund_queue


def test_A10_bulk_approve_takes_the_same_queries_for_3_cases_as_for_12(shop, clerk, refund_queue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(n):
        cases = [_twin(shop, "pending_refund_only") for _i in range(n)]
        with CaptureQueriesContext(connection) as captured:
            results = services.bulk_approve(
                AfterSaleCase.objects.filter(pk__in=[c.pk for c in cases]), actor=clerk
            )
        assert all(r.ok for r in results) and len(results) == n
        return len(captured)

    queries(1)  # the first call also reads the clerk's roles and the settings row
    assert queries(3) == queries(12)


def test_A10_bulk_approve_refuses_bad_ids_and_repeats_without_undoing_the_others(shop, clerk, refund_queue):
    good = _twin(shop, "pending_refund_only")

    results = services.bulk_approve([good, "x", good.pk, 10**9], actor=clerk)

    assert [(r.case_id, r.ok) for r in results] == [(good.pk, True), (0, False), (10**9, False)]
    assert "无效的编号" in results[1].message and "不存在" in results[2].message
    assert AfterSaleCase.objects.get(pk=good.pk).status == CaseStatus.REFUNDING
    assert good.events.count() == 1


def test_A10_bulk_approve_whose_batch_write_fails_approves_each_case_on_its_own(
    shop, clerk, refund_queue, monkeypatch
):
    from django.db import DatabaseError

    from aftersales.services import cases as case_services

    cases = [_twin(shop, "pending_refund_only") for _i in range(3)]
    real = case_services.save_batch

    def failing_once(*args, **kwargs):
        monkeypatch.setattr(case_services, "save_batch", real)
        raise DatabaseError("the batch UPDATE failed")

    monkeypatch.setattr(case_services, "save_batch", failing_once)

    results = services.bulk_approve(cases, actor=clerk)

    assert [(r.case_id, r.case_no, r.ok) for r in results] == [(c.pk, c.case_no, True) for c in cases]
    for case in cases:
        assert AfterSaleCase.objects.get(pk=case.pk).status == CaseStatus.REFUNDING
        assert case.events.count() == 1  # the failed batch wrote nothing
