"""Bulk approval (A-10): approve's batch form, each case still its own check, result, event and refund.

The workbench's "批量同意退款" action hands the selection here. The cases are read in one scoped query and
locked in one query per table in the agreed order (orders, items, cases); each is checked on its own
(tenancy, role, state and the transition's condition, with the message a single approval would give),
and the approvals are written by cases._approve_many — the batch form of approve's locked step, which the
deadline sweep also uses: save_batch, one event INSERT, the refunds queued on commit. Should the batch
write itself fail, every case is approved again on its own, one transaction each.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from aftersales.models import AfterSaleCase
from aftersales.services._common import clock, pk_of, require_merchant
from aftersales.services.cases import _approve_many, approve
from merchants.kernel.scoping import scope_to_actor
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


def bulk_approve(cases: Iterable[AfterSaleCase | int], *, actor) -> list[BulkResult]:
    """Approve each case (A-10): each its own check, result, event and refund; a refusal undoes nothing else.

    The batch form of approve: the cases are read in one scoped query, locked in one query per table
    in the agreed order (orders, items, cases), checked one by one, then saved, recorded and their
    refunds queued in bulk (_approve_many, as the deadline sweep does). Should the bulk write itself
    fail, each case is approved again on its own, in its own transaction. One result per case, in the
    order given (a case given twice is approved once).
    """
    if isinstance(cases, QuerySet):
        cases = cases.values_list("pk", flat=True)  # the admin's selection: ids are all this needs
    given: list[int | BulkResult] = []  # per case given: its id, or the result for what is no id at all
    for case in cases:
        try:
            given.append(pk_of(case))
        except ValidationError as exc:
            given.append(BulkResult(0, "", False, _messages(exc)))
    ids = list(dict.fromkeys(pk for pk in given if isinstance(pk, int)))
    try:
        results = _bulk_approve(ids, actor=actor)
    except DatabaseError:
        logger.exception("bulk approve of %d cases failed as a batch; approving them one by one", len(ids))
        results = _approve_each(ids, actor=actor)
    out, seen = [], set()
    for entry in given:
        if isinstance(entry, BulkResult):
            out.append(entry)
        elif entry not in seen:
            seen.add(entry)
            out.append(results[entry])
    return out


@transaction.atomic
def _bulk_approve(ids: list[int], *, actor) -> dict[int, BulkResult]:
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
    # person's move (one order, then its item, then its case) nor with another bulk approval.
    list(
        Order.objects.select_for_update()
        .filter(pk__in={ref.order_id for ref in allowed})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(
        OrderItem.objects.select_for_update()
        .filter(pk__in={ref.item_id for ref in allowed})
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    locked = (
        AfterSaleCase.objects.select_for_update(of=("self",))
        .select_related("order", "item")
        .in_bulk([ref.pk for ref in allowed])
    )
    now, limits = clock()
    approvable = []
    for ref in allowed:
        case = locked[ref.pk]
        try:
            require_transition(case.approve, action=_("同意申请"))
        except ValidationError as exc:
            refused[case.pk] = _messages(exc)
            continue
        approvable.append(case)
    approved = {case.pk for case in _approve_many(approvable, actor=actor, now=now, limits=limits)}
    done = str(_("已同意"))
    results = {}
    for pk in ids:
        case_no = refs[pk].case_no if pk in refs else ""  # a case the actor may not see stays unnamed
        if pk in approved:
            results[pk] = BulkResult(pk, case_no, True, done)
        else:
            results[pk] = BulkResult(pk, case_no, False, refused.get(pk) or str(_("未能同意")))
    return results


def _approve_each(ids: list[int], *, actor) -> dict[int, BulkResult]:
    """bulk_approve's fallback: one transaction per case, as a person approving them one after another."""
    results = {}
    for pk in ids:
        try:
            case = approve(pk, actor=actor)
        except ValidationError as exc:
            results[pk] = BulkResult(pk, "", False, _messages(exc))
        else:
            results[pk] = BulkResult(pk, case.case_no, True, str(_("已同意")))
    return results


def bulk_results_summary(results: Sequence[BulkResult]) -> str:
    """One line for the result page: how many were approved, how many refused."""
    ok = sum(1 for r in results if r.ok)
    return _("成功 %(ok)d 单，失败 %(failed)d 单。") % {"ok": ok, "failed": len(results) - ok}


__all__ = ["BulkResult", "bulk_approve", "bulk_results_summary"]
