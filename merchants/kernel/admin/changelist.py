"""The change list of a page with quick tabs above it (orders, after-sales cases), and what keeps it fast.

A quick tab is a filter underneath (a query parameter), but the tabs show it already: the 筛选 button
is highlighted only for filters chosen beyond the tab, and an empty result says, in the merchant's words,
why the list is empty and how to get rows back (unfold's default offers to "create a new item", which
nobody can do on these lists).

`FastListMixin` holds the rendering shortcuts of the big lists (SPEC lists of 25–100 rows over tables of
a million orders): headers built once a page, a checkbox without a template per row, and a paginator
that does not count the whole table when nothing is filtered, nor a large filtered result on the staff
site (merchants/kernel/paginator.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext
from unfold.admin import ModelAdmin
from unfold.widgets import CHECKBOX_CLASSES

from merchants.kernel.admin.base import is_workbench
from merchants.kernel.admin.display import cell_html
from merchants.kernel.admin.filters import CheckedChangeList, rejected_params
from merchants.kernel.paginator import EstimatedCountPaginator

# unfold's row checkbox (unfold.admin.checkbox: an UnfoldBooleanWidget with class "action-select").
ROW_CHECKBOX_CLASS = " ".join([*CHECKBOX_CLASSES, "action-select"])


@dataclass(frozen=True)
class EmptyState:
    """What an empty list says: read by templates/unfold/helpers/empty_results.html."""

    title: str
    text: str = ""
    link: str = ""  # where the button goes (the unfiltered list), "" for no button
    link_label: str = ""


# Stands for the pk in a reversed URL (letters only: reverse() keeps it as it is).
_PK_MARK = "shouhouPk"
_PK_URLS: dict[tuple, tuple[str, str]] = {}


def pk_url(viewname: str, pk) -> str:
    """reverse(viewname, args=[pk]) for a list cell: the URL around the pk is reversed once per URLconf.

    A row's 查看详情 link is the same URL but for the pk; reversing it for each of 100 rows cost as much as
    the rest of the cell. A pk that is not an integer is reversed as usual.
    """
    if type(pk) is not int:
        return reverse(viewname, args=[pk])
    key = (viewname, get_urlconf(), get_script_prefix())
    parts = _PK_URLS.get(key)
    if parts is None:
        url = reverse(viewname, args=[_PK_MARK])
        if url.count(_PK_MARK) != 1:
            return reverse(viewname, args=[pk])
        parts = _PK_URLS[key] = tuple(url.split(_PK_MARK))
    return f"{parts[0]}{pk}{parts[1]}"


def _has_value(value) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(str(item).strip() for item in values)


class EmptyStateChangeList(CheckedChangeList):
    """A change list whose empty state its ModelAdmin words: `empty_state(request, cl)`.

    For a list without quick tabs (the import and download centers): `has_active_filters` counts a filter
    only when it has a value (Django counts an empty one the filter form submitted, too) and was not
    refused (N-9); `is_narrowed` adds the search. `tab_params()` are the parameters not counted as a
    filter (none here; the quick tab's below).
    """

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        tab_params = self.tab_params(request)
        refused = rejected_params(request)  # a value a filter refused (N-9) filters nothing
        self.has_active_filters = any(
            _has_value(value)
            for key, value in self.get_filters_params().items()
            if key not in tab_params and key not in refused
        )
        self.tab_selected = any(_has_value(self.filter_params.get(key)) for key in tab_params)
        self.empty_state = self.model_admin.empty_state(request, self)

    def tab_params(self, request) -> set[str]:
        return set()

    @property
    def is_narrowed(self) -> bool:
        """Filters or a search (beyond the quick tab, on a list with tabs)."""
        return bool(self.has_active_filters or self.query)


class QuickTabChangeList(EmptyStateChangeList):
    """Needs on its ModelAdmin: `quick_tab_params(request)` and `empty_state(request, cl)`.

    The parameters the active tab stands for are not counted as filters: the tab shows them already.
    """

    def tab_params(self, request) -> set[str]:
        return self.model_admin.quick_tab_params(request)


class FastListMixin:
    """The order and case lists: unfold's look, without a template render per row and cell.

    - `change_list_template`: unfold's change list whose table builds the column headers and what else
      the rows share once a page (unfold 0.91 built the headers again for every row) and writes the rows'
      <tbody> markup in Python instead of a template loop per row and cell
      (merchants/templatetags/shouhou_list.py, templates/admin/shouhou/change_list_results.html).
    - `action_checkbox`: the same <input> unfold's checkbox widget renders, written with cell_html.
    - `paginator`: the planner's row estimate instead of COUNT(*) for an unfiltered list of a large table
      and, on /admin/, for a filter that keeps more than ESTIMATE_FROM rows.
    Row cells use merchants/admin/display.py's badge/label_cell/header_cell (unfold's markup, no template).
    """

    change_list_template = "admin/shouhou/change_list.html"
    paginator = EstimatedCountPaginator
    # unfold's expandable row sections, none here; declared so that the two per-row template lookups of
    # `cl.model_admin.list_sections` find it instead of failing through dir() of the whole ModelAdmin.
    list_sections = ()

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        if isinstance(paginator, EstimatedCountPaginator):
            # A filter over every shop may keep 400,000 rows (staff by type): estimated above ESTIMATE_FROM.
            # A shop's lists are small: counted exactly, without an EXPLAIN first.
            paginator.estimate_filtered = not is_workbench(self.admin_site)
        return paginator

    def action_checkbox(self, obj):
        return cell_html(
            '<input type="checkbox" name="{}" value="{}" class="{}" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            str(obj.pk),
            ROW_CHECKBOX_CLASS,
            gettext("Select record"),
        )

    action_checkbox.short_description = ModelAdmin.action_checkbox.short_description


__all__ = ["EmptyState", "EmptyStateChangeList", "FastListMixin", "QuickTabChangeList", "pk_url"]
