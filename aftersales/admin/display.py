"""Display helpers of the case pages: state badges, the deadline countdown, the automation tag."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.automation import EXPRESS_REFUND
from aftersales.transitions import CaseStatus
from merchants.kernel.admin.display import badge, choice_label, local_time, money

# Badge colours of unfold's label component: default (grey), info, success, warning, danger, primary.
STATUS_VARIANTS = {
    CaseStatus.PENDING: "warning",
    CaseStatus.NEGOTIATING: "info",
    CaseStatus.REJECTED: "danger",
    CaseStatus.AWAITING_RETURN: "info",
    CaseStatus.RETURN_IN_TRANSIT: "warning",
    CaseStatus.AWAITING_VOUCHER: "warning",
    CaseStatus.RESHIPPING: "warning",
    CaseStatus.EXCHANGE_SHIPPED: "info",
    CaseStatus.REFUNDING: "primary",
    CaseStatus.ARBITRATION: "danger",
    CaseStatus.REFUNDED: "success",
    CaseStatus.EXCHANGED: "success",
    CaseStatus.CLOSED: "default",
    CaseStatus.CANCELLED: "default",
}

# Who the current deadline is waiting for (shown beside the countdown).
WAITING_FOR = {
    CaseStatus.PENDING: _("等待商家处理"),
    CaseStatus.NEGOTIATING: _("等待买家回应协商方案"),
    CaseStatus.REJECTED: _("等待买家修改申请或申请平台介入"),
    CaseStatus.AWAITING_RETURN: _("等待买家寄回商品"),
    CaseStatus.RETURN_IN_TRANSIT: _("等待商家确认收货"),
    CaseStatus.AWAITING_VOUCHER: _("等待商家上传线下退款凭证"),
    CaseStatus.RESHIPPING: _("等待商家补发商品"),
    CaseStatus.EXCHANGE_SHIPPED: _("等待买家确认收到换货"),
    CaseStatus.REFUNDING: _("退款处理中"),
    CaseStatus.ARBITRATION: _("等待平台判定"),
}

# What happens when the deadline passes, so the countdown says what it counts down to.
ON_DEADLINE = {
    CaseStatus.PENDING: _("超时系统将自动同意"),
    CaseStatus.NEGOTIATING: _("超时方案失效，回到待商家处理"),
    CaseStatus.REJECTED: _("超时售后关闭"),
    CaseStatus.AWAITING_RETURN: _("超时售后关闭"),
    CaseStatus.RETURN_IN_TRANSIT: _("超时系统将自动确认收货"),
    CaseStatus.AWAITING_VOUCHER: _("超时平台先行赔付并记录违规"),
    CaseStatus.EXCHANGE_SHIPPED: _("超时自动完成换货"),
    CaseStatus.ARBITRATION: _("超时升级高级客服"),
}


def status_badge(case) -> str:
    if waiting_for_queue(case):
        return badge(gettext("退款排队中"), "warning")
    return badge(choice_label(CaseStatus, case.status), STATUS_VARIANTS.get(case.status, "default"))


def waiting_for_queue(case) -> bool:
    """N-3: a refunding case whose refund the broker refused; requeue_refunds is retrying it."""
    return case.status == CaseStatus.REFUNDING and getattr(case, "refund_requeue_at", None) is not None


def remaining_text(delta: timedelta) -> str:
    """'剩 2 天 3 小时' / '剩 5 小时 12 分' / '剩 8 分'."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return gettext("剩 %(days)d 天 %(hours)d 小时") % {"days": days, "hours": hours}
    if hours:
        return gettext("剩 %(hours)d 小时 %(minutes)d 分") % {"hours": hours, "minutes": minutes}
    return gettext("剩 %(minutes)d 分") % {"minutes": minutes}


def countdown(deadline: datetime | None, *, now: datetime | None = None, due_soon_hours: int = 12) -> dict:
    """What the countdown to `deadline` shows: text, colour, overdue / due soon flags."""
    if deadline is None:
        return {"text": "", "variant": "default", "overdue": False, "due_soon": False}
    now = now or timezone.now()
    delta = deadline - now
    if delta <= timedelta(0):
        return {"text": gettext("已超时"), "variant": "danger", "overdue": True, "due_soon": True}
    due_soon = delta < timedelta(hours=due_soon_hours)
    return {
        "text": remaining_text(delta),
        "variant": "danger" if due_soon else "default",
        "overdue": False,
        "due_soon": due_soon,
    }


def automation_tag(case) -> tuple[str, str] | None:
    """(label, tooltip) of the A-11 / A-12 tag of an automatically approved case, or None."""
    source = (case.auto_approved_by or "").strip()
    if not source:
        return None
    if source == EXPRESS_REFUND:
        return gettext("极速退款"), source
    return gettext("规则"), gettext("自动退款规则：%(name)s") % {"name": source}


__all__ = [
    "ON_DEADLINE",
    "STATUS_VARIANTS",
    "WAITING_FOR",
    "automation_tag",
    "badge",
    "countdown",
    "local_time",
    "money",
    "remaining_text",
    "status_badge",
    "waiting_for_queue",
]
