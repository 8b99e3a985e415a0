"""Bulk moves of the case list (A-10, issue 11 §7): approve, reject with one reason, confirm receipt.

Each is the batch form of its single service, side by side with it in cases.py (STYLE rule 6): the
cases are read in one scoped query and locked in one query per table in the agreed order (orders, items,
cases); each is checked on its own (tenancy, role, state and the transition's condition, with the
message a single move would give); the moves are written by the batch form of the single move's locked
step (cases._approve_many — which the deadline sweep also uses —, _reject_many, _confirm_return_many):
save_batch, one event INSERT, the refunds queued on commit. Should the batch write itself fail, every
case is moved again on its own, one transaction each. One result per case, in the order given (a case
given twice is moved once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.models import AfterSaleCase, ReturnAddress
from aftersales.services._common import clean_text, clock, pk_of, require_merchant
from aftersales.services.cases import (
    _approve_many,
    _confirm_return_many,
    _reject_many,
    approve,
    confirm_return,
    reject,
    reject_reason_text,
)
from aftersales.transitions import CaseStatus, CaseType
from merchants.kernel.scoping import get_for_actor, scope_to_actor
from merchants.kernel.workflow import ObjectNotFoundError, require_transition
from merchants.models import Order, OrderItem

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BulkResult:
    case_id: int
    case_no: str
    ok: bool
    message: str


def _messages(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


def approved_text(case: AfterSaleCase) -> str:
    """What approving did to this case, by its type (issue 11 §7: 退款 / 退货 / 换货)."""
    if case.status == CaseStatus.REFUNDING:
        return _("已同意退款，退款处理中")
    if case.status == CaseStatus.AWAITING_VOUCHER:
        return _("已同意退款，请线下退款并上传凭证")
    if case.type == CaseType.EXCHANGE:
        return _("已同意换货，等待买家寄回")
    return _("已同意退货，等待买家寄回")


def received_text(case: AfterSaleCase) -> str:
    if case.status == CaseStatus.RESHIPPING:
        return _("已确认收货，请补发商品")
    if case.status == CaseStatus.AWAITING_VOUCHER:
        return _("已确认收货，请线下退款并上传凭证")
    return _("已确认收货，退款处理中")


def _ids(cases) -> list[int | BulkResult]:
    if isinstance(cases, QuerySet):
        cases = cases.values_list("pk", flat=True)  # the admin's selection: ids are all this needs
    given: list[int | BulkResult] = []  # per case given: its id, or the result for what is no id at all
    for case in cases:
        try:
            given.append(pk_of(case))
        except ValidationError as exc:
            given.append(BulkResult(0, "", False, _messages(exc)))
    return given


def _run(
    cases,
    *,
    actor,
    method: str,
    action: str,
    move: Callable[[list[AfterSaleCase], object, object], list[AfterSaleCase]],
    single: Callable[[int], AfterSaleCase],
    done: Callable[[AfterSaleCase], str],
    check: Callable[[AfterSaleCase], str | None] | None = None,
) -> list[BulkResult]:
    """One bulk move: the cases in one transaction (_locked_batch); should that fail, `single` on each case,
    one transaction each. The results in the order given."""
    given = _ids(cases)
    ids = list(dict.fromkeys(pk for pk in given if isinstance(pk, int)))
    try:
        with transaction.atomic():
            results = _locked_batch(
                ids, actor=actor, method=method, action=action, move=move, done=done, check=check
            )
    except DatabaseError:
        logger.exception("bulk %s of %d cases failed as a batch; moving them one by one", method, len(ids))
        results = {}
        for pk in ids:  # one transaction per case, as a person moving them one after another
            try:
                case = single(pk)
            except ValidationError as exc:
                results[pk] = BulkResult(pk, "", False, _messages(exc))
            else:
                results[pk] = BulkResult(pk, case.case_no, True, done(case))
    out, seen = [], set()
    for entry in given:
        if isinstance(entry, BulkResult):
            out.append(entry)
        elif entry not in seen:
            seen.add(entry)
            out.append(results[entry])
    return out


def _locked_batch(
    ids: list[int],
    *,
    actor,
    method: str,
    action: str,
    move: Callable[[list[AfterSaleCase], object, object], list[AfterSaleCase]],
    done: Callable[[AfterSaleCase], str],
    check: Callable[[AfterSaleCase], str | None] | None = None,
) -> dict[int, BulkResult]:
    """Read, lock (orders, items, cases), check each case, then move the movable ones in one batch (in the
    caller's transaction)."""
    refused: dict[int, str] = {}
    # "status" too: the FSM mixin reads the state of every row it loads (a query each if deferred).
    refs = scope_to_actor(
        AfterSaleCase.objects.only("pk", "status", "case_no", "order_id", "item_id", "merchant_id"), actor
    ).in_bulk(ids)
    allowed = []
    for pk in ids:
        ref = refs.get(pk)
        if ref is None:
            refused[pk] = str(ObjectNotFoundError().message)  # another shop's case: never say whose
            continue
        try:
            require_merchant(actor, ref)
        except ValidationError as exc:
            refused[pk] = _messages(exc)
            continue
        allowed.append(ref)
    # The agreed lock order (order, item, case), one query per table, rows in id order: no cycle with a
    # person's move (one order, then its item, then its case) nor with another bulk move.
    list(
        Order.objects.select_for_update()
        .filter(pk__any={ref.order_id for ref in allowed})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(
        OrderItem.objects.select_for_update()
        .filter(pk__any={ref.item_id for ref in allowed})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    locked = (
        AfterSaleCase.objects.select_for_update(of=("self",))
        .select_related("order", "item")
        .in_bulk([ref.pk for ref in allowed])
    )
    now, limits = clock()
    movable = []
    for ref in allowed:
        case = locked[ref.pk]
        try:
            require_transition(getattr(case, method), action=action)
        except ValidationError as exc:
            refused[case.pk] = _messages(exc)
            continue
        if check is not None and (problem := check(case)):
            refused[case.pk] = problem
            continue
        movable.append(case)
    moved = {case.pk: case for case in move(movable, now, limits)}
    results = {}
    for pk in ids:
        case_no = refs[pk].case_no if pk in refs else ""  # a case the actor may not see stays unnamed
        if pk in moved:
            results[pk] = BulkResult(pk, case_no, True, done(moved[pk]))
        else:
            results[pk] = BulkResult(pk, case_no, False, refused.get(pk) or str(_("未能处理")))
    return results


# ---- approve


def bulk_approve(
    cases: Iterable[AfterSaleCase | int], *, actor, return_address: ReturnAddress | int | None = None
) -> list[BulkResult]:
    """Approve each case (A-10): each its own check, result, event and refund; a refusal undoes nothing else.

    `return_address`: the address the returns and exchanges of its shop are sent to (the default
    otherwise, and for the cases of other shops)."""
    chosen = None
    if return_address not in (None, ""):
        chosen = get_for_actor(ReturnAddress.objects.all(), actor, pk=pk_of(return_address))

    return _run(
        cases,
        actor=actor,
        method="approve",
        action=_("同意申请"),
        move=lambda cases, now, limits: _approve_many(
            cases, actor=actor, now=now, limits=limits, return_address=chosen
        ),
        single=lambda pk: approve(pk, actor=actor, return_address=_own(chosen, pk)),
        done=approved_text,
    )


def _own(chosen: ReturnAddress | None, case_id: int) -> ReturnAddress | None:
    """The picked address for a case of its shop; None (the default) for the others."""
    if chosen is None:
        return None
    return (
        chosen if AfterSaleCase.objects.filter(pk=case_id, merchant_id=chosen.merchant_id).exists() else None
    )


# ---- reject


def bulk_reject(
    cases: Iterable[AfterSaleCase | int], *, actor, reason: str = "", preset=None
) -> list[BulkResult]:
    """Refuse each pending case with one reason (issue 11 §7); each its own check, result and event.

    No evidence files in bulk: a preset reason that requires evidence refuses each case with a message
    (refuse those one by one, with their images)."""
    if preset in (None, ""):
        clean_text(reason, label=_("拒绝原因"))  # N-9: before anything is read or locked
    texts: dict[int, str] = {}

    def check(case):
        try:
            texts[case.pk] = reject_reason_text(preset, reason, case.merchant_id, files=())
        except ValidationError as exc:
            return _messages(exc)
        return None

    def move(cases, now, limits):
        moved = []
        for text in dict.fromkeys(texts[case.pk] for case in cases):  # one batch per shop's wording
            group = [case for case in cases if texts[case.pk] == text]
            moved += _reject_many(group, actor=actor, now=now, limits=limits, reason=text)
        return moved

    return _run(
        cases,
        actor=actor,
        method="reject",
        action=_("拒绝申请"),
        move=move,
        single=lambda pk: reject(pk, actor=actor, reason=reason, preset=preset),
        done=_rejected,
        check=check,
    )


def _rejected(case: AfterSaleCase) -> str:
    return str(_("已拒绝"))


# ---- confirm receipt


def bulk_confirm_return(cases: Iterable[AfterSaleCase | int], *, actor) -> list[BulkResult]:
    """Confirm the returned goods of each case (issue 11 §7, the 待商家收货 tab): refund, voucher or reship."""

    return _run(
        cases,
        actor=actor,
        method="confirm_return",
        action=_("确认收货"),
        move=lambda cases, now, limits: _confirm_return_many(cases, actor=actor, now=now, limits=limits),
        single=lambda pk: confirm_return(pk, actor=actor),
        done=received_text,
    )


def bulk_results_summary(results: Sequence[BulkResult]) -> str:
    """One line for the result page: how many were moved, how many refused."""
    ok = sum(1 for r in results if r.ok)
    return _("成功 %(ok)d 单，失败 %(failed)d 单。") % {"ok": ok, "failed": len(results) - ok}


__all__ = [
    "BulkResult",
    "approved_text",
    "bulk_approve",
    "bulk_confirm_return",
    "bulk_reject",
    "bulk_results_summary",
    "received_text",
]
