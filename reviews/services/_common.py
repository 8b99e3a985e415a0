"""What every review service shares: input cleaning, who may act, the checks, the summary row, notices.

Lock order, everywhere (so nobody deadlocks): the order row, then the item (submit_review); the product
row, then the review (pin); the review, then its reply or appeal. The product summary row is updated last,
by F() expressions, so concurrent changes add up instead of overwriting each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils.translation import gettext as _

from merchants.kernel.models import Notice
from merchants.kernel.scoping import WRITE_ROLES, is_platform, require_role
from merchants.kernel.workflow import ActorNotAllowedError, ApplicationError
from reviews.exceptions import ReviewLockedError
from reviews.models import ProductReviewSummary, Review
from reviews.transitions import not_deleted, not_hidden

MAX_FILES = 9


def pk_of(obj) -> int:
    """A model instance or an id (forms, imports and tasks pass ids)."""
    try:
        return int(getattr(obj, "pk", obj))
    except (TypeError, ValueError) as exc:
        raise ApplicationError(_("无效的编号：%(value)s") % {"value": obj}, code="invalid_id") from exc


# ---- input cleaning (before anything is locked or written)


def clean_text(value, *, label, required: bool = True, max_length: int = 2000) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ApplicationError(_("请填写%(label)s。") % {"label": label}, code="required")
    if len(text) > max_length:
        raise ApplicationError(
            _("%(label)s不能超过 %(max)d 个字（现在 %(count)d 个字）。")
            % {"label": label, "max": max_length, "count": len(text)},
            code="too_long",
        )
    return text


def clean_rating(value, *, label) -> int:
    """A whole number of stars, 1 to 5 (R-1); "5" from a form or a file is fine, 4.5 or True is not."""
    if isinstance(value, bool):
        value = None
    try:
        stars = int(str(value).strip())
    except (TypeError, ValueError):
        stars = None
    if stars is None or str(value).strip() != str(stars) or not 1 <= stars <= 5:
        raise ApplicationError(
            _("%(label)s必须是 1 到 5 的整数（收到「%(value)s」）。") % {"label": label, "value": value},
            code="invalid_rating",
        )
    return stars


def clean_files(files: Iterable | None) -> list:
    """Check uploaded images with the one upload validator (N-7) before anything is written."""
    from merchants.kernel.uploads import validate_image_upload

    files = [f for f in (files or ()) if f]
    if len(files) > MAX_FILES:
        raise ApplicationError(_("最多上传 %(max)d 张图片。") % {"max": MAX_FILES}, code="too_many_files")
    errors = []
    for f in files:
        try:
            validate_image_upload(f)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ApplicationError(errors)
    return files


# ---- who may act


def require_merchant(actor, merchant_id: int) -> None:
    """Owner or agent of the review's shop (superusers and the system too); viewers and platform staff not."""
    require_role(actor, merchant_id, WRITE_ROLES, platform=False)


def require_platform(actor) -> None:
    if not is_platform(actor):
        raise ActorNotAllowedError(_("只有平台客服可以执行此操作。"), code="platform_only")


def require_unlocked(review: Review) -> None:
    """R-3, R-5: a deleted or hidden review admits no merchant move; the message says which."""
    for check in (not_deleted, not_hidden):
        if not check(review):
            raise ReviewLockedError(str(check.message), code="locked")


# ---- the product summary


def _rating_deltas(review: Review, sign: int) -> dict:
    return {
        "review_count": F("review_count") + sign,
        "product_rating_sum": F("product_rating_sum") + sign * review.product_rating,
        "service_rating_sum": F("service_rating_sum") + sign * review.service_rating,
        "logistics_rating_sum": F("logistics_rating_sum") + sign * review.logistics_rating,
        f"star_{review.product_rating}": F(f"star_{review.product_rating}") + sign,
    }


def summary_add(review: Review) -> None:
    """A review became public: count it on its product (creating the product's row on its first review)."""
    ProductReviewSummary.objects.bulk_create(
        [ProductReviewSummary(product_id=review.product_id)], ignore_conflicts=True
    )
    ProductReviewSummary.objects.filter(pk=review.product_id).update(**_rating_deltas(review, +1))


def summary_remove(review: Review) -> None:
    """A public review left the product page (deleted by the buyer, hidden by an upheld appeal)."""
    ProductReviewSummary.objects.filter(pk=review.product_id).update(**_rating_deltas(review, -1))


# ---- notices to the shop (kind + params: read in the reader's language, merchants.kernel.notices)

NOTICE_KINDS = {
    "reply_approved": "reviews.reply_approved",
    "reply_rejected": "reviews.reply_rejected",
    "appeal_upheld": "reviews.appeal_upheld",
    "appeal_dismissed": "reviews.appeal_dismissed",
}


def notify_merchant(kind: str, *, review: Review, params: dict) -> None:
    """Tell the review's shop the result of a moderation or an appeal; the reason is the staff's words."""
    from merchants.kernel import notices

    notices.notify(
        NOTICE_KINDS[kind],
        audience=Notice.Audience.MERCHANT,
        merchant_id=review.merchant_id,
        params={"order_no": review.order_no, "review_id": review.pk, "decision": params.get("decision", "")},
        message=params.get("reason", ""),
    )
