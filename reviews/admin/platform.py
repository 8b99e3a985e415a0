"""The platform's review pages on /admin/ (R-2, R-3): the reply moderation queue, the appeal queue, the
banned-word list and the review settings.

Both queues are read-only lists, oldest first, with the waiting time shown; every decision goes through
reviews.services (moderate_reply / bulk_moderate / decide_appeal) with `actor=request.user`, and a refusal
is shown as a message, never a 500. Bulk moderation shows a result per reply.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display

from merchants.kernel.admin.base import MerchantScopedAdmin, message_errors
from merchants.kernel.admin.changelist import EmptyState, QuickTabChangeList
from merchants.kernel.admin.display import badge, local_time, money
from merchants.kernel.admin.tabs import HiddenFilterMixin
from merchants.kernel.scoping import is_platform
from reviews import selectors, services
from reviews.admin.display import appeal_badge, duration_text, reply_status_badge, stars
from reviews.files import image_url
from reviews.forms import AppealDecisionForm, RejectReplyForm
from reviews.models import ReplyFlag, ReviewSettings
from reviews.transitions import AppealStatus, ReplyStatus


def waiting_text(since) -> str:
    """How long something has waited: 等待 2 天 3 小时."""
    return gettext("已等待 %(time)s") % {"time": duration_text(timezone.now() - since)}


def review_link(site_name: str, review) -> str:
    url = reverse(f"{site_name}:reviews_review_change", args=[review.pk])
    return format_html('<a class="text-primary-600" href="{}">{}</a>', url, review.order_no)


class _Tabs:
    """Quick tabs of a queue: (key, label, condition, counted?)."""

    TABS: tuple = ()

    @classmethod
    def condition(cls, key):
        for tab_key, _label, condition, _counted in cls.TABS:
            if tab_key == key:
                return condition
        return None


class ReplyTabs(_Tabs):
    TABS = (
        ("pending", _("待审核"), Q(status=ReplyStatus.PENDING), True),
        ("sensitive", _("含敏感词"), Q(status=ReplyStatus.PENDING, flag=ReplyFlag.SENSITIVE), True),
        ("approved", _("已通过"), Q(status=ReplyStatus.APPROVED), False),
        ("rejected", _("已驳回"), Q(status=ReplyStatus.REJECTED), False),
        ("auto_rejected", _("系统驳回"), Q(flag__in=[ReplyFlag.CONTACT, ReplyFlag.BANNED]), False),
    )


class AppealTabs(_Tabs):
    TABS = (
        ("pending", _("待审核"), Q(status=AppealStatus.PENDING), True),
        ("upheld", _("申诉成功"), Q(status=AppealStatus.UPHELD), False),
        ("dismissed", _("已驳回"), Q(status=AppealStatus.DISMISSED), False),
        ("void", _("已失效"), Q(status=AppealStatus.VOID), False),
    )


def _tab_filter(tabs: type[_Tabs]):
    class TabFilter(HiddenFilterMixin, admin.SimpleListFilter):
        title = _("快捷分类")
        parameter_name = "tab"

        def lookups(self, request, model_admin):
            return [(key, label) for key, label, _condition, _counted in tabs.TABS]

        def queryset(self, request, queryset):
            if not self.value():
                return queryset
            condition = tabs.condition(self.value())
            return queryset.filter(condition) if condition is not None else queryset.none()

    return TabFilter


ReplyTabFilter = _tab_filter(ReplyTabs)
AppealTabFilter = _tab_filter(AppealTabs)


class QueueAdmin(MerchantScopedAdmin):
    """A staff queue: read-only rows, quick tabs (the first is the default), oldest first."""

    tabs: type[_Tabs] = _Tabs
    list_before_template = "reviews/review_list_tabs.html"
    list_per_page = 50
    show_full_result_count = False
    ordering = ("created_at", "pk")  # oldest first: who waited longest is served first

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_act_permission(self, request) -> bool:
        return is_platform(request.user)

    # -- the one decision a row takes (<id>/<decision_path>/, POSTed from its page): moderate, decide

    decision_path = ""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                f"<path:object_id>/{self.decision_path}/",
                self.admin_site.admin_view(self.decision_view),
                name="{}_{}_{}".format(*info, self.decision_path),
            ),
        ] + super().get_urls()

    def decision_view(self, request, object_id):
        """404 outside the queue, 403 for anyone but platform staff; a GET goes back to the row's page."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("对象不存在。"))
        if not is_platform(request.user):
            raise PermissionDenied
        change_url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
        )
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        return self.decide(request, obj, change_url)

    def decide(self, request, obj, change_url: str):
        """The POST: the service, its message, then the pending tab of the queue (or back on a refusal)."""
        raise NotImplementedError

    def pending_queue_url(self) -> str:
        return (
            reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist")
            + "?tab=pending"
        )

    def get_changelist(self, request, **kwargs):
        return QuickTabChangeList

    @staticmethod
    def quick_tab_params(request) -> set[str]:
        return {"tab"}

    def empty_state(self, request, cl) -> EmptyState:
        if cl.is_narrowed:
            return EmptyState(gettext("没有符合条件的记录"), "", "?tab=pending", gettext("回到待审核"))
        return EmptyState(gettext("这里暂时没有记录"), gettext("待审核的都处理完了。"))

    def changelist_view(self, request, extra_context=None):
        if not request.GET and request.method == "GET":
            return HttpResponseRedirect("?tab=pending")  # the queue is what staff come for
        extra_context = {
            **(extra_context or {}),
            "review_tabs": self.quick_tabs(request),
            "review_filtered": False,
        }
        return super().changelist_view(request, extra_context)

    def quick_tabs(self, request) -> list[dict]:
        counted = {
            key: Count("pk", filter=condition)
            for key, _label, condition, counted in self.tabs.TABS
            if counted
        }
        # Counted tabs are the waiting rows only (partial indexes); the decided ones are not counted.
        counts = self.get_queryset(request).order_by().aggregate(**counted) if counted else {}
        current = request.GET.get("tab", "")
        return [
            {
                "title": label,
                "link": f"?tab={key}",
                "count": counts.get(key) if counted_tab else None,
                "variant": "warning",
                "active": current == key,
                "key": key,
            }
            for key, label, _condition, counted_tab in self.tabs.TABS
        ]

    @display(description=_("店铺"))
    def shop(self, obj):
        return obj.merchant.name

    @display(description=_("评价"))
    def review_cell(self, obj):
        review = obj.review
        return format_html(
            "{} {}<br><span class='text-base-500 text-xs'>{}</span>",
            stars(review.product_rating),
            review_link(self.admin_site.name, review),
            Truncator(review.content or "-").chars(30),
        )

    @display(description=_("等待时间"), ordering="created_at")
    def waiting(self, obj):
        return format_html(
            "{}<br><span class='text-base-500 text-xs whitespace-nowrap'>{}</span>",
            waiting_text(obj.created_at) if obj.status == "pending" else "-",
            local_time(obj.created_at, "Y-m-d H:i"),
        )


