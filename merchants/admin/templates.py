"""Reply templates (话术, T-6) on both sites, and the JSON endpoint the insert control asks.

/workbench/: a shop's own templates — owners and agents add, change and delete them (viewers read); the
platform's defaults are offered in every insert control but edited only by staff.
/admin/: every template; a template without a shop is a platform default.
`insert/` (both sites): one template filled for one object the user may see — another shop's object or
template is a 404, like any id that does not exist.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.urls import path
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from merchants.kernel import templates
from merchants.kernel.admin.base import MerchantScopedAdmin, is_workbench
from merchants.kernel.scoping import WRITE_ROLES, merchant_ids_for, roles_for, scope_to_actor
from merchants.kernel.templates import MissingValuesError, ReplyTemplate
from merchants.models import Merchant


class PlatformDefaultFilter(admin.SimpleListFilter):
    title = _("归属")
    parameter_name = "owner"

    def lookups(self, request, model_admin):
        return (("platform", _("平台默认")), ("shop", _("店铺自有")))

    def queryset(self, request, queryset):
        if self.value() == "platform":
            return queryset.filter(merchant__isnull=True)
        if self.value() == "shop":
            return queryset.filter(merchant__isnull=False)
        return queryset


class ReplyTemplateAdmin(MerchantScopedAdmin):
    list_display = ("title", "scene", "enabled", "preview", "updated_at")
    list_display_links = ("title",)
    list_filter = (("scene", ChoicesDropdownFilter), "enabled")
    list_filter_submit = True
    list_select_related = ("merchant",)
    ordering = ("scene", "position", "pk")
    search_fields = ("title",)
    fields = ("merchant", "scene", "title", "text", "enabled", "position")
    workbench_can_add = True
    workbench_can_delete = True

    def writable_shops(self, request):
        """The shops the user may keep templates for: on the workbench, those where they own or serve."""
        shops = Merchant.objects.order_by("code")
        if is_workbench(self.admin_site) and not request.user.is_superuser:
            shops = shops.filter(
                pk__in=[pk for pk, role in roles_for(request.user).items() if role in WRITE_ROLES]
            )
        return shops

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if not is_workbench(self.admin_site):
            filters.insert(0, PlatformDefaultFilter)
        return filters

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if not is_workbench(self.admin_site) or len(merchant_ids_for(request.user)) > 1:
            columns.insert(1, "owner")
        return columns

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "merchant" and field is not None and is_workbench(self.admin_site):
            # A shop's own template always has its shop; an agent elsewhere cannot slip one into that shop.
            field.queryset = self.writable_shops(request)
            field.required = True
            field.empty_label = None
        return field

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if is_workbench(self.admin_site):
            shops = list(self.writable_shops(request)[:2])
            if len(shops) == 1:
                initial.setdefault("merchant", shops[0].pk)
        return initial

    @display(description=_("归属"))
    def owner(self, obj):
        return obj.merchant.name if obj.merchant_id else gettext("平台默认")

    @display(description=_("话术内容"))
    def preview(self, obj):
        return Truncator(obj.text).chars(60)

    # -- the insert control's endpoint

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("insert/", self.admin_site.admin_view(self.insert_view), name="{}_{}_insert".format(*info)),
        ] + super().get_urls()

    def insert_view(self, request):
        """GET template, source, id, v_<placeholder>…: the template filled for the object, as JSON.

        404 unless the object is one the user may see and the template is the platform's or that shop's;
        400 with the message (naming each missing value) when a required placeholder has no value.
        """
        model = templates.source_model(request.GET.get("source", ""))
        object_id, template_id = request.GET.get("id", ""), request.GET.get("template", "")
        if model is None or not object_id.isdigit() or not template_id.isdigit():
            raise Http404(_("对象不存在。"))
        obj = scope_to_actor(model._default_manager.all(), request.user).filter(pk=int(object_id)).first()
        if obj is None:
            raise Http404(_("对象不存在。"))
        template = (
            templates.templates_for_object(obj, ReplyTemplate.Scene.values)
            .filter(pk=int(template_id))
            .first()
        )
        if template is None:
            raise Http404(_("对象不存在。"))
        typed = {key[2:]: value for key, value in request.GET.items() if key.startswith("v_")}
        try:
            filled = templates.fill(template, obj, typed)
        except MissingValuesError as exc:
            return JsonResponse(
                {
                    "ok": False,
                    "error": exc.messages[0],
                    "missing": exc.missing,
                    "placeholders": exc.placeholders,
                },
                status=400,
            )
        except ValidationError as exc:  # a template saved before a placeholder it uses was withdrawn
            return JsonResponse(
                {"ok": False, "error": "；".join(exc.messages), "placeholders": []}, status=400
            )
        return JsonResponse({"ok": True, "text": filled.text, "placeholders": filled.placeholders})


__all__ = ["ReplyTemplateAdmin"]
