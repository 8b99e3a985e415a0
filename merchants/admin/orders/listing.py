"""The order list on both sites (M-2, M-4): columns, search, state tabs with counts, the empty list."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from merchants import services
from merchants.admin.display import STATUS_VARIANTS, status_label
from merchants.admin.filters import BuyerIdFilter, LateFilter, ProductFilter
from merchants.dashboard import open_order_counts
from merchants.kernel.admin.base import is_workbench
from merchants.kernel.admin.changelist import EmptyState, QuickTabChangeList
from merchants.kernel.admin.display import badge, badges, header_cell, label_cell, local_time, money
from merchants.kernel.admin.filters import (
    CheckedChoicesDropdownFilter,
    DateRangeOnDateTimeFilter,
    search_term,
)
from merchants.kernel.admin.tabs import QuickTab, QuickTabsMixin
from merchants.kernel.checks import next_prefix
from merchants.kernel.scoping import merchant_ids_for, scope_to_actor, sees_all
from merchants.models import Order, OrderItem, Package, Product
from merchants.tracking import normalise_tracking
from merchants.transitions import SHIPPABLE_STATES, OrderStatus, PaymentMethod

# Prefix search on the order number starts at this many characters; shorter terms match exactly only.
ORDER_NO_PREFIX_MIN = 4


def _next_prefix(term: str) -> str | None:
    """The smallest string greater than every string starting with `term` (for an index range)."""
    return next_prefix(term)


def _state_tab(key: str, status: str, variant: str = "default", counted: bool = True) -> QuickTab:
    return QuickTab(key, OrderStatus(status).label, variant, {"status__exact": status}, counted)


# The open-work tabs carry counts (one query over unshipped orders only); the others are shortcuts.
ORDER_TABS = (
    _state_tab("awaiting", OrderStatus.AWAITING_CONFIRMATION, "primary"),
    _state_tab("to_ship", OrderStatus.TO_SHIP, "warning"),
    QuickTab("late", _("超时未发货"), "danger", {"late": "yes"}),
    _state_tab("partial", OrderStatus.PARTIALLY_SHIPPED, "info"),
    _state_tab("shipped", OrderStatus.SHIPPED, counted=False),
    _state_tab("received", OrderStatus.RECEIVED, counted=False),
    _state_tab("cancelled", OrderStatus.CANCELLED, counted=False),
    _state_tab("unpaid", OrderStatus.UNPAID, counted=False),
)


class OrderChangeList(QuickTabChangeList):
    """Without filters the page count is the total: say so, rather than offer "show all" of what is shown."""

    def get_queryset(self, request, exclude_parameters=None):
        # The product column reads every row's items: one query for the page (`Prefetch`), none a row.
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .prefetch_related(Prefetch("items", queryset=OrderItem.objects.select_related("product", "sku")))
        )

    def get_results(self, request):
        super().get_results(request)
        if self.full_result_count is None and not self.has_active_filters and not self.query:
            self.full_result_count = self.result_count


class OrderListMixin(QuickTabsMixin):
    list_display = (
        "order_no",
        "products",
        "buyer",
        "paid",
        "status_badge",
        "placed",
        "ship_by_display",
        "tags",
    )
    list_display_links = ("order_no",)
    list_select_related = ("merchant",)  # express_refund_tag and the shop column read it: no per-row query
    list_filter = (
        ("status", CheckedChoicesDropdownFilter),
        ("payment_method", CheckedChoicesDropdownFilter),
        ("placed_at", DateRangeOnDateTimeFilter),
        LateFilter,
        ProductFilter,
        BuyerIdFilter,
    )
    list_filter_submit = True
    list_per_page = 25
    list_max_show_all = 200
    show_full_result_count = False  # no second COUNT over the whole table
    sortable_by = ("placed",)  # the one order an index serves (merchant, -placed_at)
    ordering = ("-placed_at", "-pk")
    search_fields = ("order_no",)  # the real search is get_search_results below
    search_help_text = _(
        "订单号（完整或前 4 位以上）、买家ID、买家昵称（完整）、手机号后 4 位、运单号或商品名称"
    )
    list_before_template = "merchants/admin/order_tabs.html"
    quick_tabs_context = "order_tabs"
    quick_tabs_exact = False  # a state tab stays highlighted under other filters

    def get_changelist(self, request, **kwargs):
        return OrderChangeList

    def show_merchant_column(self, request) -> bool:
        user = request.user
        return not is_workbench(self.admin_site) or sees_all(user) or len(merchant_ids_for(user)) > 1

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self.show_merchant_column(request):
            columns.append("shop")
        return columns

    def get_search_results(self, request, queryset, term_given):
        """Every branch reads an index, never a LIKE '%x%' over the orders: order number exact or prefix (a
        range), buyer id or nickname exact, a phone's last 4 digits (a whole number through its last 4), a
        tracking number (packages), a product name (the user's products, then their items by product)."""
        term = search_term(request, term_given, max_length=Order._meta.get_field("buyer_name").max_length)
        if term is None:  # N-9: said on the page; nothing can match it
            return queryset.none(), False
        if not term:
            return queryset, False
        condition = Q(order_no=term) | Q(buyer_id=term) | Q(buyer_name=term)
        if len(term) >= ORDER_NO_PREFIX_MIN:
            if upper := _next_prefix(term):
                condition |= Q(order_no__gte=term, order_no__lt=upper, order_no__startswith=term)
        phone = services.normalise_phone(term)
        if phone.isdigit() and len(phone) == 4:
            condition |= Q(buyer_phone_last4=phone) | Q(consignee_phone_last4=phone)
        elif phone.isdigit() and 7 <= len(phone) <= 12:
            tail = phone[-4:]
            condition |= Q(buyer_phone_last4=tail, buyer_phone=phone)
            condition |= Q(consignee_phone_last4=tail, consignee_phone=phone)
        # Orders found through other tables join as one UNION of order ids (an OR of sub-selects would
        # make PostgreSQL test every order of the shop against them).
        found = []
        tracking = normalise_tracking(term)
        if 6 <= len(tracking) <= 32 and tracking.isalnum():
            found.append(Package.objects.filter(tracking_no=tracking).order_by().values("order_id"))
        if not term.isdigit():  # a product is not searched for by a number (order numbers, phones)
            products = scope_to_actor(Product.objects.filter(name__icontains=term), request.user)
            found.append(
                OrderItem.objects.filter(product__in=products.values("pk")).order_by().values("order_id")
            )
        if not found:
            return queryset.filter(condition), False
        direct = Order.objects.filter(condition).order_by().values("pk")
        return queryset.filter(pk__in=direct.union(*found)), False

    @display(description=_("商品"))
    def products(self, obj):
        items = list(obj.items.all())  # prefetched for the page by OrderChangeList
        if not items:
            return "-"
        first = items[0]
        spec = (first.sku.spec or first.sku.sku_code) if first.sku_id else ""
        detail = f"{spec} ×{first.quantity}" if spec else f"×{first.quantity}"
        if len(items) > 1:
            detail = gettext("%(first)s 等 %(lines)d 种，共 %(count)d 件") % {
                "first": detail,
                "lines": len(items),
                "count": sum(item.quantity for item in items),
            }
        return format_html(
            '<span class="shouhou-product">{}</span><span class="block text-base-500 text-xs">{}</span>',
            first.product.name,
            detail,
        )

    # -- the state tabs

    def get_quick_tabs(self, request):
        return ORDER_TABS

    def quick_tab_counts(self, request) -> dict[str, int]:
        def count():
            found = open_order_counts(
                self.get_queryset(request), statuses=(OrderStatus.AWAITING_CONFIRMATION, *SHIPPABLE_STATES)
            )
            return {
                "awaiting": found[OrderStatus.AWAITING_CONFIRMATION],
                "to_ship": found[OrderStatus.TO_SHIP],
                "partial": found[OrderStatus.PARTIALLY_SHIPPED],
                "late": found["late"],
            }

        return self.shared_for_staff(request, "merchants:orders", count)  # two scans of 1M orders: ~60 ms

    def status_tabs(self, request) -> list[dict]:
        return self.quick_tab_links(request)

    def empty_state(self, request, cl) -> EmptyState:
        """What an empty order list says (read by templates/unfold/helpers/empty_results.html)."""
        if cl.is_narrowed:
            return EmptyState(
                gettext("没有符合条件的订单"),
                gettext("请检查订单号、买家或筛选条件，或清除筛选后查看全部订单。"),
                "?",
                gettext("清除筛选和搜索"),
            )
        tab = self.active_quick_tab(request)
        if tab is not None:
            return EmptyState(
                gettext("「%(tab)s」下暂时没有订单") % {"tab": tab.label}, "", "?", gettext("查看全部订单")
            )
        return EmptyState(gettext("暂时没有订单"), gettext("买家下单后，订单会显示在这里。"))

    # -- columns. The cells below are what unfold's @display(header=True) / @display(label=…) show, without
    # the template render per row those options cost (merchants/kernel/admin/display.py).

    @display(description=_("买家"))
    def buyer(self, obj):
        return header_cell(obj.buyer_name, f"{obj.buyer_phone_masked or '-'} · {obj.buyer_id}")

    @display(description=_("实付金额"))
    def paid(self, obj):
        return money(obj.paid_amount)

    @display(description=_("订单状态"))
    def status_badge(self, obj):
        # status_label: get_status_display() rebuilds the choices dict on every call.
        return label_cell(status_label(obj.status), STATUS_VARIANTS.get(obj.status, "default"))

    @display(description=_("下单时间"), ordering="placed_at")
    def placed(self, obj):
        return format_html('<span class="whitespace-nowrap">{}</span>', local_time(obj.placed_at))

    @display(description=_("承诺发货时间"))
    def ship_by_display(self, obj):
        when = format_html(
            '<span class="whitespace-nowrap">{}</span>', local_time(obj.ship_by) if obj.ship_by else "-"
        )
        if obj.is_late:  # M-4
            return format_html("{}<br>{}", when, badge(_("超时未发货"), "danger"))
        if obj.shipped_late:
            return format_html("{}<br>{}", when, badge(_("超时发货"), "default"))
        return when

    @display(description=_("标签"))
    def tags(self, obj):
        pairs = []
        if obj.express_refund_tag:
            pairs.append((_("极速退款"), "info"))
        if obj.payment_method == PaymentMethod.COD:
            pairs.append((_("货到付款"), "default"))
        return badges(pairs) if pairs else "-"

    @display(description=_("店铺"))
    def shop(self, obj):
        # One line per row: wrapped dates and shop names made the staff list rows three lines tall.
        name = obj.merchant.name
        return format_html(
            '<span class="whitespace-nowrap" title="{}">{}</span>', name, Truncator(name).chars(8)
        )


__all__ = ["ORDER_TABS", "OrderChangeList", "OrderListMixin"]
