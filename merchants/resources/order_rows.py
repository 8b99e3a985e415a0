"""The orders and items the rows of a buyer-side feed name (the platform's after-sales request feed,
aftersales/resources.py, and its review feed, reviews/resources.py): one lookup for a whole file, and the
one rule that picks an order's item from a row's SKU or product code."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext

from merchants.kernel.importing import any_of
from merchants.kernel.scoping import scope_to_actor
from merchants.models import Order, OrderItem


def orders_and_items(actor, order_nos: Iterable[str]) -> tuple[dict[str, Order], dict[int, list[OrderItem]]]:
    """The orders of these numbers the actor may see ({order_no: order}) and their items ({order id: items}):
    two queries whatever the rows."""
    orders = {
        order.order_no: order
        for order in any_of(scope_to_actor(Order.objects.all(), actor), "order_no", set(order_nos) - {""})
    }
    items: dict[int, list[OrderItem]] = {}
    for item in any_of(
        OrderItem.objects.select_related("sku", "product"), "order_id", [o.pk for o in orders.values()]
    ):
        items.setdefault(item.order_id, []).append(item)
    return orders, items


def pick_item(items: list[OrderItem], code: str) -> OrderItem | str:
    """The order's item a row means: the only one, or the one whose SKU or product code is `code`; else the
    message that says why none is."""
    if not code:
        if len(items) == 1:
            return items[0]
        return gettext("订单有多件商品，请填写商品SKU。")
    for item in items:
        if (item.sku_id and item.sku.sku_code == code) or item.product.spu_id == code:
            return item
    return gettext("订单中没有商品 %(code)s。") % {"code": code}
