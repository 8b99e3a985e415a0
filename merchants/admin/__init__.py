"""Admin registrations for shops and orders on both sites.

/workbench/ (shop members): orders (the main page), products, the shop's settings and its members —
all through MerchantScopedAdmin, so rows, URLs, actions and autocomplete stay inside the user's shops.
/admin/ (platform staff, superusers): the same models across every shop, packages, the order-rule
settings, and auth / Celery beat re-registered with unfold's classes.
"""

from django.contrib import admin

from merchants.admin.orders import OrderAdmin, order_list_url
from merchants.admin.shops import (
    MembershipAdmin,
    MerchantAdmin,
    PackageAdmin,
    PlatformSettingsAdmin,
    ProductAdmin,
)
from merchants.kernel.admin.platform import reregister
from merchants.kernel.admin.sites import workbench_site
from merchants.models import Membership, Merchant, Order, Package, PlatformSettings, Product

for site in (workbench_site, admin.site):
    site.register(Order, OrderAdmin)
    site.register(Product, ProductAdmin)
    site.register(Merchant, MerchantAdmin)
    site.register(Membership, MembershipAdmin)

admin.site.register(Package, PackageAdmin)
workbench_site.register(Package, PackageAdmin)  # its …/package/import/ is batch shipping (B-1)
admin.site.register(PlatformSettings, PlatformSettingsAdmin)
reregister(admin.site)

__all__ = ["OrderAdmin", "order_list_url"]
