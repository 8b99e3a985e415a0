"""Display helpers of the review pages: stars, the state badges (R-3..R-5), reply and appeal badges."""

from __future__ import annotations

from django.utils.translation import gettext

from merchants.kernel.admin.display import badge, badges, cell_html, choice_label
from reviews.transitions import AppealStatus, ReplyStatus

REPLY_VARIANTS = {
    ReplyStatus.PENDING: "info",
    ReplyStatus.APPROVED: "success",
    ReplyStatus.REJECTED: "danger",
}
APPEAL_VARIANTS = {
    AppealStatus.PENDING: "warning",
    AppealStatus.UPHELD: "success",
    AppealStatus.DISMISSED: "danger",
    AppealStatus.VOID: "default",
}


def duration_text(delta) -> str:
    """'2 天 3 小时' / '5 小时 12 分' / '8 分' (how long something has waited)."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return gettext("%(days)d 天 %(hours)d 小时") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)d 小时 %(minutes)d 分") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)d 分") % {"minutes": minutes}


def stars(rating: int) -> str:
    """★★★★☆ with the number for screen readers and tests."""
    rating = int(rating or 0)
    return cell_html(
        '<span class="text-primary-600 whitespace-nowrap" title="{}" data-stars="{}">{}<span class="text-base-300">{}</span></span>',
        gettext("%(n)d 星") % {"n": rating},
        rating,
        "★" * rating,
        "★" * (5 - rating),
    )


def state_pairs(review) -> list[tuple[str, str]]:
    """(text, variant) of the review's state badges: deleted, hidden, pinned, appealed."""
    pairs = []
    if review.deleted_at is not None:
        pairs.append((gettext("买家已删除"), "danger"))
    if review.hidden_at is not None:
        pairs.append((gettext("已隐藏"), "default"))
    if review.pinned_at is not None:
        pairs.append((gettext("已置顶"), "primary"))
    if review.appeal_status:
        pairs.append(
            (
                choice_label(AppealStatus, review.appeal_status),
                APPEAL_VARIANTS.get(review.appeal_status, "default"),
            )
        )
    return pairs


def state_badges(review) -> str:
    pairs = state_pairs(review)
    return badges(pairs) if pairs else "-"


def reply_badge(review) -> str:
    if not review.reply_status:
        return badge(gettext("未回复"), "warning" if review.is_public else "default")
    return badge(
        gettext("回复%(state)s") % {"state": choice_label(ReplyStatus, review.reply_status)},
        REPLY_VARIANTS.get(review.reply_status, "default"),
    )


def reply_status_badge(reply) -> str:
    if reply.deleted_at is not None:
        return badge(gettext("已删除"), "default")
    return badge(choice_label(ReplyStatus, reply.status), REPLY_VARIANTS.get(reply.status, "default"))


def appeal_badge(appeal) -> str:
    return badge(choice_label(AppealStatus, appeal.status), APPEAL_VARIANTS.get(appeal.status, "default"))
