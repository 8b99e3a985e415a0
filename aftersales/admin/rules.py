"""Automation settings of the workbench (A-11, A-12): the shop owner's custom auto-refund rules.

Only owners add, change or delete rules (agents and viewers read them); every rule belongs to a shop the
owner owns. The express-refund switch (A-11) lives on the shop's settings page (merchants admin).
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from aftersales.admin.display import money
from aftersales.forms import AutoRefundRuleForm
from aftersales.models import AftersalesSettings
from aftersales.transitions import CaseType, Reason, ShippingStage
from merchants import selectors as merchant_selectors
from merchants.kernel.admin.base import MerchantScopedAdmin, is_workbench, member_may
from merchants.kernel.scoping import is_platform, merchant_ids_for
from merchants.kernel.vocabulary import Role

OWNER_ONLY = frozenset({Role.OWNER})


def _labels(values, choices) -> str:
    names = dict(choices)
    return "、".join(str(names.get(value, value)) for value in values or ())


class AutoRefundRuleAdmin(MerchantScopedAdmin):
    form = AutoRefundRuleForm
    list_display = ("name", "enabled", "priority", "conditions", "amount_limit", "created_at")
    list_display_links = ("name",)
    list_select_related = ("merchant",)
    ordering = ("merchant", "priority", "pk")
    list_per_page = 50
    change_form_before_template = "aftersales/rule_help.html"
    fieldsets = (
        (None, {"fields": ("merchant", "name", ("enabled", "priority"))}),
        (_("匹配条件（都满足时自动同意）"), {"fields": ("case_types", "shipping_stages", "reasons")}),
        (_("金额与时限"), {"fields": ("max_amount", ("max_hours_since_order", "max_hours_since_delivery"))}),
    )

    # -- owners only change rules; on /admin/ Django's model permissions apply

    def _owner(self, request, obj=None) -> bool:
        return member_may(request, obj, OWNER_ONLY)

    def has_add_permission(self, request, *args):
        if is_workbench(self.admin_site):
            return self._owner(request)
        return super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        if is_workbench(self.admin_site):
            return self._owner(request, obj)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if is_workbench(self.admin_site):
            return self._owner(request, obj)
        return super().has_delete_permission(request, obj)

    def owned_shops(self, request):
        return merchant_selectors.owned_shops(request.user).order_by("code")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "merchant" and field is not None:
            # Only shops the user owns: an agent elsewhere cannot slip a rule into that shop.
            field.queryset = self.owned_shops(request)
        return field

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        shops = list(self.owned_shops(request)[:2])
        if len(shops) == 1:
            initial.setdefault("merchant", shops[0].pk)
        return initial

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if not is_workbench(self.admin_site) or len(merchant_ids_for(request.user)) > 1:
            columns.insert(1, "shop")
        return columns

    def render_change_form(self, request, context, *args, **kwargs):
        limits = AftersalesSettings.load()
        context.update(
            {
                "shop_settings_links": self.shop_settings_links(request),
                "express_max_amount": limits.express_max_amount,
                "express_max_hours": limits.express_max_hours,
            }
        )
        return super().render_change_form(request, context, *args, **kwargs)

    def shop_settings_links(self, request) -> list[dict]:
        """Where the express-refund switch (A-11) is: each of the user's shops' settings page."""
        if not is_workbench(self.admin_site) and not is_platform(request.user):
            return []
        shops = merchant_selectors.member_shops(request.user) if is_workbench(self.admin_site) else []
        links = []
        for shop in shops:
            try:
                url = reverse(f"{self.admin_site.name}:merchants_merchant_change", args=[shop.pk])
            except NoReverseMatch:
                continue
            links.append({"shop": shop, "url": url, "express": shop.express_refund_enabled})
        return links

    @display(description=_("店铺"))
    def shop(self, obj):
        return obj.merchant.name

    @display(description=_("条件"))
    def conditions(self, obj):
        parts = []
        if obj.case_types:
            parts.append(gettext("类型：%(v)s") % {"v": _labels(obj.case_types, CaseType.choices)})
        if obj.shipping_stages:
            parts.append(
                gettext("发货状态：%(v)s") % {"v": _labels(obj.shipping_stages, ShippingStage.choices)}
            )
        if obj.reasons:
            parts.append(gettext("原因：%(v)s") % {"v": _labels(obj.reasons, Reason.choices)})
        if obj.max_hours_since_order:
            parts.append(gettext("下单 %(h)d 小时内") % {"h": obj.max_hours_since_order})
        if obj.max_hours_since_delivery:
            parts.append(gettext("签收 %(h)d 小时内") % {"h": obj.max_hours_since_delivery})
        if not parts:
            return "-"
        return format_html("<br>".join(["{}"] * len(parts)), *parts)

    @display(description=_("金额上限"))
    def amount_limit(self, obj):
        return money(obj.max_amount) if obj.max_amount is not None else "-"
