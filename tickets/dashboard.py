"""Ticket cards of the home pages (T-4): tickets by stage tab, linking to the tab. One aggregate query."""

from __future__ import annotations

from django.db.models import Count, Min
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from merchants.kernel import registry
from merchants.kernel.scoping import is_platform
from tickets import selectors
from tickets.transitions import TicketStatus

CARDS = (
    ("pending", _("待处理服务单"), "warning", "pending_actions"),
    ("overdue", _("已超时服务单"), "danger", "alarm"),
    ("in_review", _("审核中服务单"), "info", "rate_review"),
    ("review_late", _("审核超时服务单"), "danger", "notification_important"),
)


@registry.card_provider(order=30)
def ticket_cards(request: HttpRequest):
    site = registry.site_name(request)
    platform = site != "workbench"
    if platform and not is_platform(request.user):
        return None
    keys = selectors.STAFF_TABS if platform else selectors.STAGE_TABS
    try:
        url = reverse(f"{site}:tickets_ticket_changelist")
    except NoReverseMatch:
        return None
    counts = selectors.tab_counts(
        selectors.tickets_for(request.user).filter(status__in=["pending", "in_review"]),
        keys=[k for k in keys if k != "closed"],
    )
    cards = [
        registry.Card(title=title, value=counts[key], link=f"{url}?tab={key}", variant=variant, icon=icon)
        for key, title, variant, icon in CARDS
        if key in counts
    ]
    return registry.Section(title=_("服务单"), cards=cards)


@registry.staff_queue(order=30)
def staff_queues(request: HttpRequest) -> list[registry.Queue]:
    """Ticket results to review (T-2), oldest submission first: one aggregate."""
    site = registry.site_name(request)
    try:
        url = reverse(f"{site}:tickets_ticket_changelist")
    except NoReverseMatch:
        return []
    row = (
        selectors.tickets_for(request.user)
        .filter(status=TicketStatus.IN_REVIEW)
        .order_by()
        .aggregate(n=Count("pk"), oldest=Min("submitted_at"))
    )
    return [
        registry.Queue(
            _("服务单结果待审核"),
            row["n"],
            row["oldest"],
            f"{url}?tab=in_review",
            _("商家已提交处理结果"),
            "warning",
            "fact_check",
        )
    ]