# ---------------------------------------------------------------------------------------------
# the reply moderation queue


class ReplyModerationAdmin(QueueAdmin):
    tabs = ReplyTabs
    decision_path = "moderate"
    list_display = ("reply_text", "shop", "review_cell", "check_cell", "status_cell", "waiting", "row_action")
    list_display_links = None
    list_select_related = ("review", "review__product", "merchant")
    list_filter = (ReplyTabFilter,)
    actions = ("approve_selected", "reject_selected")
    search_fields = ("review__order_no",)
    search_help_text = _("订单号（完整）")
    change_form_after_template = "reviews/reply_after.html"
    fields = ("review_full", "reply_full", "check_cell", "status_cell", "moderation")
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        return (queryset.filter(review__order_no=term), False) if term else (queryset, False)

    @display(description=_("回复内容"))
    def reply_text(self, obj):
        return format_html('<span class="block max-w-md whitespace-normal">{}</span>', obj.text)

    @display(description=_("自动检查"))
    def check_cell(self, obj):
        if not obj.flag:
            return badge(gettext("未发现问题"), "success")
        variant = "warning" if obj.flag == ReplyFlag.SENSITIVE else "danger"
        return format_html(
            "{}<br><span class='text-base-500 text-xs'>{}</span>",
            badge(obj.get_flag_display(), variant),
            obj.flag_text,
        )

    @display(description=_("审核状态"))
    def status_cell(self, obj):
        return reply_status_badge(obj)

    @display(description=_("操作"))
    def row_action(self, obj):
        url = reverse(f"{self.admin_site.name}:reviews_reply_change", args=[obj.pk])
        label = gettext("去审核") if obj.status == ReplyStatus.PENDING else gettext("查看详情")
        return format_html(
            '<a class="font-semibold text-primary-600 whitespace-nowrap" href="{}">{}</a>', url, label
        )

    @display(description=_("评价"))
    def review_full(self, obj):
        review = obj.review
        return format_html(
            "{} {} · {}<br>{}",
            stars(review.product_rating),
            review_link(self.admin_site.name, review),
            review.product.name,
            review.content or "-",
        )

    @display(description=_("回复内容"))
    def reply_full(self, obj):
        return obj.text

    @display(description=_("审核"))
    def moderation(self, obj):
        if obj.status == ReplyStatus.PENDING:
            return waiting_text(obj.created_at)
        who = obj.moderated_by.get_username() if obj.moderated_by else gettext("系统")
        return format_html("{} · {}<br>{}", local_time(obj.moderated_at), who, obj.reason_text() or "")

    # -- decisions

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.status == ReplyStatus.PENDING and is_platform(request.user):
            context["moderate_url"] = reverse(f"{self.admin_site.name}:reviews_reply_moderate", args=[obj.pk])
            context["reject_form"] = RejectReplyForm()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def decide(self, request, reply, change_url: str):
        """Approve, or reject with a reason, one reply."""
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            messages.error(request, gettext("请选择通过或驳回。"))
            return HttpResponseRedirect(change_url)
        try:
            services.moderate_reply(
                reply,
                actor=request.user,
                approve=decision == "approve",
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as exc:
            message_errors(request, exc)
            return HttpResponseRedirect(change_url)
        messages.success(
            request,
            (
                gettext("已通过回复（订单 %(no)s）。")
                if decision == "approve"
                else gettext("已驳回回复（订单 %(no)s）。")
            )
            % {"no": reply.review.order_no},
        )
        return HttpResponseRedirect(self.pending_queue_url())

    @admin.action(description=_("批量通过"), permissions=["act"])
    def approve_selected(self, request, queryset):
        """Each reply through its own moderation; a result per reply; one refusal undoes nothing else."""
        results = services.bulk_moderate(
            list(queryset.order_by("created_at", "pk")), actor=request.user, approve=True
        )
        return self.render_results(request, results, title=gettext("批量通过结果"))

    @admin.action(description=_("批量驳回"), permissions=["act"])
    def reject_selected(self, request, queryset):
        """First a page asking for the reason the merchants will read, then each reply on its own."""
        form = RejectReplyForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            results = services.bulk_moderate(
                list(queryset.order_by("created_at", "pk")),
                actor=request.user,
                approve=False,
                reason=form.cleaned_data["reason"],
            )
            return self.render_results(request, results, title=gettext("批量驳回结果"))
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("批量驳回回复"),
            "breadcrumb_tail": gettext("批量驳回回复"),
            "form": form,
            "replies": list(queryset.select_related("review")[:200]),
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "reviews/bulk_reject.html", context)

    def render_results(self, request, results, *, title: str):
        ok = sum(1 for r in results if r.ok)
        if ok:
            messages.success(request, gettext("成功 %(count)d 条回复。") % {"count": ok})
        if len(results) - ok:
            messages.error(
                request, gettext("%(count)d 条回复未成功，原因见下表。") % {"count": len(results) - ok}
            )
        texts = dict(
            selectors.replies_for(request.user)
            .filter(pk__in=[r.reply_id for r in results])
            .values_list("pk", "text")
        )
        site = self.admin_site.name
        rows = [
            {
                "ok": r.ok,
                "message": r.message,
                "label": Truncator(texts.get(r.reply_id, f"#{r.reply_id}")).chars(30),
                "url": reverse(f"{site}:reviews_reply_change", args=[r.reply_id]),
            }
            for r in results
        ]
        request.current_app = site
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "breadcrumb_tail": title,
            "rows": rows,
            "succeeded": ok,
            "failed": len(results) - ok,
            "changelist_url": reverse(f"{site}:reviews_reply_changelist") + "?tab=pending",
        }
        return TemplateResponse(request, "reviews/bulk_result.html", context)


