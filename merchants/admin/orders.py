"""Orders on both sites: the list merchants work from, the read-only order page, and its actions.

Nothing here edits an order: the page is read-only and every change — ship (S-1, S-2), change tracking
(S-3, S-4), confirm or cancel a cash-on-delivery order (M-2, M-3) — is a POST to a view that loads the
order through the scoped `get_object()` (another shop's id is a 404), checks the member's role (403),
then calls merchants.services and shows its refusal as a message.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display
from unfold.enums import ActionVariant

from merchants import services
from merchants.admin.display import STATUS_VARIANTS, status_label
from merchants.admin.filters import BuyerIdFilter, LateFilter, ProductFilter
from merchants.dashboard import open_order_counts
from merchants.forms import CancelForm, ShipForm, TrackingForm
from merchants.kernel.admin.base import (
    MerchantScopedAdmin,
    ReadOnlyEventInline,
    ScopedTabularInline,
    is_workbench,
    member_may,
    message_errors,
)
from merchants.kernel.admin.changelist import EmptyState, FastListMixin, QuickTabChangeList
from merchants.kernel.admin.display import (
    actor_parts,
    badge,
    badges,
    header_cell,
    label_cell,
    local_time,
    member_roles,
    money,
)
from merchants.kernel.admin.filters import DateRangeOnDateTimeFilter
from merchants.kernel.scoping import WRITE_ROLES, is_platform, merchant_ids_for, scope_to_actor, sees_all
from merchants.kernel.workflow import can_proceed, require_transition
from merchants.models import Order, OrderEvent, OrderItem, Package, Product
from merchants.tracking import normalise_tracking
from merchants.transitions import SHIPPABLE_STATES, AftersaleLock, OrderStatus, PaymentMethod

# Prefix search on the order number starts at this many characters; shorter terms match exactly only.
ORDER_NO_PREFIX_MIN = 4

# Who may do what. Merchant actions (ship, tracking, cod confirmation) are the shop's: on /admin/ only a
# superuser may (the services refuse other platform staff); platform staff may cancel (M-3).
SHIP, TRACKING, CONFIRM_COD, CANCEL = "ship", "change_tracking", "confirm_cod", "cancel"
PLATFORM_ACTIONS = frozenset({CANCEL})


def _next_prefix(term: str) -> str:
    """The smallest string greater than every string starting with `term` (for an index range)."""
    return term[:-1] + chr(ord(term[-1]) + 1)


class ReadOnlyInline(ScopedTabularInline):
    """Rows shown on the order page; they change only through the order's actions."""

    can_delete = False
    show_change_link = False
    hide_title = True  # no "str(row)" line above each row: the columns say it all

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    verbose_name = _("商品")
    verbose_name_plural = _("订单商品")
    fields = (
        "product_display",
        "sku_display",
        "quantity",
        "paid",
        "refunded",
        "package_display",
        "aftersale",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "sku", "package")

    @display(description=_("商品"))
    def product_display(self, obj):
        return format_html(
            "{}<br><span class='text-base-500'>{}</span>", obj.product.name, obj.product.spu_id
        )

    @display(description=_("SKU"))
    def sku_display(self, obj):
        if obj.sku_id is None:
            return "-"
        return f"{obj.sku.spec or obj.sku.sku_code}"

    @display(description=_("实付金额"))
    def paid(self, obj):
        return money(obj.paid_amount)

    @display(description=_("已退款"))
    def refunded(self, obj):
        return money(obj.refunded_amount)

    @display(description=_("包裹 / 运单号"))
    def package_display(self, obj):
        if obj.package_id is None:
            if obj.aftersale_lock == AftersaleLock.REFUNDED:
                return badge(_("无需发货"), "default")
            return badge(_("未发货"), "warning")
        return format_html("{} {}", obj.package.get_carrier_display(), obj.package.tracking_no)

    @display(description=_("售后状态"))
    def aftersale(self, obj):
        variant = {AftersaleLock.OPEN: "warning", AftersaleLock.REFUNDED: "danger"}.get(
            obj.aftersale_lock, "default"
        )
        return badge(obj.get_aftersale_lock_display(), variant)


