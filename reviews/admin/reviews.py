"""Reviews on both sites (R-2..R-6): the list merchants work from, and the review page.

Nothing here edits a review: the page is read-only, and every move — reply, delete the reply, pin, unpin,
appeal — is a small form POSTing to `<id>/action/<name>/`. That view loads the review through the scoped
`get_object()` (another shop's id is a 404), checks the member's role (a viewer gets 403), calls the
service with `actor=request.user` and shows its refusal as a message (never a 500).
On /admin/ platform staff read every shop's reviews; they moderate replies and decide appeals on the
reply and appeal queues (reviews/admin/platform.py).
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import BooleanField, Case, IntegerField, Q, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import display

from merchants.kernel.admin.actions import ObjectAction, ObjectActionsMixin
from merchants.kernel.admin.base import is_workbench, member_may
from merchants.kernel.admin.changelist import EmptyState, FastListMixin, pk_url
from merchants.kernel.admin.display import (
    actor_parts,
    cell_html,
    countdown,
    local_time,
    member_roles,
    stacked_cell,
)
from merchants.kernel.admin.importing import SpreadsheetImportExportAdmin
from merchants.kernel.admin.tabs import QuickTab, QuickTabsMixin
from merchants.kernel.scoping import WRITE_ROLES, is_platform, merchant_ids_for, roles_for
from merchants.kernel.vocabulary import ActorKind
from merchants.models import Product
from reviews import selectors
from reviews.admin.actions import REVIEW_ACTIONS
from reviews.admin.display import appeal_badge, reply_badge, reply_status_badge, stars, state_badges
from reviews.files import image_url
from reviews.filters import (
    ALL,
    REVIEW_TABS,
    TABS_BY_KEY,
    CreatedRangeFilter,
    OrderNoFilter,
    ProductNameFilter,
    ReviewTabFilter,
    SpuFilter,
    StateFilter,
    tab_counts,
)
from reviews.models import Review
from reviews.resources import ReviewFeedResource
from reviews.transitions import MAX_PINS_PER_PRODUCT

PREFIX_MIN = 4  # order numbers match by prefix from this many characters

PARTY_VARIANTS = {
    ActorKind.BUYER: "info",
    ActorKind.MERCHANT: "warning",
    ActorKind.PLATFORM: "primary",
    ActorKind.SYSTEM: "default",
}


def _limits(request):
    cached = getattr(request, "_review_settings", None)
    if cached is None:
        cached = request._review_settings = selectors.settings_row()
    return cached


class ReviewAdmin(ObjectActionsMixin, QuickTabsMixin, FastListMixin, SpreadsheetImportExportAdmin):
    """Shared by the workbench and /admin/: list, tabs, filters, search and the read-only review page.

    …/review/import/ is the platform's feed of reviews and buyer deletions (reviews/resources.py): staff
    on /admin/ only; …/review/export/ writes the same columns, which import back."""

    resource_classes = [ReviewFeedResource]

    # The action pages: the kernel's kit (<id>/action/<name>/), the workbench's only; which moves a
    # review offers now is selectors.available_actions.
    object_actions = tuple(REVIEW_ACTIONS.values())
    action_url_name = "action"
    action_number_field = "order_no"
    action_form_object = "review"
    action_template = "reviews/review_action.html"
    action_refusal_goes_back = True  # pin, unpin, delete: the refusal is shown on the review's page

    def has_import_permission(self, request):
        return not is_workbench(self.admin_site) and is_platform(request.user)

    quick_tabs_context = "review_tabs"
    quick_tabs_filtered_context = "review_filtered"

    list_display = (
        "review_cell",
        "product_cell",
        "ratings_cell",
        "state_cell",
        "reply_cell",
        "timing",
        "row_action",
    )
    list_display_links = ("review_cell",)
    list_select_related = ("product",)
    list_fullwidth = True
    list_filter = (
        ReviewTabFilter,
        ("product_rating", ChoicesDropdownFilter),
        ProductNameFilter,
        SpuFilter,
        OrderNoFilter,
        ("created_at", CreatedRangeFilter),
        StateFilter,
    )
    list_filter_submit = True
    list_per_page = 25
    list_max_show_all = 200
    show_full_result_count = False
    sortable_by = ("timing",)
    ordering = ("-created_at", "-pk")
    search_fields = ("order_no",)  # the real search is get_search_results below
    search_help_text = _("订单号（完整，或前 4 位以上的开头部分）、商品ID 或买家ID")
    list_before_template = "reviews/review_list_tabs.html"
    change_form_before_template = "reviews/review_before.html"
    change_form_after_template = "reviews/review_after.html"

    fieldsets = (
        (
            _("评价"),
            {
                "fields": (
                    ("product_display", "sku_display"),
                    ("ratings_display", "created"),
                    "content_display",
                )
            },
        ),
        (_("订单"), {"fields": (("order_no", "buyer"), ("buyer_phone", "shop"))}),
    )
    readonly_fields = (
        "product_display",
        "sku_display",
        "ratings_display",
        "created",
        "content_display",
        "order_no",
        "buyer",
        "buyer_phone",
        "shop",
    )

    # -- who may do what

    def has_add_permission(self, request, *args):
        return False  # buyers write reviews (imports, the buyer feed), never typed in here

    def has_change_permission(self, request, obj=None):
        return False  # the page is read-only; changes are the actions

    def has_delete_permission(self, request, obj=None):
        return False

    def may_act(self, request, review: Review) -> bool:
        """A member who may write in the review's shop (workbench only); state and details are the service's."""
        return is_workbench(self.admin_site) and member_may(request, review, WRITE_ROLES)

    def offered_actions(self) -> dict[str, ObjectAction]:
        return REVIEW_ACTIONS if is_workbench(self.admin_site) else {}  # /admin/ staff act on the queues

    def visible_actions(self, request, obj) -> list[ObjectAction]:
        if not self.may_act(request, obj):
            return []
        names = selectors.available_actions(obj, request.user, limits=_limits(request))
        return [REVIEW_ACTIONS[name] for name in names]

    def action_permitted(self, request, obj, action: ObjectAction) -> bool:
        return self.may_act(request, obj)

    def action_possible(self, request, obj, action: ObjectAction) -> bool:
        return self.action_visible(request, obj, action.name)

    # -- the list

    def scope_queryset(self, request, qs):
        # Per-request constants the row cells read (a row method has no request).
        write_shops = [pk for pk, role in roles_for(request.user).items() if role in WRITE_ROLES]
        may_act = (
            Value(False, output_field=BooleanField())
            if self.is_platform_site()
            else Case(
                When(merchant_id__in=write_shops, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        return qs.annotate(
            ui_may_act=may_act,
            ui_appeal_days=Value(_limits(request).appeal_days, output_field=IntegerField()),
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
        """Order no exact (or by prefix), product SPU id or buyer id exact: index reads, never LIKE '%x%'."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        products = Product.objects.filter(spu_id=term).values("pk")  # the rows are scoped already
        condition = Q(order_no=term) | Q(buyer_id=term) | Q(product_id__in=products)
        if len(term) >= PREFIX_MIN:
            condition |= Q(order_no__startswith=term)
        return queryset.filter(condition), False

    def empty_state(self, request, cl) -> EmptyState:
        current = request.GET.get(ReviewTabFilter.parameter_name, "")
        tab = TABS_BY_KEY.get(current)
        if cl.is_narrowed or (current and tab is None):
            return EmptyState(
                gettext("没有符合条件的评价"),
                gettext("请检查订单号、商品或筛选条件，或清除筛选后查看全部评价。"),
                "?",
                gettext("清除筛选和搜索"),
            )
        if tab is not None:
            return EmptyState(
                gettext("「%(tab)s」下暂时没有评价") % {"tab": tab.label},
                gettext("这一类的评价都处理完了。"),
                "?",
                gettext("查看全部评价"),
            )
        return EmptyState(gettext("暂时没有评价"), gettext("买家评价后，评价会显示在这里。"))

    # Parameters that do not change which rows the list holds (the order, the page, show all).
    UNNARROWING_PARAMS = frozenset({"o", "p", "all"})

    def known_count(self, request) -> int | None:
        """The list's row count when the tab counts already hold it (nothing narrowed but the tab), else None."""
        counts = getattr(request, "_review_tab_counts", None)
        keys = set(request.GET) - self.UNNARROWING_PARAMS
        if counts is None or not keys <= {ReviewTabFilter.parameter_name}:
            return None
        if not keys:
            return counts[ALL]
        tab = TABS_BY_KEY.get(request.GET.get(ReviewTabFilter.parameter_name, ""))
        return counts[tab.key] if tab is not None else None

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        known = self.known_count(request)
        if known is not None:
            paginator.count = known  # the aggregate of the tab counts counted the same rows: no second COUNT
        return paginator

    # -- the quick tabs (merchants.kernel.admin.tabs): 待回复 / 回复审核中 / 回复被拒 / 申诉中 / 差评

    def get_quick_tabs(self, request) -> list[QuickTab]:
        return [QuickTab(tab.key, tab.label, tab.variant) for tab in REVIEW_TABS]

    def quick_tab_counts(self, request) -> dict[str, int]:
        """One aggregate over the user's reviews; its total is the list's count too (known_count)."""
        counts = request._review_tab_counts = tab_counts(self.get_queryset(request), total=True)
        return counts

    # -- list cells

    @display(description=_("店铺"))
    def shop(self, obj):
        return obj.merchant.name

    @display(description=_("评价内容"))
    def review_cell(self, obj):
        text = Truncator(obj.content or gettext("（买家未填写评价内容）")).chars(40)
        extra = gettext("%(n)d 张图") % {"n": obj.image_count} if obj.image_count else ""
        return cell_html(
            '<span class="block max-w-md whitespace-normal">{}</span><span class="text-base-500 text-xs">{} {}</span>',
            text,
            obj.order_no,
            extra,
        )

    @display(description=_("商品"))
    def product_cell(self, obj):
        name = obj.product.name
        return cell_html(
            '<span class="shouhou-product">{}</span><span class="text-base-500 text-xs">{}</span>',
            name,
            obj.product.spu_id,
        )

    @display(description=_("商品 / 服务 / 物流"))
    def ratings_cell(self, obj):
        return cell_html(
            "{}<br><span class='text-base-500 text-xs whitespace-nowrap'>{} {} · {} {}</span>",
            stars(obj.product_rating),
            gettext("服务"),
            obj.service_rating,
            gettext("物流"),
            obj.logistics_rating,
        )

    @display(description=_("状态"))
    def state_cell(self, obj):
        return state_badges(obj)

    @display(description=_("回复"))
    def reply_cell(self, obj):
        return reply_badge(obj)

    def appeal_countdown(self, obj, days: int) -> dict:
        if not obj.is_public or obj.appeal_status or obj.pinned_at is not None:
            return {"text": ""}
        return countdown(obj.appeal_deadline(days), due_soon_hours=72)

    @display(description=_("评价时间 / 可申诉"), ordering="created_at")
    def timing(self, obj):
        days = getattr(obj, "ui_appeal_days", None) or selectors.settings_row().appeal_days
        shown = self.appeal_countdown(obj, days)
        hint = ""
        if shown.get("text") and not shown.get("overdue"):
            hint = gettext("申诉%(left)s") % {"left": shown["text"]}
        return stacked_cell(local_time(obj.created_at, "Y-m-d H:i"), hint)

    @display(description=_("操作"))
    def row_action(self, obj):
        url = pk_url(f"{self.admin_site.name}:reviews_review_change", obj.pk)
        if getattr(obj, "ui_may_act", False) and obj.is_public and obj.reply_status in ("", "rejected"):
            return cell_html(
                '<a class="font-semibold text-primary-600 whitespace-nowrap" href="{}">{}</a>',
                url,
                gettext("去回复"),
            )
        return cell_html(
            '<a class="text-primary-600 whitespace-nowrap" href="{}">{}</a>', url, gettext("查看详情")
        )

    # -- the review page (read-only fields)

    @display(description=_("商品"))
    def product_display(self, obj):
        return format_html(
            "{}<br><span class='text-base-500'>{}</span>", obj.product.name, obj.product.spu_id
        )

    @display(description=_("规格"))
    def sku_display(self, obj):
        return (obj.sku.spec or obj.sku.sku_code) if obj.sku_id else "-"

    @display(description=_("评分"))
    def ratings_display(self, obj):
        return format_html(
            "{} {}　{} {}　{} {}",
            gettext("商品"),
            stars(obj.product_rating),
            gettext("服务"),
            stars(obj.service_rating),
            gettext("物流"),
            stars(obj.logistics_rating),
        )

    @display(description=_("评价时间"))
    def created(self, obj):
        return local_time(obj.created_at)

    @display(description=_("评价内容"))
    def content_display(self, obj):
        return obj.content or gettext("（买家未填写评价内容）")

    @display(description=_("买家"))
    def buyer(self, obj):
        return format_html(
            "{}<br><span class='text-base-500 text-xs'>{}</span>", obj.buyer_name, obj.buyer_id
        )

    @display(description=_("买家手机号"))
    def buyer_phone(self, obj):
        return obj.order.buyer_phone_masked or "-"  # N-7: never the raw number

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.review_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def review_context(self, request, review: Review) -> dict:
        """What the review page shows around the read-only fields."""
        limits = _limits(request)
        events = list(selectors.timeline(review))
        appeal = selectors.appeal_of(review)
        replies = list(selectors.replies_of(review))
        for reply in replies:
            reply.badge = reply_status_badge(reply)
        deadline = review.appeal_deadline(limits.appeal_days)
        return {
            "review": review,
            "review_states": state_badges(review),
            "review_reply_badge": reply_badge(review),
            "review_actions": self.action_buttons(request, review),
            "review_may_act": self.may_act(request, review),
            "review_is_platform_site": self.is_platform_site(),
            "review_images": [image_url(image) for image in review.images.all()],
            "review_replies": replies,
            "review_appeal": appeal,
            "review_appeal_badge": appeal_badge(appeal) if appeal else "",
            "review_appeal_images": [image_url(image) for image in appeal.images.all()] if appeal else [],
            "review_appeal_countdown": self.appeal_countdown(review, limits.appeal_days),
            "review_appeal_deadline": local_time(deadline),
            "review_appeal_days": limits.appeal_days,
            "review_public_url": self.public_url(review),
            "review_timeline": self.timeline_rows(review, events),
        }

    @staticmethod
    def public_url(review: Review) -> str:
        try:
            return reverse("product_reviews", args=[review.merchant.code, review.product.spu_id])
        except NoReverseMatch:
            return ""

    def timeline_rows(self, review, events) -> list[dict]:
        roles = member_roles(review.merchant_id, events)
        rows = []
        for event in events:
            side, person, role = actor_parts(event, roles)
            rows.append(
                {
                    "event": event,
                    "when": local_time(event.created_at, "Y-m-d H:i"),
                    "party_label": side,
                    "party_variant": PARTY_VARIANTS.get(event.actor_kind, "default"),
                    "username": person,
                    "role": role,
                    "what": event.kind_label,
                }
            )
        return rows

    # -- the action pages (the kit's hooks)

    def not_now_text(self, obj, action: ObjectAction) -> str:
        return gettext("该评价当前不能「%(action)s」。") % {"action": action.label}

    def report_done(self, request, action: ObjectAction, obj, result, data) -> None:
        """The success message; a reply the screening refused at once is stored, and says why (R-2)."""
        if action.name == "reply" and getattr(result, "status", "") == "rejected":
            messages.warning(
                request, gettext("回复已被系统驳回：%(reason)s") % {"reason": result.reason_text()}
            )
            return
        super().report_done(request, action, obj, result, data)

    def action_context(self, request, review, action: ObjectAction, form) -> dict:
        limits = _limits(request)
        return {
            "review": review,
            "action_intro": str(action.intro) % {"days": limits.appeal_days, "max": MAX_PINS_PER_PRODUCT},
            "review_states": state_badges(review),
            "review_stars": stars(review.product_rating),
            "review_reply_max": limits.reply_max_chars,
        }


class WorkbenchReviewAdmin(ReviewAdmin):
    """/workbench/: the shop's reviews; owners and agents act, viewers read."""


class PlatformReviewAdmin(ReviewAdmin):
    """/admin/: every shop's reviews, read-only (staff act on the reply and appeal queues)."""

    def scope_queryset(self, request, qs):
        return super().scope_queryset(request, qs).select_related("merchant")


__all__ = ["PlatformReviewAdmin", "ReviewAdmin", "WorkbenchReviewAdmin"]
