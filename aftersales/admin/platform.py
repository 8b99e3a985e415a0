"""Delay reports (A-9) on both sites, and the platform's own after-sales pages on /admin/.

/admin/: the delay-report queue (pending first) with approve / reject, refunds (read-only), the
after-sales settings singleton, and — unless the merchants admin registers them — violations and
notices (read-only). On /workbench/ a shop reads its own delay reports; it files them from the case page.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from aftersales import services
from aftersales.admin.cases import DELAY_VARIANTS
from aftersales.admin.display import badge, local_time, money, status_badge
from aftersales.forms import DelayDecisionForm
from aftersales.models import AftersalesSettings
from aftersales.transitions import DelayReportStatus, RefundStatus
from merchants.kernel.admin.base import MerchantScopedAdmin, is_workbench, message_errors
from merchants.kernel.scoping import is_platform

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


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DelayReportAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    """A-9: read-only rows; platform staff decide through the decide page (services.decide_delay_report)."""

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

    def may_decide(self, request) -> bool:
        return not is_workbench(self.admin_site) and is_platform(request.user)

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

    # -- the decision, /admin/ only

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="{}_{}_decide".format(*info),
            ),
        ] + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.may_decide(request) and obj.status == DelayReportStatus.PENDING:
            context["decide_url"] = reverse(
                f"{self.admin_site.name}:aftersales_delayreport_decide", args=[obj.pk]
            )
            context["decision_form"] = DelayDecisionForm(report=obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def decide_view(self, request, object_id):
        report = self.get_object(request, unquote(object_id))
        if report is None:
            raise Http404(_("对象不存在。"))
        if not self.may_decide(request):
            raise PermissionDenied
        change_url = reverse(f"{self.admin_site.name}:aftersales_delayreport_change", args=[report.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        form = DelayDecisionForm(request.POST, report=report)
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            messages.error(request, gettext("请选择通过或驳回。"))
            return HttpResponseRedirect(change_url)
        if form.is_valid():
            approve = decision == "approve"
            try:
                services.decide_delay_report(
                    report, actor=request.user, approve=approve, note=form.cleaned_data["note"]
                )
            except ValidationError as exc:
                message_errors(request, exc)
            else:
                text = (
                    gettext("已通过延迟报备（售后单 %(case_no)s），该售后单不计入考核。")
                    if approve
                    else gettext("已驳回延迟报备（售后单 %(case_no)s）。")
                )
                messages.success(request, text % {"case_no": report.case.case_no})
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:aftersales_delayreport_changelist")
                )
        else:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        return HttpResponseRedirect(change_url)


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


class AftersalesSettingsAdmin(ModelAdmin):
    """The A-2 / A-5 / A-11 defaults: one row, edited in place (no list, no add, no delete)."""

    fieldsets = (
        (
            _("处理时限（A-5）"),
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
        (_("申请期限（A-2）"), {"fields": (("window_days", "three_guarantee_days", "durable_days"),)}),
        (_("极速退款（A-11）"), {"fields": (("express_max_amount", "express_max_hours"),)}),
        (_("退款（A-6）"), {"fields": ("refund_max_attempts",)}),
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        settings_row = AftersalesSettings.load()
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:aftersales_aftersalessettings_change", args=[settings_row.pk])
        )


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


__all__ = [
    "AftersalesSettingsAdmin",
    "DelayReportAdmin",
    "NoticeAdmin",
    "RefundAdmin",
    "ViolationAdmin",
    "admin",
    "badge",
]
