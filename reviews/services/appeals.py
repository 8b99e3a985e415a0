"""Appeals (申诉, R-3): the merchant appeals a review once, within 30 days, never while it is pinned;
platform staff uphold (the review is hidden and leaves the DSR) or dismiss it, with a standard reason."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.kernel.admin.display import local_time
from merchants.kernel.events import record_event
from merchants.kernel.workflow import ApplicationError, require_transition
from reviews import selectors
from reviews.exceptions import AppealNotAllowedError
from reviews.models import Appeal, AppealImage, Review, ReviewEvent
from reviews.services._common import (
    clean_files,
    clean_text,
    notify_merchant,
    pk_of,
    require_merchant,
    require_platform,
    require_unlocked,
    summary_remove,
)
from reviews.transitions import (
    DISMISS_REASONS,
    UPHOLD_REASONS,
    AppealDecisionReason,
    not_pinned,
    not_yet_appealed,
)

Kind = ReviewEvent.Kind
REASON_MAX = 1000


@transaction.atomic
def appeal(review: Review | int, *, actor, reason: str, images: Iterable = ()) -> Appeal:
    """The merchant appeals a review with a reason and evidence (R-3): within ReviewSettings.appeal_days
    (30) days of its creation, counted in local days; once per review; never while it is pinned."""
    reason = clean_text(reason, label=_("申诉理由"), max_length=REASON_MAX)
    files = clean_files(images)
    limits = selectors.settings_row()
    ref = selectors.review_ref(pk_of(review), actor=actor)
    require_merchant(actor, ref.merchant_id)
    review = selectors.review_for_update(ref.pk, actor=actor)
    require_unlocked(review)
    for check in (not_yet_appealed, not_pinned):
        if not check(review):
            raise AppealNotAllowedError(str(check.message), code=check.__name__)
    now = timezone.now()
    deadline = review.appeal_deadline(limits.appeal_days)
    if now >= deadline:
        raise AppealNotAllowedError(
            _("评价发布后 %(days)d 天内可以申诉：该评价发布于 %(created)s，申诉已于 %(deadline)s 截止。")
            % {
                "days": limits.appeal_days,
                "created": local_time(review.created_at),
                "deadline": local_time(deadline),
            },
            code="window_closed",
        )
    try:
        with transaction.atomic():
            new = Appeal.objects.create(
                merchant_id=review.merchant_id,
                review=review,
                reason=reason,
                filed_by=actor if getattr(actor, "pk", None) else None,
                created_at=now,
            )
    except IntegrityError as exc:  # one appeal per review (the OneToOne): a concurrent appeal won
        raise AppealNotAllowedError(str(not_yet_appealed.message), code="not_yet_appealed") from exc
    for f in files:
        AppealImage.objects.create(appeal=new, file=f, created_at=now)
    source = review.appeal_status
    review.appeal_status = new.status
    review.save(update_fields=["appeal_status", "updated_at"])
    record_event(
        review, Kind.APPEALED, actor=actor, source=source, message=reason, data={"appeal": new.pk}, at=now
    )
    return new


def _clean_decision(uphold: bool, reason: str, code: str) -> tuple[str, str]:
    """(standard reason code, free text). A `reason` that is a standard code is taken as the code."""
    code = str(code or "").strip()
    reason = str(reason or "").strip()
    if not code and reason in AppealDecisionReason.values:
        code, reason = reason, ""
    allowed = UPHOLD_REASONS if uphold else DISMISS_REASONS
    if code and code not in allowed:
        raise ApplicationError(
            _("审核结论「%(code)s」不适用于%(decision)s。")
            % {"code": code, "decision": _("申诉成功") if uphold else _("驳回申诉")},
            code="invalid_choice",
        )
    note = clean_text(reason, label=_("审核说明"), required=not code, max_length=REASON_MAX)
    return code, note


@transaction.atomic
def decide_appeal(appeal: Appeal | int, *, actor, uphold: bool, reason: str = "", code: str = "") -> Appeal:
    """Platform staff decide a pending appeal (R-3): upheld hides the review from the product page and
    the DSR and locks it for the merchant; dismissed keeps it and tells the merchant why. `code` is one
    of the standard decision reasons (AppealDecisionReason), `reason` the staff's own words; one of them
    is needed."""
    require_platform(actor)
    code, note = _clean_decision(bool(uphold), reason, code)
    ref = selectors.appeal_ref(pk_of(appeal), actor=actor)
    review = selectors.review_for_update(ref.review_id, actor=actor)
    appeal = Appeal.objects.select_for_update().get(pk=ref.pk)
    method = appeal.uphold if uphold else appeal.dismiss
    require_transition(method, action=_("申诉成功") if uphold else _("驳回申诉"))
    now = timezone.now()
    source = appeal.status
    method(now=now, by=actor, code=code, note=note)
    appeal.save(update_fields=["status", "decided_by", "decided_at", "decision_code", "decision_note"])
    fields = ["appeal_status", "updated_at"]
    review.appeal_status = appeal.status
    if uphold:
        was_public = review.is_public
        review.hidden_at = now
        review.pinned_at = review.pin_slot = None  # a hidden review frees its pin (none can exist: R-3)
        fields += ["hidden_at", "pinned_at", "pin_slot"]
    review.save(update_fields=fields)
    if uphold and was_public:
        summary_remove(review)
    record_event(
        review,
        Kind.APPEAL_UPHELD if uphold else Kind.APPEAL_DISMISSED,
        actor=actor,
        source=source,
        message=note,
        params={"why": "decision", "decision": code} if code else None,
        data={"appeal": appeal.pk},
        at=now,
    )
    notify_merchant(
        "appeal_upheld" if uphold else "appeal_dismissed",
        review=review,
        params={"decision": appeal.decision_code, "reason": appeal.decision_note},
    )
    return appeal


__all__ = ["appeal", "decide_appeal"]
