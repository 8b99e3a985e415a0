"""The order cards of the workbench home (M-2, M-4) and the order pages' places in the sidebar."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants import selectors
from merchants.kernel.registry import Card, Section, card_provider, nav_icon, site_name
from merchants.transitions import SHIPPABLE_STATES, OrderStatus

for _position, (_label, _icon) in enumerate(
    [
        ("merchants.order", "receipt_long"),
        ("merchants.product", "inventory_2"),
        ("merchants.merchant", "storefront"),
        ("merchants.membership", "group"),
    ]
):
    nav_icon(_label, _icon, priority=_position)


def open_order_counts(orders: QuerySet, *, statuses, now=None) -> dict[str, int]:
    """{status: count} for `statuses`, plus "late" (M-4): two index-only counts, whatever the shop's size.

    One GROUP BY over (merchant, status, …) and one COUNT over the partial late-order index; a single
    aggregate with FILTERs would have to read every open order's row for ship_by.
    """
    counts = dict.fromkeys(statuses, 0)
    counts.update(orders.filter(status__in=statuses).order_by().values_list("status").annotate(n=Count("*")))
    counts["late"] = orders.filter(status__in=SHIPPABLE_STATES, ship_by__lt=now or timezone.now()).count()
    return counts


@card_provider(order=10)
def order_cards(request: HttpRequest) -> Section:
    """Open shipping work (M-2, M-4), counted over the user's shops only."""
    counts = open_order_counts(
        selectors.orders_for(request.user),
        statuses=(OrderStatus.AWAITING_CONFIRMATION, *SHIPPABLE_STATES, OrderStatus.SHIPPED),
    )
    counts = {
        "awaiting": counts[OrderStatus.AWAITING_CONFIRMATION],
        "to_ship": counts[OrderStatus.TO_SHIP],
        "partial": counts[OrderStatus.PARTIALLY_SHIPPED],
        "shipped": counts[OrderStatus.SHIPPED],
        "late": counts["late"],
    }
    url = reverse(f"{site_name(request)}:merchants_order_changelist")
    cards = [
        Card(
            _("待发货"),
            counts["to_ship"],
            f"{url}?status__exact={OrderStatus.TO_SHIP}",
            _("已付款，等待发货"),
            "warning",
            "inventory",
        ),
        Card(
            _("超时未发货"),
            counts["late"],
            f"{url}?late=yes",
            _("已过承诺发货时间，请尽快发货"),
            "danger",
            "alarm",
        ),
        Card(
            _("部分发货"),
            counts["partial"],
            f"{url}?status__exact={OrderStatus.PARTIALLY_SHIPPED}",
            _("还有商品未发出"),
            "info",
            "call_split",
        ),
        Card(
            _("已发货待收货"),
            counts["shipped"],
            f"{url}?status__exact={OrderStatus.SHIPPED}",
            _("等待买家确认收货"),
            "default",
            "local_shipping",
        ),
    ]
    if counts["awaiting"]:
        cards.insert(
            0,
            Card(
                _("待确认（货到付款）"),
                counts["awaiting"],
                f"{url}?status__exact={OrderStatus.AWAITING_CONFIRMATION}",
                _("确认后才能发货"),
                "info",
                "task_alt",
            ),
        )
    return Section(title=_("订单与发货"), cards=cards)
