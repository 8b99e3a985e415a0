"""The case list (A-10) on both sites: columns, search, quick tabs and their counts, the empty list, export (B-6)."""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.db.models import BooleanField, Case, IntegerField, Q, Value, When
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.formats import base_formats
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import display
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from aftersales.admin.cases.export import (
    CASE_EXPORT,
    COLUMNS,
    case_export_spec,
    presets,
    sync_max_rows,
)
from aftersales.admin.display import automation_tag, badge, local_time, money, status_badge
from aftersales.admin.resources import CaseExportResource
from aftersales.filters import (
    AmountRangeFilter,
    BuyerFilter,
    CreatedRangeFilter,
    OrderNoFilter,
    ProductFilter,
    QuickTabFilter,
    due_soon_hours,
    export_range,
    export_range_error,
    tab_counts,
    tab_q,
    tabs_for,
)
from aftersales.models import AfterSaleCase
from aftersales.transitions import CaseStatus, CaseType, Reason
from merchants.kernel.admin.changelist import EmptyState, pk_url
from merchants.kernel.admin.display import cell_html, choice_label, countdown_cell
from merchants.kernel.admin.filters import (
    CheckedChoicesDropdownFilter,
    DateRangeOnDateTimeFilter,
    search_term,
)
from merchants.kernel.admin.tabs import QuickTabsMixin
from merchants.kernel.centers import exports
from merchants.kernel.centers.services import query_filters, start_export
from merchants.kernel.files import content_disposition
from merchants.kernel.scoping import WRITE_ROLES, merchant_ids_for, roles_for

# Prefix search (case no / order no) starts at this many characters; shorter terms match exactly only.
PREFIX_MIN = 4


