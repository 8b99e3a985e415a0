"""The case page (A-4, A-7): read-only fields, the header with its countdown and buttons, the timeline, the evidence.

Nothing here edits a case: the buttons are the moves the state machine allows now (the action kit, see
aftersales/admin/actions.py), each a form on its own page.
"""

from __future__ import annotations

from collections import OrderedDict

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from aftersales import selectors
from aftersales.admin.actions import carrier_label
from aftersales.admin.display import (
    ON_DEADLINE,
    WAITING_FOR,
    countdown,
    local_time,
    money,
    status_badge,
    waiting_for_queue,
)
from aftersales.filters import due_soon_hours
from aftersales.models import AfterSaleCase, ReturnAddress
from aftersales.services.addresses import default_address, given_address
from aftersales.transitions import CaseStatus, CaseType, DelayReportStatus, is_shop_writer
from merchants.kernel.admin.timeline import timeline_rows
from merchants.models import ActorKind
from merchants.transitions import OrderStatus

PARTY_LABELS = OrderedDict(
    [
        (ActorKind.BUYER, _("买家提供的凭证")),
        (ActorKind.MERCHANT, _("商家提供的凭证")),
        (ActorKind.PLATFORM, _("平台上传的材料")),
        (ActorKind.SYSTEM, _("系统记录")),
    ]
)

# while the buyer sends the goods back (and until the shop has them), the case shows where to.
RETURN_ADDRESS_STATES = frozenset({CaseStatus.AWAITING_RETURN, CaseStatus.RETURN_IN_TRANSIT})

# Issue 11 §8: the refunding case page reloads once after this many seconds (the query flag stops it).
REFRESH_SECONDS = 3
REFRESHED = "refreshed"

DELAY_VARIANTS = {
    DelayReportStatus.PENDING: "warning",
    DelayReportStatus.APPROVED: "success",
    DelayReportStatus.REJECTED: "danger",
}


