"""The workbench home (工作台): sections of cards from providers, and the sidebar built from the site.

Any app adds its own cards by registering a provider — a function of the request returning a
`Section` (or None to show nothing) — typically from its admin module:

    from merchants import dashboard

    @dashboard.card_provider(order=20)
    def aftersales_cards(request):
        return dashboard.Section(title=_("售后"), cards=[dashboard.Card(title=..., value=..., link=...)])

Providers read through the tenancy layer (selectors take the user), so counts cover the user's shops
only, and each should cost a constant number of queries (one aggregate, not one count per card).
Wired in settings: UNFOLD_WORKBENCH["DASHBOARD_CALLBACK"] and ["SIDEBAR"]["navigation"].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants import selectors
from merchants.models import Merchant
from merchants.scoping import merchant_ids_for, roles_for
from merchants.transitions import SHIPPABLE_STATES, OrderStatus, Role


@dataclass(frozen=True)
class Card:
    """One number on the home page, linking to the list that shows those rows."""

    title: str
    value: int | str
    link: str = ""
    hint: str = ""
    variant: str = "default"  # default | info | success | warning | danger (colours the value when non-zero)
    icon: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    cards: list[Card] = field(default_factory=list)
    description: str = ""


Provider = Callable[[HttpRequest], Section | None]
_providers: dict[str, tuple[int, Provider]] = {}

# Sidebar icons (Material Symbols) by "app_label.modelname"; other apps add theirs with nav_icon().
NAV_ICONS: dict[str, str] = {
    "merchants.order": "receipt_long",
    "merchants.product": "inventory_2",
    "merchants.merchant": "storefront",
    "merchants.membership": "group",
}


# Sidebar order within an app (lower first); pages not listed follow alphabetically.
NAV_PRIORITY: dict[str, int] = {
    "merchants.order": 0,
    "merchants.product": 1,
    "merchants.merchant": 2,
    "merchants.membership": 3,
}


def card_provider(func: Provider | None = None, *, order: int = 100):
    """Register a dashboard section provider (idempotent: re-importing a module does not duplicate it)."""

    def decorate(provider: Provider) -> Provider:
        _providers[f"{provider.__module__}.{provider.__qualname__}"] = (order, provider)
        return provider

    return decorate(func) if func is not None else decorate


def nav_icon(label: str, icon: str, *, priority: int | None = None) -> None:
    """Give a page its sidebar icon (and place): `label` is "app_label.modelname"."""
    NAV_ICONS[label.lower()] = icon
    if priority is not None:
        NAV_PRIORITY[label.lower()] = priority


def sections_for(request: HttpRequest) -> list[Section]:
    ordered = sorted(_providers.values(), key=lambda pair: pair[0])
    return [section for _order, provider in ordered if (section := provider(request)) is not None]


def _site_name(request: HttpRequest) -> str:
    return getattr(request, "current_app", None) or "workbench"


def shops_for(request: HttpRequest) -> list[dict]:
    """The user's shops with their role, for the header of the home page."""
    roles = roles_for(request.user)
    if not roles:
        return []
    shops = Merchant.objects.filter(pk__in=merchant_ids_for(request.user)).order_by("code")
    return [
        {
            "shop": shop,
            "role": Role(roles[shop.pk]).label,
            "level": shop.level_label,
            "express_refund": shop.express_refund_enabled,
        }
        for shop in shops
    ]


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    """unfold DASHBOARD_CALLBACK of the workbench: the sections and the user's shops."""
    context.update({"dashboard_sections": sections_for(request), "dashboard_shops": shops_for(request)})
    return context


def open_order_counts(orders: QuerySet, *, statuses, now=None) -> dict[str, int]:
    """{status: count} for `statuses`, plus "late" (M-4): two index-only counts, whatever the shop's size.

    One GROUP BY over (merchant, status, …) and one COUNT over the partial late-order index; a single
    aggregate with FILTERs would have to read every open order's row for ship_by.
    """
    counts = dict.fromkeys(statuses, 0)
    counts.update(orders.filter(status__in=statuses).order_by().values_list("status").annotate(n=Count("*")))
    counts["late"] = orders.filter(status__in=SHIPPABLE_STATES, ship_by__lt=now or timezone.now()).count()
    return counts


@card_provider(order=10)
def order_cards(request: HttpRequest) -> Section:
    """Open shipping work (M-2, M-4), counted over the user's shops only."""
    counts = open_order_counts(
        selectors.orders_for(request.user),
        statuses=(OrderStatus.AWAITING_CONFIRMATION, *SHIPPABLE_STATES, OrderStatus.SHIPPED),
    )
    counts = {
        "awaiting": counts[OrderStatus.AWAITING_CONFIRMATION],
        "to_ship": counts[OrderStatus.TO_SHIP],
        "partial": counts[OrderStatus.PARTIALLY_SHIPPED],
        "shipped": counts[OrderStatus.SHIPPED],
        "late": counts["late"],
    }
    url = reverse(f"{_site_name(request)}:merchants_order_changelist")
    cards = [
        Card(
            _("待发货"),
            counts["to_ship"],
            f"{url}?status__exact={OrderStatus.TO_SHIP}",
            _("已付款，等待发货"),
            "warning",
            "inventory",
        ),
        Card(
            _("超时未发货"),
            counts["late"],
            f"{url}?late=yes",
            _("已过承诺发货时间，请尽快发货"),
            "danger",
            "alarm",
        ),
        Card(
            _("部分发货"),
            counts["partial"],
            f"{url}?status__exact={OrderStatus.PARTIALLY_SHIPPED}",
            _("还有商品未发出"),
            "info",
            "call_split",
        ),
        Card(
            _("已发货待收货"),
            counts["shipped"],
            f"{url}?status__exact={OrderStatus.SHIPPED}",
            _("等待买家确认收货"),
            "default",
            "local_shipping",
        ),
    ]
    if counts["awaiting"]:
        cards.insert(
            0,
            Card(
                _("待确认（货到付款）"),
                counts["awaiting"],
                f"{url}?status__exact={OrderStatus.AWAITING_CONFIRMATION}",
                _("确认后才能发货"),
                "info",
                "task_alt",
            ),
        )
    return Section(title=_("订单与发货"), cards=cards)


def workbench_navigation(request: HttpRequest) -> list[dict]:
    """Sidebar of the workbench: the home page, then every page the user may open, grouped by app.

    Built from the site's app list, so pages other apps register appear without editing settings.
    """
    from merchants.sites import workbench_site

    groups = [
        {"items": [{"title": _("工作台首页"), "icon": "dashboard", "link": reverse("workbench:index")}]}
    ]
    for app in workbench_site.get_app_list(request):
        models = sorted(
            (model for model in app["models"] if model.get("admin_url")),
            key=lambda model: NAV_PRIORITY.get(f"{app['app_label']}.{model['object_name'].lower()}", 50),
        )
        items = [
            {
                "title": model["name"],
                "link": model["admin_url"],
                "icon": NAV_ICONS.get(f"{app['app_label']}.{model['object_name'].lower()}", "chevron_right"),
            }
            for model in models
        ]
        if items:
            groups.append({"title": app["name"], "separator": True, "items": items})
    return groups
