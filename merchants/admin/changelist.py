"""The change list of a page with quick tabs above it (orders, after-sales cases).

A quick tab is a filter underneath (a query parameter), but the tabs show it already: the 筛选 button
is highlighted only for filters chosen beyond the tab, and an empty result says, in the merchant's words,
why the list is empty and how to get rows back (unfold's default offers to "create a new item", which
nobody can do on these lists).
"""

from __future__ import annotations

from dataclasses import dataclass

from unfold.views import ChangeList


@dataclass(frozen=True)
class EmptyState:
    """What an empty list says: read by templates/unfold/helpers/empty_results.html."""

    title: str
    text: str = ""
    link: str = ""  # where the button goes (the unfiltered list), "" for no button
    link_label: str = ""


def _has_value(value) -> bool:
    values = value if isinstance(value, (list, tuple)) else [value]
    return any(str(item).strip() for item in values)


class QuickTabChangeList(ChangeList):
    """Needs on its ModelAdmin: `quick_tab_params(request)` and `empty_state(request, cl)`."""

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        tab_params = self.model_admin.quick_tab_params(request)
        # Django counts every parameter a filter consumed, even an empty one the filter form submitted;
        # here only a filter with a value, beyond the one the active tab stands for, counts.
        self.has_active_filters = any(
            _has_value(value) for key, value in self.get_filters_params().items() if key not in tab_params
        )
        self.tab_selected = any(_has_value(self.filter_params.get(key)) for key in tab_params)
        self.empty_state = self.model_admin.empty_state(request, self)

    @property
    def is_narrowed(self) -> bool:
        """Filters or a search beyond the quick tab."""
        return bool(self.has_active_filters or self.query)


__all__ = ["EmptyState", "QuickTabChangeList"]
