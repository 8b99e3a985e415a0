"""List filters of the order pages. Each one filters through an index and stays inside the user's shops.

Their values are parsed by merchants.kernel.checks (through the kernel's checked filters): a bad value
is said on the page, naming the filter, and the filter is not applied (N-9).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants import selectors
from merchants.kernel.admin.filters import (
    CheckedChoiceFilter,
    CheckedIdFilter,
    CheckedTextFilter,
    chosen_shop_id,
)
from merchants.models import Order
from merchants.transitions import SHIPPABLE_STATES

# A dropdown of products is fine for a shop's catalogue; beyond this many the newest are offered.
PRODUCT_FILTER_LIMIT = 300


class LateFilter(CheckedChoiceFilter):
    """M-4: still owing a shipment after the promised ship-by time (partial index order_late_idx)."""

    title = _("超时未发货")
    parameter_name = "late"

    def lookups(self, request, model_admin):
        return (("yes", _("是")), ("no", _("否")))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.parsed_value == "yes":
            return queryset.filter(status__in=SHIPPABLE_STATES, ship_by__lt=now)
        if self.parsed_value == "no":
            return queryset.exclude(status__in=SHIPPABLE_STATES, ship_by__lt=now)
        return queryset


class ProductFilter(CheckedIdFilter):
    """Orders containing a product; the choices are the user's own products only."""

    title = _("商品")
    parameter_name = "product"

    def lookups(self, request, model_admin):
        products = selectors.products_for(request.user)
        shop_id = chosen_shop_id(request, model_admin.model)
        if shop_id is not None:  # the products follow the shop chosen in the shop filter (/admin/)
            products = products.filter(merchant_id=shop_id)
        if not model_admin.show_merchant_column(request):
            return [(str(pk), name) for pk, name in products.values_list("pk", "name")[:PRODUCT_FILTER_LIMIT]]
        rows = products.values_list("pk", "name", "merchant__name")[:PRODUCT_FILTER_LIMIT]
        return [(str(pk), f"{name}（{shop}）") for pk, name, shop in rows]

    def queryset(self, request, queryset):
        product_id = self.parsed_value
        if product_id is None:
            return queryset
        return self.filter_product(queryset, product_id)

    def filter_product(self, queryset, product_id: int):
        """The rows about this product (orders: through their items); other lists override it."""
        return queryset.filter(pk__in=selectors.orders_with_product(product_id))


class BuyerIdFilter(CheckedTextFilter):
    """Exact buyer id (indexed), never a substring scan."""

    title = _("买家ID")
    parameter_name = "buyer"
    max_length = Order._meta.get_field("buyer_id").max_length

    def queryset(self, request, queryset):
        value = self.parsed_value
        if value:
            return queryset.filter(buyer_id=value)
        return queryset


__all__ = ["BuyerIdFilter", "LateFilter", "ProductFilter", "admin"]
