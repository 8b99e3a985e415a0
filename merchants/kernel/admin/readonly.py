"""Two page shapes written once: the read-only admin and the singleton-settings admin.

A read-only admin shows rows that only services change (cases, refunds, delay reports, violations,
notices): no add, no change, no delete from any page, whatever the user's model permissions; its
moves, if any, are action pages (merchants.kernel.admin.actions). A singleton-settings admin edits the
one row of a `SingletonSettings` model in place: its list opens that row, and it is never added or deleted.
"""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.urls import reverse
from unfold.admin import ModelAdmin

from merchants.kernel.admin.base import ScopedTabularInline


class ReadOnlyAdminMixin:
    """Rows never changed from the page (the change view shows them read-only)."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, ScopedTabularInline):
    """Rows shown on a parent's page that change only through the parent's moves."""

    can_delete = False
    show_change_link = False
    hide_title = True  # no "str(row)" line above each row: the columns say it all


class SingletonSettingsAdmin(ModelAdmin):
    """The one row of business defaults, edited in place (no list, no add, no delete)."""

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        row = self.model.load()
        opts = self.model._meta
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
        )


__all__ = ["ReadOnlyAdminMixin", "ReadOnlyTabularInline", "SingletonSettingsAdmin"]
