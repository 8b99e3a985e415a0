"""Delay reports (A-9) on both sites, and the platform's own after-sales pages on /admin/.

/admin/: the delay-report queue (pending first) with its decision (approve / reject, the kernel's action
kit), refunds (read-only) and the after-sales settings singleton. On /workbench/ a shop reads its own
delay reports; it files them from the case page.
"""

from __future__ import annotations

from django import forms
from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display
from unfold.widgets import UnfoldAdminRadioSelectWidget

from aftersales import services
from aftersales.admin.cases import DELAY_VARIANTS
from aftersales.admin.display import badge, local_time, money, status_badge
from aftersales.forms import DelayDecisionForm
from aftersales.transitions import DELAY_REPORT_MOVES, DelayReportStatus, RefundStatus
from merchants.kernel.admin.actions import ObjectAction, ObjectActionsMixin
from merchants.kernel.admin.base import MerchantScopedAdmin, is_workbench
from merchants.kernel.admin.readonly import ReadOnlyAdminMixin, SingletonSettingsAdmin

REFUND_VARIANTS = {
    RefundStatus.PENDING: "info",
    RefundStatus.SUCCEEDED: "success",
    RefundStatus.FAILED: "danger",
}

# A-9 queue: pending reports first, then the newest.
PENDING_FIRST = Case(
    When(status=DelayReportStatus.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()
)


def _case_link(site_name: str, case) -> str:
    url = reverse(f"{site_name}:aftersales_aftersalecase_change", args=[case.pk])
    return format_html('<a class="text-primary-600" href="{}">{}</a>', url, case.case_no)


class DecisionForm(DelayDecisionForm):
    """A-9: approve or reject, with a note (required to reject: the service says so)."""

    field_order = ["decision", "note"]

    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=(("approve", _("通过")), ("reject", _("驳回"))),
        widget=UnfoldAdminRadioSelectWidget,
        error_messages={"required": _("请选择通过或驳回。"), "invalid_choice": _("请选择通过或驳回。")},
    )

    def service_kwargs(self) -> dict:
        return {"approve": self.cleaned_data["decision"] == "approve", "note": self.cleaned_data["note"]}


def _decided(report, result, data) -> str:
    text = (
        gettext("已通过延迟报备（售后单 %(case_no)s），该售后单不计入考核。")
        if data["approve"]
        else gettext("已驳回延迟报备（售后单 %(case_no)s）。")
    )
    return text % {"case_no": report.case.case_no}


DECIDE = ObjectAction(
    "decide",
    _("审核延迟报备"),
    services.decide_delay_report,
    DecisionForm,
    _decided,
    icon="fact_check",
    variant="primary",
    intro=_("通过后，该售后单不计入商家的考核数据（处理时长、超时、违规）。"),
    submit=_("提交审核"),
    platform_only=True,
    then="changelist",
)


