"""Service tickets on both sites (T-1..T-7): the list with its stage tabs, the ticket page and its actions.

Nothing here edits a ticket: the page is read-only, and every move is a small form POSTing to
`<id>/action/<name>/`, the kernel's action-page kit (as aftersales). It loads the ticket through the scoped
`get_object()` (another shop's id is a 404), checks the role (a viewer gets 403), calls the service with
`actor=request.user` and shows its refusal as a message, never a 500. Staff raise tickets from the
"add" page, which is a form calling tickets.services.open_ticket.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import IntegerField, Q, Value
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from merchants.kernel.admin.actions import ObjectAction, ObjectActionsMixin
from merchants.kernel.admin.base import MerchantScopedAdmin, is_workbench, member_may, message_errors
from merchants.kernel.admin.changelist import EmptyState, FastListMixin
from merchants.kernel.admin.display import (
    actor_parts,
    choice_label,
    local_time,
    member_roles,
    shown_countdown,
    stacked_cell,
)
from merchants.kernel.admin.filters import DateRangeOnDateTimeFilter
from merchants.kernel.admin.tabs import HiddenFilterMixin, QuickTab, QuickTabsMixin
from merchants.kernel.models import ActorKind
from merchants.kernel.scoping import WRITE_ROLES, is_platform, merchant_ids_for, sees_all
from merchants.models import Order
from tickets import replies, selectors, services
from tickets.admin.actions import ACTIONS, URGE, URGE_OPTIONS, actions_for_site
from tickets.admin.display import (
    ON_DEADLINE,
    WAITING_FOR,
    file_url,
    status_badge,
    tag_badges,
    ticket_countdown,
)
from tickets.forms import RaiseTicketForm
from tickets.models import Ticket, TicketSettings
from tickets.transitions import TicketCategory, TicketStatus

PREFIX_MIN = 4  # prefix search (ticket no / order no) from this many characters

TABS = (
    ("pending", _("待处理"), "warning"),
    ("in_review", _("审核中"), "info"),
    ("closed", _("已关闭"), "default"),
    ("overdue", _("已超时"), "danger"),
    ("review_late", _("审核超时"), "danger"),
)

PARTY_VARIANTS = {
    ActorKind.BUYER: "info",
    ActorKind.MERCHANT: "warning",
    ActorKind.PLATFORM: "primary",
    ActorKind.SYSTEM: "default",
}


def tab_keys(platform: bool) -> tuple[str, ...]:
    return selectors.STAFF_TABS if platform else selectors.STAGE_TABS


class TicketTabFilter(HiddenFilterMixin, admin.SimpleListFilter):
    """The stage tabs (T-4) as a filter, so the counts and the list agree on what a tab holds."""

    title = _("阶段")
    parameter_name = "tab"

    def __init__(self, request, params, model, model_admin):
        self.platform = model_admin.is_platform_site()
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        keys = tab_keys(self.platform)
        return [(key, label) for key, label, _variant in TABS if key in keys]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        q = selectors.tab_q(self.value()) if self.value() in tab_keys(self.platform) else None
        return queryset.filter(q) if q is not None else queryset.none()


class CreatedRangeFilter(DateRangeOnDateTimeFilter):
    """发起时间: whole local days, as an index range."""


class TicketAdmin(ObjectActionsMixin, QuickTabsMixin, FastListMixin, MerchantScopedAdmin):
    """Shared by the workbench and /admin/: list, stage tabs, search, the ticket page and its actions."""

    quick_tabs_context = "ticket_tabs"
    quick_tabs_filtered_context = "ticket_filtered"

    list_display = ("numbers", "category_display", "demand_short", "status_and_tags", "timing", "row_action")
    list_display_links = ("numbers",)
    list_filter = (
        TicketTabFilter,
        ("category", ChoicesDropdownFilter),
        ("status", ChoicesDropdownFilter),
        ("created_at", CreatedRangeFilter),
    )
    list_filter_submit = True
    list_per_page = 25
    list_max_show_all = 200
    show_full_result_count = False
    sortable_by = ("numbers",)
    ordering = ("-created_at", "-pk")
    search_fields = ("ticket_no",)  # the real search is get_search_results below
    search_help_text = _("服务单号或订单号（完整，或前 4 位以上的开头部分）")
    list_before_template = "tickets/ticket_list_tabs.html"
    change_form_before_template = "tickets/ticket_before.html"
    change_form_after_template = "tickets/ticket_after.html"
    fieldsets = (
        (
            _("服务单信息"),
            {
                "fields": (
                    ("ticket_no", "state_display"),
                    ("category_display", "shop"),
                    ("order_link", "created"),
                    ("due_display", "review_due_display"),
                )
            },
        ),
    )
    readonly_fields = (
        "ticket_no",
        "state_display",
        "category_display",
        "shop",
        "order_link",
        "created",
        "due_display",
        "review_due_display",
    )

    # -- who may do what

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the page is read-only; changes are the actions

    def has_delete_permission(self, request, obj=None):
        return False

    def may_act(self, request, ticket: Ticket) -> bool:
        """The user's role lets them act on this ticket at all (403 otherwise); the state is the service's."""
        if is_workbench(self.admin_site):
            return member_may(request, ticket, WRITE_ROLES)
        return is_platform(request.user)

    # -- the action pages: the kernel's kit (<id>/action/<name>/); which moves a ticket offers now is
    # selectors.available_actions, the guided urge page is urge_view

    object_actions = (*ACTIONS.values(), URGE)
    action_url_name = "action"
    action_number_field = "ticket_no"
    action_form_object = "ticket"
    action_template = "tickets/ticket_action.html"

    def offered_actions(self) -> dict[str, ObjectAction]:
        return actions_for_site(self.is_platform_site())

    def visible_actions(self, request, obj) -> list[ObjectAction]:
        if not self.may_act(request, obj):
            return []
        offered = self.offered_actions()
        names = selectors.available_actions(obj, request.user, platform_site=self.is_platform_site())
        if "urge" in names and not services.situation(obj).paths:
            names = [name for name in names if name != "urge"]  # shipped already: a plain answer
        return [offered[name] for name in names if name in offered]

    def action_permitted(self, request, obj, action: ObjectAction) -> bool:
        return self.may_act(request, obj)

    def action_possible(self, request, obj, action: ObjectAction) -> bool:
        return self.action_visible(request, obj, action.name)

    # -- the list

    def scope_queryset(self, request, qs):
        # A per-request constant the countdown column reads (a row method has no request).
        return qs.annotate(ui_due_soon_hours=Value(self.due_soon(request), output_field=IntegerField()))

    def show_merchant_column(self, request) -> bool:
        return self.is_platform_site() or len(merchant_ids_for(request.user)) > 1

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if self.show_merchant_column(request):
            columns.insert(1, "shop")
        return columns

    def get_list_select_related(self, request):
        return ("merchant",) if self.show_merchant_column(request) else ()

    def get_ordering(self, request):
        # The review queue: the oldest submission first, so the platform's own clock is kept.
        if (
            self.is_platform_site()
            and request.GET.get("tab") in ("in_review", "review_late")
            and "o" not in request.GET
        ):
            return ("review_due_at", "pk")
        return super().get_ordering(request)

    def get_search_results(self, request, queryset, search_term):
        """Ticket no / order no exact, or by prefix through their indexes: never a LIKE '%x%' scan."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        condition = Q(ticket_no=term) | Q(order_no=term)
        if len(term) >= PREFIX_MIN:
            condition |= Q(ticket_no__startswith=term) | Q(order_no__startswith=term)
        return queryset.filter(condition), False

    def empty_state(self, request, cl) -> EmptyState:
        current = request.GET.get("tab", "")
        label = next((label for key, label, _v in TABS if key == current), None)
        if cl.is_narrowed or (current and label is None):
            return EmptyState(
                gettext("没有符合条件的服务单"),
                gettext("请检查服务单号、订单号或筛选条件，或清除筛选后查看全部服务单。"),
                "?",
                gettext("清除筛选和搜索"),
            )
        if label is not None:
            return EmptyState(
                gettext("「%(tab)s」下暂时没有服务单") % {"tab": label}, "", "?", gettext("查看全部服务单")
            )
        return EmptyState(
            gettext("暂时没有服务单"), gettext("平台客服根据买家反馈发起的服务单会显示在这里。")
        )

    def tab_counts(self, request) -> dict[str, int]:
        keys = tab_keys(self.is_platform_site())

        def count():
            return selectors.tab_counts(self.get_queryset(request), keys=keys)

        if self.is_platform_site() and sees_all(request.user):
            # Across every shop: staff share one result for a few seconds, as for the case tabs.
            return cache.get_or_set(
                "tickets:staff-tab-counts", count, settings.SHOUHOU_STAFF_COUNTS_CACHE_SECONDS
            )
        return count()

    # -- the stage tabs (merchants.kernel.admin.tabs)

    def get_quick_tabs(self, request) -> list[QuickTab]:
        keys = tab_keys(self.is_platform_site())
        return [QuickTab(key, label, variant) for key, label, variant in TABS if key in keys]

    def quick_tab_counts(self, request) -> dict[str, int]:
        return self.tab_counts(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "ticket_raise_url": self.raise_url() if self.has_raise_permission(request) else "",
        }
        return super().changelist_view(request, extra_context)

    # -- columns

    def due_soon(self, request=None) -> int:
        cached = getattr(request, "_tickets_due_soon_hours", None)
        if cached is None:
            cached = selectors.due_soon_hours()
            if request is not None:
                request._tickets_due_soon_hours = cached
        return cached

    @display(description=_("店铺"))
    def shop(self, obj):
        name = obj.merchant.name
        return format_html(
            '<span class="whitespace-nowrap" title="{}">{}</span>', name, Truncator(name).chars(8)
        )

    @display(description=_("服务单号 / 订单号"), ordering="created_at")
    def numbers(self, obj):
        return format_html(
            "<span class='font-medium'>{}</span><br><span class='text-base-500 text-xs'>{}</span>",
            obj.ticket_no,
            obj.order_no or "-",
        )

    @display(description=_("类型"))
    def category_display(self, obj):
        return choice_label(TicketCategory, obj.category)

    @display(description=_("买家诉求"))
    def demand_short(self, obj):
        demand = obj.demand
        short = demand if len(demand) <= 24 else demand[:23] + "…"  # Truncator costs ~0.5 ms a row
        return format_html('<span title="{}">{}</span>', demand, short)

    @display(description=_("状态"))
    def status_and_tags(self, obj):
        parts = [status_badge(obj), *tag_badges(obj, platform=self.is_platform_site())]
        return format_html(" ".join(["{}"] * len(parts)), *parts)

    @display(description=_("状态"))
    def state_display(self, obj):
        return self.status_and_tags(obj)

    @display(description=_("处理倒计时 / 发起时间"), ordering="created_at")
    def timing(self, obj):
        hours = getattr(obj, "ui_due_soon_hours", None) or self.due_soon()
        created = local_time(obj.created_at, "Y-m-d H:i")
        if obj.status == TicketStatus.IN_REVIEW and not self.is_platform_site():
            # The platform's clock, not the shop's: a red "已超时" here read as the shop's fault.
            return stacked_cell(WAITING_FOR[TicketStatus.IN_REVIEW], created)
        shown = ticket_countdown(obj, due_soon_hours=hours)
        return stacked_cell(shown_countdown(shown), created)

    @display(description=_("操作"))
    def row_action(self, obj):
        url = f"{obj.pk}/change/"  # relative to the list: reverse() per row costs ~0.5 ms
        urgent = (obj.status == TicketStatus.PENDING and not self.is_platform_site()) or (
            obj.status == TicketStatus.IN_REVIEW and self.is_platform_site()
        )
        label = (
            (gettext("去审核") if self.is_platform_site() else gettext("去处理"))
            if urgent
            else gettext("查看详情")
        )
        weight = "font-semibold " if urgent else ""
        return format_html(
            '<a class="{}text-primary-600 whitespace-nowrap" href="{}">{}</a>', weight, url, label
        )

    @display(description=_("订单号"))
    def order_link(self, obj):
        if not obj.order_id:
            return "-"
        try:
            url = reverse(f"{self.admin_site.name}:merchants_order_change", args=[obj.order_id])
        except NoReverseMatch:
            return obj.order_no
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.order_no)

    @display(description=_("发起时间"))
    def created(self, obj):
        return local_time(obj.created_at)

    @display(description=_("商家处理截止"))
    def due_display(self, obj):
        return local_time(obj.due_at) if obj.due_at else "-"

    @display(description=_("平台审核截止"))
    def review_due_display(self, obj):
        return local_time(obj.review_due_at) if obj.review_due_at else "-"

    # -- the ticket page

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.ticket_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def ticket_context(self, request, ticket: Ticket) -> dict:
        """What the ticket page shows around the read-only fields (T-4)."""
        events = list(selectors.timeline(ticket))
        clock = ticket.due_at if ticket.status == TicketStatus.PENDING else ticket.review_due_at
        return {
            "ticket": ticket,
            "ticket_status": self.status_and_tags(ticket),
            "ticket_countdown": ticket_countdown(ticket, due_soon_hours=self.due_soon(request)),
            "ticket_deadline": local_time(clock) if clock else "",
            "ticket_waiting_for": WAITING_FOR.get(ticket.status, ""),
            "ticket_on_deadline": ON_DEADLINE.get(ticket.status, ""),
            "ticket_actions": self.action_buttons(request, ticket),
            "ticket_may_act": self.may_act(request, ticket),
            "ticket_is_platform_site": self.is_platform_site(),
            "ticket_log": self.log_rows(ticket, events),
            "ticket_order_url": self.order_link(ticket),
        }

    def log_rows(self, ticket, events) -> list[dict]:
        """The log's rows (T-4): who, what, the state move, the words and the attachments."""
        roles = member_roles(ticket.merchant_id, events)
        rows = []
        for event in events:
            side, person, role = actor_parts(event, roles)
            source, target = event.source_status, event.target_status
            rows.append(
                {
                    "event": event,
                    "when": local_time(event.created_at, "Y-m-d H:i"),
                    "party_label": side,
                    "party_variant": PARTY_VARIANTS.get(event.actor_kind, "default"),
                    "username": person,
                    "role": role,
                    "what": event.kind_label,
                    "transition": (
                        f"{choice_label(TicketStatus, source)} → {choice_label(TicketStatus, target)}"
                        if source and target and source != target
                        else ""
                    ),
                    "attachments": [{"url": file_url(a), "name": str(a)} for a in event.attachments.all()],
                }
            )
        return rows

    # -- the action pages (the kit's hooks)

    def not_now_text(self, obj, action: ObjectAction) -> str:
        return gettext("服务单当前状态「%(state)s」不能执行「%(action)s」。") % {
            "state": obj.get_status_display(),
            "action": action.label,
        }

    def action_form_kwargs(self, request, obj, action: ObjectAction) -> dict:
        if action.name == "submit_result" and request.method != "POST":
            return {"ticket": obj, "prefill": self.prefill_for(obj)}
        return {"ticket": obj}

    def action_context(self, request, ticket, action: ObjectAction, form) -> dict:
        context = {
            "ticket": ticket,
            "ticket_status": self.status_and_tags(ticket),
            "ticket_countdown": ticket_countdown(ticket, due_soon_hours=self.due_soon(request)),
            "ticket_order_url": self.order_link(ticket),
        }
        if action.platform_only:
            context["ticket_log"] = self.log_rows(ticket, list(selectors.timeline(ticket)))
        return context

    @staticmethod
    def prefill_for(ticket: Ticket) -> str:
        """T-7: an urge-shipment ticket whose order has shipped starts from the shipped notice (T-6)."""
        if ticket.category != TicketCategory.URGE_SHIPMENT or ticket.order_id is None:
            return ""
        package = ticket.order.packages.order_by("-shipped_at", "-pk").first()
        if package is None:
            return ""
        try:
            return replies.prefill(
                replies.SHIPPED_NOTICE,
                ticket=ticket,
                carrier=package.get_carrier_display(),
                tracking_no=package.tracking_no,
                ship_from=ticket.merchant.return_address,
            )
        except ValidationError:  # a template the shop cannot fill: the box starts empty
            return ""

    def object_action_view(self, request, object_id, action):
        if action == URGE.name and URGE.name in self.offered_actions():
            ticket = self.get_object(request, unquote(str(object_id)))
            if ticket is None:
                raise Http404(_("对象不存在。"))
            if not self.may_act(request, ticket):
                raise PermissionDenied
            return self.urge_view(request, ticket)
        return super().object_action_view(request, object_id, action)

    def urge_view(self, request, ticket: Ticket):
        """T-7's guided page: the order's situation and one form per path; POST `path` picks the form."""
        if not self.action_visible(request, ticket, URGE.name):
            messages.warning(request, self.not_now_text(ticket, URGE))
            return HttpResponseRedirect(self.object_url(ticket))
        situation = services.situation(ticket)
        forms_by_path = {
            path: option.form_class(ticket=ticket, prefix=path) for path, option in URGE_OPTIONS.items()
        }
        chosen = request.POST.get("path") if request.method == "POST" else None
        if chosen in URGE_OPTIONS and chosen in situation.paths:
            option = URGE_OPTIONS[chosen]
            form = option.form_class(request.POST, request.FILES, ticket=ticket, prefix=chosen)
            forms_by_path[chosen] = form
            if form.is_valid():
                try:
                    option.service(ticket, actor=request.user, **form.service_kwargs())
                except ValidationError as exc:
                    message_errors(request, exc)
                else:
                    messages.success(request, option.done % {"ticket_no": ticket.ticket_no})
                    return HttpResponseRedirect(self.object_url(ticket))
        elif request.method == "POST":
            messages.error(request, gettext("请选择一种处理方式。"))
        options = [
            {"option": option, "form": forms_by_path[path], "active": path == chosen}
            for path, option in URGE_OPTIONS.items()
            if path in situation.paths
        ]
        extra = {"urge_options": options, "situation": situation, "order": ticket.order}
        return self.render_action_page(request, ticket, URGE, None, extra=extra)

    # -- raising a ticket (T-1, /admin/ only)

    def has_raise_permission(self, request) -> bool:
        return False

    def raise_url(self) -> str:
        return reverse(f"{self.admin_site.name}:tickets_ticket_add")


