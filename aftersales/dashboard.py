"""After-sales cards of the home pages (A-5, A-10): open work by quick tab, due soon, failed refunds.

`case_cards(request)` returns the card data; it is registered as a section provider of
merchants.dashboard (the workbench home, and the /admin/ home when that site uses the same
DASHBOARD_CALLBACK). One aggregate query per site, through the user's scoped cases.
"""

from __future__ import annotations

from django.db.models import Count, Min
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from aftersales import selectors
from aftersales.filters import due_soon_hours, tab_counts, tabs_for
from aftersales.transitions import CaseStatus, DelayReportStatus
from merchants.kernel import registry
from merchants.kernel.scoping import is_platform

# Material Symbols icons of the tabs' cards.
TAB_ICONS = {
    "pending": "pending_actions",
    "negotiating": "handshake",
    "awaiting_return": "assignment_return",
    "return_in_transit": "local_shipping",
    "arbitration": "gavel",
    "due_soon": "alarm",
    "refund_failed": "credit_card_off",
}

TAB_HINTS = {
    "pending": _("等待商家处理，超时将自动同意"),
    "negotiating": _("等待买家回应协商方案"),
    "awaiting_return": _("等待买家寄回商品"),
    "return_in_transit": _("买家已寄回，请及时确认收货"),
    "arbitration": _("平台客服介入判定中"),
    "due_soon": _("处理时限即将到期或已超时"),
    "refund_failed": _("多次退款失败，需要人工重新退款"),
}


def _site_name(request: HttpRequest) -> str:
    return getattr(request, "current_app", None) or "workbench"


def case_cards(request: HttpRequest) -> list[registry.Card]:
    """One card per quick tab with its count, linking to the tab; staff also get failed refunds."""
    site = _site_name(request)
    platform = site != "workbench"
    if platform and not is_platform(request.user):
        return []
    counts = tab_counts(selectors.cases_for(request.user), hours=due_soon_hours(request), platform=platform)
    try:
        url = reverse(f"{site}:aftersales_aftersalecase_changelist")
    except NoReverseMatch:
        return []
    cards = []
    for tab in tabs_for(platform):
        cards.append(
            registry.Card(
                title=tab.label,
                value=counts[tab.key],
                link=f"{url}?tab={tab.key}",
                hint=TAB_HINTS.get(tab.key, ""),
                variant=tab.variant,
                icon=TAB_ICONS.get(tab.key, ""),
            )
        )
    return cards


@registry.card_provider(order=20)
def aftersales_section(request: HttpRequest) -> registry.Section | None:
    cards = case_cards(request)
    if not cards:
        return None
    return registry.Section(title=_("售后"), cards=cards)


@registry.card_provider(order=21)
def express_refund_section(request: HttpRequest) -> registry.Section | None:
    """A-11 / issue 11 §9: each shop's express-refund switch; owners flip it on the card with one click."""
    if _site_name(request) != "workbench":
        return None
    # Here, not at the top: the cards are registered at start-up (AftersalesConfig.ready), before the admin.
    from aftersales.admin.express import URL_NAME, express_conditions, express_switches

    switches = express_switches(request.user)
    if not switches:
        return None
    url = reverse(f"workbench:{URL_NAME}")
    home = reverse("workbench:index")
    cards = [
        registry.Card(
            title=(f"{s['shop'].name} · " if len(switches) > 1 else "") + str(_("极速退款")),
            value=str(_("已开启") if s["enabled"] else _("未开启")),
            link=url,
            hint="" if s["may_toggle"] else s["why"],
            variant="success" if s["enabled"] else "default",
            icon="bolt",
            # Owners flip it on the card: one POST to the switch view (services.set_express_refund), back home.
            action=url if s["may_toggle"] else "",
            action_label=str(_("关闭极速退款") if s["enabled"] else _("开启极速退款")),
            action_fields=(
                ("merchant", str(s["shop"].pk)),
                ("enabled", "0" if s["enabled"] else "1"),
                ("next", home),
            ),
            action_id=f"home-express-toggle-{s['shop'].pk}",
        )
        for s in switches
    ]
    return registry.Section(title=_("极速退款"), cards=cards, description=express_conditions(request))


registry.nav_icon("aftersales.aftersalecase", "support_agent", priority=0)
registry.nav_icon("aftersales.delayreport", "schedule")
registry.nav_icon("aftersales.autorefundrule", "rule")
registry.nav_icon("aftersales.returnaddress", "home_pin")
registry.nav_icon("aftersales.rejectreason", "playlist_remove")


def _waiting(queryset, field: str) -> tuple[int, object]:
    """(how many, since when the oldest waits) in one aggregate over an indexed condition."""
    row = queryset.order_by().aggregate(n=Count("pk"), oldest=Min(field))
    return row["n"], row["oldest"]


@registry.staff_queue(order=10)
def staff_queues(request: HttpRequest) -> list[registry.Queue]:
    """The platform's after-sales queues (A-5, A-7, A-9, A-6): escalated arbitration first."""
    site = registry.site_name(request)
    try:
        cases_url = reverse(f"{site}:aftersales_aftersalecase_changelist")
        reports_url = reverse(f"{site}:aftersales_delayreport_changelist")
    except NoReverseMatch:
        return []
    cases = selectors.cases_for(request.user)
    arbitration = cases.filter(status=CaseStatus.ARBITRATION)
    escalated, escalated_oldest = _waiting(arbitration.filter(escalated=True), "arbitration_started_at")
    waiting, waiting_oldest = _waiting(arbitration, "arbitration_started_at")
    reports, reports_oldest = _waiting(
        selectors.delay_reports_for(request.user).filter(status=DelayReportStatus.PENDING), "created_at"
    )
    failed, failed_oldest = _waiting(cases.filter(refund_failed=True), "updated_at")
    return [
        registry.Queue(
            _("已升级的平台介入"),
            escalated,
            escalated_oldest,
            f"{cases_url}?tab=arbitration",
            _("超时未判定，已升级高级客服"),
            "danger",
            "priority_high",
        ),
        registry.Queue(
            _("平台介入待判定"),
            waiting,
            waiting_oldest,
            f"{cases_url}?tab=arbitration",
            _("买家申请平台介入的售后单"),
            "danger",
            "gavel",
        ),
        registry.Queue(
            _("延迟报备待审核"),
            reports,
            reports_oldest,
            f"{reports_url}?status__exact={DelayReportStatus.PENDING}",
            _("商家申请延长处理时限"),
            "warning",
            "schedule",
        ),
        registry.Queue(
            _("退款失败"),
            failed,
            failed_oldest,
            f"{cases_url}?tab=refund_failed",
            TAB_HINTS["refund_failed"],
            "danger",
            "credit_card_off",
        ),
    ]
