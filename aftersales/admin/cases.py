"""After-sales cases on both sites (A-4, A-7, A-10): the list merchants work from, and the case page.

Nothing here edits a case: the case page is read-only, and every move — approve, reject, propose,
confirm or refuse a return, reship, upload a voucher, report a delay, leave a message, arbitrate,
retry a refund — is a small form POSTing to `<id>/action/<name>/`. That view loads the case through
the scoped `get_object()` (another shop's id is a 404), checks the member's role (a viewer gets 403),
calls the service with `actor=request.user` and shows its refusal as a message (never a 500).
"""

from __future__ import annotations

from collections import OrderedDict

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, Case, IntegerField, Q, Value, When
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.formats import base_formats
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeNumericFilter
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import display

from aftersales import selectors, services
from aftersales.admin.actions import CaseAction, actions_for_site
from aftersales.admin.display import (
    ON_DEADLINE,
    STATUS_VARIANTS,
    WAITING_FOR,
    automation_tag,
    badge,
    countdown,
    local_time,
    money,
    status_badge,
)
from aftersales.admin.resources import CaseExportResource
from aftersales.filters import (
    BuyerFilter,
    CreatedRangeFilter,
    EscalatedFilter,
    OrderNoFilter,
    ProductFilter,
    QuickTabFilter,
    due_soon_hours,
    export_range,
    export_range_error,
    tab_counts,
    tabs_for,
)
from aftersales.models import AfterSaleCase, Refund
from aftersales.transitions import CaseStatus, CaseType, DelayReportStatus, Reason
from merchants.kernel.admin.base import is_workbench, member_may, message_errors
from merchants.kernel.admin.changelist import EmptyState, FastListMixin, QuickTabChangeList
from merchants.kernel.admin.display import actor_parts, choice_label, member_roles
from merchants.kernel.admin.importexport import MerchantScopedExportAdmin
from merchants.kernel.scoping import WRITE_ROLES, is_platform, merchant_ids_for, roles_for, sees_all
from merchants.models import ActorKind, Merchant
from merchants.transitions import Carrier, OrderStatus

# Prefix search (case no / order no) starts at this many characters; shorter terms match exactly only.
PREFIX_MIN = 4

PARTY_LABELS = OrderedDict(
    [
        (ActorKind.BUYER, _("买家提供的凭证")),
        (ActorKind.MERCHANT, _("商家提供的凭证")),
        (ActorKind.PLATFORM, _("平台上传的材料")),
        (ActorKind.SYSTEM, _("系统记录")),
    ]
)


def carrier_label(code: str) -> str:
    try:
        return str(Carrier(code).label)
    except ValueError:
        return code or "-"


# while the buyer sends the goods back (and until the shop has them), the case shows where to.
RETURN_ADDRESS_STATES = frozenset({CaseStatus.AWAITING_RETURN, CaseStatus.RETURN_IN_TRANSIT})
RETURN_TYPES = frozenset({CaseType.RETURN_REFUND, CaseType.EXCHANGE})


DELAY_VARIANTS = {
    DelayReportStatus.PENDING: "warning",
    DelayReportStatus.APPROVED: "success",
    DelayReportStatus.REJECTED: "danger",
}


PARTY_VARIANTS = {
    ActorKind.BUYER: "info",
    ActorKind.MERCHANT: "warning",
    ActorKind.PLATFORM: "primary",
    ActorKind.SYSTEM: "default",
}


