"""The shop's own lists of the case day (issue 11 §4-§5): its return addresses and its reject reasons.

Workbench only; owners add, change and delete (a shop setting, SPEC §1), agents and viewers read. Writes
go through aftersales.services (one default address per shop, serialised on the shop row).
"""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from aftersales import services
from aftersales.admin.rules import OWNER_ONLY
from aftersales.services.addresses import adopt_settings_address
from aftersales.services.reasons import ensure_default_reject_reasons
from merchants import selectors as merchant_selectors
from merchants.kernel.admin.base import MerchantScopedAdmin, member_may
from merchants.kernel.scoping import merchant_ids_for


class OwnerEditsMixin:
    """Owners change the rows of their shops; everyone else of the shop reads them."""

    def _owner(self, request, obj=None) -> bool:
        return member_may(request, obj, OWNER_ONLY)

    def has_add_permission(self, request, *args):
        return self._owner(request)

    def has_change_permission(self, request, obj=None):
        return self._owner(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._owner(request, obj)

    def has_view_permission(self, request, obj=None):
        return True  # the scoped queryset decides which rows

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "merchant" and field is not None:
            field.queryset = merchant_selectors.owned_shops(request.user).order_by("code")
        return field

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        shops = list(merchant_selectors.owned_shops(request.user).order_by("code")[:2])
        if len(shops) == 1:
            initial.setdefault("merchant", shops[0].pk)
        return initial

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if len(merchant_ids_for(request.user)) > 1 or request.user.is_superuser:
            columns.insert(1, "shop")
        return columns

    @display(description=_("店铺"))
    def shop(self, obj):
        return obj.merchant.name


class ReturnAddressAdmin(OwnerEditsMixin, MerchantScopedAdmin):
    """退货地址库: several addresses, one default; approving a return picks one (A-3)."""

    list_display = ("name_display", "contact", "phone", "address", "default_display")
    list_display_links = ("name_display",)
    list_select_related = ("merchant",)
    ordering = ("merchant", "-is_default", "pk")
    fields = ("merchant", "label", ("contact", "phone"), "address", "is_default")

    @display(description=_("地址名称"))
    def name_display(self, obj):
        return obj.label or gettext("（未命名）")

    @display(description=_("默认地址"), label={True: "success", False: "default"})
    def default_display(self, obj):
        return obj.is_default, (gettext("默认") if obj.is_default else "-")

    def changelist_view(self, request, extra_context=None):
        adopt_settings_address(
            merchant_ids_for(request.user)
        )  # the shop settings' address, if no library yet
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        services.save_return_address(
            obj,
            actor=request.user,
            contact=obj.contact,
            phone=obj.phone,
            address_text=obj.address,
            label=obj.label,
            is_default=obj.is_default,
        )

    def delete_model(self, request, obj):
        services.delete_return_address(obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.delete_return_address(obj, actor=request.user)


class RejectReasonAdmin(OwnerEditsMixin, MerchantScopedAdmin):
    """拒绝原因模板: the presets of the reject form; one may require evidence (issue 11 §5)."""

    list_display = ("text", "evidence_display", "enabled", "position")
    list_display_links = ("text",)
    list_select_related = ("merchant",)
    ordering = ("merchant", "position", "pk")
    fields = ("merchant", "text", "evidence_required", ("position", "enabled"))

    @display(description=_("需要上传凭证"), label={True: "warning", False: "default"})
    def evidence_display(self, obj):
        return obj.evidence_required, (gettext("需要") if obj.evidence_required else gettext("不需要"))

    def changelist_view(self, request, extra_context=None):
        for shop_id in merchant_ids_for(request.user):
            ensure_default_reject_reasons(shop_id)  # a shop made after migration 0014 gets the presets too
        return super().changelist_view(request, extra_context)


__all__ = ["RejectReasonAdmin", "ReturnAddressAdmin"]
