"""The return parcel's signed-for time (L-5): the one writer of AfterSaleCase.return_signed_at.

The logistics feed (B-1) calls it with the carrier's signed-for time; anything else that learns the time
(a staff correction, the buyer's confirmation) calls it too. It keeps the earliest time it was told, so a
feed that repeats itself or arrives after the fallback changes nothing but what is really earlier.

Fallback when no feed came: the moment the merchant confirmed receipt (AfterSaleCase.confirm_return sets
it then). The merchant cannot have received the parcel before it was signed for, and without a carrier's
word nothing says it was signed earlier, so the (signed → confirmed) part of the L-5 return time is then
zero: a shop is never charged for a wait nobody measured.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.models import AfterSaleCase
from aftersales.services._common import Kind, lock_case, record
from merchants.kernel.workflow import ApplicationError


@transaction.atomic
def record_return_signed(case: AfterSaleCase | int, *, signed_at: datetime, actor=None) -> AfterSaleCase:
    """Record when the buyer's return parcel was signed for; keeps the earliest (idempotent).

    Refused (ApplicationError) for a case with no return parcel, a naive or future time, or a time before
    the buyer sent the parcel. Writes a case event only when the stored time changed.
    """
    if not isinstance(signed_at, datetime) or timezone.is_naive(signed_at):
        raise ApplicationError(_("签收时间无效：需要带时区的时间。"), code="signed_at")
    case = lock_case(case, actor)
    if not case.return_shipped_at:
        raise ApplicationError(
            _("售后单 %(no)s 没有买家寄回的包裹，不能记录签收时间。") % {"no": case.case_no}, code="no_return"
        )
    now = timezone.now()
    if signed_at > now:
        raise ApplicationError(_("签收时间不能晚于现在。"), code="signed_at")
    if signed_at < case.return_shipped_at:
        raise ApplicationError(_("签收时间不能早于买家寄出时间。"), code="signed_at")
    if case.return_signed_at is not None and case.return_signed_at <= signed_at:
        return case  # already as early or earlier: nothing to do
    case.return_signed_at = signed_at
    case.save(update_fields=["return_signed_at", "updated_at"])
    record(
        case,
        Kind.RETURN_SIGNED,
        source=case.status,
        actor=actor,
        params={"at": timezone.localtime(signed_at).strftime("%Y-%m-%d %H:%M")},
        at=now,
    )
    return case
