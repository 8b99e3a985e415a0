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
from datetime import datetime, timedelta

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.kernel.models import Merchant, Role
from merchants.kernel.scoping import is_platform, merchant_ids_for, roles_for


@dataclass(frozen=True)
class Card:
    """One number on the home page, linking to the list that shows those rows."""

    title: str
    value: int | str
    link: str = ""
    hint: str = ""
    variant: str = "default"  # default | info | success | warning | danger (colours the value when non-zero)
    icon: str = ""
    # A one-click change on the card itself: a POST form (CSRF) to `action` with `action_fields` as hidden
    # inputs and a button reading `action_label`. A card with an action is not a link (no form in an <a>).
    action: str = ""
    action_label: str = ""
    action_fields: tuple[tuple[str, str], ...] = ()
    action_id: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    cards: list[Card] = field(default_factory=list)
    description: str = ""


@dataclass(frozen=True)
class Queue:
    """One staff queue on the /admin/ home: how many wait, since when the oldest waits, where they are."""

    title: str
    count: int
    oldest: datetime | None = None  # when the oldest waiting item started waiting
    link: str = ""
    hint: str = ""
    variant: str = "warning"  # colours the count when non-zero
    icon: str = ""

    def age(self, now: datetime | None = None) -> timedelta | None:
        if self.oldest is None or not self.count:
            return None
        return max((now or timezone.now()) - self.oldest, timedelta(0))


Provider = Callable[[HttpRequest], Section | None]
QueueProvider = Callable[[HttpRequest], list[Queue]]
_providers: dict[str, tuple[int, Provider]] = {}
_queue_providers: dict[str, tuple[int, QueueProvider]] = {}

# Sidebar icons (Material Symbols) by "app_label.modelname"; each app adds its own with nav_icon().
NAV_ICONS: dict[str, str] = {}
# Sidebar order within an app (lower first); pages not listed follow, by model name (never by their
# translated name, so the order is the same in every language).
NAV_PRIORITY: dict[str, int] = {}
# Sidebar order of the apps (by label): the product apps first, in the order the Chinese names gave them;
# the others (auth, schedules, ...) follow in INSTALLED_APPS order.
APP_PRIORITY: dict[str, int] = {"aftersales": 0, "merchants": 1, "tickets": 2, "reviews": 3}


def stable_app_list(app_list: list[dict]) -> list[dict]:
    """An admin site's app list in an order that does not change with the language (Django sorts by name)."""
    from django.apps import apps  # noqa: PLC0415

    installed = {config.label: index for index, config in enumerate(apps.get_app_configs())}
    app_list = sorted(
        app_list,
        key=lambda app: (
            APP_PRIORITY.get(app["app_label"], len(APP_PRIORITY)),
            installed.get(app["app_label"], 0),
        ),
    )
    for app in app_list:
        app["models"].sort(
            key=lambda model: (
                NAV_PRIORITY.get(f"{app['app_label']}.{model['object_name'].lower()}", 50),
                model["object_name"],
            )
        )
    return app_list


def card_provider(func: Provider | None = None, *, order: int = 100):
    """Register a dashboard section provider (idempotent: re-importing a module does not duplicate it)."""

    def decorate(provider: Provider) -> Provider:
        _providers[f"{provider.__module__}.{provider.__qualname__}"] = (order, provider)
        return provider

    return decorate(func) if func is not None else decorate


def staff_queue(func: QueueProvider | None = None, *, order: int = 100):
    """Register a provider of staff queues for the /admin/ home (idempotent, like card_provider).

    A provider gets the request and returns its queues — one aggregate query for all of them (a count
    and the oldest item's time), so the home costs one query per app whatever the table sizes.
    """

    def decorate(provider: QueueProvider) -> QueueProvider:
        _queue_providers[f"{provider.__module__}.{provider.__qualname__}"] = (order, provider)
        return provider

    return decorate(func) if func is not None else decorate


def queues_for(request: HttpRequest) -> list[Queue]:
    """Every registered staff queue, in the providers' order; nothing for a user who is not platform staff."""
    if not is_platform(request.user):
        return []
    ordered = sorted(_queue_providers.values(), key=lambda pair: pair[0])
    return [queue for _order, provider in ordered for queue in provider(request)]


def staff_dashboard_callback(request: HttpRequest, context: dict) -> dict:
    """unfold DASHBOARD_CALLBACK of /admin/: the queues staff work (not the merchant cards)."""
    queues = queues_for(request)
    now = timezone.now()
    context.update(
        {
            "staff_queues": [{"queue": queue, "age": queue.age(now)} for queue in queues],
            "staff_queue_total": sum(queue.count for queue in queues),
        }
    )
    return context


def nav_icon(label: str, icon: str, *, priority: int | None = None) -> None:
    """Give a page its sidebar icon (and place): `label` is "app_label.modelname"."""
    NAV_ICONS[label.lower()] = icon
    if priority is not None:
        NAV_PRIORITY[label.lower()] = priority


def sections_for(request: HttpRequest) -> list[Section]:
    ordered = sorted(_providers.values(), key=lambda pair: pair[0])
    return [section for _order, provider in ordered if (section := provider(request)) is not None]


def site_name(request: HttpRequest) -> str:
    """The admin site the request is on (workbench or admin), for reverse().

    An admin index view does not set `current_app` before the dashboard callback runs: the URL's
    namespace says which site it is.
    """
    match = getattr(request, "resolver_match", None)
    return getattr(request, "current_app", None) or (match.namespace if match else "") or "workbench"


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


BELL_CAP = 99  # the unread count shows "99+" beyond this (a bounded read, as the header bell's)


def home_links(request: HttpRequest) -> list[dict]:
    """The workbench home's links to the shop's notices (with the unread count) and its violation record."""
    from merchants.kernel.notices import unread_count  # noqa: PLC0415  (notices imports the models)

    site = site_name(request)
    links = []
    for key, title, icon, url_name in (
        ("notices", _("站内通知"), "notifications", "merchants_notice_changelist"),
        ("violations", _("违规记录"), "gpp_maybe", "merchants_violation_changelist"),
    ):
        try:
            url = reverse(f"{site}:{url_name}")
        except NoReverseMatch:
            continue
        links.append({"key": key, "title": title, "icon": icon, "url": url, "count": 0, "count_text": ""})
    for link in links:
        if link["key"] == "notices":
            count = unread_count(request.user, cap=BELL_CAP)
            link["count"] = count
            link["count_text"] = f"{BELL_CAP}+" if count > BELL_CAP else str(count)
            link["url"] += "?status=unread" if count else ""
    return links


def dashboard_callback(request: HttpRequest, context: dict) -> dict:
    """unfold DASHBOARD_CALLBACK of the workbench: the sections, the user's shops and the home links."""
    context.update(
        {
            "dashboard_sections": sections_for(request),
            "dashboard_shops": shops_for(request),
            "home_links": home_links(request),
        }
    )
    return context


def workbench_navigation(request: HttpRequest) -> list[dict]:
    """Sidebar of the workbench: the home page, then every page the user may open, grouped by app.

    Built from the site's app list, so pages other apps register appear without editing settings.
    """
    from merchants.kernel.admin.sites import workbench_site  # the site's app list needs the registry loaded

    groups = [
        {"items": [{"title": _("工作台首页"), "icon": "dashboard", "link": reverse("workbench:index")}]}
    ]
    for app in workbench_site.get_app_list(request):  # stable_app_list: the same order in every language
        models = [model for model in app["models"] if model.get("admin_url")]
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