class CaseAdmin(FastListMixin, MerchantScopedExportAdmin):
    """Shared by the workbench and /admin/: list, filters, tabs, search, export and the case page."""

    product_chars = 14  # product names are cut (full name on hover) so a row stays on one line
    resource_classes = [CaseExportResource]
    export_form_class = ExportForm
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
        ("type", ChoicesDropdownFilter),
        ("status", ChoicesDropdownFilter),
        ("created_at", CreatedRangeFilter),
        ("amount", RangeNumericFilter),
        ("reason", ChoicesDropdownFilter),
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
    change_form_before_template = "aftersales/case_before.html"
    change_form_after_template = "aftersales/case_after.html"

    fieldsets = (
        (
            _("商品信息"),
            {"fields": (("product_display", "sku_display"), ("quantity", "item_paid"), ("refundable",))},
        ),
        (
            _("售后信息"),
            {
                "fields": (
                    ("case_no", "state_display"),
                    ("type_display", "reason_display"),
                    ("amount_display", "postage_payer_display"),
                    ("created", "tags"),
                    ("description",),
                )
            },
        ),
        (
            _("购买信息"),
            {
                "fields": (
                    ("order_link", "order_paid"),
                    ("buyer", "buyer_phone"),
                    ("placed", "payment_method"),
                    ("shipping_state", "shop"),
                )
            },
        ),
    )
    readonly_fields = (
        "product_display",
        "sku_display",
        "quantity",
        "item_paid",
        "refundable",
        "case_no",
        "state_display",
        "type_display",
        "reason_display",
        "amount_display",
        "postage_payer_display",
        "created",
        "tags",
        "description",
        "order_link",
        "order_paid",
        "buyer",
        "buyer_phone",
        "placed",
        "payment_method",
        "shipping_state",
        "shop",
    )

    # -- who may do what

    def is_platform_site(self) -> bool:
        return not is_workbench(self.admin_site)

    def has_add_permission(self, request, *args):
        return False  # cases are opened by buyers (imports, services), never typed in

    def has_change_permission(self, request, obj=None):
        return False  # the page is read-only; changes are the actions

    def has_delete_permission(self, request, obj=None):
        return False

    def has_act_permission(self, request) -> bool:
        """Bulk actions: a member who may act in at least one shop (workbench), platform staff (/admin/)."""
        if is_workbench(self.admin_site):
            return member_may(request, None, WRITE_ROLES)
        return is_platform(request.user)

    def may_act(self, request, case: AfterSaleCase) -> bool:
        """The user's role lets them act on this case at all (403 otherwise); state and details are the service's."""
        if is_workbench(self.admin_site):
            return member_may(request, case, WRITE_ROLES)
        return is_platform(request.user)

    def case_actions(self, request, case: AfterSaleCase) -> list[CaseAction]:
        """The buttons to show: what selectors.available_actions allows, that this site offers."""
        if not self.may_act(request, case):
            return []
        offered = actions_for_site(self.is_platform_site())
        return [offered[name] for name in selectors.available_actions(case, request.user) if name in offered]

    # -- the list

    def scope_queryset(self, request, qs):
        # Per request constants the list columns read (a row method has no request): the due-soon window
        # and whether the user may act in the row's shop.
        write_shops = [pk for pk, role in roles_for(request.user).items() if role in WRITE_ROLES]
        may_act = (
            # Platform staff decide arbitrations; only a superuser answers for a shop (selectors.available_actions).
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

    def get_search_results(self, request, queryset, search_term):
        """Case no / order no exact or by prefix, buyer id or nickname exact, each through its index: never a
        LIKE '%x%' scan."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        condition = Q(case_no=term) | Q(order_no=term) | Q(buyer_id=term) | Q(buyer_name=term)
        if len(term) >= PREFIX_MIN:
            # The case carries its order number: a prefix match on its own indexed column, no join.
            condition |= Q(case_no__startswith=term) | Q(order_no__startswith=term)
        return queryset.filter(condition), False

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "case_tabs": self.quick_tabs(request),
            "case_filtered": self.is_filtered(request),
        }
        return super().changelist_view(request, extra_context)

    def get_changelist(self, request, **kwargs):
        return QuickTabChangeList

    @staticmethod
    def quick_tab_params(request) -> set[str]:
        """The quick tab's own parameter is not an extra filter (the 筛选 button stays plain)."""
        return {QuickTabFilter.parameter_name}

    def empty_state(self, request, cl) -> EmptyState:
        """What an empty case list says (read by templates/unfold/helpers/empty_results.html)."""
        current = request.GET.get(QuickTabFilter.parameter_name, "")
        tab = next((tab for tab in tabs_for(self.is_platform_site()) if tab.key == current), None)
        if cl.is_narrowed or (current and tab is None):
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

    def quick_tabs(self, request) -> list[dict]:
        """The A-10 quick tabs with their counts (one aggregate query over the user's open cases)."""
        platform = self.is_platform_site()
        hours = due_soon_hours(request)

        def count():
            return tab_counts(self.get_queryset(request), hours=hours, platform=platform)

        if platform and sees_all(request.user):
            # Across every shop the counts scan all open cases (~250 ms at 170k open): staff share one
            # result for a few seconds (settings.SHOUHOU_STAFF_COUNTS_CACHE_SECONDS). Shop members, whose
            # counts are cheap and must be exact after each action, are never cached.
            key = f"aftersales:staff-tab-counts:{hours}"
            counts = cache.get_or_set(key, count, settings.SHOUHOU_STAFF_COUNTS_CACHE_SECONDS)
        else:
            counts = count()
        current = request.GET.get("tab", "")
        filtered = self.is_filtered(request)
        tabs = [{"title": _("全部"), "link": "?", "count": None, "active": not current and not filtered}]
        for tab in tabs_for(platform):
            tabs.append(
                {
                    "title": tab.label,
                    "link": f"?tab={tab.key}",
                    "count": counts[tab.key],
                    "variant": tab.variant,
                    "active": current == tab.key and not filtered,
                    "key": tab.key,
                }
            )
        return tabs

    @display(description=_("店铺"))
    def shop(self, obj):
        # One line per row: a wrapped shop name made every staff row three or four lines tall.
        name = obj.merchant.name
        return format_html(
            '<span class="whitespace-nowrap" title="{}">{}</span>', name, Truncator(name).chars(8)
        )

    @display(description=_("售后单号 / 订单号"), ordering="created_at")
    def numbers(self, obj):
        return format_html(
            "<span class='font-medium'>{}</span><br><span class='text-base-500 text-xs'>{}</span>",
            obj.case_no,
            obj.order_no,
        )

    @display(description=_("售后状态"))
    def status_and_tags(self, obj):
        tags = self.tags(obj)
        state = status_badge(obj)
        return state if tags == "-" else format_html("{}<br>{}", state, tags)

    @display(description=_("商品"))
    def product_name(self, obj):
        name = obj.product.name
        return format_html(
            '<span class="whitespace-nowrap" title="{}">{}</span>',
            name,
            Truncator(name).chars(self.product_chars),
        )

    @display(description=_("类型 / 原因"))
    def type_and_reason(self, obj):
        return format_html(
            "{}<br><span class='text-base-500 text-xs'>{}</span>",
            choice_label(CaseType, obj.type),  # get_FOO_display() rebuilds the choices on every row
            choice_label(Reason, obj.reason),
        )

    @display(description=_("买家"))
    def buyer(self, obj):
        return format_html(
            "{}<br><span class='text-base-500 text-xs'>{}</span>", obj.buyer_name, obj.buyer_id
        )

    @display(description=_("售后类型"))
    def type_display(self, obj):
        return obj.get_type_display()

    @display(description=_("售后状态"), label=STATUS_VARIANTS)
    def status_badge(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("售后状态"))
    def state_display(self, obj):
        return status_badge(obj)

    @display(description=_("申请金额"))
    def amount_display(self, obj):
        return money(obj.amount)

    @display(description=_("售后原因"))
    def reason_display(self, obj):
        return obj.get_reason_display()

    @display(description=_("申请时间"), ordering="created_at")
    def created(self, obj):
        return local_time(obj.created_at)

    @display(description=_("处理倒计时 / 申请时间"), ordering="created_at")
    def timing(self, obj):
        return format_html(
            '<span class="whitespace-nowrap">{}</span><br><span class="text-base-500 text-xs whitespace-nowrap">{}</span>',
            self.countdown_display(obj),
            local_time(obj.created_at, "m-d H:i"),
        )

    @display(description=_("处理倒计时"))
    def countdown_display(self, obj):
        hours = getattr(obj, "ui_due_soon_hours", None) or due_soon_hours()
        shown = countdown(obj.deadline_at, due_soon_hours=hours)
        if not shown["text"]:
            return "-"
        if shown["variant"] == "danger":
            return badge(shown["text"], "danger")
        return shown["text"]

    @display(description=_("标签"))
    def tags(self, obj):
        parts = []
        tag = automation_tag(obj)
        if tag is not None:
            parts.append(format_html('<span title="{}">{}</span>', tag[1], badge(tag[0], "info")))
        if obj.negotiated:
            parts.append(badge(_("协商一致"), "default"))
        if obj.escalated:
            parts.append(badge(_("已升级"), "danger"))
        if obj.refund_failed:
            parts.append(badge(_("退款失败"), "danger"))
        if obj.excluded_from_assessment:
            parts.append(badge(_("不计考核"), "default"))
        return format_html(" ".join(["{}"] * len(parts)), *parts) if parts else "-"

    @display(description=_("操作"))
    def row_action(self, obj):
        url = reverse(f"{self.admin_site.name}:aftersales_aftersalecase_change", args=[obj.pk])
        if obj.status == CaseStatus.PENDING and getattr(obj, "ui_may_act", False):
            return format_html(
                '<a class="font-semibold text-primary-600 whitespace-nowrap" href="{}">{}</a>',
                url,
                gettext("处理退款"),
            )
        return format_html(
            '<a class="text-primary-600 whitespace-nowrap" href="{}">{}</a>', url, gettext("查看详情")
        )

    # -- export (A-10, B-6): the scoped, filtered list, at most 6 months of application dates

    def get_export_filename(self, request, queryset, file_format):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"aftersale-cases-{stamp}.{file_format.get_extension()}"

    def export_action(self, request):
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
        return context

    # -- the case page

    @display(description=_("商品"))
    def product_display(self, obj):
        return format_html(
            "{}<br><span class='text-base-500'>{}</span>", obj.product.name, obj.product.spu_id
        )

    @display(description=_("规格"))
    def sku_display(self, obj):
        sku = obj.item.sku
        return (sku.spec or sku.sku_code) if sku else "-"

    @display(description=_("商品实付"))
    def item_paid(self, obj):
        return money(obj.item.paid_amount)

    @display(description=_("可退金额"))
    def refundable(self, obj):
        return money(obj.item.refundable_amount())

    @display(description=_("退货运费承担方"))
    def postage_payer_display(self, obj):
        return obj.get_postage_payer_display() or "-"

    @display(description=_("订单号"))
    def order_link(self, obj):
        try:
            url = reverse(f"{self.admin_site.name}:merchants_order_change", args=[obj.order_id])
        except Exception:  # noqa: BLE001  (the order pages may not be registered on a site)
            return obj.order_no
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.order_no)

    @display(description=_("订单实付"))
    def order_paid(self, obj):
        return money(obj.order.paid_amount)

    @display(description=_("买家手机号"))
    def buyer_phone(self, obj):
        return obj.order.buyer_phone_masked or "-"  # N-7: never the raw number

    @display(description=_("下单时间"))
    def placed(self, obj):
        return local_time(obj.order.placed_at)

    @display(description=_("支付方式"))
    def payment_method(self, obj):
        return obj.order.get_payment_method_display()

    @display(description=_("发货状态"))
    def shipping_state(self, obj):
        order, item = obj.order, obj.item
        text = order.get_status_display()
        if item.package_id:
            package = item.package
            return format_html(
                "{}<br><span class='text-base-500'>{} {} · {}</span>",
                text,
                package.get_carrier_display(),
                package.tracking_no,
                local_time(package.shipped_at),
            )
        if order.status in (OrderStatus.TO_SHIP, OrderStatus.PARTIALLY_SHIPPED):
            return format_html("{}<br><span class='text-base-500'>{}</span>", text, gettext("该商品未发货"))
        return text

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.case_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def case_context(self, request, case: AfterSaleCase) -> dict:
        """What the case page shows around the read-only fields (A-4)."""
        hours = due_soon_hours(request)
        events = list(selectors.timeline(case))
        site = self.admin_site.name
        actions = [
            {
                "name": action.name,
                "label": action.label,
                "icon": action.icon,
                "variant": action.variant,
                "url": reverse(f"{site}:aftersales_aftersalecase_action", args=[case.pk, action.name]),
            }
            for action in self.case_actions(request, case)
        ]
        return {
            "case": case,
            "case_status": status_badge(case),
            "case_countdown": countdown(case.deadline_at, due_soon_hours=hours),
            "case_deadline": local_time(case.deadline_at) if case.deadline_at else "",
            "case_waiting_for": WAITING_FOR.get(case.status, ""),
            "case_on_deadline": ON_DEADLINE.get(case.status, ""),
            "case_actions": actions,
            "case_may_act": self.may_act(request, case),
            "case_timeline": self.timeline_rows(case, events),
            "case_evidence": self.evidence_by_party(events),
            "case_refund": Refund.objects.filter(case=case).first(),
            "case_delay_reports": self.delay_reports(case),
            "case_amount": money(case.amount),
            "case_return_carrier": carrier_label(case.return_carrier),
            "case_reship_carrier": carrier_label(case.reship_carrier),
            "case_is_platform_site": self.is_platform_site(),
            "case_proposed_type": CaseType(case.proposed_type).label if case.proposed_type else "",
            "case_return_address": self.return_address(request, case)
            if case.status in RETURN_ADDRESS_STATES
            else None,
        }

    def return_address(self, request, case: AfterSaleCase) -> dict:
        """A-3 "return address given to the buyer": the shop's return contact, phone and address.

        The case keeps no copy: what shows is the shop's current address, which is what the buyer is
        sent to. A missing part is named, with a link to the shop settings (the owner edits them).
        """
        shop = case.merchant
        missing = [
            str(Merchant._meta.get_field(name).verbose_name)
            for name in ("return_contact", "return_phone", "return_address")
            if not getattr(shop, name).strip()
        ]
        shop_admin = self.admin_site._registry.get(Merchant)
        try:
            settings_url = reverse(f"{self.admin_site.name}:merchants_merchant_change", args=[shop.pk])
        except NoReverseMatch:
            settings_url = ""
        return {
            "contact": shop.return_contact,
            "phone": shop.return_phone,  # the shop's own number: shown in full (only buyers' are masked)
            "address": shop.return_address,
            "missing": missing,
            "settings_url": settings_url,
            "may_edit": bool(shop_admin and shop_admin.has_change_permission(request, shop)),
        }

    @staticmethod
    def delay_reports(case) -> list:
        reports = list(case.delay_reports.select_related("filed_by", "decided_by").prefetch_related("images"))
        for report in reports:
            report.variant = DELAY_VARIANTS.get(report.status, "default")
        return reports

    @staticmethod
    def status_text(value: str) -> str:
        try:
            return str(CaseStatus(value).label)
        except ValueError:
            return value or ""

    def timeline_rows(self, case, events) -> list[dict]:
        """The timeline's rows; the shop roles of the merchant actors come from one query."""
        roles = member_roles(case.merchant_id, events)
        return [self.event_row(event, roles) for event in events]

    def event_row(self, event, roles: dict | None = None) -> dict:
        source, target = self.status_text(event.source_status), self.status_text(event.target_status)
        side, person, role = actor_parts(event, roles or {})
        return {
            "event": event,
            "when": local_time(event.created_at, "Y-m-d H:i:s"),
            "party": event.actor_kind,
            "party_label": side,
            "party_variant": PARTY_VARIANTS.get(event.actor_kind, "default"),
            "username": person,
            "role": role,
            "what": event.kind_label,
            "transition": f"{source} → {target}" if source and target and source != target else "",
            "amount": money(event.amount) if event.amount is not None else "",
            "attachments": list(event.attachments.all()),
        }

    @staticmethod
    def evidence_by_party(events) -> list[dict]:
        """A-7: every attachment of the timeline, grouped by who provided it."""
        groups: OrderedDict = OrderedDict((kind, []) for kind in PARTY_LABELS)
        for event in events:
            for attachment in event.attachments.all():
                groups.setdefault(event.actor_kind, []).append({"file": attachment.file, "event": event})
        return [
            {"party": kind, "label": PARTY_LABELS.get(kind, kind), "items": items}
            for kind, items in groups.items()
            if kind in (ActorKind.BUYER, ActorKind.MERCHANT) or items
        ]

    # -- the action pages

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/action/<slug:action>/",
                self.admin_site.admin_view(self.case_action_view),
                name="{}_{}_action".format(*info),
            ),
        ] + super().get_urls()

    def change_url(self, case) -> str:
        return reverse(f"{self.admin_site.name}:aftersales_aftersalecase_change", args=[case.pk])

    def case_action_view(self, request, object_id, action):
        """GET: the action's form; POST: the service call. 404 outside the user's shops, 403 for a viewer."""
        spec = actions_for_site(self.is_platform_site()).get(action)
        if spec is None:
            raise Http404(_("没有这个操作。"))
        case = self.get_object(request, unquote(object_id))
        if case is None:
            raise Http404(_("对象不存在。"))
        if not self.may_act(request, case):
            raise PermissionDenied
        change_url = self.change_url(case)
        if request.method == "POST":
            form = spec.form_class(request.POST, request.FILES, case=case)
            if form.is_valid():
                try:
                    getattr(services, spec.name)(case, actor=request.user, **form.service_kwargs())
                except ValidationError as exc:
                    message_errors(request, exc)
                    if not spec.takes_input:
                        return HttpResponseRedirect(change_url)
                else:
                    messages.success(request, spec.done % {"case_no": case.case_no})
                    return HttpResponseRedirect(change_url)
        else:
            if spec.name not in {a.name for a in self.case_actions(request, case)}:
                messages.warning(
                    request,
                    gettext("售后单当前状态「%(state)s」不能执行「%(action)s」。")
                    % {"state": case.get_status_display(), "action": spec.label},
                )
                return HttpResponseRedirect(change_url)
            form = spec.form_class(case=case)
        return self.render_action_page(request, case, spec, form)

    def render_action_page(self, request, case, spec: CaseAction, form):
        request.current_app = self.admin_site.name
        hours = due_soon_hours(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": case,
            "case": case,
            "title": f"{spec.label} · {case.case_no}",
            "breadcrumb_tail": spec.label,  # 售后单 › AS… › 同意 (templates/unfold/helpers/welcomemsg.html)
            "action": spec,
            "form": form,
            "change_url": self.change_url(case),
            "case_status": status_badge(case),
            "case_countdown": countdown(case.deadline_at, due_soon_hours=hours),
            "case_amount": money(case.amount),
            "case_return_carrier": carrier_label(case.return_carrier),
            "case_reship_carrier": carrier_label(case.reship_carrier),
            "case_refundable": money(case.item.refundable_amount()),
            "has_file_field": any(getattr(f.field.widget, "needs_multipart_form", False) for f in form),
        }
        if spec.name == "approve" and case.type in RETURN_TYPES:
            # Approving sends the buyer to the shop's return address: show it, or warn that it is missing.
            context["case_return_address"] = self.return_address(request, case)
            context["return_address_on_approve"] = True
        if spec.name == "arbitrate":
            events = list(selectors.timeline(case))
            context["case_evidence"] = self.evidence_by_party(events)
            context["case_timeline"] = self.timeline_rows(case, events)
        return TemplateResponse(request, "aftersales/case_action.html", context)


