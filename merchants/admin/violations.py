"""The shop's violations on the workbench (商家违规记录): rule, source, points, counted or not. Read-only.

The rule shows its registered name (merchants.kernel.notices.rule_label); the source links to its page
on the workbench when that page exists (a case, a ticket), labelled as the object calls itself — one
query per source type and page, whatever the number of rows.
"""

from __future__ import annotations

from collections import defaultdict

from django.apps import apps
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from merchants.kernel import notices
from merchants.kernel.admin.base import MerchantScopedAdmin
from merchants.kernel.admin.display import badge, local_time
from merchants.kernel.scoping import merchant_ids_for, scope_to_actor


class WorkbenchViolationAdmin(MerchantScopedAdmin):
    list_display = ("created", "rule_name", "source", "points", "counted")
    list_display_links = None
    list_filter = ("excluded",)
    list_select_related = ("merchant",)
    ordering = ("-created_at", "-pk")
    list_per_page = 50
    show_full_result_count = False
    fields = ("created", "rule_name", "source", "points", "counted")
    readonly_fields = fields

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if len(merchant_ids_for(request.user)) != 1:
            columns.insert(1, "shop")
        return columns

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        self._label_sources(request, changelist.result_list)
        return changelist

    def _label_sources(self, request, rows) -> None:
        """Give each row `source_label`: the source object's own name, fetched per type through the scope."""
        by_type = defaultdict(list)
        for row in rows:
            by_type[row.source_type].append(row)
        for label, members in by_type.items():
            try:
                model = apps.get_model(label)
            except (LookupError, ValueError):
                continue
            queryset = model._default_manager.filter(pk__in={row.source_id for row in members})
            if hasattr(model, "merchant_path"):
                queryset = scope_to_actor(queryset, request.user)
            names = {obj.pk: str(obj) for obj in queryset}
            for row in members:
                row.source_label = names.get(row.source_id)

    @display(description=_("时间"))
    def created(self, obj):
        return local_time(obj.created_at)

    @display(description=_("违规规则"))
    def rule_name(self, obj):
        return notices.rule_label(obj.rule)

    @display(description=_("来源"))
    def source(self, obj):
        app_label, _dot, model_name = obj.source_type.partition(".")
        try:
            model = apps.get_model(app_label, model_name)
        except (LookupError, ValueError):
            return f"{obj.source_type} #{obj.source_id}"
        name = getattr(obj, "source_label", None) or f"#{obj.source_id}"
        text = f"{model._meta.verbose_name} {name}"
        try:
            url = reverse(f"{self.admin_site.name}:{app_label}_{model_name}_change", args=[obj.source_id])
        except NoReverseMatch:
            return text
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, text)

    @display(description=_("计入考核"))
    def counted(self, obj):
        return badge(gettext("不计入"), "default") if obj.excluded else badge(gettext("计入"), "danger")

    @display(description=_("店铺"))
    def shop(self, obj):
        return obj.merchant.name


__all__ = ["WorkbenchViolationAdmin"]
