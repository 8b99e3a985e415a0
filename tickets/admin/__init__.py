"""Admin registrations of service tickets on both sites.

/workbench/ (shop members): the shop's tickets with their stage tabs, the ticket page with its log, the
answer forms (T-2, T-7) — through MerchantScopedAdmin, so rows, URLs and actions stay inside the shop.
/admin/ (platform staff): every shop's tickets, raising a ticket, the review queue, the overdue and
late-review queues, the ticket settings. Both sites' order pages list the order's tickets.
"""

from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from unfold.admin import ModelAdmin

from merchants.kernel import registry
from merchants.kernel.admin.sites import workbench_site
from tickets import dashboard  # noqa: F401  (registers the home-page cards)
from tickets.admin.orders import add_to_order_pages
from tickets.admin.tickets import PlatformTicketAdmin, TicketAdmin, WorkbenchTicketAdmin
from tickets.models import Ticket, TicketSettings


class TicketSettingsAdmin(ModelAdmin):
    """The T-1..T-3 defaults: one row, edited in place (no list, no add, no delete)."""

    fields = (
        ("first_due_hours", "redo_due_hours"),
        ("review_hours", "due_soon_hours"),
        ("overdue_points", "ship_commit_points"),
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        row = TicketSettings.load()
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:tickets_ticketsettings_change", args=[row.pk])
        )


workbench_site.register(Ticket, WorkbenchTicketAdmin)
admin.site.register(Ticket, PlatformTicketAdmin)
admin.site.register(TicketSettings, TicketSettingsAdmin)
add_to_order_pages(workbench_site, admin.site)
registry.nav_icon("tickets.ticket", "support_agent", priority=10)

__all__ = ["PlatformTicketAdmin", "TicketAdmin", "WorkbenchTicketAdmin"]