class CaseExportForm(ExportForm):
    """The export page's form, plus whether each case's timeline goes with it (B-6)."""

    timeline = forms.BooleanField(label=_("包含协商记录（每个售后单的完整时间线）"), required=False)
    columns = forms.MultipleChoiceField(
        label=_("导出的列"),
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=_("默认导出全部列；取消勾选的列不会出现在文件中。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].initial = "0"  # CSV preselected: an export is "导出", then "提交"
        choices = exports.column_choices(COLUMNS)  # in the reader's language
        self.fields["columns"].choices = choices
        self.fields["columns"].initial = [key for key, _label in choices]


class CaseListMixin(QuickTabsMixin):
    """What the case list shows and how it is narrowed; needs `is_platform_site()`."""

    # Product names are shown whole, wrapped in a column of fixed width (static/shouhou/lists.css); the
    # staff list, with its shop column, gives them a narrower one.
    product_class = "shouhou-product"
    resource_classes = [CaseExportResource]
    export_form_class = CaseExportForm
    export_formats = (base_formats.CSV, base_formats.XLSX)  # B-6
    export_template_name = "aftersales/case_export.html"
    to_encoding = "utf-8-sig"  # CSV with a BOM: Excel (the usual reader in China) then reads UTF-8 correctly

    list_display = (
        "numbers",
        "product_name",
        "buyer",
        "type_and_reason",
        "status_and_tags",
        "amount_display",
        "timing",
        "row_action",
    )
    list_display_links = ("numbers",)
    list_select_related = ("product",)
    list_fullwidth = True  # twelve columns: the container width would hide the countdown and the row action
    list_filter = (
        QuickTabFilter,
        ("type", CheckedChoicesDropdownFilter),
        ("status", CheckedChoicesDropdownFilter),
        ("created_at", CreatedRangeFilter),
        ("amount", AmountRangeFilter),
        ("reason", CheckedChoicesDropdownFilter),
        ("return_signed_at", DateRangeOnDateTimeFilter),  # L-5: the return parcel's signed-for day
        OrderNoFilter,
        BuyerFilter,
        ProductFilter,
    )
    list_filter_submit = True
    list_per_page = 25
    list_max_show_all = 200
    show_full_result_count = False  # no second COUNT over the whole table
    sortable_by = ("timing", "numbers")  # the order the (merchant, -created_at) index serves
    ordering = ("-created_at", "-pk")
    search_fields = ("case_no",)  # the real search is get_search_results below
    search_help_text = _("售后单号或订单号（完整，或前 4 位以上的开头部分）、买家ID 或买家昵称（完整）")
    list_before_template = "aftersales/case_list_tabs.html"
    quick_tabs_context = "case_tabs"

    def scope_queryset(self, request, qs):
        # Per request constants the list columns read (a row method has no request): the due-soon window
        # and whether the user may act in the row's shop (the 处理退款 link of a pending row).
        write_shops = [pk for pk, role in roles_for(request.user).items() if role in WRITE_ROLES]
        may_act = (
            # On /admin/ only a superuser answers for a shop (transitions.is_shop_writer).
            Value(request.user.is_superuser, output_field=BooleanField())
            if self.is_platform_site()
            else Case(
                When(merchant_id__in=write_shops, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        return qs.annotate(
            ui_due_soon_hours=Value(due_soon_hours(request), output_field=IntegerField()),
            ui_may_act=may_act,
        )

    def show_merchant_column(self, request) -> bool:
        return self.is_platform_site() or len(merchant_ids_for(request.user)) > 1

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self.show_merchant_column(request):
            columns.insert(1, "shop")
        return columns

    def get_list_select_related(self, request):
        related = list(super().get_list_select_related(request))
        if self.show_merchant_column(request):
            related.append("merchant")
        return related

    def get_search_results(self, request, queryset, term_given):
        """Case no / order no exact, or by prefix through unique indexes: never a LIKE '%x%' scan."""
        term = search_term(
            request, term_given, max_length=AfterSaleCase._meta.get_field("case_no").max_length
        )
        if term is None:  # N-9: said on the page; nothing can match it
            return queryset.none(), False
        if not term:
            return queryset, False
        condition = Q(case_no=term) | Q(order_no=term) | Q(buyer_id=term) | Q(buyer_name=term)
        if len(term) >= PREFIX_MIN:
            # The case carries its order number: a prefix match on its own indexed column, no join.
            condition |= Q(case_no__startswith=term) | Q(order_no__startswith=term)
        return queryset.filter(condition), False

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "case_filtered": self.is_filtered(request)}
        return super().changelist_view(request, extra_context)

    # -- quick tabs

    def get_quick_tabs(self, request):
        return tabs_for(self.is_platform_site())

    def quick_tab_q(self, request, key: str):
        return tab_q(key, now=timezone.now(), hours=due_soon_hours(request), platform=self.is_platform_site())

    def quick_tab_counts(self, request) -> dict[str, int]:
        """One aggregate query over the user's open cases."""
        platform = self.is_platform_site()
        hours = due_soon_hours(request)

        def count():
            return tab_counts(self.get_queryset(request), hours=hours, platform=platform)

        return self.shared_for_staff(request, f"aftersales:{hours}", count)  # ~250 ms at 170k open cases

    def quick_tabs(self, request) -> list[dict]:
        return self.quick_tab_links(request)

    def empty_state(self, request, cl) -> EmptyState:
        """What an empty case list says (read by templates/unfold/helpers/empty_results.html)."""
        tab = self.active_quick_tab(request)
        if cl.is_narrowed:
            return EmptyState(
                gettext("没有符合条件的售后单"),
                gettext("请检查售后单号、订单号或筛选条件，或清除筛选后查看全部售后单。"),
                "?",
                gettext("清除筛选和搜索"),
            )
        if tab is not None:
            return EmptyState(
                gettext("「%(tab)s」下暂时没有售后单") % {"tab": tab.label},
                gettext("这一类的售后单都处理完了。"),
                "?",
                gettext("查看全部售后单"),
            )
        return EmptyState(gettext("暂时没有售后单"), gettext("买家申请售后后，售后单会显示在这里。"))

    @staticmethod
    def is_filtered(request) -> bool:
        """Filters or a search beyond the quick tab (what the 清除筛选 link clears)."""
        return any(key not in ("o", "p", "tab", "all") for key in request.GET)

    # -- columns

    @display(description=_("店铺"))
    def shop(self, obj):
        # One line per row: a wrapped shop name made every staff row three or four lines tall.
        name = obj.merchant.name
        return cell_html(
            '<span class="whitespace-nowrap" title="{}">{}</span>', name, Truncator(name).chars(8)
        )

    @display(description=_("售后单号 / 订单号"), ordering="created_at")
    def numbers(self, obj):
        return cell_html(
            "<span class='font-medium'>{}</span><br><span class='text-base-500 text-xs'>{}</span>",
            obj.case_no,
            obj.order_no,
        )

    @display(description=_("售后状态"))
    def status_and_tags(self, obj):
        tags = self.tags(obj)
        state = status_badge(obj)
        return state if tags == "-" else cell_html("{}<br>{}", state, tags)

    @display(description=_("商品"))
    def product_name(self, obj):
        return cell_html('<span class="{}">{}</span>', self.product_class, obj.product.name)

    @display(description=_("类型 / 原因"))
    def type_and_reason(self, obj):
        return cell_html(
            "{}<br><span class='text-base-500 text-xs'>{}</span>",
            choice_label(CaseType, obj.type),  # get_FOO_display() rebuilds the choices on every row
            choice_label(Reason, obj.reason),
        )

    @display(description=_("买家"))
    def buyer(self, obj):
        return cell_html("{}<br><span class='text-base-500 text-xs'>{}</span>", obj.buyer_name, obj.buyer_id)

    @display(description=_("申请金额"))
    def amount_display(self, obj):
        return money(obj.amount)

    @display(description=_("处理倒计时 / 申请时间"), ordering="created_at")
    def timing(self, obj):
        return cell_html(
            '<span class="whitespace-nowrap">{}</span><br><span class="text-base-500 text-xs whitespace-nowrap">{}</span>',
            self.countdown_display(obj),
            local_time(obj.created_at, "Y-m-d H:i"),
        )

    @display(description=_("处理倒计时"))
    def countdown_display(self, obj):
        hours = getattr(obj, "ui_due_soon_hours", None) or due_soon_hours()
        return countdown_cell(obj.deadline_at, due_soon_hours=hours)

    @display(description=_("标签"))
    def tags(self, obj):
        parts = []
        tag = automation_tag(obj)
        if tag is not None:
            parts.append(cell_html('<span title="{}">{}</span>', tag[1], badge(tag[0], "info")))
        if obj.negotiated:
            parts.append(badge(_("协商一致"), "default"))
        if obj.escalated:
            parts.append(badge(_("已升级"), "danger"))
        if obj.refund_failed:
            parts.append(badge(_("退款失败"), "danger"))
        if obj.excluded_from_assessment:
            parts.append(badge(_("不计考核"), "default"))
        return cell_html(" ".join(["{}"] * len(parts)), *parts) if parts else "-"

    @display(description=_("操作"))
    def row_action(self, obj):
        url = pk_url(f"{self.admin_site.name}:aftersales_aftersalecase_change", obj.pk)
        if obj.status == CaseStatus.PENDING and getattr(obj, "ui_may_act", False):
            return cell_html(
                '<a class="font-semibold text-primary-600 whitespace-nowrap" href="{}">{}</a>',
                url,
                gettext("处理退款"),
            )
        return cell_html(
            '<a class="text-primary-600 whitespace-nowrap" href="{}">{}</a>', url, gettext("查看详情")
        )

    # -- export (A-10, B-6): the scoped, filtered list, at most 6 months of application dates

    def get_export_filename(self, request, queryset, file_format):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"aftersale-cases-{stamp}.{file_format.get_extension()}"

    def export_action(self, request):
        chosen = request.GET.get("created_at_from") or request.GET.get("created_at_to")
        if request.method == "GET" and not chosen:
            # No range chosen yet: the 近30天 preset, so an export is two clicks (export, then confirm).
            _label, start, end = presets()[1]
            query = request.GET.copy()
            query["created_at_from"], query["created_at_to"] = start.isoformat(), end.isoformat()
            messages.info(request, gettext("未选择申请时间范围：已填入近30天，可改选近7天或近6个月。"))
            export = reverse(f"{self.admin_site.name}:aftersales_aftersalecase_export")
            return HttpResponseRedirect(f"{export}?{query.urlencode()}")
        error = export_range_error(request.GET)
        if error:
            messages.error(request, error)
            changelist = reverse(f"{self.admin_site.name}:aftersales_aftersalecase_changelist")
            query = request.GET.urlencode()
            return HttpResponseRedirect(f"{changelist}?{query}" if query else changelist)
        return super().export_action(request)

    def init_request_context_data(self, request, form):
        context = super().init_request_context_data(request, form)
        start, end = export_range(request.GET)
        context["export_start"] = start.isoformat() if start else ""
        context["export_end"] = (end or timezone.localdate()).isoformat()
        export = reverse(f"{self.admin_site.name}:aftersales_aftersalecase_export")
        choices = []
        for label, first, last in presets():
            query = request.GET.copy()
            query["created_at_from"], query["created_at_to"] = first.isoformat(), last.isoformat()
            active = (start, end or timezone.localdate()) == (first, last)
            choices.append({"label": label, "url": f"{export}?{query.urlencode()}", "active": active})
        context["export_presets"] = choices
        context["export_sync_max_rows"] = sync_max_rows()
        # The columns are the form's checkboxes (aftersales/admin/cases/export.py), not the resource's
        # fields: no separate list of them.
        context["fields_list"] = []
        return context

    def _do_file_export(self, file_format, request, queryset, **kwargs):
        """Small exports are written at once; above the threshold a download-center job (B-6)."""
        form = kwargs.get("export_form")
        timeline = bool(form is not None and form.cleaned_data.get("timeline"))
        columns = list(form.cleaned_data.get("columns") or ()) if form is not None else []
        fmt = "xlsx" if file_format.get_extension() == "xlsx" else "csv"
        count = queryset.count()
        if count > sync_max_rows() and "export_items" not in request.POST:
            job = start_export(
                actor=request.user,
                site=self.admin_site.name,
                kind=CASE_EXPORT,
                label=gettext("售后单"),
                fmt=fmt,
                filters=query_filters(request.GET),
                options={"timeline": timeline, "columns": columns},
            )
            messages.info(
                request,
                gettext("共 %(count)d 个售后单，已转为后台导出：完成后在下载中心下载。") % {"count": count},
            )
            return HttpResponseRedirect(
                reverse(f"{self.admin_site.name}:merchants_exportjob_change", args=[job.pk])
            )
        spec = case_export_spec(queryset, timeline=timeline, count=count, columns=columns)
        name = self.get_export_filename(request, queryset, file_format)
        buffer = io.BytesIO()  # at most SHOUHOU_EXPORT_SYNC_MAX_ROWS rows
        exports.write(spec, buffer, fmt)
        response = HttpResponse(buffer.getvalue(), content_type=exports.CONTENT_TYPES[fmt])
        response["Content-Disposition"] = content_disposition("attachment", name)
        return response


__all__ = ["PREFIX_MIN", "CaseListMixin"]
