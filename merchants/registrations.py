"""What the orders app gives the kernel's registries: the reply-template values of an order (T-6).

Imported once from MerchantsConfig.ready(), so web and worker processes alike know them.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from merchants.kernel import templates
from merchants.models import Order, Package


def latest_package(order: Order) -> Package | None:
    return order.packages.order_by("-shipped_at", "-pk").first()


def order_values(order: Order, *, package: Package | None = None) -> dict[str, Any]:
    """The placeholders an order fills: its promise, and the parcel (the given one, else the latest).

    `ship_time` is when the parcel left, or — before anything shipped — the promised ship-by time while
    it is still ahead (a passed promise is no time to tell a buyer: the user commits a new one).
    What an order does not know (where it ships from, a reason, a coupon) the user types.
    """
    package = package or latest_package(order)
    start = order.paid_at or order.placed_at
    hours = None
    if order.ship_by and start and order.ship_by > start:
        hours = round((order.ship_by - start).total_seconds() / 3600)
    promised = order.ship_by if order.ship_by and order.ship_by > timezone.now() else None
    return {
        "promised_hours": hours,
        "ship_time": package.shipped_at if package else promised,
        "carrier": package.get_carrier_display() if package else None,
        "tracking_no": package.tracking_no if package else None,
    }


templates.register_source(Order, order_values)
