"""Quick tabs above a change list (orders by state, cases by queue, tickets, reviews…), written once.

A quick tab is a set of the list's own query parameters (`?tab=pending`, `?status__exact=to_ship`), drawn as
a tab with an optional count. A tab is active when the list's parameters are exactly its own (a filter or
a search beyond it makes none active, and 全部 is active with no parameter at all); the parameters of the
tab the list is on are not counted as "filters" (the 筛选 button stays plain: QuickTabChangeList).

An admin mixes in `QuickTabsMixin` and says `get_quick_tabs(request)` and, for the counts,
`quick_tab_counts(request)` ({key: n}, one aggregate query: `count_tabs`). A tab that is a condition
rather than a filter's parameter (`?tab=due_soon`) is served by `QuickTabFilter`, which asks the admin's
`quick_tab_q(request, key)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from merchants.kernel.admin.changelist import QuickTabChangeList
from merchants.kernel.scoping import sees_all

TAB_PARAMETER = "tab"
# Ordering, the page and "show all" never change what a tab holds.
NEUTRAL_PARAMETERS = frozenset({"o", "p", "all"})


@dataclass(frozen=True)
class QuickTab:
    key: str
    label: str
    variant: str = "default"  # the count's badge colour
    params: Mapping[str, str] = field(default_factory=dict)  # empty: {"tab": key}
    counted: bool = True  # shows a count (quick_tab_counts has this key)

    @property
    def query(self) -> dict[str, str]:
        return dict(self.params) if self.params else {TAB_PARAMETER: self.key}

    @property
    def link(self) -> str:
        return f"?{urlencode(self.query)}"


def list_params(request) -> dict[str, str]:
    """The list's parameters that narrow it (non-empty, not ordering or paging)."""
    return {
        key: value
        for key, value in request.GET.items()
        if key not in NEUTRAL_PARAMETERS and str(value).strip()
    }


def active_tab(request, tabs) -> QuickTab | None:
    """The tab the list is on: the first whose parameters the request carries (other filters may be added)."""
    params = list_params(request)
    for tab in tabs:
        if all(params.get(key) == value for key, value in tab.query.items()):
            return tab
    return None


def narrowed_beyond_tab(request) -> bool:
    """Whether a filter or a search narrows the list beyond its `?tab=` (the 清除筛选 link shows then)."""
    return any(key != TAB_PARAMETER for key in list_params(request))


def count_tabs(queryset: QuerySet, conditions: Mapping[str, Q]) -> dict[str, int]:
    """{tab key: count} of each condition over `queryset` (already scoped), in one aggregate query."""
    return queryset.order_by().aggregate(**{key: Count("pk", filter=q) for key, q in conditions.items()})


def tab_links(request, tabs, counts: Mapping[str, int], *, exact: bool = True, all_label=None) -> list[dict]:
    """What templates/kernel/quick_tabs.html draws: 全部, then each tab with its count and whether it is on.

    `exact`: a tab is on only when the list has no other filter; otherwise the tab the list is on stays
    highlighted whatever else narrows it.
    """
    params = list_params(request)
    current = None if exact else active_tab(request, tabs)
    links = [
        {
            "title": all_label or _("全部"),
            "link": "?",
            "count": None,
            "variant": "default",
            "active": not params,
        }
    ]
    for tab in tabs:
        links.append(
            {
                "title": tab.label,
                "link": tab.link,
                "count": counts.get(tab.key) if tab.counted else None,
                "variant": tab.variant,
                "active": params == tab.query if exact else tab is current,
                "key": tab.key,
            }
        )
    return links


class QuickTabsMixin:
    """A ModelAdmin whose change list has quick tabs; the links go to the template as `quick_tabs_context`."""

    quick_tabs_context = "quick_tabs"
    quick_tabs_exact = True  # see tab_links()
    # When set, the template also gets whether the list is narrowed beyond its tab (narrowed_beyond_tab).
    quick_tabs_filtered_context: str | None = None

    def get_quick_tabs(self, request) -> list[QuickTab]:
        return []

    def quick_tab_counts(self, request) -> dict[str, int]:
        return {}

    def quick_tab_q(self, request, key: str) -> Q | None:
        """The condition of a `?tab=` tab (QuickTabFilter); None for an unknown key (an empty list)."""
        return None

    def active_quick_tab(self, request) -> QuickTab | None:
        return active_tab(request, self.get_quick_tabs(request))

    def quick_tab_params(self, request) -> set[str]:
        """The parameters the active tab stands for: not an extra filter (QuickTabChangeList)."""
        tab = self.active_quick_tab(request)
        return set(tab.query) if tab else set()

    def shared_for_staff(self, request, key: str, count: Callable[[], dict[str, int]]) -> dict[str, int]:
        """`count()`, shared by platform staff for SHOUHOU_STAFF_COUNTS_CACHE_SECONDS on the platform site.

        Across every shop a tab count scans the whole table (~40-250 ms at 1M rows): staff share one
        result for a few seconds. Shop members, whose counts are cheap and must be exact after each of
        their actions, are never served a cached count."""
        platform = getattr(self, "is_platform_site", lambda: False)()
        if platform and sees_all(request.user):
            return cache.get_or_set(
                f"staff-tab-counts:{key}", count, settings.SHOUHOU_STAFF_COUNTS_CACHE_SECONDS
            )
        return count()

    def quick_tab_links(self, request) -> list[dict]:
        tabs = self.get_quick_tabs(request)
        counts = self.quick_tab_counts(request) if any(tab.counted for tab in tabs) else {}
        return tab_links(request, tabs, counts, exact=self.quick_tabs_exact)

    def get_changelist(self, request, **kwargs):
        return QuickTabChangeList

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), self.quick_tabs_context: self.quick_tab_links(request)}
        if self.quick_tabs_filtered_context:
            extra_context[self.quick_tabs_filtered_context] = narrowed_beyond_tab(request)
        return super().changelist_view(request, extra_context)


class QuickTabFilter(admin.SimpleListFilter):
    """`?tab=<key>` as a list filter, so the list, its export and the counts agree on what a tab holds.

    Drawn nowhere (the tabs above the list show it); the condition is the admin's `quick_tab_q()`.
    """

    title = _("快捷分类")
    parameter_name = TAB_PARAMETER
    template = "kernel/filters/hidden.html"

    def __init__(self, request, params, model, model_admin):
        self.model_admin = model_admin
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [
            (tab.key, tab.label)
            for tab in model_admin.get_quick_tabs(request)
            if tab.query == {TAB_PARAMETER: tab.key}
        ]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        q = self.model_admin.quick_tab_q(request, self.value())
        return queryset.filter(q) if q is not None else queryset.none()


class HiddenFilterMixin:
    """A list filter applied like any other but drawn elsewhere (the quick tabs above the list)."""

    template = "kernel/filters/hidden.html"


__all__ = [
    "HiddenFilterMixin",
    "QuickTab",
    "QuickTabFilter",
    "QuickTabsMixin",
    "active_tab",
    "count_tabs",
    "list_params",
    "narrowed_beyond_tab",
    "tab_links",
]
