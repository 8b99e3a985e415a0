"""The case admins of both sites: the list, the read-only case page and its moves, composed (A-4, A-7, A-10).

Nothing here edits a case: the page is read-only, and every move is an action page of the kernel's kit
(aftersales/admin/actions.py), which loads the case through the scoped `get_object()` (another shop's id
is a 404), refuses a role the state machine does not name (403), calls the service with
`actor=request.user` and shows its refusal as a message (never a 500).
"""

from __future__ import annotations

from django.contrib import admin

from aftersales.admin.actions import (
    BULK_APPROVE,
    BULK_CONFIRM_RETURN,
    BULK_REJECT,
    BULK_RETRY_REFUND,
    CaseActionPagesMixin,
)
from aftersales.admin.cases.listing import CaseListMixin
from aftersales.admin.cases.page import CasePageMixin
from aftersales.admin.express import ExpressSwitchMixin
from aftersales.filters import EscalatedFilter
from aftersales.resources import CaseRequestResource
from merchants.kernel.admin.actions import bulk_action
from merchants.kernel.admin.base import is_workbench, member_may
from merchants.kernel.admin.changelist import FastListMixin
from merchants.kernel.admin.importing import SpreadsheetImportExportAdmin
from merchants.kernel.admin.readonly import ReadOnlyAdminMixin
from merchants.kernel.scoping import WRITE_ROLES, is_platform


class CaseAdmin(
    CaseActionPagesMixin,
    CasePageMixin,
    CaseListMixin,
    ReadOnlyAdminMixin,
    FastListMixin,
    SpreadsheetImportExportAdmin,
):
    """Shared by the workbench and /admin/: list, filters, tabs, search, export, the case page, its moves.

    Cases are opened by buyers (imports, services), never typed in; the page is read-only.
    """

    def get_import_resource_classes(self, request):
        return [CaseRequestResource]  # the buyer feed; the export stays the list's (CaseExportResource)

    def has_import_permission(self, request):
        # The buyer feed is the platform's (B-1): /admin/ only, platform staff only.
        return not is_workbench(self.admin_site) and is_platform(request.user)

    def has_act_permission(self, request) -> bool:
        """Bulk moves: a member who may act in at least one shop (workbench), platform staff (/admin/)."""
        if is_workbench(self.admin_site):
            return member_may(request, None, WRITE_ROLES)
        return is_platform(request.user)

    def case_actions(self, request, case) -> list:
        """The moves the case page offers this user now (the state machine's, this site's)."""
        return self.visible_actions(request, case)


# Issue 11 §7: the bulk moves a quick tab offers (those its cases can take); elsewhere approve and reject.
TAB_BULK = {
    "pending": ("bulk_approve_selected", "bulk_reject_selected"),
    "return_in_transit": ("bulk_confirm_return_selected",),
}


class WorkbenchCaseAdmin(ExpressSwitchMixin, CaseAdmin):
    """/workbench/: the shop's cases; owners and agents act, viewers read."""

    actions = (bulk_action(BULK_APPROVE), bulk_action(BULK_REJECT), bulk_action(BULK_CONFIRM_RETURN))

    def get_actions(self, request):
        actions = super().get_actions(request)
        wanted = TAB_BULK.get(request.GET.get("tab") or "", TAB_BULK["pending"])
        return {name: value for name, value in actions.items() if name in wanted}


class PlatformCaseAdmin(CaseAdmin):
    """/admin/: every shop's cases, the arbitration queue and failed refunds."""

    actions = (bulk_action(BULK_RETRY_REFUND),)
    product_class = "shouhou-product shouhou-product-narrow"  # the shop column takes room: 1440 px with 操作

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), EscalatedFilter)

    def get_ordering(self, request):
        # the arbitration queue shows escalated cases first, then the oldest.
        if request.GET.get("tab") == "arbitration" and "o" not in request.GET:
            return ("-escalated", "arbitration_started_at", "pk")
        return super().get_ordering(request)


__all__ = ["CaseAdmin", "PlatformCaseAdmin", "WorkbenchCaseAdmin", "admin"]
