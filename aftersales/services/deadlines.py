"""A-5: what the system does to a case whose deadline passed — for one case, and for a batch, per state.

Each waiting state has its system move in two forms side by side. The single form is `on_deadline`:
the system acting on one due case through the locked step a person's move uses (cases._approve, …),
with the system's reason in the event. The batch form is the sweep's handler, on the due rows
merchants.kernel.deadlines locked FOR UPDATE SKIP LOCKED: the same transition (re-checked per row),
saved with save_batch, recorded in one INSERT, with the batch forms of the same effects
(services/effects.py). tests/aftersales/test_parity.py proves, state by state, that both agree.

A handler never waits for a lock: the order and item rows it must touch are taken SKIP LOCKED too, and
a case whose order or item a person holds right now is left for the next run (so the person wins, and
nobody deadlocks). It returns how many cases changed. No query per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from django.db import transaction
from django.db.models import QuerySet

from aftersales.models import AfterSaleCase, AftersalesSettings
from aftersales.services._common import (
    Kind,
    bulk_record,
    clock,
    lock_case,
    move,
    move_many,
    record,
)
from aftersales.services.cases import (
    _approve,
    _approve_many,
    _confirm_exchange,
    _confirm_exchange_many,
    _confirm_return,
    _confirm_return_many,
    _decline,
    _decline_many,
)
from aftersales.services.effects import (
    charge_advance_payment,
    charge_advance_payments,
    notify_escalated,
    notify_escalated_many,
    settle,
    settle_many,
)
from aftersales.transitions import CaseStatus
from merchants.kernel.deadlines import Sweep, SweepRun, run_sweeps, save_batch
from merchants.kernel.workflow import can_proceed
from merchants.models import Order, OrderItem

Handler = Callable[..., int]

# The system's reason, stored with its event (the sentence is CaseEvent.TEXTS[why]).
TIMEOUT = {"why": "timeout"}
RECEIPT_TIMEOUT = {"why": "receipt_timeout"}
EXCHANGE_TIMEOUT = {"why": "exchange_timeout"}
CLOSE_WHY = {CaseStatus.REJECTED: "rejected_idle", CaseStatus.AWAITING_RETURN: "return_not_sent"}

# What escalating writes on the case row (both forms; not a transition: the transitions' are MOVE_FIELDS).
ESCALATE_FIELDS = ("escalated", "deadline_at", "updated_at")


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
    "deadline_at",  # the voucher deadline pay_in_advance's violation names (its episode)
    "merchant_deadline_at",
    "closed_at",
    # not updated_at: every move sets it before the row is saved (a deferred field set is never loaded)
    "escalated",
    "excluded_from_assessment",
    "refunded_amount",
    "refunded_at",
    "refund_failed",
    "advance_paid",
    "return_received_at",
    "return_signed_at",  # confirm_return fills it when no feed did (L-5)
    "arbitration_outcome",
    # Written by approval (the address the buyer is given): save_batch reads every field it writes, and a
    # deferred one would load (and reset) the row.
    "return_to_contact",
    "return_to_phone",
    "return_to_address",
)
RELATED_FIELDS = {
    "order": ("order__payment_method", "order__status"),  # status: the Order's FSM mixin reads it on load
    "item": ("item__paid_amount", "item__refunded_amount", "item__package_id", "item__order_id"),
}


def due_queryset(status: str) -> QuerySet[AfterSaleCase]:
    """The rows the sweep locks for one state, with what its transition reads joined in."""
    related = RELATED.get(status, ())
    fields = [*CASE_FIELDS, *(f for name in related for f in RELATED_FIELDS[name])]
    queryset = AfterSaleCase.objects.filter(status=status).only(*fields)
    return queryset.select_related(*related) if related else queryset


def _lock_related(cases: Sequence[AfterSaleCase], *, orders: bool) -> list[AfterSaleCase]:
    """The cases whose item (and order) rows could be locked without waiting, in the agreed order."""
    if not cases:
        return []
    if orders:
        locked_orders = set(
            Order.objects.select_for_update(skip_locked=True)
            .filter(pk__any={c.order_id for c in cases})
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        cases = [c for c in cases if c.order_id in locked_orders]
    locked_items = set(
        OrderItem.objects.select_for_update(skip_locked=True)
        .filter(pk__any={c.item_id for c in cases})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [c for c in cases if c.item_id in locked_items]


# ---- the moves only the system makes: closing, paying in advance, escalating (lock held)


def _close(case: AfterSaleCase, *, now: datetime) -> AfterSaleCase:
    """The buyer let the case lapse (no follow-up to a refusal, no goods sent back): closed, item released."""
    source = move(case, case.close, action=Kind.CLOSED.label, now=now)
    record(case, Kind.CLOSED, source=source, params={"why": CLOSE_WHY[source]}, at=now)
    settle(case)
    return case


def _close_many(cases: Sequence[AfterSaleCase], *, now: datetime) -> list[AfterSaleCase]:
    """The batch form of _close (the items locked too)."""
    sources = {case.pk: case.status for case in cases}
    moved = move_many(cases, "close", now=now)
    for source, why in CLOSE_WHY.items():
        group = [case for case in moved if sources[case.pk] == source]
        bulk_record(group, Kind.CLOSED, source=source, at=now, params={"why": why})
    settle_many(moved)
    return moved


def _pay_in_advance(case: AfterSaleCase, *, now: datetime) -> AfterSaleCase:
    """No voucher in time (cod): the platform pays the buyer (先行赔付); a violation on the shop (A-3)."""
    episode = case.deadline_at  # the voucher deadline the shop missed
    source = move(case, case.pay_in_advance, action=Kind.ADVANCE_PAID.label, now=now)
    settle(case)
    charge_advance_payment(case, episode=episode, at=now)
    record(case, Kind.ADVANCE_PAID, source=source, amount=case.amount, at=now)
    return case


def _pay_in_advance_many(cases: Sequence[AfterSaleCase], *, now: datetime) -> list[AfterSaleCase]:
    """The batch form of _pay_in_advance (the orders and items locked too)."""
    episodes = {case.pk: case.deadline_at for case in cases}
    moved = move_many(cases, "pay_in_advance", now=now)
    settle_many(moved)
    charge_advance_payments(moved, episodes=episodes, at=now)
    bulk_record(moved, Kind.ADVANCE_PAID, source=CaseStatus.AWAITING_VOUCHER, at=now, with_amount=True)
    return moved


def _may_escalate(case: AfterSaleCase) -> bool:
    return case.status == CaseStatus.ARBITRATION and not case.escalated


def _escalate(case: AfterSaleCase, *, now: datetime, limits: AftersalesSettings) -> AfterSaleCase:
    """Arbitration undecided past its hours: flagged for senior staff, who get one notice (not a state move)."""
    case.escalated, case.deadline_at, case.updated_at = True, None, now
    case.save(update_fields=ESCALATE_FIELDS)
    notify_escalated(case, hours=limits.arbitration_hours, at=now)
    record(case, Kind.ESCALATED, source=case.status, params={"hours": limits.arbitration_hours}, at=now)
    return case


def _escalate_many(
    cases: Sequence[AfterSaleCase], *, now: datetime, limits: AftersalesSettings
) -> list[AfterSaleCase]:
    """The batch form of _escalate."""
    moved = [case for case in cases if _may_escalate(case)]
    for case in moved:
        case.escalated, case.deadline_at, case.updated_at = True, None, now
    save_batch(moved, ESCALATE_FIELDS)
    notify_escalated_many(moved, hours=limits.arbitration_hours, at=now)
    bulk_record(
        moved,
        Kind.ESCALATED,
        source=CaseStatus.ARBITRATION,
        at=now,
        params={"hours": limits.arbitration_hours},
    )
    return moved


# ---- the batch form: one handler per waiting state (rows locked by the sweep; `limits` bound by the task)


def auto_approve(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """pending, merchant silent past the answer deadline -> approved by the system (A-5)."""
    return len(_approve_many(cases, actor=None, now=now, limits=limits, params=TIMEOUT))


def auto_expire_proposals(
    cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings
) -> int:
    """negotiating, buyer silent past the proposal's validity -> pending on the merchant's clock (A-8)."""
    return len(_decline_many(cases, kind=Kind.PROPOSAL_EXPIRED, actor=None, now=now, limits=limits))


def auto_close(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """rejected idle / awaiting_return without tracking past the deadline -> closed, item released (A-5)."""
    return len(_close_many(_lock_related(cases, orders=False), now=now))


def auto_confirm_return(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """return_in_transit, merchant silent past the receipt deadline -> receipt confirmed by the system (A-5)."""
    return len(_confirm_return_many(cases, actor=None, now=now, limits=limits, params=RECEIPT_TIMEOUT))


def auto_pay_in_advance(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """awaiting_voucher past 48 h -> the platform pays (先行赔付), refunded; a violation on the shop (A-3, A-5)."""
    return len(_pay_in_advance_many(_lock_related(cases, orders=True), now=now))


def auto_confirm_exchange(
    cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings
) -> int:
    """exchange_shipped for 15 days -> exchanged, item released (A-5)."""
    cases = _lock_related(cases, orders=False)
    return len(_confirm_exchange_many(cases, actor=None, now=now, params=EXCHANGE_TIMEOUT))


def auto_escalate(cases: Sequence[AfterSaleCase], now: datetime, *, limits: AftersalesSettings) -> int:
    """arbitration undecided for 72 h -> flagged for senior staff, who get one notice (A-5)."""
    return len(_escalate_many(cases, now=now, limits=limits))


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


def run_deadlines(*, now: datetime, limit: int | None = None, resume: dict | None = None) -> SweepRun:
    """A-5: act as the system on the cases whose deadline passed, state by state (at most `limit` rows).

    Returns the kernel's SweepRun: how many changed, and where a bounded run stopped (for its follow-up).
    """
    limits = AftersalesSettings.load()
    sweeps = [
        Sweep(status, due_queryset(status), partial(handler, limits=limits)) for status, handler in SWEEPS
    ]
    return run_sweeps(sweeps, now=now, limit=limit, resume=resume)


# ---- the single form: the system acting on one due case (lock held; None when it may not move)

# state -> (the FSM transition it runs, or "" for the escalation flag; the locked step)
ON_DEADLINE: dict[str, tuple[str, Callable[[AfterSaleCase, datetime, AftersalesSettings], AfterSaleCase]]] = {
    CaseStatus.PENDING: (
        "approve",
        lambda case, now, limits: _approve(case, actor=None, now=now, limits=limits, params=TIMEOUT),
    ),
    CaseStatus.NEGOTIATING: (
        "decline_proposal",
        lambda case, now, limits: _decline(
            case, kind=Kind.PROPOSAL_EXPIRED, actor=None, now=now, limits=limits
        ),
    ),
    CaseStatus.REJECTED: ("close", lambda case, now, limits: _close(case, now=now)),
    CaseStatus.AWAITING_RETURN: ("close", lambda case, now, limits: _close(case, now=now)),
    CaseStatus.RETURN_IN_TRANSIT: (
        "confirm_return",
        lambda case, now, limits: _confirm_return(
            case, actor=None, now=now, limits=limits, params=RECEIPT_TIMEOUT
        ),
    ),
    CaseStatus.AWAITING_VOUCHER: ("pay_in_advance", lambda case, now, limits: _pay_in_advance(case, now=now)),
    CaseStatus.EXCHANGE_SHIPPED: (
        "confirm_exchange",
        lambda case, now, limits: _confirm_exchange(case, actor=None, now=now, params=EXCHANGE_TIMEOUT),
    ),
    CaseStatus.ARBITRATION: ("", lambda case, now, limits: _escalate(case, now=now, limits=limits)),
}


@transaction.atomic
def on_deadline(case: AfterSaleCase | int) -> AfterSaleCase | None:
    """A-5 for one case: what the sweep does to it once its deadline has passed, as the system.

    Returns the case, or None when it is not due or may no longer move (a person acted meanwhile).
    Locks order, item and case, waiting for a person as a person's move does (the sweep skips instead).
    Idempotent: a case acted on is no longer due.
    """
    case = lock_case(case, None)
    now, limits = clock()
    move = ON_DEADLINE.get(case.status)
    if move is None or case.deadline_at is None or case.deadline_at > now:
        return None
    method, step = move
    if not (can_proceed(getattr(case, method)) if method else _may_escalate(case)):
        return None
    return step(case, now, limits)
