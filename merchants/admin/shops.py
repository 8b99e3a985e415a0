"""Shops, members, products and packages; the platform's order-rule settings (a singleton)."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from merchants import members
from merchants.admin.imports import PackageImportExportAdmin, ProductImportExportAdmin
from merchants.admin.members import MembershipAdmin, OwnerKeptInlineFormSet, save_member_rows
from merchants.forms import MerchantSettingsForm
from merchants.kernel.admin.base import (
    MerchantScopedAdmin,
    ScopedTabularInline,
    is_workbench,
    member_may,
    message_errors,
)
from merchants.kernel.admin.display import badge, local_time
from merchants.kernel.admin.readonly import SingletonSettingsAdmin
from merchants.kernel.scoping import WRITE_ROLES, roles_for
from merchants.kernel.vocabulary import MerchantStatus, Role
from merchants.models import Membership

ROLE_VARIANTS = {Role.OWNER: "primary", Role.AGENT: "info", Role.VIEWER: "default"}
OWNER_ONLY = frozenset({Role.OWNER})


class MembershipInline(ScopedTabularInline):
    """Members of a shop, managed by platform staff on /admin/ (the workbench shows them read-only)."""

    model = Membership
    formset = OwnerKeptInlineFormSet  # a shop is never left without an owner (merchants.members)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)
    verbose_name = _("成员")
    verbose_name_plural = _("店铺成员")


class MerchantAdmin(MerchantScopedAdmin):
    """Shop settings: on the workbench only the owner edits; code, level and status are the platform's."""

    list_display = (
        "name",
        "code",
        "level_badge",
        "status_badge",
        "express_badge",
        "settlement_cycle",
        "created",
    )
    list_filter = (("status", ChoicesDropdownFilter), "express_refund_enabled", "level")
    list_filter_submit = True
    search_fields = ("code", "name")
    ordering = ("code",)
    readonly_fields = ("level_badge", "status_detail", "opened")
    fieldsets = (
        (_("店铺"), {"fields": (("name", "code"), ("level_badge", "status_detail"), "opened")}),
        (_("售后设置"), {"fields": ("express_refund_enabled",)}),
        (_("退货地址"), {"fields": (("return_contact", "return_phone"), "return_address")}),
        (_("结算"), {"fields": ("settlement_cycle",)}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if is_workbench(self.admin_site):
            kwargs["form"] = MerchantSettingsForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if is_workbench(self.admin_site) or obj is not None:
            fields.append("code")  # the shop's public id (URLs, imports): fixed once created
        return fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # adding a shop on /admin/
            return (
                (_("店铺"), {"fields": (("name", "code"), "level", "express_refund_enabled")}),
                (_("退货地址"), {"fields": (("return_contact", "return_phone"), "return_address")}),
                (_("结算"), {"fields": ("settlement_cycle",)}),
            )
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        return () if is_workbench(self.admin_site) or obj is None else (MembershipInline,)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The inline's rows were checked when the form was cleaned; the member services check again with
        # the shop's row locked. If another owner left in between, the whole save rolls back (Django runs
        # it in one transaction) and the page says why, instead of a server error.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except members.LastOwnerError as exc:
            message_errors(request, exc)
            return HttpResponseRedirect(request.get_full_path())

    def save_formset(self, request, form, formset, change):
        if formset.model is Membership:
            save_member_rows(request, formset)
        else:
            super().save_formset(request, form, formset, change)

    def has_change_permission(self, request, obj=None):
        if is_workbench(self.admin_site):
            return member_may(request, obj, OWNER_ONLY)
        return super().has_change_permission(request, obj)

    @display(description=_("店铺等级"), ordering="level", label=True)
    def level_badge(self, obj):
        return obj.level_label

    @display(
        description=_("状态"), label={MerchantStatus.ACTIVE: "success", MerchantStatus.CLEARED: "danger"}
    )
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("状态"))
    def status_detail(self, obj):
        variant = "success" if obj.status == MerchantStatus.ACTIVE else "danger"
        return badge(obj.get_status_display(), variant)

    @display(description=_("开店时间"))
    def opened(self, obj):
        return local_time(obj.created_at)

    @display(description=_("极速退款"), label={True: "info", False: "default"})
    def express_badge(self, obj):
        return obj.express_refund_enabled, (_("已开启") if obj.express_refund_enabled else _("未开启"))

    @display(description=_("开店时间"), ordering="created_at")
    def created(self, obj):
        return local_time(obj.created_at, "Y-m-d")


class ProductAdmin(ProductImportExportAdmin):
    """The shop's catalogue (SPU). Owners and agents may add and edit; the shop is fixed once created."""

    workbench_can_add = True
    list_display = ("name", "spu_id", "shelf_badge", "flags", "shop", "created")
    list_select_related = ("merchant",)
    list_filter = ("on_shelf", "three_guarantee", "durable", "is_virtual")
    search_fields = ("spu_id", "name")
    search_help_text = _("商品ID 或商品名称")
    ordering = ("-created_at", "-pk")
    fields = ("merchant", ("spu_id", "name"), ("on_shelf", "three_guarantee", "durable", "is_virtual"))

    def get_readonly_fields(self, request, obj=None):
        return ("merchant", "spu_id") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "merchant" and is_workbench(self.admin_site) and not request.user.is_superuser:
            # A viewer in one shop and an agent in another adds products to the second only.
            writable = [pk for pk, role in roles_for(request.user).items() if role in WRITE_ROLES]
            field.queryset = field.queryset.filter(pk__in=writable)
            if len(writable) == 1:
                field.initial = writable[0]
        return field

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        # SPU ids exact; names by substring, within the user's shops (a catalogue, not a million orders).
        return queryset.filter(Q(spu_id=term) | Q(name__icontains=term)), False

    @display(description=_("在售"), label={True: "success", False: "default"})
    def shelf_badge(self, obj):
        return obj.on_shelf, (_("在售") if obj.on_shelf else _("已下架"))

    @display(description=_("售后属性"))
    def flags(self, obj):
        labels = []
        if obj.three_guarantee:
            labels.append(str(_("三包")))
        if obj.durable:
            labels.append(str(_("耐用品")))
        return "、".join(labels) or "-"

    @display(description=_("店铺"), ordering="merchant__code")
    def shop(self, obj):
        return obj.merchant.name

    @display(description=_("创建时间"), ordering="created_at")
    def created(self, obj):
        return local_time(obj.created_at, "Y-m-d")


class PackageAdmin(PackageImportExportAdmin):
    """Packages on /admin/: read-only but for the fake-shipping flag staff set (L-7)."""

    list_display = ("tracking_no", "carrier", "order_link", "shop", "shipped", "fake_badge")
    list_select_related = ("order", "merchant")
    list_filter = (("carrier", ChoicesDropdownFilter), "fake_shipping")
    list_filter_submit = True
    search_fields = ("tracking_no",)
    search_help_text = _("运单号或订单号（完整）")
    show_full_result_count = False
    ordering = ("-shipped_at", "-pk")
    fields = (
        "order",
        "merchant",
        ("carrier", "tracking_no"),
        ("shipped_at", "tracking_changed_at"),
        "fake_shipping",
    )
    readonly_fields = ("order", "merchant", "carrier", "tracking_no", "shipped_at", "tracking_changed_at")

    def has_add_permission(self, request, *args):
        return False  # packages are created by shipping an order (merchants.services.ship)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(tracking_no=term) | Q(order__order_no=term)), False

    @display(description=_("订单"), ordering="order__order_no")
    def order_link(self, obj):
        return obj.order.order_no

    @display(description=_("店铺"))
    def shop(self, obj):
        return obj.merchant.name

    @display(description=_("发货时间"), ordering="shipped_at")
    def shipped(self, obj):
        return local_time(obj.shipped_at)

    @display(description=_("虚假发货"))
    def fake_badge(self, obj):
        return badge(_("虚假发货"), "danger") if obj.fake_shipping else "-"


class PlatformSettingsAdmin(SingletonSettingsAdmin):
    """The one row of order-rule defaults (M-3, S-5): edited, never added or deleted."""

    fields = ("unpaid_cancel_hours", "auto_receive_days", "updated_at")
    readonly_fields = ("updated_at",)


__all__ = ["MembershipAdmin", "MerchantAdmin", "PackageAdmin", "PlatformSettingsAdmin", "ProductAdmin"]