class WorkbenchCaseAdmin(CaseAdmin):
    """/workbench/: the shop's cases; owners and agents act, viewers read."""

    actions = ("bulk_approve_selected",)

    @admin.action(description=_("批量同意退款"), permissions=["act"])
    def bulk_approve_selected(self, request, queryset):
        """A-10: each case through its own transition; a per-case result; one failure undoes nothing else."""
        results = services.bulk_approve(queryset.order_by("pk"), actor=request.user)
        return render_bulk_result(self, request, results, title=gettext("批量同意退款结果"))


class PlatformCaseAdmin(CaseAdmin):
    """/admin/: every shop's cases, the arbitration queue and failed refunds."""

    actions = ("retry_refund_selected",)
    product_chars = 10  # the shop column takes the room: the row must fit 1440 px with 操作 visible

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), EscalatedFilter)

    def get_ordering(self, request):
        # the arbitration queue shows escalated cases first, then the oldest.
        if request.GET.get("tab") == "arbitration" and "o" not in request.GET:
            return ("-escalated", "arbitration_started_at", "pk")
        return super().get_ordering(request)

    @admin.action(description=_("重新退款"), permissions=["act"])
    def retry_refund_selected(self, request, queryset):
        """A-6: re-queue flagged refunds, each on its own; a refusal is shown per case."""
        results = []
        for case in queryset.order_by("pk"):
            try:
                services.retry_refund(case, actor=request.user)
            except ValidationError as exc:
                results.append({"case_no": case.case_no, "ok": False, "message": "；".join(exc.messages)})
            else:
                results.append({"case_no": case.case_no, "ok": True, "message": gettext("已重新发起退款")})
        return render_bulk_result(self, request, results, title=gettext("重新退款结果"))


