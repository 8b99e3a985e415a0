"""The platform's records about shops on /admin/: rule violations (L-7) and notices, read-only.

Services write them (merchants.kernel.violations / notices, the after-sales sweeps); nobody edits
them from a page.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from merchants.kernel.admin.base import MerchantScopedAdmin
from merchants.kernel.admin.readonly import ReadOnlyAdminMixin


class ViolationAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = ("created_at", "merchant", "rule", "points", "source", "excluded")
    list_select_related = ("merchant",)
    list_filter = ("excluded",)
    ordering = ("-created_at", "-pk")
    show_full_result_count = False

    @display(description=_("来源"))
    def source(self, obj):
        return f"{obj.source_type} #{obj.source_id}"


class NoticeAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display = ("created_at", "audience", "merchant", "title", "read")
    list_select_related = ("merchant",)
    list_filter = ("audience",)
    ordering = ("-created_at", "-pk")
    show_full_result_count = False

    @display(description=_("已读"), boolean=True)
    def read(self, obj):
        return obj.read_at is not None


__all__ = ["NoticeAdmin", "ViolationAdmin"]