# ---------------------------------------------------------------------------------------------
# the appeal queue


class AppealAdmin(QueueAdmin):
    tabs = AppealTabs
    decision_path = "decide"
    list_display = ("reason_cell", "shop", "review_cell", "status_cell", "waiting", "decision", "row_action")
    list_display_links = None
    list_select_related = ("review", "review__product", "merchant")
    list_filter = (AppealTabFilter,)
    search_fields = ("review__order_no",)
    search_help_text = _("订单号（完整）")
    change_form_before_template = "reviews/appeal_before.html"
    change_form_after_template = "reviews/appeal_after.html"
    fields = ("status_cell",)
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        return (queryset.filter(review__order_no=term), False) if term else (queryset, False)

    @display(description=_("申诉理由"))
    def reason_cell(self, obj):
        return format_html(
            '<span class="block max-w-md whitespace-normal">{}</span>', Truncator(obj.reason).chars(60)
        )

    @display(description=_("申诉状态"))
    def status_cell(self, obj):
        return appeal_badge(obj)

    @display(description=_("审核结论"))
    def decision(self, obj):
        return obj.decision_text() or "-"

    @display(description=_("操作"))
    def row_action(self, obj):
        url = reverse(f"{self.admin_site.name}:reviews_appeal_change", args=[obj.pk])
        label = gettext("去审核") if obj.status == AppealStatus.PENDING else gettext("查看详情")
        return format_html(
            '<a class="font-semibold text-primary-600 whitespace-nowrap" href="{}">{}</a>', url, label
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.appeal_context(request, obj, AppealDecisionForm()))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def appeal_context(self, request, appeal, form) -> dict:
        """The review, its order, both sides' evidence and (while pending) the decision form."""
        review = appeal.review
        order = review.order
        return {
            "appeal": appeal,
            "appeal_badge": appeal_badge(appeal),
            "appeal_review": review,
            "appeal_review_stars": stars(review.product_rating),
            "appeal_order": order,
            "appeal_order_paid": money(order.paid_amount),
            "appeal_buyer_images": [image_url(image) for image in review.images.all()],
            "appeal_merchant_images": [image_url(image) for image in appeal.images.all()],
            "appeal_review_url": reverse(f"{self.admin_site.name}:reviews_review_change", args=[review.pk]),
            "appeal_waiting": waiting_text(appeal.created_at)
            if appeal.status == AppealStatus.PENDING
            else "",
            "decide_url": reverse(f"{self.admin_site.name}:reviews_appeal_decide", args=[appeal.pk])
            if appeal.status == AppealStatus.PENDING and is_platform(request.user)
            else "",
            "decision_form": form,
        }

    def decide(self, request, appeal, change_url: str):
        """Uphold or dismiss the appeal; a refusal or a missing field is shown on its page, nothing changed."""
        form = AppealDecisionForm(request.POST)
        if form.is_valid():
            kwargs = form.service_kwargs()
            try:
                services.decide_appeal(appeal, actor=request.user, **kwargs)
            except ValidationError as exc:
                message_errors(request, exc)
            else:
                done = (
                    gettext("已判定申诉成功，评价已隐藏（订单 %(no)s）。")
                    if kwargs["uphold"]
                    else gettext("已驳回申诉（订单 %(no)s）。")
                )
                messages.success(request, done % {"no": appeal.review.order_no})
                return HttpResponseRedirect(self.pending_queue_url())
        else:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        return HttpResponseRedirect(change_url)


# ---------------------------------------------------------------------------------------------
# Staff-edited lists and settings


class BannedWordAdmin(ModelAdmin):
    """R-2: the banned words staff edit; each either refuses a reply at once or sends it to a person."""

    list_display = ("word", "action", "note", "created_at")
    list_editable = ("action",)
    list_filter = ("action",)
    search_fields = ("word",)
    ordering = ("word",)
    fields = ("word", "action", "note")

    def has_delete_permission(self, request, obj=None):
        # The platform group holds no delete permissions (merchants.kernel.signals); a word off the list
        # is an edit of the list, which staff own.
        return is_platform(request.user)


class ReviewSettingsAdmin(ModelAdmin):
    """The R-3 / R-7 defaults: one row, edited in place (no list, no add, no delete)."""

    fields = ("appeal_days", "dsr_days", "reply_max_chars")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        row = ReviewSettings.load()
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:reviews_reviewsettings_change", args=[row.pk])
        )