class PackageInline(ReadOnlyInline):
    model = Package
    verbose_name = _("包裹")
    verbose_name_plural = _("包裹")
    fields = (
        "carrier",
        "tracking_no",
        "shipped",
        "package_items",
        "changed",
        "fake_flag",
        "tools",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("items__product")

    def get_formset(self, request, obj=None, **kwargs):
        # Inline instances are made per request; the tools column needs to know who is looking.
        self._request, self._order = request, obj
        return super().get_formset(request, obj, **kwargs)

    @display(description=_("发货时间"))
    def shipped(self, obj):
        return local_time(obj.shipped_at)

    @display(description=_("改单时间"))
    def changed(self, obj):
        return local_time(obj.tracking_changed_at)

    @display(description=_("包裹内商品"))
    def package_items(self, obj):
        return "、".join(f"{item.product.name} ×{item.quantity}" for item in obj.items.all()) or "-"

    @display(description=_("虚假发货"))
    def fake_flag(self, obj):
        return badge(_("虚假发货"), "danger") if obj.fake_shipping else "-"

    @display(description=_("操作"))
    def tools(self, obj):
        order_admin = self.admin_site._registry.get(Order)
        request, order = getattr(self, "_request", None), getattr(self, "_order", None)
        if order_admin is None or request is None or order is None:
            return "-"
        if TRACKING not in order_admin.available_actions(request, order):
            return "-"
        url = order_admin.action_url(TRACKING, order) + f"?package={obj.pk}"
        return format_html(
            '<a class="text-primary-600 font-medium" href="{}">{}</a>', url, gettext("修改物流")
        )


class OrderEventInline(ReadOnlyEventInline):
    model = OrderEvent
    verbose_name = _("订单记录")
    verbose_name_plural = _("订单记录")
    fields = ("when", "who", "what", "transition", "details")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    hide_title = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "order")  # who() reads both

    @display(description=_("时间"))
    def when(self, obj):
        return local_time(obj.created_at, "Y-m-d H:i:s")

    @display(description=_("操作人"))
    def who(self, obj):
        roles = getattr(self, "_roles", None)  # inline instances live for one request
        if roles is None:
            roles = self._roles = member_roles(obj.order.merchant_id, obj.order.events.all())
        side, person, role = actor_parts(obj, roles)
        if not person:
            return side
        if not role:
            return format_html("{} · {}", side, person)
        return format_html("{} · {} <span class='text-base-500'>（{}）</span>", side, person, role)

    @display(description=_("动作"))
    def what(self, obj):
        return obj.kind_label

    @display(description=_("说明"))
    def details(self, obj):
        return linebreaksbr(obj.describe())  # rendered now, in the reader's language

    @display(description=_("状态变化"))
    def transition(self, obj):
        if not obj.source_status or obj.source_status == obj.target_status:
            return status_label(obj.target_status)
        return f"{status_label(obj.source_status)} → {status_label(obj.target_status)}"


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


