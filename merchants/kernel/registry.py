"""The workbench home (工作台): sections of cards from providers, and the sidebar built from the site.

Any app adds its own cards by registering a provider — a function of the request returning a
`Section` (or None to show nothing) — typically from its admin module:

    from merchants.kernel import registry

    @registry.card_provider(order=20)
    def aftersales_cards(request):
        return registry.Section(title=_("售后"), cards=[registry.Card(title=..., value=..., link=...)])

Providers read through the tenancy layer (selectors take the user), so counts cover the user's shops
only, and each should cost a constant number of queries (one aggregate, not one count per card).
Wired in settings: UNFOLD_WORKBENCH["DASHBOARD_CALLBACK"] and ["SIDEBAR"]["navigation"].
The level engine's metric providers (`level_metric`) follow the same shape. The demo's seeders and
simulator actions have their own registry in the demo app (demo/registry.py): no product app registers any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from merchants.kernel.models import Merchant, Role
from merchants.kernel.scoping import merchant_ids_for, roles_for


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

# Sidebar icons (Material Symbols) by "app_label.modelname"; each app adds its own with nav_icon().
NAV_ICONS: dict[str, str] = {}
# Sidebar order within an app (lower first); pages not listed follow alphabetically.
NAV_PRIORITY: dict[str, int] = {}


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


def site_name(request: HttpRequest) -> str:
    """The admin site the request is on (workbench or admin), for reverse()."""
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


def workbench_navigation(request: HttpRequest) -> list[dict]:
    """Sidebar of the workbench: the home page, then every page the user may open, grouped by app.

    Built from the site's app list, so pages other apps register appear without editing settings.
    """
    from merchants.kernel.admin.sites import workbench_site  # the site's app list needs the registry loaded

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
