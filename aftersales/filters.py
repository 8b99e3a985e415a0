"""List filters and quick tabs of the after-sales case pages (A-10).

Every filter reads through an index and stays inside the user's shops: the rows come from the
admin's scoped `get_queryset()`, the choices (products) from `scope_to_actor`. Text filters match
exactly or by prefix on unique, indexed columns — never `icontains` over the whole table.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales import selectors
from aftersales.models import AfterSaleCase, AftersalesSettings
from aftersales.transitions import OPEN_STATES, CaseStatus
from merchants.admin.filters import ProductFilter as OrderProductFilter
from merchants.kernel.admin.filters import (
    CheckedChoiceFilter,
    CheckedRangeNumericFilter,
    CheckedTextFilter,
    DateRangeOnDateTimeFilter,
)
from merchants.kernel.admin.tabs import QuickTab as KernelQuickTab
from merchants.kernel.admin.tabs import QuickTabFilter as KernelQuickTabFilter
from merchants.kernel.admin.tabs import count_tabs
from merchants.kernel.checks import BadInputError, parse_date
from merchants.kernel.scoping import scope_to_actor
from merchants.models import Order

# A dropdown of products is fine for a shop's catalogue; beyond this many the newest are offered.
# B-6 / seed 000: a case export covers at most this many months of application dates.
EXPORT_MAX_MONTHS = 6


@dataclass(frozen=True)
class QuickTab(KernelQuickTab):
    """A case queue (A-10): a plain state, or a condition of its own (due soon, failed refunds)."""

    status: str | None = None  # a plain state tab
    platform_only: bool = False


QUICK_TABS = (
    QuickTab("pending", _("待处理"), "warning", status=CaseStatus.PENDING),
    QuickTab("negotiating", _("协商中"), "info", status=CaseStatus.NEGOTIATING),
    QuickTab("awaiting_return", _("待买家退货"), "info", status=CaseStatus.AWAITING_RETURN),
    QuickTab("return_in_transit", _("待商家收货"), "warning", status=CaseStatus.RETURN_IN_TRANSIT),
    QuickTab("arbitration", _("平台介入"), "danger", status=CaseStatus.ARBITRATION),
    QuickTab("due_soon", _("即将超时"), "danger"),
    QuickTab("refund_failed", _("退款失败"), "danger", platform_only=True),
)


def tabs_for(platform: bool) -> list[QuickTab]:
    return [tab for tab in QUICK_TABS if platform or not tab.platform_only]


def request_limits(request=None) -> AftersalesSettings:
    """The after-sales settings row, read once per request (the list, its tabs and the switch all ask)."""
    cached = getattr(request, "_aftersales_limits", None)
    if cached is None:
        cached = AftersalesSettings.load()
        if request is not None:
            request._aftersales_limits = cached
    return cached


def due_soon_hours(request=None) -> int:
    """AftersalesSettings.due_soon_hours, read once per request."""
    return request_limits(request).due_soon_hours


def tab_q(key: str, *, now, hours: int, platform: bool) -> Q | None:
    """The condition of one quick tab (None for an unknown key)."""
    for tab in tabs_for(platform):
        if tab.key != key:
            continue
        if tab.status:
            return Q(status=tab.status)
        if key == "due_soon":
            return selectors.due_soon_q(now, hours)  # A-5, the same rule as the case's own is_due_soon()
        if key == "refund_failed":
            return Q(refund_failed=True)
    return None


def tab_counts(
    queryset: QuerySet[AfterSaleCase], *, now=None, hours: int | None = None, platform: bool = False
):
    """{tab key: count} of the quick tabs, in one aggregate query over the (already scoped) queryset."""
    now = now or timezone.now()
    hours = due_soon_hours() if hours is None else hours
    conditions = {
        tab.key: tab_q(tab.key, now=now, hours=hours, platform=platform) for tab in tabs_for(platform)
    }
    # Only open cases can be in a tab: the shop/status indexes narrow the scan to them.
    return count_tabs(queryset.filter(status__in=OPEN_STATES), conditions)


class QuickTabFilter(KernelQuickTabFilter):
    """The quick tabs (A-10) as a filter: the admin's quick_tab_q() is tab_q() above."""


