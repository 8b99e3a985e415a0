"""Review cards of the home pages: the shop's DSR with its trend and open review work (R-7, R-2, R-3);
on /admin/, the staff queues. Registered as section providers of merchants.kernel.registry.

A shop's figures cost two index-only aggregates (now, and 30 days ago for the trend) plus one count of
the tabs; staff cards count the two queues through their partial indexes.
"""

from __future__ import annotations

from django.db.models import Count, Min
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from merchants.kernel import registry
from merchants.kernel.models import Merchant
from merchants.kernel.scoping import is_platform, merchant_ids_for
from reviews import selectors
from reviews.filters import TABS_BY_KEY, tab_counts

TREND_DAYS = 30
MAX_SHOPS = 3  # a member of many shops sees the first few here, every shop in the review list

registry.nav_icon("reviews.review", "reviews", priority=5)
registry.nav_icon("reviews.reply", "rate_review")
registry.nav_icon("reviews.appeal", "gavel")
registry.nav_icon("reviews.bannedword", "block")
registry.nav_icon("reviews.reviewsettings", "tune")


def _score(value) -> str:
    return f"{value:.2f}" if value is not None else "-"


def _percent(value) -> str:
    return f"{100 * value:.1f}%" if value is not None else "-"


def trend_text(now, before, *, percent: bool = False) -> str:
    """'较 30 天前 ↑0.05' / '较 30 天前 持平' / '' when either side has no reviews."""
    if now is None or before is None:
        return ""
    delta = now - before
    shown = f"{abs(delta) * 100:.1f}%" if percent else f"{abs(delta):.2f}"
    if shown in ("0.00", "0.0%"):
        return gettext("较 %(days)d 天前持平") % {"days": TREND_DAYS}
    arrow = "↑" if delta > 0 else "↓"
    return gettext("较 %(days)d 天前 %(arrow)s%(delta)s") % {
        "days": TREND_DAYS,
        "arrow": arrow,
        "delta": shown,
    }


def dsr_cards(merchant: Merchant, *, prefix: str = "", link: str = "") -> list[registry.Card]:
    """The shop's DSR (R-7): each dimension's average and the good-review rates, with the 30-day trend."""
    current, before = selectors.dsr_trend(merchant.pk, step_days=TREND_DAYS)
    days = (current.end - current.start).days
    if current.count:
        counted = gettext("近 %(days)d 天 %(n)d 条评价") % {"days": days, "n": current.count}
    else:
        counted = gettext("近 %(days)d 天暂无评价") % {"days": days}

    def card(title, value, trend, icon):
        hint = f"{counted} · {trend}" if trend else counted
        return registry.Card(title=f"{prefix}{title}", value=value, link=link, hint=hint, icon=icon)

    return [
        card(
            gettext("商品评分"),
            _score(current.product_avg),
            trend_text(current.product_avg, before.product_avg),
            "star",
        ),
        card(
            gettext("服务评分"),
            _score(current.service_avg),
            trend_text(current.service_avg, before.service_avg),
            "support_agent",
        ),
        card(
            gettext("物流评分"),
            _score(current.logistics_avg),
            trend_text(current.logistics_avg, before.logistics_avg),
            "local_shipping",
        ),
        card(
            gettext("商品好评率"),
            _percent(current.good_product_rate),
            trend_text(current.good_product_rate, before.good_product_rate, percent=True),
            "thumb_up",
        ),
        card(
            gettext("服务好评率"),
            _percent(current.good_service_rate),
            trend_text(current.good_service_rate, before.good_service_rate, percent=True),
            "sentiment_satisfied",
        ),
    ]


@registry.card_provider(order=30)
def review_section(request: HttpRequest) -> registry.Section | None:
    site = registry.site_name(request)
    if site != "workbench":
        return staff_section(request)
    try:
        url = reverse("workbench:reviews_review_changelist")
    except NoReverseMatch:
        return None
    shops = list(Merchant.objects.filter(pk__in=merchant_ids_for(request.user)).order_by("code")[:MAX_SHOPS])
    if not shops:
        return None
    counts = tab_counts(selectors.reviews_for(request.user))
    cards = [
        registry.Card(
            title=TABS_BY_KEY[key].label,
            value=counts[key],
            link=f"{url}?tab={key}",
            variant=TABS_BY_KEY[key].variant,
            icon=icon,
        )
        for key, icon in (
            ("to_reply", "rate_review"),
            ("reply_rejected", "cancel"),
            ("appealing", "gavel"),
            ("bad", "thumb_down"),
        )
    ]
    for shop in shops:
        cards.extend(dsr_cards(shop, prefix=f"{shop.name} · " if len(shops) > 1 else "", link=url))
    days = selectors.settings_row().dsr_days
    return registry.Section(
        title=_("评价与店铺评分"),
        cards=cards,
        description=gettext("店铺评分（DSR）为近 %(days)d 天评价的平均分，不含买家删除和申诉成功的评价。")
        % {"days": days},
    )


def staff_section(request: HttpRequest) -> registry.Section | None:
    if not is_platform(request.user):
        return None
    try:
        replies = reverse("admin:reviews_reply_changelist")
        appeals = reverse("admin:reviews_appeal_changelist")
    except NoReverseMatch:
        return None
    return registry.Section(
        title=_("评价审核"),
        cards=[
            registry.Card(
                gettext("待审核回复"),
                selectors.moderation_queue(request.user).count(),
                f"{replies}?tab=pending",
                gettext("商家回复先审后发，最早提交的排在最前"),
                "warning",
                "rate_review",
            ),
            registry.Card(
                gettext("待审核申诉"),
                selectors.appeal_queue(request.user).count(),
                f"{appeals}?tab=pending",
                gettext("申诉成功的评价从商品页隐藏，不计入店铺评分"),
                "warning",
                "gavel",
            ),
        ],
    )


@registry.staff_queue(order=20)
def staff_queues(request: HttpRequest) -> list[registry.Queue]:
    """Replies to moderate (R-2) and appeals to decide (R-3): one aggregate each, on their queue indexes."""
    site = registry.site_name(request)
    try:
        replies_url = reverse(f"{site}:reviews_reply_changelist")
        appeals_url = reverse(f"{site}:reviews_appeal_changelist")
    except NoReverseMatch:
        return []
    replies = (
        selectors.moderation_queue(request.user).order_by().aggregate(n=Count("pk"), oldest=Min("created_at"))
    )
    appeals = (
        selectors.appeal_queue(request.user).order_by().aggregate(n=Count("pk"), oldest=Min("created_at"))
    )
    return [
        registry.Queue(
            _("评价回复待审核"),
            replies["n"],
            replies["oldest"],
            replies_url,
            _("商家对评价的回复"),
            "warning",
            "rate_review",
        ),
        registry.Queue(
            _("评价申诉待处理"),
            appeals["n"],
            appeals["oldest"],
            appeals_url,
            _("商家对差评的申诉"),
            "warning",
            "gavel",
        ),
    ]
