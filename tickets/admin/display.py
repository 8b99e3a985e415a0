"""Display helpers of the ticket pages: state badges, the due-time countdown, the overdue badge, file URLs."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from merchants.kernel.admin.display import badge, choice_label, countdown
from tickets.transitions import TicketStatus

STATUS_VARIANTS = {
    TicketStatus.PENDING: "warning",
    TicketStatus.IN_REVIEW: "info",
    TicketStatus.CLOSED: "success",
}

# Who the running clock waits for, and what happens when it runs out (the countdown says both).
WAITING_FOR = {
    TicketStatus.PENDING: _("等待商家处理"),
    TicketStatus.IN_REVIEW: _("等待平台审核"),
}
ON_DEADLINE = {
    TicketStatus.PENDING: _("超时将记录违规并升级处理"),
    TicketStatus.IN_REVIEW: _("超时将上报高级客服"),
}


def status_badge(ticket) -> str:
    return badge(choice_label(TicketStatus, ticket.status), STATUS_VARIANTS.get(ticket.status, "default"))


def clock_of(ticket):
    """The running clock's deadline: the merchant's while pending, the platform's while in review."""
    if ticket.status == TicketStatus.PENDING:
        return ticket.due_at
    if ticket.status == TicketStatus.IN_REVIEW:
        return ticket.review_due_at
    return None


def ticket_countdown(ticket, *, due_soon_hours: int = 12, now=None) -> dict:
    """aftersales' countdown on the ticket's running clock; an escalated episode reads 已超时."""
    shown = countdown(clock_of(ticket), now=now, due_soon_hours=due_soon_hours)
    if ticket.status == TicketStatus.PENDING and ticket.overdue:
        shown = {**shown, "text": gettext("已超时"), "variant": "danger", "overdue": True}
    return shown


def tag_badges(ticket, *, platform: bool = True) -> list[str]:
    """The overdue badge (T-3), the late review (the platform's own clock: staff only), how often it was
    sent back."""
    tags = []
    if ticket.status == TicketStatus.PENDING and ticket.overdue:
        tags.append(badge(gettext("已超时"), "danger"))
    if platform and ticket.status == TicketStatus.IN_REVIEW and ticket.review_late:
        tags.append(badge(gettext("审核超时"), "danger"))
    if ticket.reject_count:
        tags.append(badge(gettext("驳回 %(n)d 次") % {"n": ticket.reject_count}, "default"))
    if ticket.overdue_count and not (ticket.status == TicketStatus.PENDING and ticket.overdue):
        tags.append(badge(gettext("曾超时 %(n)d 次") % {"n": ticket.overdue_count}, "default"))
    return tags


def file_url(attachment) -> str:
    """Where an attachment is served: the kernel's protected file view (N-7, R-8)."""
    return attachment.url
