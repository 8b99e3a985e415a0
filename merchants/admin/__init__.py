"""Admin registrations for shops and orders on both sites.

/workbench/ (shop members): orders (the main page), products, the shop's settings and its members —
all through MerchantScopedAdmin, so rows, URLs, actions and autocomplete stay inside the user's shops.
/admin/ (platform staff, superusers): the same models across every shop, packages, the order-rule
settings, rule violations and notices (read-only), and auth / Celery beat re-registered with unfold's classes.
"""

from django.contrib import admin

from merchants.admin import feeds
from merchants.admin.levels import LevelEvaluationAdmin, PlatformMerchantAdmin, ScoreSettingsAdmin
from merchants.admin.notices import WorkbenchNoticeAdmin
from merchants.admin.orders import OrderAdmin, order_list_url
from merchants.admin.records import NoticeAdmin, ViolationAdmin
from merchants.admin.shops import (
    MembershipAdmin,
    MerchantAdmin,
    PackageAdmin,
    PlatformSettingsAdmin,
    ProductAdmin,
)
from merchants.admin.templates import ReplyTemplateAdmin
from merchants.admin.violations import WorkbenchViolationAdmin
from merchants.kernel import registry
from merchants.kernel.admin import centers  # noqa: F401  (import center, download center: both sites)
from merchants.kernel.admin.platform import reregister
from merchants.kernel.admin.sites import workbench_site
from merchants.models import (
    LevelEvaluation,
    Membership,
    Merchant,
    Notice,
    Order,
    Package,
    PlatformSettings,
    Product,
    ReplyTemplate,
    ScoreSettings,
    Violation,
)

for site in (workbench_site, admin.site):
    site.register(Order, OrderAdmin)
    site.register(Product, ProductAdmin)
    site.register(LevelEvaluation, LevelEvaluationAdmin)
    site.register(Membership, MembershipAdmin)
    site.register(ReplyTemplate, ReplyTemplateAdmin)

workbench_site.register(Merchant, MerchantAdmin)
admin.site.register(Merchant, PlatformMerchantAdmin)  # with staff's hand-set level (L-2)
admin.site.register(ScoreSettings, ScoreSettingsAdmin)
# The shop's inbox and record; /admin/ lists every shop's (read-only, merchants/admin/records.py) below.
workbench_site.register(Notice, WorkbenchNoticeAdmin)
workbench_site.register(Violation, WorkbenchViolationAdmin)
registry.nav_icon("merchants.notice", "notifications", priority=80)
registry.nav_icon("merchants.violation", "gpp_maybe", priority=85)
registry.nav_icon("merchants.replytemplate", "quickreply", priority=90)

admin.site.register(Package, PackageAdmin)
workbench_site.register(Package, PackageAdmin)  # its …/package/import/ is batch shipping (B-1)
admin.site.register(PlatformSettings, PlatformSettingsAdmin)
admin.site.register(Violation, ViolationAdmin)
admin.site.register(Notice, NoticeAdmin)
feeds.register(admin.site, workbench_site)  # IM daily stats and the logistics feed (B-1)
reregister(admin.site)

__all__ = ["OrderAdmin", "order_list_url"]