class DelayReportAdmin(ObjectActionsMixin, ReadOnlyAdminMixin, MerchantScopedAdmin):
    """A-9: read-only rows; platform staff decide through the decide page (services.decide_delay_report)."""

    object_actions = (DECIDE,)
    moves = DELAY_REPORT_MOVES

    list_display = ("reason_short", "case_link", "status_badge", "delay_until_display", "filed", "decision")
    list_display_links = ("reason_short",)  # the case column links to the case itself
    list_select_related = ("case", "filed_by", "decided_by")
    list_filter = (("status", ChoicesDropdownFilter),)
    list_filter_submit = True
    ordering = (PENDING_FIRST.asc(), "-created_at", "-pk")
    list_per_page = 50
    show_full_result_count = False
    search_fields = ("case__case_no",)
    search_help_text = _("售后单号（完整）")
    change_form_after_template = "aftersales/delay_report_after.html"
    fields = (
        "case_link",
        "case_state",
        "case_summary",
        "state_display",
        "reason",
        "delay_until_display",
        "images_display",
        "filed",
        "decision_detail",
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(case__case_no=term), False

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if not is_workbench(self.admin_site):
            columns.insert(2, "shop")
        return columns

    def get_list_select_related(self, request):
        related = list(super().get_list_select_related(request))
        if not is_workbench(self.admin_site):
            related.append("merchant")
        return related

    @display(description=_("售后单"))
    def case_link(self, obj):
        return _case_link(self.admin_site.name, obj.case)

    @display(description=_("售后状态"))
    def case_state(self, obj):
        return status_badge(obj.case)

    @display(description=_("售后内容"))
    def case_summary(self, obj):
        case = obj.case
        return format_html(
            "{} · {} · {}<br><span class='text-base-500'>{} · {}</span>",
            case.get_type_display(),
            case.get_reason_display(),
            money(case.amount),
            obj.merchant.name,
            case.product.name,
        )

    @display(description=_("审核状态"))
    def state_display(self, obj):
        return badge(obj.get_status_display(), DELAY_VARIANTS.get(obj.status, "default"))

    @display(description=_("店铺"))
    def shop(self, obj):
        return obj.merchant.name

    @display(description=_("审核状态"), label=DELAY_VARIANTS)
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("报备原因"))
    def reason_short(self, obj):
        return Truncator(obj.reason).chars(40)

    @display(description=_("预计处理时间"))
    def delay_until_display(self, obj):
        return local_time(obj.delay_until)

    @display(description=_("报备"))
    def filed(self, obj):
        who = obj.filed_by.get_username() if obj.filed_by else "-"
        return format_html(
            "{}<br><span class='text-base-500 text-xs'>{}</span>", local_time(obj.created_at), who
        )

    @display(description=_("审核"))
    def decision(self, obj):
        if obj.status == DelayReportStatus.PENDING:
            if is_workbench(self.admin_site):
                return gettext("等待平台审核")
            url = reverse(f"{self.admin_site.name}:aftersales_delayreport_change", args=[obj.pk])
            return format_html(
                '<a class="font-semibold text-primary-600" href="{}">{}</a>', url, gettext("去审核")
            )
        who = obj.decided_by.get_username() if obj.decided_by else "-"
        return format_html(
            "{} · {}<br><span class='text-base-500 text-xs'>{}</span>",
            local_time(obj.decided_at),
            who,
            obj.decision_note or "",
        )

    @display(description=_("审核"))
    def decision_detail(self, obj):
        if obj.status == DelayReportStatus.PENDING:
            return gettext("等待平台审核")
        return self.decision(obj)

    @display(description=_("证明图片"))
    def images_display(self, obj):
        images = list(obj.images.all())
        if not images:
            return "-"
        return format_html_join(
            " ",
            '<a href="{}" target="_blank" rel="noopener" title="{}"><img src="{}" alt="" class="inline-block h-16 w-16 object-cover rounded-default border border-base-200"></a>',
            ((image.url, image.display_name, image.url) for image in images),
        )

    # -- the decision, /admin/ only: the kit's page at <id>/decide/, also posted from the report's page

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.action_visible(request, obj, DECIDE.name):
            context["decide_url"] = self.action_url(DECIDE.name, obj)
            context["decision_form"] = DecisionForm(report=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def action_form_kwargs(self, request, obj, action) -> dict:
        return {"report": obj}

    def action_message_params(self, obj) -> dict:
        return {"obj": str(obj), "case_no": obj.case.case_no}

    def action_summary(self, request, report) -> list[tuple]:
        return [
            (_("售后单"), report.case.case_no),
            (_("售后状态"), status_badge(report.case)),
            (_("店铺"), report.merchant.name),
            (_("预计处理时间"), local_time(report.delay_until)),
            (_("报备原因"), Truncator(report.reason).chars(60)),
        ]


class RefundAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """A-6: every refund and its gateway attempts, read-only (a failed one is retried from its case)."""

    list_display = (
        "case_link",
        "shop",
        "amount_display",
        "status_badge",
        "attempts",
        "gateway_reference",
        "error",
        "updated_at",
    )
    list_select_related = ("case", "case__merchant")
    list_filter = (("status", ChoicesDropdownFilter),)
    list_filter_submit = True
    ordering = ("-created_at", "-pk")
    show_full_result_count = False
    search_fields = ("idempotency_key",)
    search_help_text = _("幂等键或售后单号（完整）")
    fields = (
        "case_link",
        "shop",
        "amount_display",
        "status_badge",
        "attempts",
        "idempotency_key",
        "gateway_reference",
        "last_error",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        return queryset.filter(idempotency_key=term) | queryset.filter(case__case_no=term), False

    @display(description=_("售后单"))
    def case_link(self, obj):
        return _case_link(self.admin_site.name, obj.case)

    @display(description=_("店铺"))
    def shop(self, obj):
        return obj.case.merchant.name

    @display(description=_("金额"))
    def amount_display(self, obj):
        return money(obj.amount)

    @display(description=_("状态"), label=REFUND_VARIANTS)
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("最近错误"))
    def error(self, obj):
        return Truncator(obj.last_error).chars(40) or "-"


class AftersalesSettingsAdmin(SingletonSettingsAdmin):
    """The A-2 / A-5 / A-11 defaults: one row, edited in place (no list, no add, no delete)."""

    fieldsets = (
        (
            _("处理时限"),
            {
                "fields": (
                    ("merchant_response_hours", "negotiation_hours"),
                    ("buyer_return_days", "merchant_receipt_days"),
                    ("voucher_hours", "rejected_idle_days"),
                    ("exchange_delivery_days", "arbitration_hours"),
                    "due_soon_hours",
                )
            },
        ),
        (_("申请期限"), {"fields": (("window_days", "three_guarantee_days", "durable_days"),)}),
        (_("极速退款"), {"fields": (("express_max_amount", "express_max_hours"),)}),
        (_("退款"), {"fields": ("refund_max_attempts",)}),
    )


__all__ = ["AftersalesSettingsAdmin", "DelayReportAdmin", "RefundAdmin", "badge"]
