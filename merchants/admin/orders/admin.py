"""The order admin of both sites: the list, the read-only order page and its moves, composed.

Nothing here edits an order: the page is read-only and every change — ship (S-1, S-2), change tracking
(S-3, S-4), confirm or cancel a cash-on-delivery order (M-2, M-3) — is an action page of the kernel's kit
(merchants/admin/orders/actions.py), which loads the order through the scoped `get_object()` (another
shop's id is a 404), refuses a role the state machine does not name (403), then calls merchants.services
and shows its refusal as a message.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from merchants import selectors
from merchants.admin.display import STATUS_VARIANTS
from merchants.admin.feeds import OrderTrackingMixin
from merchants.admin.imports import OrderImportExportAdmin
from merchants.admin.orders.actions import BULK_CONFIRM_COD, OrderActionPagesMixin
from merchants.admin.orders.inlines import OrderEventInline, OrderItemInline, PackageInline
from merchants.admin.orders.listing import OrderListMixin
from merchants.kernel.admin.actions import bulk_action
from merchants.kernel.admin.base import is_workbench, member_may
from merchants.kernel.admin.changelist import FastListMixin
from merchants.kernel.admin.display import badge, local_time
from merchants.kernel.admin.readonly import ReadOnlyAdminMixin
from merchants.kernel.scoping import WRITE_ROLES


class OrderAdmin(
    OrderTrackingMixin,
    OrderActionPagesMixin,
    OrderListMixin,
    ReadOnlyAdminMixin,
    FastListMixin,
    OrderImportExportAdmin,
):
    """The order list and the read-only order page with its service-backed moves (both sites)."""

    inlines = (OrderItemInline, PackageInline, OrderEventInline)
    actions = (bulk_action(BULK_CONFIRM_COD),)
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

    @display(description=_("收货地址"))
    def shipping_address(self, obj):
        return render_to_string("merchants/admin/order_address.html", {"order": obj})  # phone masked (N-7)

    def has_act_permission(self, request) -> bool:
        """Bulk moves: a member who may act in at least one shop (workbench), a superuser (/admin/)."""
        if is_workbench(self.admin_site):
            return member_may(request, None, WRITE_ROLES)
        return request.user.is_superuser

    def scope_queryset(self, request, qs):
        return qs.select_related("merchant")

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        if obj is not None and not selectors.has_packages(obj):
            inlines = [inline for inline in inlines if inline is not PackageInline]  # no empty "包裹" table
        return inlines

    # -- the order page's read-only fields

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

    @display(description=_("买家手机号"))
    def buyer_phone_display(self, obj):
        return obj.buyer_phone_masked or "-"  # N-7: never the raw number


__all__ = ["OrderAdmin"]
