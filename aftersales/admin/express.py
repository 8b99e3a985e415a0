"""The express-refund switch (极速退款, A-11) one click from the case list and the workbench home (issue 11 §9).

Owners flip it with one POST (services.set_express_refund, which checks the role again); everyone else of
the shop sees its state read-only, with why they cannot change it. The home page's card carries the
same POST form for owners (aftersales/dashboard.py), so the switch is one click from home too.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext

from aftersales import services
from aftersales.filters import request_limits
from merchants import selectors as merchant_selectors
from merchants.kernel.admin.base import message_errors
from merchants.kernel.scoping import role_for
from merchants.kernel.vocabulary import Role

URL_NAME = "aftersales_aftersalecase_express_refund"


def express_switches(user) -> list[dict]:
    """The switch of each of the user's shops: its state, whether this user may flip it, and why not."""
    switches = []
    for shop in merchant_selectors.member_shops(user).order_by("code"):
        role = Role.OWNER if user.is_superuser else role_for(user, shop.pk)
        may = role == Role.OWNER
        why = (
            ""
            if may
            else gettext("只有店主可以修改（您在本店的角色：%(role)s）。")
            % {"role": Role(role).label if role else gettext("非成员")}
        )
        switches.append({"shop": shop, "enabled": shop.express_refund_enabled, "may_toggle": may, "why": why})
    return switches


def express_conditions(request=None) -> str:
    limits = request_limits(request)
    return gettext(
        "开启后，未发货订单的仅退款申请（订单金额低于 ¥%(amount)s、下单 %(hours)d 小时内）由系统立即同意。"
    ) % {"amount": limits.express_max_amount, "hours": limits.express_max_hours}


class ExpressSwitchMixin:
    """The switch's URL on the workbench case admin, and its state in the case list's context."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.express_refund_view)
        return [path("express-refund/", view, name=URL_NAME), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "express_switches": express_switches(request.user),
            "express_url": reverse(f"{self.admin_site.name}:{URL_NAME}"),
            "express_conditions": express_conditions(request),
        }
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def express_refund_view(self, request):
        """GET: the switches of the user's shops (the home card's target); POST: flip one (owners)."""
        switches = express_switches(request.user)
        if not switches and not request.user.is_superuser:
            raise PermissionDenied
        if request.method == "POST":
            try:
                shop = services.set_express_refund(
                    int(request.POST.get("merchant") or 0),
                    actor=request.user,
                    enabled=request.POST.get("enabled") == "1",
                )
            except (ValidationError, ValueError) as exc:
                if isinstance(exc, ValidationError):
                    message_errors(request, exc)
                else:
                    messages.error(request, gettext("没有这个店铺。"))
            else:
                text = (
                    gettext("已开启「%(shop)s」的极速退款。")
                    if shop.express_refund_enabled
                    else gettext("已关闭「%(shop)s」的极速退款。")
                )
                messages.success(request, text % {"shop": shop.name})
            target = request.POST.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = reverse(f"{self.admin_site.name}:{URL_NAME}")
            return HttpResponseRedirect(target)
        request.current_app = self.admin_site.name
        title = gettext("极速退款")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "breadcrumb_tail": title,
            "express_switches": switches,
            "express_url": request.path,
            "express_conditions": express_conditions(request),
        }
        return TemplateResponse(request, "aftersales/express_refund.html", context)


__all__ = ["URL_NAME", "ExpressSwitchMixin", "express_conditions", "express_switches"]
