"""Review vocabulary (R-1..R-7) and the pure predicates that guard the moves on a review.

Replies and appeals are state machines (`status`, values fixed by SPEC R-2, R-3); a review itself has
no state field (the Contract names none), only times: `deleted_at` (R-5), `hidden_at` (an upheld
appeal, R-3), `pinned_at` (R-4). The predicates below read a review and its loaded appeal and write
nothing; services check them (merchants.kernel.workflow messages) before they move anything.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.kernel.workflow import condition

RATINGS = (1, 2, 3, 4, 5)
GOOD_MIN = 4  # L-3: a good review has at least 4 stars in its dimension
BAD_MAX = 2  # ... and a bad one at most 2
MAX_PINS_PER_PRODUCT = 2
PIN_SLOTS = tuple(range(1, MAX_PINS_PER_PRODUCT + 1))


class ReplyStatus(models.TextChoices):
    PENDING = "pending", _("审核中")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("被驳回")


# one live reply per review at a time.
LIVE_REPLY_STATES = (ReplyStatus.PENDING, ReplyStatus.APPROVED)


class AppealStatus(models.TextChoices):
    PENDING = "pending", _("申诉中")
    UPHELD = "upheld", _("申诉成功")
    DISMISSED = "dismissed", _("申诉驳回")
    VOID = "void", _("申诉失效")


class RejectionSource(models.TextChoices):
    """Who or what refused a reply (R-2): the contact-detail check, a banned word, or a moderator."""

    CONTACT = "contact", _("含联系方式")
    BANNED_WORD = "banned_word", _("含违禁词")
    STAFF = "staff", _("人工审核")


class BannedWordAction(models.TextChoices):
    REFUSE = "refuse", _("立即驳回")
    REVIEW = "review", _("转人工审核")


class AppealDecisionReason(models.TextChoices):
    """Standard decision reasons staff pick from (issue 9: merchants read consistent reasons)."""

    MALICIOUS = "malicious", _("恶意评价（威胁、敲诈或同行恶意差评）")
    IRRELEVANT = "irrelevant", _("评价内容与商品或服务无关")
    ABUSIVE = "abusive", _("含辱骂、人身攻击或违法信息")
    ADVERTISING = "advertising", _("含广告或其他店铺引流信息")
    PRIVACY = "privacy", _("泄露商家或他人隐私")
    NO_EVIDENCE = "no_evidence", _("商家证据不足")
    GENUINE = "genuine", _("评价属于买家真实体验")
    OTHER = "other", _("其他")


UPHOLD_REASONS = (
    AppealDecisionReason.MALICIOUS,
    AppealDecisionReason.IRRELEVANT,
    AppealDecisionReason.ABUSIVE,
    AppealDecisionReason.ADVERTISING,
    AppealDecisionReason.PRIVACY,
    AppealDecisionReason.OTHER,
)
DISMISS_REASONS = (AppealDecisionReason.NO_EVIDENCE, AppealDecisionReason.GENUINE, AppealDecisionReason.OTHER)


def appeal_deadline(created_at: datetime.datetime, days: int) -> datetime.datetime:
    """R-3: the first instant after the appeal window — the end of the `days`-th local day after creation.

    Counted in whole local days, so "day 30" is allowed at any hour of that day and "day 31" never is.
    """
    local = timezone.localtime(created_at).date() + datetime.timedelta(days=days + 1)
    return timezone.make_aware(datetime.datetime.combine(local, datetime.time.min))


# ---- predicates (pure: read the review and its loaded relations, write nothing)


@condition(_("买家已删除该评价，不能再操作。"))
def not_deleted(review) -> bool:
    return review.deleted_at is None


@condition(_("该评价已申诉成功并隐藏，不能再操作。"))
def not_hidden(review) -> bool:
    return review.hidden_at is None


@condition(_("该评价已申诉过，申诉过的评价不能置顶。"))
def never_appealed(review) -> bool:
    return not review.appeal_status


@condition(_("该评价已置顶，请先取消置顶再申诉。"))
def not_pinned(review) -> bool:
    return review.pinned_at is None


@condition(_("每条评价只能申诉一次，该评价已申诉过。"))
def not_yet_appealed(review) -> bool:
    return not review.appeal_status


def is_bad(rating: int) -> bool:
    return rating <= BAD_MAX


def is_good(rating: int) -> bool:
    return rating >= GOOD_MIN
