"""The changelist anchor: a throwaway AdminSite at /bench-anchor/ with ModelAdmins left at Django's defaults.

It is unfold's AdminSite and ModelAdmin (unfold is first in INSTALLED_APPS, so every admin template
is unfold's and needs its site's URLs: a bare `admin.AdminSite` cannot render here). Unfold's ModelAdmin
keeps every Django default that decides a changelist's cost, so the anchor differs from the real page
only in the ModelAdmin options: the figure and its anchor render through the same theme.

Mounted only inside the benchmark process (`override_settings(ROOT_URLCONF="bench.anchor")`), next to
the project's own URLs. `register_default(model, …)` registers a ModelAdmin with only the
options that make it show the same list (columns, the filter, the search fields); everything that
decides its cost stays Django's default: the full `COUNT(*)` (`show_full_result_count=True`), search
with `icontains` on every search field, `select_related()` chosen by Django, the default actions.

The one thing it adds is the same tenancy as the real page (`scope_to_actor`), so that a shop member
gets the same rows: otherwise the anchor would list 1M orders where the workbench lists 5,000.
`AfterSaleCase` (bench/aftersales.py) is registered the same way.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import path
from unfold.admin import ModelAdmin
from unfold.sites import UnfoldAdminSite

from merchants.kernel.scoping import scope_to_actor


class AnchorSite(UnfoldAdminSite):
    site_header = "bench anchor"

    def has_permission(self, request) -> bool:
        # Shop members are not `is_staff`; the anchor must serve them the same list the workbench does.
        return request.user.is_active and request.user.is_authenticated


class DefaultOrderLikeAdmin(ModelAdmin):
    """Django's defaults; read-only like the real page, scoped like the real page."""

    def get_queryset(self, request):
        return scope_to_actor(super().get_queryset(request), request.user)

    def has_view_permission(self, request, obj=None):
        return True

    def has_module_permission(self, request):
        return True

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


anchor_site = AnchorSite(name="bench_anchor")


def register_default(model, **options) -> admin.ModelAdmin:
    """Register `model` on the anchor site with Django's defaults plus `options` (columns, filters…)."""
    if model in anchor_site._registry:
        anchor_site.unregister(model)
    admin_class = type(f"Default{model.__name__}Admin", (DefaultOrderLikeAdmin,), dict(options))
    anchor_site.register(model, admin_class)
    return anchor_site._registry[model]


def _register_all() -> None:
    """Every model a benchmark compares against Django's defaults."""
    from aftersales.models import AfterSaleCase
    from merchants.models import Order

    register_default(
        Order,
        # the same columns as the real list, as plain fields
        list_display=("order_no", "buyer_name", "paid_amount", "status", "placed_at", "ship_by", "merchant"),
        list_filter=("status",),
        search_fields=("order_no", "buyer_name", "buyer_id"),
    )
    register_default(
        AfterSaleCase,
        # the case list's columns as plain fields (product and merchant: Django select_related()s them)
        list_display=(
            "case_no",
            "order_no",
            "product",
            "buyer_name",
            "type",
            "reason",
            "status",
            "amount",
            "deadline_at",
            "created_at",
            "merchant",
        ),
        list_filter=("status", "type"),
        search_fields=("case_no", "order_no", "buyer_name"),
    )


def _project_urls():
    from config.urls import urlpatterns

    return urlpatterns


_register_all()
urlpatterns = [path("bench-anchor/", anchor_site.urls), *_project_urls()]
