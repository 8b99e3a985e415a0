"""What the order page lists below its fields: the items, the packages and the order's history (read-only)."""

from __future__ import annotations

from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from merchants.admin.display import status_label
from merchants.kernel.admin.base import ReadOnlyEventInline
from merchants.kernel.admin.display import badge, local_time, member_roles, money
from merchants.kernel.admin.readonly import ReadOnlyTabularInline
from merchants.kernel.admin.timeline import event_row
from merchants.models import Order, OrderEvent, OrderItem, Package
from merchants.transitions import AftersaleLock, OrderStatus

TRACKING = "change_tracking"  # the order's move that edits a package (merchants/admin/orders/actions.py)


class OrderItemInline(ReadOnlyTabularInline):
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


class PackageInline(ReadOnlyTabularInline):
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
        if not order_admin.action_visible(request, order, TRACKING):
            return "-"
        url = order_admin.action_url(TRACKING, order) + f"?package={obj.pk}"
        return format_html(
            '<a class="text-primary-600 font-medium" href="{}">{}</a>', url, gettext("修改物流")
        )


class OrderEventInline(ReadOnlyEventInline):
    """The order's history: the kernel's timeline rows (merchants.kernel.admin.timeline), as table cells."""

    model = OrderEvent
    verbose_name = _("订单记录")
    verbose_name_plural = _("订单记录")
    fields = ("when", "who", "what", "transition", "details")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    hide_title = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "order")  # who() reads both

    def row(self, obj) -> dict:
        rows = self.__dict__.setdefault("_rows", {})  # inline instances live for one request
        if obj.pk not in rows:
            if "_roles" not in self.__dict__:
                self._roles = member_roles(obj.order.merchant_id, obj.order.events.all())
            rows[obj.pk] = event_row(obj, roles=self._roles, states=OrderStatus)
        return rows[obj.pk]

    @display(description=_("时间"))
    def when(self, obj):
        return self.row(obj)["when"]

    @display(description=_("操作人"))
    def who(self, obj):
        row = self.row(obj)
        side, person, role = row["party_label"], row["username"], row["role"]
        if not person:
            return side
        if not role:
            return format_html("{} · {}", side, person)
        return format_html("{} · {} <span class='text-base-500'>（{}）</span>", side, person, role)

    @display(description=_("动作"))
    def what(self, obj):
        return self.row(obj)["what"]

    @display(description=_("说明"))
    def details(self, obj):
        return linebreaksbr(self.row(obj)["text"])  # rendered now, in the reader's language

    @display(description=_("状态变化"))
    def transition(self, obj):
        row = self.row(obj)
        return row["transition"] or status_label(obj.target_status)


__all__ = ["OrderEventInline", "OrderItemInline", "PackageInline"]
