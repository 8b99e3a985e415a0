"""Quick tabs and list filters of the review pages (R-2, R-3, R-6).

Every filter reads through the admin's scoped `get_queryset()`; product lookups (name, SPU id) go through
`scope_to_actor`, so another shop's product matches nothing. The tabs filter on the review's own
`reply_status` / `appeal_status` columns (kept by the services), so neither a list nor a count joins the
replies or appeals.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import DropdownFilter, TextFilter

from merchants.kernel.admin.filters import DateRangeOnDateTimeFilter
from merchants.kernel.admin.tabs import HiddenFilterMixin
from merchants.kernel.scoping import scope_to_actor
from merchants.models import Product
from reviews.transitions import BAD_MAX, AppealStatus, ReplyStatus

OPEN = Q(deleted_at__isnull=True, hidden_at__isnull=True)  # the merchant may still act on it


@dataclass(frozen=True)
class QuickTab:
    key: str
    label: str
    condition: Q
    variant: str = "default"


REVIEW_TABS = (
    QuickTab("to_reply", _("待回复"), Q(reply_status="") & OPEN, "warning"),
    QuickTab("reply_pending", _("回复审核中"), Q(reply_status=ReplyStatus.PENDING), "info"),
    QuickTab("reply_rejected", _("回复被拒"), Q(reply_status=ReplyStatus.REJECTED) & OPEN, "danger"),
    QuickTab("appealing", _("申诉中"), Q(appeal_status=AppealStatus.PENDING), "info"),
    QuickTab("bad", _("差评"), Q(product_rating__lte=BAD_MAX) & OPEN, "danger"),
)
TABS_BY_KEY = {tab.key: tab for tab in REVIEW_TABS}


ALL = "all"  # tab_counts(total=True): the key of every review counted


def tab_counts(queryset: QuerySet, *, total: bool = False) -> dict[str, int]:
    """{tab key: count} of the quick tabs in one aggregate over the (already scoped) reviews.

    Counts a never-null column the shop index covers (not the id, which it does not): on PostgreSQL an
    index-only scan of review_shop_recent_idx, whatever the shop's size. With `total`, also every review
    under ALL (the list's own count, so that the list need not count them again).
    """
    counts = {tab.key: Count("product_rating", filter=tab.condition) for tab in REVIEW_TABS}
    if total:
        counts[ALL] = Count("product_rating")
    return queryset.order_by().aggregate(**counts)


class ReviewTabFilter(HiddenFilterMixin, admin.SimpleListFilter):
    """The quick tabs as a filter, so the list and the counts agree on what a tab holds."""

    title = _("快捷分类")
    parameter_name = "tab"

    def lookups(self, request, model_admin):
        return [(tab.key, tab.label) for tab in REVIEW_TABS]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        tab = TABS_BY_KEY.get(self.value())
        return queryset.filter(tab.condition) if tab else queryset.none()


def _products(request) -> QuerySet[Product]:
    return scope_to_actor(Product.objects.all(), request.user)


class ProductNameFilter(TextFilter):
    """商品名称: part of the name, among the user's own products (a shop's catalogue, not the reviews)."""

    title = _("商品名称")
    parameter_name = "product_name"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        return queryset.filter(product_id__in=_products(request).filter(name__icontains=value).values("pk"))


class SpuFilter(TextFilter):
    """商品ID: the exact SPU id, among the user's own products."""

    title = _("商品ID")
    parameter_name = "spu"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        return queryset.filter(product_id__in=_products(request).filter(spu_id=value).values("pk"))


class OrderNoFilter(TextFilter):
    """订单号: exact or by prefix, on the review's own indexed copy of the order number."""

    title = _("订单号")
    parameter_name = "order_no"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(order_no__startswith=value) if value else queryset


class CreatedRangeFilter(DateRangeOnDateTimeFilter):
    """评价时间: whole local days, as an index range."""


class StateFilter(DropdownFilter):
    """The review's state as its badges show it (R-3, R-4, R-5)."""

    title = _("评价状态")
    parameter_name = "state"
    CONDITIONS = {
        "visible": OPEN,
        "pinned": Q(pinned_at__isnull=False),
        "deleted": Q(deleted_at__isnull=False),
        "hidden": Q(hidden_at__isnull=False),
        "appealed": ~Q(appeal_status=""),
    }

    def lookups(self, request, model_admin):
        return (
            ("visible", _("展示中")),
            ("pinned", _("已置顶")),
            ("appealed", _("已申诉")),
            ("hidden", _("已隐藏（申诉成功）")),
            ("deleted", _("买家已删除")),
        )

    def queryset(self, request, queryset):
        condition = self.CONDITIONS.get(self.value() or "")
        return queryset.filter(condition) if condition is not None else queryset
