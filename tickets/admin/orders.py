"""T-4 "the order page lists its tickets": an inline added to the order page of both sites, from here.

The order admin lives below this app (merchants may not import tickets), so the tickets app registers a
subclass of each site's order admin that adds the inline. The workbench shows it only when the order has
tickets (no empty table); /admin/ always shows it, with "为该订单发起服务单" for staff.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from merchants.kernel.admin.base import is_workbench
from merchants.kernel.admin.display import choice_label, local_time
from merchants.kernel.admin.readonly import ReadOnlyTabularInline as ReadOnlyInline
from merchants.models import Order
from tickets.admin.display import status_badge, tag_badges
from tickets.models import Ticket
from tickets.transitions import TicketCategory


class OrderTicketInline(ReadOnlyInline):
    model = Ticket
    fk_name = "order"
    verbose_name = _("服务单")
    verbose_name_plural = _("服务单")
    fields = ("ticket_link", "category_label", "state", "created")
    readonly_fields = fields
    template_after = "tickets/order_tickets_after.html"

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at", "-pk")

    @display(description=_("服务单号"))
    def ticket_link(self, obj):
        url = reverse(f"{self.admin_site.name}:tickets_ticket_change", args=[obj.pk])
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.ticket_no)

    @display(description=_("类型"))
    def category_label(self, obj):
        return choice_label(TicketCategory, obj.category)

    @display(description=_("状态"))
    def state(self, obj):
        parts = [status_badge(obj), *tag_badges(obj)]
        return format_html(" ".join(["{}"] * len(parts)), *parts)

    @display(description=_("发起时间"))
    def created(self, obj):
        return local_time(obj.created_at)


def add_to_order_pages(*sites) -> None:
    """Re-register each site's order admin as a subclass that lists the order's tickets (idempotent)."""
    for site in sites:
        current = site._registry.get(Order)
        if current is None or getattr(current, "lists_tickets", False):
            continue
        site.unregister(Order)
        site.register(Order, with_tickets(type(current)))


def with_tickets(order_admin_class):
    class OrderWithTicketsAdmin(order_admin_class):
        lists_tickets = True

        def get_inlines(self, request, obj):
            inlines = list(super().get_inlines(request, obj))
            if obj is not None and (not is_workbench(self.admin_site) or obj.tickets.exists()):
                inlines.append(OrderTicketInline)
            return inlines

    OrderWithTicketsAdmin.__name__ = OrderWithTicketsAdmin.__qualname__ = order_admin_class.__name__
    return OrderWithTicketsAdmin
