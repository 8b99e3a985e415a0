"""The order's moves on pages of their own (S-1..S-4, M-2, M-3) and the list's bulk move, on the kernel's kits.

Ship, change tracking, confirm or cancel a cash-on-delivery order: each an `ObjectAction` holding its
merchants.services function; who may see the button, and when, is the state machine's
(merchants/transitions.py: the transitions' permissions and ORDER_MOVES).
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from merchants import selectors, services
from merchants.admin.display import STATUS_VARIANTS
from merchants.forms import CancelForm, ShipForm, TrackingForm
from merchants.kernel.admin.actions import BulkAction, ConfirmForm, ObjectAction, ObjectActionsMixin
from merchants.kernel.admin.display import badge, money
from merchants.transitions import ORDER_MOVES, AftersaleLock, OrderStatus, PaymentMethod


class CancelOrderForm(CancelForm):
    """M-3: the reason (the form knows nothing else of the order)."""

    def __init__(self, *args, order=None, **kwargs):
        super().__init__(*args, **kwargs)


def _update_tracking(order, *, actor, package, carrier, tracking_no):
    """S-4 on the package picked from this order's packages (TrackingForm offers no other)."""
    return services.update_tracking(package, carrier=carrier, tracking_no=tracking_no, actor=actor)


def _shipped(order, package, data) -> str:
    return gettext("已发货：%(carrier)s %(tracking)s，共 %(count)d 件商品。") % {
        "carrier": package.get_carrier_display(),
        "tracking": package.tracking_no,
        "count": len(data["items"]),
    }


def _tracking_changed(order, package, data) -> str:
    return gettext("物流信息已修改为 %(carrier)s %(tracking)s。") % {
        "carrier": package.get_carrier_display(),
        "tracking": package.tracking_no,
    }


SHIP = ObjectAction(
    "ship",
    _("发货"),
    services.ship,
    ShipForm,
    _shipped,
    icon="local_shipping",
    variant="primary",
    template="merchants/admin/order_ship.html",
)
CHANGE_TRACKING = ObjectAction(
    "change_tracking",
    _("修改物流"),
    _update_tracking,
    TrackingForm,
    _tracking_changed,
    icon="edit_road",
    url_path="tracking",
    template="merchants/admin/order_tracking.html",
)
CONFIRM_COD = ObjectAction(
    "confirm_cod",
    _("确认订单"),
    services.confirm_cod,
    ConfirmForm,
    _("订单 %(no)s 已确认，可以发货了。"),
    icon="task_alt",
    url_path="confirm-cod",
    template="merchants/admin/order_confirm_cod.html",
)
CANCEL = ObjectAction(
    "cancel",
    _("取消订单"),
    services.cancel_order,
    CancelOrderForm,
    _("订单 %(no)s 已取消。"),
    icon="cancel",
    template="merchants/admin/order_cancel.html",
)
ORDER_ACTIONS = (SHIP, CHANGE_TRACKING, CONFIRM_COD, CANCEL)

BULK_CONFIRM_COD = BulkAction(
    "confirm_cod_selected",
    _("确认所选货到付款订单"),
    service=services.confirm_cod,  # each order through its own service call
    done=_("已确认，可以发货了"),
    intro=_("确认后订单进入「待发货」，需在承诺时间内发货；货到付款订单一旦确认，买家不能再取消。"),
    money_field="paid_amount",
    money_label=_("实付金额"),
    submit=_("确认订单"),
)


def item_note(item) -> str:
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


class OrderActionPagesMixin(ObjectActionsMixin):
    """The order's action pages: the kit, with the order's summary and what shipping and tracking list."""

    object_actions = ORDER_ACTIONS
    moves = ORDER_MOVES
    action_form_object = "order"
    action_buttons_in_header = True  # the buttons sit in unfold's header of the order page
    bulk_object_column = _("订单号")

    def action_message_params(self, obj) -> dict:
        return {"obj": obj.order_no, "no": obj.order_no}

    def bulk_object_label(self, obj) -> str:
        return obj.order_no

    def bulk_object_state(self, obj) -> str:
        return badge(obj.get_status_display(), STATUS_VARIANTS.get(obj.status, "default"))

    def action_summary(self, request, order) -> list[tuple]:
        summary = [
            (_("订单号"), order.order_no),
            (_("订单状态"), badge(order.get_status_display(), STATUS_VARIANTS.get(order.status, "default"))),
            (_("实付金额"), money(order.paid_amount)),
            (_("承诺发货时间"), self.ship_by_display(order)),
            (_("买家"), f"{order.buyer_name} · {order.buyer_phone_masked or '-'}"),
        ]
        if order.express_refund_tag or order.payment_method == PaymentMethod.COD:
            summary.append((_("标签"), self.tags(order)))
        return summary

    def action_initial(self, request, order, action) -> dict:
        if action is SHIP:
            # The common case is one parcel for everything still to ship: start with those ticked.
            items = order.unshipped_shippable_items()
            return {"items": [item.pk for item in items if item.aftersale_lock == AftersaleLock.NONE]}
        if action is CHANGE_TRACKING:
            package = selectors.package_of(order, request.GET.get("package", ""))
            return {"package": package.pk, "carrier": package.carrier} if package else {}
        return {}

    def action_context(self, request, order, action, form) -> dict:
        context = {"order": order}
        if action is SHIP:
            selected = {str(pk) for pk in (form["items"].value() or [])}
            context["rows"] = [
                {
                    "item": item,
                    "shippable": item.package_id is None and item.aftersale_lock == AftersaleLock.NONE,
                    "checked": str(item.pk) in selected,
                    "paid": money(item.paid_amount),
                    "note": item_note(item),
                }
                for item in form.fields["items"].queryset
            ]
        if action is CHANGE_TRACKING:
            context["packages"] = selectors.packages_of(order)
        if (
            action is CANCEL
            and order.payment_method == PaymentMethod.ONLINE
            and order.status != OrderStatus.UNPAID
        ):
            amounts = [amount for amount in selectors.refundable_amounts(order) if amount > 0]
            context["refund"] = {"items": len(amounts), "total": money(sum(amounts))}  # M-3: what staff start
        return context


__all__ = ["BULK_CONFIRM_COD", "ORDER_ACTIONS", "OrderActionPagesMixin", "item_note"]
