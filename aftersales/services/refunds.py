"""Refunds through the payment gateway (A-6): at most once per case, whatever retries, redeliveries or races.

`pay_refund` (the body of aftersales.tasks.refund_task) runs in three short transactions:
1. lock order, item, case; act only in `refunding` and not flagged; get_or_create the case's unique
   Refund row (its idempotency key is derived from the case);
2. lock the Refund row alone and, unless it already succeeded, call the gateway and store the outcome
   (the row lock serialises two workers: the second sees `succeeded` and never calls);
3. lock order, item, case again and mark the case refunded (once: the state check refuses a second time).
A crash between 2 and 3 leaves a succeeded Refund on a refunding case; retry_stuck_refunds re-queues it
and step 3 finishes without calling the gateway again. No database lock is held while the gateway
answers except the Refund row's.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import GatewayError
from aftersales.gateway import get_gateway
from aftersales.models import AfterSaleCase, AftersalesSettings, Refund
from aftersales.registrations import REFUND_FAILED
from aftersales.services._common import Kind, lock_case, move, record, require_platform
from aftersales.services.effects import queue_refund, settle
from aftersales.transitions import CaseStatus, RefundStatus
from merchants.kernel.notices import notify
from merchants.kernel.workflow import ApplicationError, InvalidTransitionError, ObjectNotFoundError
from merchants.models import Notice

logger = logging.getLogger(__name__)


def idempotency_key(case: AfterSaleCase) -> str:
    """One key per case, ever: a case is refunded at most once."""
    return f"refund-{case.case_no}"


def _stuck_after() -> timedelta:
    return settings.SHOUHOU_REFUND_STUCK_AFTER


# ---- the three steps


@transaction.atomic
def _prepare(case_id: int) -> Refund | None:
    try:
        case = lock_case(case_id, None)
    except ObjectNotFoundError:
        return None
    if case.status != CaseStatus.REFUNDING or case.refund_failed:
        return None
    refund, _created = Refund.objects.get_or_create(
        case=case, defaults={"idempotency_key": idempotency_key(case), "amount": case.amount}
    )
    if refund.status != RefundStatus.SUCCEEDED and refund.amount > case.item.refundable_amount():
        # never more than refundable. Cannot happen with one open case per item; refuse loudly if it does.
        _flag(case, refund, timezone.now(), {"why": "over_refundable"})
        return None
    return refund


def _call_gateway(refund_id: int) -> tuple[bool, GatewayError | None]:
    """Step 2, under the Refund row lock. Returns (succeeded, transient error)."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("case").get(pk=refund_id)
        if refund.status == RefundStatus.SUCCEEDED:
            return True, None
        refund.attempts += 1
        try:
            reference = get_gateway().refund(
                idempotency_key=refund.idempotency_key, amount=refund.amount, case_no=refund.case.case_no
            )
        except GatewayError as exc:
            refund.status, refund.last_error = RefundStatus.FAILED, str(exc)[:2000] or exc.__class__.__name__
            refund.save(update_fields=["status", "attempts", "last_error", "updated_at"])
            return False, exc
        refund.status, refund.gateway_reference, refund.last_error = RefundStatus.SUCCEEDED, reference, ""
        refund.save(update_fields=["status", "attempts", "gateway_reference", "last_error", "updated_at"])
        return True, None


@transaction.atomic
def _finish(case_id: int) -> AfterSaleCase | None:
    case = lock_case(case_id, None)
    refund = Refund.objects.get(case=case)
    if case.status != CaseStatus.REFUNDING or refund.status != RefundStatus.SUCCEEDED:
        return None  # another run finished it already
    now = timezone.now()
    source = move(case, case.mark_refunded, action=_("退款成功"), now=now)
    record(
        case,
        Kind.REFUNDED,
        source=source,
        params={"ref": refund.gateway_reference},
        amount=case.refunded_amount,
        data={"reference": refund.gateway_reference},
        at=now,
    )
    settle(case)
    return case


@transaction.atomic
def _after_failure(case_id: int, error: GatewayError) -> bool:
    """Record that the gateway failed; flag the case after the last allowed attempt. True when flagged."""
    case = lock_case(case_id, None)
    refund = Refund.objects.get(case=case)
    limits = AftersalesSettings.load()
    if case.status != CaseStatus.REFUNDING or case.refund_failed:
        return True
    if refund.attempts < limits.refund_max_attempts:
        return False
    _flag(
        case,
        refund,
        timezone.now(),
        {"n": refund.attempts, "error": refund.last_error or error},
    )
    return True


def _flag(case: AfterSaleCase, refund: Refund, now: datetime, params: dict) -> None:
    case.refund_failed = True
    case.save(update_fields=["refund_failed", "updated_at"])
    event = record(
        case,
        Kind.REFUND_FAILED,
        source=case.status,
        params=params,
        amount=refund.amount,
        data={"attempts": refund.attempts},
        at=now,
    )
    notify(
        REFUND_FAILED,
        audience=Notice.Audience.PLATFORM,
        merchant_id=case.merchant_id,
        params={"case_id": case.pk, "no": case.case_no, **event.params},
        at=now,
    )


# ---- entry points


def pay_refund(case_id: int) -> AfterSaleCase | None:
    """Pay a refunding case through the gateway (the refund task's body); idempotent, safe to run twice at once.

    Raises GatewayError (for the task to retry) on a transient failure, until the last allowed attempt,
    which flags the case (refund_failed) for platform staff instead. Returns the refunded case, or None
    when there was nothing to do.
    """
    refund = _prepare(case_id)
    if refund is None:
        return None
    succeeded, error = _call_gateway(refund.pk)
    if succeeded:
        return _finish(case_id)
    if not _after_failure(case_id, error):
        raise error
    return None


@transaction.atomic
def retry_refund(case: AfterSaleCase | int, *, actor) -> AfterSaleCase:
    """Platform staff re-queue a flagged refund with a fresh attempt budget (same idempotency key)."""
    case = lock_case(case, actor)
    require_platform(actor)
    if case.status != CaseStatus.REFUNDING or not case.refund_failed:
        raise InvalidTransitionError(_("该售后单没有失败待处理的退款。"), code="not_failed")
    case.refund_failed = False
    case.save(update_fields=["refund_failed", "updated_at"])
    Refund.objects.filter(case=case).exclude(status=RefundStatus.SUCCEEDED).update(
        attempts=0, status=RefundStatus.PENDING, updated_at=timezone.now()
    )
    record(case, Kind.REFUND_RETRIED, source=case.status, actor=actor, amount=case.amount)
    queue_refund(case)
    return case


def stuck_refund_case_ids(now: datetime | None = None) -> list[int]:
    """Refunding cases, not flagged, whose refund has not finished for a while (or never started)."""
    cutoff = (now or timezone.now()) - _stuck_after()
    has_refund = Exists(Refund.objects.filter(case=OuterRef("pk")))
    old_refund = Exists(Refund.objects.filter(case=OuterRef("pk"), updated_at__lt=cutoff))
    return list(
        AfterSaleCase.objects.filter(status=CaseStatus.REFUNDING, refund_failed=False)
        .filter(Q(~has_refund, updated_at__lt=cutoff) | Q(old_refund))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


__all__ = ["ApplicationError", "idempotency_key", "pay_refund", "retry_refund", "stuck_refund_case_ids"]