def _result_row(result) -> dict:
    if isinstance(result, dict):
        return result
    return {
        "case_id": getattr(result, "case_id", None),
        "case_no": getattr(result, "case_no", ""),
        "ok": bool(getattr(result, "ok", False)),
        "message": getattr(result, "message", ""),
    }


def render_bulk_result(model_admin, request, results, *, title: str):
    rows = [_result_row(result) for result in results]
    succeeded = sum(1 for row in rows if row["ok"])
    failed = len(rows) - succeeded
    if succeeded:
        messages.success(request, gettext("成功 %(count)d 个售后单。") % {"count": succeeded})
    if failed:
        messages.error(request, gettext("%(count)d 个售后单未成功，原因见下表。") % {"count": failed})
    site = model_admin.admin_site.name
    for row in rows:
        if row.get("case_id"):
            row["url"] = reverse(f"{site}:aftersales_aftersalecase_change", args=[row["case_id"]])
    request.current_app = site
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "breadcrumb_tail": title,
        "rows": rows,
        "succeeded": succeeded,
        "failed": failed,
        "changelist_url": reverse(f"{site}:aftersales_aftersalecase_changelist")
        + (f"?{request.GET.urlencode()}" if request.GET else ""),
    }
    return TemplateResponse(request, "aftersales/bulk_result.html", context)