class OrderNoFilter(CheckedTextFilter):
    """订单号: exact or prefix, through the unique (and LIKE-indexed) order number of the orders table."""

    title = _("订单号")
    parameter_name = "order_no"
    max_length = AfterSaleCase._meta.get_field("order_no").max_length

    def queryset(self, request, queryset):
        value = self.parsed_value
        if not value:
            return queryset
        return queryset.filter(order_no__startswith=value)  # the case's own copy, indexed for prefixes


class BuyerFilter(CheckedTextFilter):
    """买家: the exact buyer id (indexed on the case) or nickname (indexed on the order)."""

    title = _("买家ID / 昵称")
    parameter_name = "buyer"
    max_length = AfterSaleCase._meta.get_field("buyer_name").max_length

    def queryset(self, request, queryset):
        value = self.parsed_value
        if not value:
            return queryset
        by_name = scope_to_actor(Order.objects.all(), request.user).filter(buyer_name=value).values("pk")
        return queryset.filter(Q(buyer_id=value) | Q(order_id__in=by_name))


class ProductFilter(OrderProductFilter):
    """商品: the choices are the user's own products only (another shop's product id matches nothing)."""

    def filter_product(self, queryset, product_id: int):
        return queryset.filter(product_id=product_id)  # the case carries its product


class CreatedRangeFilter(DateRangeOnDateTimeFilter):
    """申请时间: whole local days, as an index range."""


class AmountRangeFilter(CheckedRangeNumericFilter):
    """申请金额 from / to: numbers within the money bounds, or the filter is not applied."""


class EscalatedFilter(CheckedChoiceFilter):
    title = _("已升级高级客服")
    parameter_name = "escalated"

    def lookups(self, request, model_admin):
        return (("yes", _("是")), ("no", _("否")))

    def queryset(self, request, queryset):
        if self.parsed_value == "yes":
            return queryset.filter(escalated=True)
        if self.parsed_value == "no":
            return queryset.filter(escalated=False)
        return queryset


# ---- the export range (B-6): at most EXPORT_MAX_MONTHS months of application dates


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (or earlier), clamped to the month's end (31 Aug - 6 months = 28/29 Feb)."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def _export_date(params, name: str) -> datetime.date | None:
    return parse_date(params.get(name), label=AfterSaleCase._meta.get_field("created_at").verbose_name)


def export_range(params) -> tuple[datetime.date | None, datetime.date | None]:
    """(from, to) application dates of the list's created-range filter, as the export will use them.

    A date that is not a date within the bounds of merchants.kernel.checks counts as not given.
    """
    dates = []
    for name in ("created_at_from", "created_at_to"):
        try:
            dates.append(_export_date(params, name))
        except BadInputError:
            dates.append(None)
    return dates[0], dates[1]


def export_range_error(params, *, today=None) -> str | None:
    """Why an export with these list filters is refused, or None when its range is within 6 months."""
    today = today or timezone.localdate()
    for name in ("created_at_from", "created_at_to"):
        try:
            _export_date(params, name)
        except BadInputError as exc:  # B-6: year 1 or 9999 is a message, never a 500
            return "；".join(exc.messages)
    start, end = export_range(params)
    if start is None:
        return str(
            _("导出前请先在筛选中选择申请时间范围（最长 %(months)d 个月）。") % {"months": EXPORT_MAX_MONTHS}
        )
    end = end or today
    if end < start:
        return str(_("申请时间范围的结束日期早于开始日期，请重新选择。"))
    if start < add_months(end, -EXPORT_MAX_MONTHS):
        return str(
            _(
                "一次最多导出 %(months)d 个月的售后单（%(start)s 至 %(end)s 超出范围），请缩小申请时间范围后重试。"
            )
            % {"months": EXPORT_MAX_MONTHS, "start": start.isoformat(), "end": end.isoformat()}
        )
    return None


__all__ = [
    "AmountRangeFilter",
    "BuyerFilter",
    "CreatedRangeFilter",
    "EscalatedFilter",
    "OrderNoFilter",
    "ProductFilter",
    "QUICK_TABS",
    "QuickTabFilter",
    "export_range_error",
    "tab_counts",
]