class OrderAdmin(FastListMixin, MerchantScopedAdmin):
    """The order list and the read-only order page with its service-backed actions (both sites)."""

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
        ("status", ChoicesDropdownFilter),
        ("payment_method", ChoicesDropdownFilter),
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
    inlines = (OrderItemInline, PackageInline, OrderEventInline)
    actions = ("confirm_cod_selected",)
    actions_detail = ("ship", "change_tracking", "confirm_cod", "cancel")
    fieldsets = (
        (
            _("订单信息"),
            {
                "fields": (
                    ("order_no", "status_detail"),
                    ("payment_method", "paid"),
                    ("placed", "paid_time"),
                    ("ship_by_display", "shipped_time"),
                    ("received_time", "settlement_due_on"),
                    ("cancelled_time", "cancel_reason"),
                )
            },
        ),
        (
            _("买家与店铺"),
            {"fields": (("buyer_name", "buyer_id", "buyer_phone_display"), ("merchant", "tags"))},
        ),
        (_("收货信息"), {"fields": ("shipping_address",)}),
    )
    readonly_fields = (
        "order_no",
        "status_detail",
        "payment_method",
        "paid",
        "placed",
        "paid_time",
        "ship_by_display",
        "shipped_time",
        "received_time",
        "settlement_due_on",
        "cancelled_time",
        "cancel_reason",
        "buyer_name",
        "buyer_id",
        "buyer_phone_display",
        "merchant",
        "tags",
        "shipping_address",
    )

    # -- permissions: the page is read-only everywhere; changes are the actions below

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_act_permission(self, request) -> bool:
        """Bulk actions: a member who may act in at least one shop (workbench), a superuser (/admin/)."""
        if is_workbench(self.admin_site):
            return member_may(request, None, WRITE_ROLES)
        return request.user.is_superuser

    def may_act(self, request, order: Order, action_name: str) -> bool:
        """The user's role allows `action_name` on this order (403 otherwise); the state is the service's."""
        user = request.user
        if is_workbench(self.admin_site):
            return member_may(request, order, WRITE_ROLES)
        if user.is_superuser:
            return True
        return (
            action_name in PLATFORM_ACTIONS and is_platform(user) and user.has_perm("merchants.change_order")
        )

    def available_actions(self, request, order: Order) -> set[str]:
        """The buttons to show: allowed for this user and for the order's current state."""
        cache = getattr(request, "_order_actions", None)
        if cache is None:
            cache = request._order_actions = {}
        if order.pk in cache:
            return cache[order.pk]
        result = set()
        if order.status in SHIPPABLE_STATES and order.unshipped_shippable_items().exists():
            result.add(SHIP)
        if order.status == OrderStatus.SHIPPED and order.packages.exists():
            result.add(TRACKING)  # S-4: only once every shippable item has shipped
        if can_proceed(order.confirm_cod):
            result.add(CONFIRM_COD)
        if (
            can_proceed(order.cancel)
            and (order.payment_method == PaymentMethod.COD or is_platform(request.user))
            and not order.packages.exists()
        ):
            result.add(CANCEL)
        cache[order.pk] = {name for name in result if self.may_act(request, order, name)}
        return cache[order.pk]

    # -- list

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        if obj is not None and not obj.packages.exists():
            inlines = [inline for inline in inlines if inline is not PackageInline]  # no empty "包裹" table
        return inlines

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

    def get_search_results(self, request, queryset, search_term):
        """Every branch reads an index, never a LIKE '%x%' over the orders: order number exact or prefix (a
        range), buyer id or nickname exact, a phone's last 4 digits (a whole number through its last 4), a
        tracking number (packages), a product name (the user's products, then their items by product)."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        condition = Q(order_no=term) | Q(buyer_id=term) | Q(buyer_name=term)
        if len(term) >= ORDER_NO_PREFIX_MIN:
            condition |= Q(order_no__gte=term, order_no__lt=_next_prefix(term), order_no__startswith=term)
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

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "order_tabs": self.status_tabs(request)}
        return super().changelist_view(request, extra_context)

    @staticmethod
    def quick_tab_params(request) -> set[str]:
        """The parameter the active quick tab stands for (see status_tabs): not an extra filter."""
        status, late = request.GET.get("status__exact", ""), request.GET.get("late", "")
        if status in OrderStatus.values and not late:
            return {"status__exact"}
        if late == "yes" and not status:
            return {"late"}
        return set()

    def empty_state(self, request, cl) -> EmptyState:
        """What an empty order list says (read by templates/unfold/helpers/empty_results.html)."""
        if cl.is_narrowed:
            return EmptyState(
                gettext("没有符合条件的订单"),
                gettext("请检查订单号、买家或筛选条件，或清除筛选后查看全部订单。"),
                "?",
                gettext("清除筛选和搜索"),
            )
        if cl.tab_selected:
            status = request.GET.get("status__exact", "")
            tab = OrderStatus(status).label if status else gettext("超时未发货")
            return EmptyState(
                gettext("「%(tab)s」下暂时没有订单") % {"tab": tab}, "", "?", gettext("查看全部订单")
            )
        return EmptyState(gettext("暂时没有订单"), gettext("买家下单后，订单会显示在这里。"))

    def status_tabs(self, request) -> list[dict]:
        """Quick tabs by state; the open-work ones carry counts (one query over unshipped orders only)."""
        found = open_order_counts(
            self.get_queryset(request), statuses=(OrderStatus.AWAITING_CONFIRMATION, *SHIPPABLE_STATES)
        )
        counts = {
            "awaiting": found[OrderStatus.AWAITING_CONFIRMATION],
            "to_ship": found[OrderStatus.TO_SHIP],
            "partial": found[OrderStatus.PARTIALLY_SHIPPED],
            "late": found["late"],
        }
        current_status = request.GET.get("status__exact", "")
        late = request.GET.get("late", "")
        filtered = any(key not in ("o", "p") for key in request.GET)

        def tab(title, query, count=None, variant="default", active=False):
            return {
                "title": title,
                "link": f"?{query}" if query else "?",
                "count": count,
                "variant": variant,
                "active": active,
            }

        def status_tab(status, count=None, variant="default"):
            return tab(
                OrderStatus(status).label,
                f"status__exact={status}",
                count,
                variant,
                current_status == status and not late,
            )

        return [
            tab(_("全部"), "", active=not filtered),
            status_tab(OrderStatus.AWAITING_CONFIRMATION, counts["awaiting"], "primary"),
            status_tab(OrderStatus.TO_SHIP, counts["to_ship"], "warning"),
            tab(_("超时未发货"), "late=yes", counts["late"], "danger", late == "yes" and not current_status),
            status_tab(OrderStatus.PARTIALLY_SHIPPED, counts["partial"], "info"),
            status_tab(OrderStatus.SHIPPED),
            status_tab(OrderStatus.RECEIVED),
            status_tab(OrderStatus.CANCELLED),
            status_tab(OrderStatus.UNPAID),
        ]

    # The two cells below are what unfold's @display(header=True) / @display(label=…) show, without the
    # template render per row those options cost (merchants/admin/display.py).
    @display(description=_("买家"))
    def buyer(self, obj):
        return header_cell(obj.buyer_name, f"{obj.buyer_phone_masked or '-'} · {obj.buyer_id}")

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
            '<span class="block min-w-32 max-w-48 whitespace-normal" title="{}">{}</span>'
            '<span class="block text-base-500 text-xs">{}</span>',
            first.product.name,
            first.product.name,
            detail,
        )

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

    @display(description=_("订单状态"))
    def status_detail(self, obj):
        return badge(obj.get_status_display(), STATUS_VARIANTS.get(obj.status, "default"))

    @display(description=_("付款时间"))
    def paid_time(self, obj):
        return local_time(obj.paid_at)

    @display(description=_("全部发货时间"))
    def shipped_time(self, obj):
        return local_time(obj.shipped_at)

    @display(description=_("收货时间"))
    def received_time(self, obj):
        return local_time(obj.received_at)

    @display(description=_("取消时间"))
    def cancelled_time(self, obj):
        return local_time(obj.cancelled_at)

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

    @display(description=_("买家手机号"))
    def buyer_phone_display(self, obj):
        return obj.buyer_phone_masked or "-"  # N-7: never the raw number

    @display(description=_("收货地址"))
    def shipping_address(self, obj):
        return render_to_string("merchants/admin/order_address.html", {"order": obj})  # phone masked (N-7)

    # -- the order page

    def scope_queryset(self, request, qs):
        return qs.select_related("merchant")

    def action_url(self, action_name: str, order: Order) -> str:
        return reverse(f"{self.admin_site.name}:merchants_order_{action_name}", args=[order.pk])

    def change_url(self, order: Order) -> str:
        return reverse(f"{self.admin_site.name}:merchants_order_change", args=[order.pk])

    def get_actions_detail(self, request, object_id):
        actions = super().get_actions_detail(request, object_id)
        order = self.get_object(request, unquote(str(object_id)))
        if order is None:
            return []
        allowed = self.available_actions(request, order)
        return [item for item in actions if item.method.original_function_name in allowed]

    def _order_for(self, request, object_id, action_name: str) -> Order:
        """The order through the scoped queryset (404 for another shop's id), then the role check (403)."""
        order = self.get_object(request, unquote(str(object_id)))
        if order is None:
            raise Http404(_("对象不存在。"))
        if not self.may_act(request, order, action_name):
            raise PermissionDenied
        return order

    def _render(self, request, order, template, title, **context):
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": order,
            "order": order,
            "title": title,
            "breadcrumb_tail": title,  # 订单 › O2026… › 发货 (templates/unfold/helpers/welcomemsg.html)
            "change_url": self.change_url(order),
            "is_workbench": is_workbench(self.admin_site),
            "summary": {
                "status": badge(order.get_status_display(), STATUS_VARIANTS.get(order.status, "default")),
                "paid": money(order.paid_amount),
                "ship_by": self.ship_by_display(order),
                "tags": self.tags(order)
                if (order.express_refund_tag or order.payment_method == PaymentMethod.COD)
                else "",
            },
            **context,
        }
        return TemplateResponse(request, template, context)

    def _done(self, request, order, text):
        messages.success(request, text)
        return HttpResponseRedirect(self.change_url(order))

    @action(description=_("发货"), url_path="ship", icon="local_shipping", variant=ActionVariant.PRIMARY)
    def ship(self, request, object_id):
        order = self._order_for(request, object_id, SHIP)
        if request.method == "POST":
            form = ShipForm(request.POST, order=order)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    package = services.ship(
                        order,
                        items=list(data["items"]),
                        carrier=data["carrier"],
                        tracking_no=data["tracking_no"],
                        actor=request.user,
                    )
                except ValidationError as exc:
                    message_errors(request, exc)
                else:
                    return self._done(
                        request,
                        order,
                        gettext("已发货：%(carrier)s %(tracking)s，共 %(count)d 件商品。")
                        % {
                            "carrier": package.get_carrier_display(),
                            "tracking": package.tracking_no,
                            "count": len(data["items"]),
                        },
                    )
        else:
            try:
                require_transition(order.settle_shipping, action=gettext("发货"))
            except ValidationError as exc:
                message_errors(request, exc)
                return HttpResponseRedirect(self.change_url(order))
            # The common case is one parcel for everything still to ship: start with those ticked.
            form = ShipForm(
                order=order,
                initial={
                    "items": [
                        item.pk
                        for item in order.unshipped_shippable_items()
                        if item.aftersale_lock == AftersaleLock.NONE
                    ]
                },
            )
        items = list(form.fields["items"].queryset)
        selected = {str(pk) for pk in (form["items"].value() or [])}
        rows = [
            {
                "item": item,
                "shippable": item.package_id is None and item.aftersale_lock == AftersaleLock.NONE,
                "checked": str(item.pk) in selected,
                "paid": money(item.paid_amount),
                "note": self._item_note(item),
            }
            for item in items
        ]
        return self._render(
            request, order, "merchants/admin/order_ship.html", gettext("发货"), form=form, rows=rows
        )

    @staticmethod
    def _item_note(item) -> str:
        if item.package_id is not None:
            return gettext("已发货：%(carrier)s %(tracking)s") % {
                "carrier": item.package.get_carrier_display(),
                "tracking": item.package.tracking_no,
            }
        if item.aftersale_lock == AftersaleLock.OPEN:
            return gettext("售后处理中，暂不能发货")
        if item.aftersale_lock == AftersaleLock.REFUNDED:
            return gettext("已退款，无需发货")
        return gettext("待发货")

    @action(description=_("修改物流"), url_path="tracking", icon="edit_road")
    def change_tracking(self, request, object_id):
        order = self._order_for(request, object_id, TRACKING)
        if request.method == "POST":
            form = TrackingForm(request.POST, order=order)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    package = services.update_tracking(
                        data["package"],
                        carrier=data["carrier"],
                        tracking_no=data["tracking_no"],
                        actor=request.user,
                    )
                except ValidationError as exc:
                    message_errors(request, exc)
                else:
                    return self._done(
                        request,
                        order,
                        gettext("物流信息已修改为 %(carrier)s %(tracking)s。")
                        % {"carrier": package.get_carrier_display(), "tracking": package.tracking_no},
                    )
        else:
            initial = {}
            wanted = request.GET.get("package", "")
            package = (
                Package.objects.filter(order=order, pk=int(wanted)).first() if wanted.isdigit() else None
            )
            if package is not None:
                initial = {"package": package.pk, "carrier": package.carrier}
            form = TrackingForm(order=order, initial=initial)
        packages = (
            Package.objects.filter(order=order)
            .prefetch_related("items__product")
            .order_by("shipped_at", "pk")
        )
        return self._render(
            request,
            order,
            "merchants/admin/order_tracking.html",
            gettext("修改物流"),
            form=form,
            packages=packages,
        )

    @action(description=_("确认订单"), url_path="confirm-cod", icon="task_alt")
    def confirm_cod(self, request, object_id):
        order = self._order_for(request, object_id, CONFIRM_COD)
        if request.method == "POST":
            try:
                services.confirm_cod(order, actor=request.user)
            except ValidationError as exc:
                message_errors(request, exc)
                return HttpResponseRedirect(self.change_url(order))
            return self._done(
                request, order, gettext("订单 %(no)s 已确认，可以发货了。") % {"no": order.order_no}
            )
        return self._render(request, order, "merchants/admin/order_confirm_cod.html", gettext("确认订单"))

    @action(description=_("取消订单"), url_path="cancel", icon="cancel")
    def cancel(self, request, object_id):
        order = self._order_for(request, object_id, CANCEL)
        if request.method == "POST":
            form = CancelForm(request.POST)
            if form.is_valid():
                try:
                    services.cancel_order(order, actor=request.user, reason=form.cleaned_data["reason"])
                except ValidationError as exc:
                    message_errors(request, exc)
                else:
                    return self._done(
                        request, order, gettext("订单 %(no)s 已取消。") % {"no": order.order_no}
                    )
        else:
            form = CancelForm()
        return self._render(
            request, order, "merchants/admin/order_cancel.html", gettext("取消订单"), form=form
        )

    # -- bulk

    @admin.action(description=_("确认所选货到付款订单"), permissions=["act"])
    def confirm_cod_selected(self, request, queryset):
        """Each order through its own service call; one refusal does not undo the others."""
        confirmed, refused = 0, []
        for order in queryset.order_by("pk"):  # the queryset is scoped: another shop's ids are simply absent
            try:
                services.confirm_cod(order, actor=request.user)
                confirmed += 1
            except ValidationError as exc:
                refused.append(f"{order.order_no}：{'；'.join(exc.messages)}")
        if confirmed:
            messages.success(request, gettext("已确认 %(count)d 个订单。") % {"count": confirmed})
        for text in refused:
            messages.error(request, text)


def order_list_url(site_name: str, **params) -> str:
    """A link into the order list with filters (used by the dashboard and the sidebar)."""
    url = reverse(f"{site_name}:merchants_order_changelist")
    if not params:
        return url
    return url + "?" + "&".join(f"{key}={value}" for key, value in params.items())


__all__ = ["OrderAdmin", "PackageInline", "OrderItemInline", "OrderEventInline", "order_list_url"]
