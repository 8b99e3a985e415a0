"""Orders on both sites, split by what each part shows:

listing.py  the list merchants work from (columns, search, state tabs, the empty list)
inlines.py  the order page's items, packages and history
actions.py  the order's moves (ship, tracking, confirm, cancel) and the bulk confirmation, on the kernel's kits
admin.py    OrderAdmin, composed
"""

from django.urls import reverse

from merchants.admin.orders.admin import OrderAdmin
from merchants.admin.orders.inlines import OrderEventInline, OrderItemInline, PackageInline


def order_list_url(site_name: str, **params) -> str:
    """A link into the order list with filters (used by the dashboard and the sidebar)."""
    url = reverse(f"{site_name}:merchants_order_changelist")
    if not params:
        return url
    return url + "?" + "&".join(f"{key}={value}" for key, value in params.items())


__all__ = ["OrderAdmin", "OrderEventInline", "OrderItemInline", "PackageInline", "order_list_url"]