class CasePageMixin:
    """The read-only case page; needs the action kit (`action_buttons`) and `is_platform_site()`."""

    change_form_template = "aftersales/case_change_form.html"  # the once-only refresh of a refund (§8)
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

    # -- the read-only fields

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

    @display(description=_("售后状态"))
    def state_display(self, obj):
        return status_badge(obj)

    @display(description=_("售后类型"))
    def type_display(self, obj):
        return obj.get_type_display()

    @display(description=_("售后原因"))
    def reason_display(self, obj):
        return obj.get_reason_display()

    @display(description=_("退货运费承担方"))
    def postage_payer_display(self, obj):
        return obj.get_postage_payer_display() or "-"

    @display(description=_("申请时间"), ordering="created_at")
    def created(self, obj):
        return local_time(obj.created_at)

    @display(description=_("订单号"))
    def order_link(self, obj):
        try:
            url = reverse(f"{self.admin_site.name}:merchants_order_change", args=[obj.order_id])
        except NoReverseMatch:  # the order pages may not be registered on a site
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

    # -- around the fields

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.case_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def case_context(self, request, case: AfterSaleCase) -> dict:
        """What the case page shows around the read-only fields (A-4)."""
        hours = due_soon_hours(request)
        events = list(selectors.timeline(case))
        return {
            "case": case,
            "case_status": status_badge(case),
            "case_countdown": countdown(case.deadline_at, due_soon_hours=hours),
            "case_deadline": local_time(case.deadline_at) if case.deadline_at else "",
            "case_waiting_for": (
                gettext("退款暂未能交给处理队列，系统每隔几秒自动重试")
                if waiting_for_queue(case)
                else WAITING_FOR.get(case.status, "")
            ),
            "case_on_deadline": ON_DEADLINE.get(case.status, ""),
            "case_actions": self.action_buttons(request, case),
            # A viewer of the shop reads the case without buttons, and is told why.
            "case_may_act": self.is_platform_site() or is_shop_writer(case, request.user),
            "case_timeline": self.timeline_rows(case, events),
            "case_evidence": self.evidence_by_party(events),
            "case_refund": selectors.refund_of(case),
            "case_delay_reports": self.delay_reports(case),
            "case_amount": money(case.amount),
            "case_return_carrier": carrier_label(case.return_carrier),
            "case_reship_carrier": carrier_label(case.reship_carrier),
            "case_is_platform_site": self.is_platform_site(),
            "case_proposed_type": CaseType(case.proposed_type).label if case.proposed_type else "",
            "case_tracking_history": self.return_tracking_history(case),
            "case_return_address": self.return_address(request, case)
            if case.status in RETURN_ADDRESS_STATES
            else None,
            **self.refund_progress(request, case),
        }

    @staticmethod
    def refund_progress(request, case: AfterSaleCase) -> dict:
        """Issue 11 §8: a refund handed to the gateway usually finishes within seconds. The page says so and
        reloads itself once, a few seconds later (a meta refresh: no script, CSP stays strict); if it is
        still refunding then, it says to look again later instead of reloading forever."""
        if case.status != CaseStatus.REFUNDING or case.refund_failed or waiting_for_queue(case):
            return {}
        if request.GET.get(REFRESHED) == "1":
            return {"case_refund_note": gettext("退款仍在处理中，稍后刷新页面即可看到结果。")}
        return {
            "case_refund_note": gettext("退款已提交支付渠道，通常几秒内完成，页面将自动刷新。"),
            "case_refresh": f"{REFRESH_SECONDS};url=?{REFRESHED}=1",
        }

    def return_tracking_history(self, case: AfterSaleCase) -> str:
        """The return parcel's 物流轨迹 from the logistics feed (merchants.feeds), newest first; "" if none."""
        if not case.return_tracking_no:
            return ""
        from aftersales.feeds import return_history  # noqa: PLC0415
        from merchants.admin.feeds import tracking_history_html  # noqa: PLC0415

        return tracking_history_html(
            return_history(case), title=gettext("退货物流轨迹"), history_id="case-return-tracking"
        )

    def return_address(self, request, case: AfterSaleCase, *, on_approve: bool = False) -> dict:
        """A-3 "return address given to the buyer": the copy the case kept when it was approved (not the
        library's address today); on the approve page, whether the shop has any address to give at all."""
        try:
            library_url = reverse(f"{self.admin_site.name}:aftersales_returnaddress_changelist")
        except NoReverseMatch:
            library_url = ""
        address_admin = self.admin_site._registry.get(ReturnAddress)
        shown = default_address(case.merchant_id) if on_approve else given_address(case)
        return {
            **(shown or {}),  # the shop's own number: shown in full (only buyers' are masked)
            "missing": shown is None,
            "library_url": library_url,
            "may_edit": bool(address_admin and address_admin.has_add_permission(request)),
        }

    @staticmethod
    def delay_reports(case) -> list:
        reports = list(selectors.delay_reports_of(case))
        for report in reports:
            report.variant = DELAY_VARIANTS.get(report.status, "default")
        return reports

    @staticmethod
    def timeline_rows(case, events) -> list[dict]:
        """The timeline's rows (the kernel's rows of any history); shop roles from one query."""
        return timeline_rows(events, merchant_id=case.merchant_id, states=CaseStatus)

    @staticmethod
    def evidence_by_party(events) -> list[dict]:
        """A-7: every attachment of the timeline, grouped by who provided it."""
        groups: OrderedDict = OrderedDict((kind, []) for kind in PARTY_LABELS)
        for event in events:
            for attachment in event.attachments.all():
                groups.setdefault(event.actor_kind, []).append({"attachment": attachment, "event": event})
        return [
            {"party": kind, "label": PARTY_LABELS.get(kind, kind), "items": items}
            for kind, items in groups.items()
            if kind in (ActorKind.BUYER, ActorKind.MERCHANT) or items
        ]


__all__ = ["DELAY_VARIANTS", "PARTY_LABELS", "CasePageMixin"]
