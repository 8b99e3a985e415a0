"""Admin registrations of after-sales on both sites.

/workbench/ (shop members): the case list and case page (A-4, A-10), the shop's delay reports, and the
owner's auto-refund rules (A-12) — all through MerchantScopedAdmin, so rows, URLs, actions, autocomplete
and exports stay inside the user's shops.
/admin/ (platform staff): every shop's cases with the arbitration queue and failed refunds (A-6, A-7),
the delay-report queue (A-9), refunds and the after-sales settings. Violations and notices are the
merchants app's (merchants/admin/records.py).
"""

from django.contrib import admin

from aftersales.admin.cases import CaseAdmin, PlatformCaseAdmin, WorkbenchCaseAdmin
from aftersales.admin.library import RejectReasonAdmin, ReturnAddressAdmin
from aftersales.admin.platform import AftersalesSettingsAdmin, DelayReportAdmin, RefundAdmin
from aftersales.admin.rules import AutoRefundRuleAdmin
from aftersales.models import (
    AfterSaleCase,
    AftersalesSettings,
    AutoRefundRule,
    DelayReport,
    Refund,
    RejectReason,
    ReturnAddress,
)
from merchants.kernel.admin.sites import workbench_site

workbench_site.register(AfterSaleCase, WorkbenchCaseAdmin)
workbench_site.register(DelayReport, DelayReportAdmin)
workbench_site.register(AutoRefundRule, AutoRefundRuleAdmin)
workbench_site.register(ReturnAddress, ReturnAddressAdmin)
workbench_site.register(RejectReason, RejectReasonAdmin)

admin.site.register(AfterSaleCase, PlatformCaseAdmin)
admin.site.register(DelayReport, DelayReportAdmin)
admin.site.register(AutoRefundRule, AutoRefundRuleAdmin)
admin.site.register(Refund, RefundAdmin)
admin.site.register(AftersalesSettings, AftersalesSettingsAdmin)

__all__ = ["CaseAdmin", "PlatformCaseAdmin", "WorkbenchCaseAdmin"]
