"""A-5: what the system does to a batch of locked, due cases — one handler per waiting state.

merchants.kernel.deadlines.sweep hands each handler the due rows of one state, locked FOR UPDATE SKIP LOCKED.
A handler re-checks every row (can_proceed), runs the same FSM transition a person would, saves the rows
with save_batch, writes the system events in one INSERT, and schedules refunds on commit. It never waits
for a lock: the order and item rows it must touch are taken SKIP LOCKED too, and a case whose order or
item a person holds right now is left for the next run (so the person wins, and nobody deadlocks).
Returns how many cases changed. No query per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Case, F, QuerySet, Value, When
from django.utils.translation import gettext as _

from aftersales.models import AfterSaleCase, AftersalesSettings
from aftersales.registrations import ADVANCE_PAID, ESCALATED
from aftersales.services._common import Kind, bulk_record, publish_refunds
from aftersales.tasks import refund_batch_task
from aftersales.transitions import CaseStatus
from merchants.kernel.deadlines import save_batch
from merchants.kernel.workflow import can_proceed
from merchants.models import Notice, Order, OrderItem, Violation
from merchants.services import resettle_shipping
from merchants.transitions import AftersaleLock

VOUCHER_TIMEOUT_RULE = "aftersales_voucher_timeout"
VOUCHER_TIMEOUT_POINTS = 2
VIOLATION_SOURCE = AfterSaleCase._meta.label_lower

Handler = Callable[..., int]


# What each state's transition reads besides the case row (joined in the locking query: no lazy loads).
RELATED = {
    CaseStatus.PENDING: ("order", "item"),  # approve: payment method (target), refundable amount (condition)
    CaseStatus.RETURN_IN_TRANSIT: ("order",),  # confirm_return: payment method
    CaseStatus.AWAITING_VOUCHER: ("order", "item"),  # pay_in_advance: cod check, the item's refund
}
# The columns the handlers read (the transitions only *write* the others). Loading ~20 of the case's ~45
# columns, and 2-3 of the order's and item's, roughly halves the sweep's Python time. A handler that starts
# reading another column costs a query per row: test_deadlines counts the queries of every state.
CASE_FIELDS = (
    "merchant_id",
    "order_id",
    "item_id",
    "case_no",
    "type",
    "status",
    "amount",
    "deadline_at",
    "merchant_deadline_at",
    "closed_at",
    "updated_at",
    "escalated",
    "excluded_from_assessment",
    "refunded_amount",
    "refunded_at",
    "refund_failed",
    "advance_paid",
    "return_received_at",
    "arbitration_outcome",
)
RELATED_FIELDS = {
    "order": ("order__payment_method", "order__status"),  # status: the Order's FSM mixin reads it on load
    "item": ("item__paid_amount", "item__refunded_amount", "item__package_id"),
}


def due_queryset(status: str) -> QuerySet[AfterSaleCase]:
    """The rows the sweep locks for one state, with what its transition reads joined in."""
    related = RELATED.get(status, ())
    fields = [*CASE_FIELDS, *(f for name in related for f in RELATED_FIELDS[name])]
    queryset = AfterSaleCase.objects.filter(status=status).only(*fields)
    return queryset.select_related(*related) if related else queryset


# ---- helpers


def _lock_related(cases: Sequence[AfterSaleCase], *, orders: bool) -> list[AfterSaleCase]:
    """The cases whose item (and order) rows could be locked without waiting, in the agreed order."""
    if not cases:
        return []
    locked_orders: set[int] | None = None
    if orders:
        locked_orders = set(
            Order.objects.select_for_update(skip_locked=True)
            .filter(pk__in={c.order_id for c in cases})
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        cases = [c for c in cases if c.order_id in locked_orders]
    locked_items = set(
        OrderItem.objects.select_for_update(skip_locked=True)
        .filter(pk__in={c.item_id for c in cases})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [c for c in cases if c.item_id in locked_items]


def _move(cases: Sequence[AfterSaleCase], method: str, now: datetime, **kwargs) -> list[AfterSaleCase]:
    """Run one transition on every case that may still take it (the state is re-checked per row)."""
    moved = []
    for case in cases:
        bound = getattr(case, method)
        if not can_proceed(bound):
            continue
        bound(now=now, **kwargs)
        case.updated_at = now
        moved.append(case)
    return moved


def _queue_refunds(cases: Sequence[AfterSaleCase]) -> None:
    ids = [c.pk for c in cases if c.status == CaseStatus.REFUNDING]
    if ids:
        # A broker hiccup marks the cases for requeue_refunds, as _common.queue_refund does.
        transaction.on_commit(
            partial(publish_refunds, ids, lambda: refund_batch_task.delay(ids)), robust=True
        )


def _release_items(cases: Sequence[AfterSaleCase]) -> None:
    """S-2: closed / exchanged cases free their items (one UPDATE)."""
    if cases:
        OrderItem.objects.filter(pk__in=[c.item_id for c in cases]).update(aftersale_lock=AftersaleLock.NONE)


# ---- the handlers (rows locked by the sweep; `limits` bound by the task)


def auto_approve(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """pending, merchant silent past the answer deadline -> approved by the system (A-5)."""
    moved = _move(cases, "approve", now, limits=limits)
    save_batch(moved, ["status", "deadline_at", "updated_at"])
    bulk_record(
        moved,
        Kind.APPROVED,
        source=CaseStatus.PENDING,
        at=now,
        with_amount=True,
        params={"why": "timeout"},
    )
    _queue_refunds(moved)
    return len(moved)


def auto_expire_proposals(
    cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings
) -> int:
    """negotiating, buyer silent past the proposal's validity -> pending on the merchant's clock (A-8)."""
    moved = _move(cases, "decline_proposal", now, limits=limits)
    save_batch(moved, ["status", "deadline_at", "updated_at"])
    bulk_record(
        moved,
        Kind.PROPOSAL_EXPIRED,
        source=CaseStatus.NEGOTIATING,
        at=now,
    )
    return len(moved)


def auto_close(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """rejected idle / awaiting_return without tracking past the deadline -> closed, item released (A-5)."""
    cases = _lock_related(cases, orders=False)
    sources = {case.pk: case.status for case in cases}
    moved = _move(cases, "close", now)
    save_batch(moved, ["status", "deadline_at", "closed_at", "updated_at"])
    _release_items(moved)
    whys = {CaseStatus.REJECTED: "rejected_idle", CaseStatus.AWAITING_RETURN: "return_not_sent"}
    for source, why in whys.items():
        group = [case for case in moved if sources[case.pk] == source]
        bulk_record(group, Kind.CLOSED, source=source, at=now, params={"why": why})
    return len(moved)


def auto_confirm_return(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """return_in_transit, merchant silent past the receipt deadline -> receipt confirmed by the system (A-5)."""
    moved = _move(cases, "confirm_return", now, limits=limits)
    save_batch(moved, ["status", "return_received_at", "deadline_at", "updated_at"])
    bulk_record(
        moved,
        Kind.RETURN_CONFIRMED,
        source=CaseStatus.RETURN_IN_TRANSIT,
        at=now,
        params={"why": "receipt_timeout"},
    )
    _queue_refunds(moved)
    return len(moved)


def auto_pay_in_advance(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """awaiting_voucher past 48 h -> the platform pays (先行赔付), refunded; a violation on the shop (A-3, A-5)."""
    cases = _lock_related(cases, orders=True)
    moved = _move(cases, "pay_in_advance", now)
    if not moved:
        return 0
    save_batch(
        moved,
        [
            "status",
            "advance_paid",
            "refunded_amount",
            "refunded_at",
            "refund_failed",
            "deadline_at",
            "closed_at",
            "updated_at",
        ],
    )
    _refund_items(moved)
    # merchants.services.record_violation / notify, for a batch: once per (rule, case) whatever reruns.
    note = _("货到付款售后超时未上传退款凭证，平台先行赔付。")
    Violation.objects.bulk_create(
        [
            Violation(
                merchant_id=c.merchant_id,
                rule=VOUCHER_TIMEOUT_RULE,
                points=VOUCHER_TIMEOUT_POINTS,
                source_type=VIOLATION_SOURCE,
                source_id=c.pk,
                note=note,
                excluded=c.excluded_from_assessment,
                created_at=now,
            )
            for c in moved
        ],
        ignore_conflicts=True,
    )
    Notice.objects.bulk_create(
        Notice(
            audience=Notice.Audience.MERCHANT,
            merchant_id=c.merchant_id,
            created_at=now,
            kind=ADVANCE_PAID,
            params={
                "case_id": c.pk,
                "no": c.case_no,
                "amount": str(c.amount),
                "points": VOUCHER_TIMEOUT_POINTS,
            },
        )
        for c in moved
    )
    bulk_record(moved, Kind.ADVANCE_PAID, source=CaseStatus.AWAITING_VOUCHER, at=now, with_amount=True)
    return len(moved)


def _refund_items(cases: Sequence[AfterSaleCase]) -> None:
    """Add each case's amount to its item's refunded amount; items refunded in full never ship (S-2)."""
    by_amount: dict[Decimal, list[int]] = defaultdict(list)
    for case in cases:
        by_amount[case.refunded_amount].append(case.item_id)
    for amount, item_ids in by_amount.items():
        OrderItem.objects.filter(pk__in=item_ids).update(refunded_amount=F("refunded_amount") + amount)
    OrderItem.objects.filter(pk__in=[c.item_id for c in cases]).update(
        aftersale_lock=Case(
            When(refunded_amount__gte=F("paid_amount"), then=Value(AftersaleLock.REFUNDED)),
            default=Value(AftersaleLock.NONE),
        )
    )
    for case in cases:  # rare: cod refund before shipping; the order row is already locked
        item = case.item
        if item.package_id is None and item.refunded_amount + case.refunded_amount >= item.paid_amount:
            resettle_shipping(case.order)


def auto_confirm_exchange(
    cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings
) -> int:
    """exchange_shipped for 15 days -> exchanged, item released (A-5)."""
    cases = _lock_related(cases, orders=False)
    moved = _move(cases, "confirm_exchange", now)
    save_batch(moved, ["status", "deadline_at", "closed_at", "updated_at"])
    _release_items(moved)
    bulk_record(
        moved,
        Kind.EXCHANGE_CONFIRMED,
        source=CaseStatus.EXCHANGE_SHIPPED,
        at=now,
        params={"why": "exchange_timeout"},
    )
    return len(moved)


def auto_escalate(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """arbitration undecided for 72 h -> flagged for senior staff, who get one notice (A-5)."""
    moved = [c for c in cases if c.status == CaseStatus.ARBITRATION and not c.escalated]
    for case in moved:
        case.escalated, case.deadline_at, case.updated_at = True, None, now
    save_batch(moved, ["escalated", "deadline_at", "updated_at"])
    Notice.objects.bulk_create(
        Notice(
            audience=Notice.Audience.PLATFORM,
            merchant_id=c.merchant_id,
            created_at=now,
            kind=ESCALATED,
            params={"case_id": c.pk, "no": c.case_no, "hours": limits.arbitration_hours},
        )
        for c in moved
    )
    bulk_record(
        moved,
        Kind.ESCALATED,
        source=CaseStatus.ARBITRATION,
        at=now,
        params={"hours": limits.arbitration_hours},
    )
    return len(moved)


# The order matters only for cases that move twice in one run: none do (a proposal expiring to an
# already-due pending case is approved by the next run).
SWEEPS: tuple[tuple[str, Handler], ...] = (
    (CaseStatus.PENDING, auto_approve),
    (CaseStatus.NEGOTIATING, auto_expire_proposals),
    (CaseStatus.REJECTED, auto_close),
    (CaseStatus.AWAITING_RETURN, auto_close),
    (CaseStatus.RETURN_IN_TRANSIT, auto_confirm_return),
    (CaseStatus.AWAITING_VOUCHER, auto_pay_in_advance),
    (CaseStatus.EXCHANGE_SHIPPED, auto_confirm_exchange),
    (CaseStatus.ARBITRATION, auto_escalate),
)
