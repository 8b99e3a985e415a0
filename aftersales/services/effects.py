"""What a case move leaves behind besides the case row and its event, each effect defined once (STYLE 6).

Every effect has a single form, for one locked case (the person path: cases.py, refunds.py, and the
system acting on one due case: deadlines.on_deadline), and a batch form beside it, for many locked
cases (the deadline sweep and bulk approval: one statement where the single form takes one per case).
The caller holds the locks (order, item, case: the agreed order). tests/aftersales/test_parity.py
proves, state by state, that both forms leave the same rows.

- settle / settle_many: what the case's new state implies — a refunding case queues its refund, a
  refunded one adds its amount to the item, a finished one releases the item (S-2);
- queue_refund / queue_refunds: the refund handed to the worker once the transaction commits (A-6);
- release_item / release_items, refund_item / refund_items: the item's side (merchants.effects);
- charge_advance_payment / charge_advance_payments: the violation and notice of a platform advance
  payment (先行赔付, A-3);
- notify_escalated / notify_escalated_many: senior staff told of an undecided arbitration (A-5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.models import AfterSaleCase
from aftersales.registrations import ADVANCE_PAID, ESCALATED
from aftersales.services._common import REFUND_BATCH_TASK, REFUND_TASK, publish_refunds
from aftersales.transitions import CaseStatus
from merchants import effects as item_effects
from merchants.kernel import notices
from merchants.kernel.tasks import enqueue
from merchants.kernel.violations import record_violation, record_violations
from merchants.models import Notice

VOUCHER_TIMEOUT_RULE = "aftersales_voucher_timeout"
VOUCHER_TIMEOUT_POINTS = 2
FINISHED_WITHOUT_REFUND = (CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.EXCHANGED)


# ---- what the new state implies


def settle(case: AfterSaleCase) -> None:
    """After a move (locks held): refunding queues the refund, refunded pays the item, finished releases it."""
    if case.status == CaseStatus.REFUNDING:
        queue_refund(case)
    elif case.status == CaseStatus.REFUNDED:
        refund_item(case)
    elif case.status in FINISHED_WITHOUT_REFUND:
        release_item(case)


def settle_many(cases: Sequence[AfterSaleCase]) -> None:
    """The batch form of settle (each case's state read once: the FSM field's descriptor is not free)."""
    by_state: dict[str, list[AfterSaleCase]] = {}
    for case in cases:
        by_state.setdefault(case.status, []).append(case)
    queue_refunds(by_state.get(CaseStatus.REFUNDING, []))
    refund_items(by_state.get(CaseStatus.REFUNDED, []))
    release_items([case for state in FINISHED_WITHOUT_REFUND for case in by_state.get(state, [])])


# ---- the refund, handed to the worker


def queue_refund(case: AfterSaleCase) -> None:
    """Hand the refund to the worker once this transaction commits (never before: STYLE rule 4).

    A broker that refuses the message after the commit is not shown to the person who approved: the case
    stays `refunding`, is marked for requeue_refunds (seconds later, with backoff) and shows as
    "退款排队中" meanwhile (_common.publish_refunds).
    """
    case_id = case.pk
    transaction.on_commit(
        partial(publish_refunds, [case_id], lambda: enqueue(REFUND_TASK, case_id)), robust=True
    )


def queue_refunds(cases: Sequence[AfterSaleCase]) -> None:
    """The batch form of queue_refund: one message for the batch (publishing one per case cost the sweep
    a third of its time); each case keeps its own refund (refund_batch_task pays them one by one), and a
    broker hiccup marks them all for requeue_refunds, as queue_refund does."""
    ids = [case.pk for case in cases]
    if ids:
        transaction.on_commit(
            partial(publish_refunds, ids, lambda: enqueue(REFUND_BATCH_TASK, ids)), robust=True
        )


# ---- the item (S-2)


def release_item(case: AfterSaleCase) -> None:
    """The case ended without a refund: its item may ship again."""
    item_effects.release_item(case.item)


def release_items(cases: Sequence[AfterSaleCase]) -> None:
    """The batch form of release_item: one UPDATE."""
    item_effects.release_items([case.item_id for case in cases])


def _refunded(case: AfterSaleCase):
    return case.refunded_amount or case.amount


def refund_item(case: AfterSaleCase) -> None:
    """The case is refunded: its amount is added to the item, which never ships once refunded in full."""
    item_effects.refund_item(case.item, _refunded(case))


def refund_items(cases: Sequence[AfterSaleCase]) -> None:
    """The batch form of refund_item."""
    item_effects.refund_items([(case.item, _refunded(case)) for case in cases])


# ---- advance payment (先行赔付): a violation on the shop, and a notice to its owners


def _advance_paid_notice(case: AfterSaleCase, at: datetime) -> dict[str, Any]:
    """The notice's fields (kind aftersales.advance_paid: its sentences are in aftersales/registrations.py)."""
    return {
        "audience": Notice.Audience.MERCHANT,
        "merchant_id": case.merchant_id,
        "params": {
            "case_id": case.pk,
            "no": case.case_no,
            "amount": case.amount,
            "points": VOUCHER_TIMEOUT_POINTS,
        },
        "at": at,
    }


def _voucher_note() -> str:
    return _("货到付款售后超时未上传退款凭证，平台先行赔付。")


def charge_advance_payment(case: AfterSaleCase, *, episode: datetime, at: datetime) -> None:
    """The platform paid for the shop: a violation for the missed voucher deadline (`episode`), a notice.

    A case is advance-paid once (the move leaves awaiting_voucher), so each call is a new breach.
    """
    record_violation(
        case,
        rule=VOUCHER_TIMEOUT_RULE,
        points=VOUCHER_TIMEOUT_POINTS,
        episode=episode,
        note=_voucher_note(),
        excluded=case.excluded_from_assessment,  # an approved delay report
        at=at,
    )
    notices.notify(ADVANCE_PAID, **_advance_paid_notice(case, at))


def charge_advance_payments(
    cases: Sequence[AfterSaleCase], *, episodes: Mapping[int, datetime], at: datetime
) -> None:
    """The batch form of charge_advance_payment; `episodes` maps each case id to its missed deadline."""
    if not cases:
        return
    record_violations(
        cases,
        rule=VOUCHER_TIMEOUT_RULE,
        points=VOUCHER_TIMEOUT_POINTS,
        episode=lambda case: episodes[case.pk],
        note=_voucher_note(),
        excluded=lambda case: case.excluded_from_assessment,
        at=at,
    )
    notices.notify_many([notices.build(ADVANCE_PAID, **_advance_paid_notice(case, at)) for case in cases])


# ---- arbitration undecided for too long: senior staff are told


def _escalated_notice(case: AfterSaleCase, hours: int, at: datetime) -> dict[str, Any]:
    return {
        "audience": Notice.Audience.PLATFORM,
        "merchant_id": case.merchant_id,
        "params": {"case_id": case.pk, "no": case.case_no, "hours": hours},
        "at": at,
    }


def notify_escalated(case: AfterSaleCase, *, hours: int, at: datetime) -> None:
    """One notice for senior platform staff about an arbitration left undecided past `hours`."""
    notices.notify(ESCALATED, **_escalated_notice(case, hours, at))


def notify_escalated_many(cases: Sequence[AfterSaleCase], *, hours: int, at: datetime) -> None:
    """The batch form of notify_escalated: one INSERT."""
    notices.notify_many([notices.build(ESCALATED, **_escalated_notice(case, hours, at)) for case in cases])
