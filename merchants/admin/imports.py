"""Import and export on the product list and the package list, both sites (B-1, B-4).

Small bases for ProductAdmin and PackageAdmin (merchants/admin/shops.py): the kernel's spreadsheet
import flow (merchants.kernel.admin.importing) with this app's resources (merchants/resources.py).
…/product/import/ imports products with their SKUs; …/package/import/ is batch shipping 批量发货,
the rows through merchants.services.ship_many. …/order/import/ imports orders with their items and
the buyer's address (merchants.services.place_orders). On the workbench a member imports into their own shop; on
/admin/ platform staff name the shop on each row.
"""

from __future__ import annotations

from merchants.kernel.admin.base import is_workbench
from merchants.kernel.admin.importing import SpreadsheetImportExportAdmin
from merchants.resources import OrderResource, ProductResource, ShippingResource


class ProductImportExportAdmin(SpreadsheetImportExportAdmin):
    """…/product/import/ and …/product/export/: products with SKUs, a row per SKU."""

    resource_classes = [ProductResource]


class PackageImportExportAdmin(SpreadsheetImportExportAdmin):
    """…/package/import/ (批量发货) and …/package/export/ (the package list, which imports back)."""

    resource_classes = [ShippingResource]

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if is_workbench(self.admin_site) and "fake_shipping" not in fields:
            fields += ("fake_shipping",)  # L-7 is the platform's finding, never the shop's
        return fields


class OrderImportExportAdmin(SpreadsheetImportExportAdmin):
    """…/order/import/ (orders with items and address, through place_orders) and …/order/export/."""

    resource_classes = [OrderResource]
