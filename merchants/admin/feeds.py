"""The platform's feeds on /admin/ (B-1): daily IM statistics and the logistics feed, staff only.

…/merchants/imdailystat/import/ and …/export/, …/merchants/trackingevent/import/ and …/export/ (the
resources are merchants.feeds). A merchant never imports what grades the shop: on the workbench the
shop's own IM days are a read-only list (no import, no export), and tracking events show on the order
and case pages (物流轨迹) only.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import display

from merchants.feeds import ImDailyStatResource, TrackingEventResource
from merchants.kernel.admin.base import MerchantScopedAdmin, is_workbench
from merchants.kernel.admin.display import local_time
from merchants.kernel.admin.importing import SpreadsheetImportExportAdmin
from merchants.kernel.admin.readonly import ReadOnlyAdminMixin
from merchants.kernel.scoping import is_platform

IM_COLUMNS = (
    "day",
    "sessions",
    "human_sessions",
    "human_first_response_seconds",
    "rated_sessions",
    "low_rated_sessions",
)


class StaffFeedAdmin(ReadOnlyAdminMixin, SpreadsheetImportExportAdmin):
    """Rows only a feed writes: listed read-only; imported and exported by platform staff on /admin/."""

    def has_import_permission(self, request):
        return not is_workbench(self.admin_site) and is_platform(request.user)

    def has_export_permission(self, request):
        return not is_workbench(self.admin_site) and is_platform(request.user)


class ImDailyStatAdmin(StaffFeedAdmin):
    resource_classes = [ImDailyStatResource]
    list_display = ("shop", *IM_COLUMNS)
    list_select_related = ("merchant",)
    list_filter = (("day", RangeDateFilter),)
    list_filter_submit = True
    search_fields = ("merchant__code",)
    search_help_text = _("店铺编码")
    ordering = ("-day", "merchant")
    show_full_result_count = False

    @display(description=_("店铺"), ordering="merchant__code")
    def shop(self, obj):
        return obj.merchant.name


class WorkbenchImDailyStatAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """The shop's own IM days, read-only (L-3's IM first response is their sums ÷ counts)."""

    list_display = IM_COLUMNS
    list_filter = (("day", RangeDateFilter),)
    list_filter_submit = True
    ordering = ("-day",)
    show_full_result_count = False


class TrackingEventAdmin(StaffFeedAdmin):
    resource_classes = [TrackingEventResource]
    list_display = ("when", "shop", "direction", "carrier", "tracking_no", "stage", "text")
    list_select_related = ("merchant",)
    list_filter = (
        ("direction", ChoicesDropdownFilter),
        ("stage", ChoicesDropdownFilter),
        ("carrier", ChoicesDropdownFilter),
    )
    list_filter_submit = True
    search_fields = ("tracking_no",)
    search_help_text = _("运单号（完整）")
    ordering = ("-occurred_at", "-pk")
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip().upper()
        if not term:
            return queryset, False
        return queryset.filter(tracking_no=term), False

    @display(description=_("发生时间"), ordering="occurred_at")
    def when(self, obj):
        return local_time(obj.occurred_at)

    @display(description=_("店铺"), ordering="merchant__code")
    def shop(self, obj):
        return obj.merchant.name


def register(admin_site, workbench_site) -> None:
    from merchants.models import ImDailyStat, TrackingEvent  # noqa: PLC0415

    admin_site.register(ImDailyStat, ImDailyStatAdmin)
    admin_site.register(TrackingEvent, TrackingEventAdmin)
    workbench_site.register(ImDailyStat, WorkbenchImDailyStatAdmin)


__all__ = ["ImDailyStatAdmin", "TrackingEventAdmin", "WorkbenchImDailyStatAdmin", "register"]


STAGE_VARIANTS = {"collected": "info", "in_transit": "primary", "delivering": "warning", "signed": "success"}


def tracking_history_html(events, *, title=None, history_id="tracking-history") -> str:
    """The 物流轨迹 block (templates/merchants/tracking_history.html) for events newest first."""
    from django.template.loader import render_to_string  # noqa: PLC0415

    for event in events:
        event.when = local_time(event.occurred_at, "Y-m-d H:i")
        event.variant = STAGE_VARIANTS.get(event.stage, "default")
    return render_to_string(
        "merchants/tracking_history.html", {"events": events, "title": title, "history_id": history_id}
    )


class OrderTrackingMixin:
    """The order page's 物流轨迹: every scan of the order's packages, newest first (below the history)."""

    change_form_after_template = "merchants/admin/order_after.html"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            from merchants.feeds import tracking_history  # noqa: PLC0415
            from merchants.models import TrackingEvent  # noqa: PLC0415

            parcels = list(obj.packages.values_list("carrier", "tracking_no"))
            if parcels:
                events = tracking_history(obj.merchant_id, TrackingEvent.Direction.OUTGOING, parcels)
                context["order_tracking_history"] = tracking_history_html(events, history_id="order-tracking")
        return super().render_change_form(request, context, add, change, form_url, obj)