class WorkbenchTicketAdmin(TicketAdmin):
    """/workbench/: the shop's tickets; owners and agents answer, viewers read."""


class PlatformTicketAdmin(TicketAdmin):
    """/admin/: every shop's tickets; staff raise them, review results, watch the overdue queues."""

    def has_raise_permission(self, request) -> bool:
        return is_platform(request.user)

    def has_add_permission(self, request, *args):
        return self.has_raise_permission(request)

    def add_view(self, request, form_url="", extra_context=None):
        """T-1: the raise form. ?order=<id> (from an order page) fills in its shop and number."""
        if not self.has_raise_permission(request):
            raise PermissionDenied
        initial = {}
        order_id = request.GET.get("order", "")
        if order_id.isdigit():
            order = Order.objects.filter(pk=int(order_id)).only("pk", "order_no", "merchant_id").first()
            if order is not None:
                initial = {"merchant": order.merchant_id, "order_no": order.order_no}
        if request.method == "POST":
            form = RaiseTicketForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    ticket = services.open_ticket(
                        form.cleaned_data["merchant"], actor=request.user, **form.service_kwargs()
                    )
                except ValidationError as exc:
                    message_errors(request, exc)
                else:
                    messages.success(
                        request,
                        gettext("已发起服务单 %(no)s，商家须在 %(hours)d 小时内处理。")
                        % {"no": ticket.ticket_no, "hours": TicketSettings.load().first_due_hours},
                    )
                    return HttpResponseRedirect(self.object_url(ticket))
        else:
            form = RaiseTicketForm(initial=initial)
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("发起服务单"),
            "breadcrumb_tail": gettext("发起服务单"),
            "form": form,
            "changelist_url": reverse(f"{self.admin_site.name}:tickets_ticket_changelist"),
        }
        return TemplateResponse(request, "tickets/ticket_raise.html", context)
