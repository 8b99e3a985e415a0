"""T-7: the guided answers to an urge-shipment ticket, each doing the real thing through the services.

By the order's situation (`situation()`): shipped offline without tracking -> enter the tracking (a package
through merchants.services.ship, S-1..S-4 apply); not shipped -> commit a ship time to the hour (an
apology first when the order is already late, M-4), watched as a deadline by the overdue sweep; out of
stock -> a `refund_only` case per unshipped item, approved at once by the merchant (an open pending case
of the buyer is approved instead). Each path then submits the result, prefilled from the kernel's reply templates
(tickets.replies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales import services as aftersales_services
from aftersales.models import AfterSaleCase
from aftersales.transitions import OPEN_STATES, CaseStatus, CaseType, Reason
from merchants import services as merchant_services
from merchants.kernel.workflow import ApplicationError, require_transition
from merchants.models import Order, OrderItem
from merchants.transitions import SHIPPABLE_STATES, Carrier, OrderStatus
from tickets import replies
from tickets.models import Ticket
from tickets.services._common import clean_text, clock, local, lock_ticket, require_merchant
from tickets.services.tickets import submit_locked
from tickets.transitions import TicketCategory, UrgePath


@dataclass
class Situation:
    """What the guided form offers for an urge-shipment ticket's order."""

    key: str  # no_order | not_shipped | late | shipped | closed
    paths: tuple[str, ...] = ()
    items: list[OrderItem] = field(default_factory=list)  # shippable items not yet shipped
    open_cases: list[AfterSaleCase] = field(default_factory=list)  # the buyer's open cases on those items

    @property
    def blocked_by_cases(self) -> bool:
        """S-2: an item with an open case cannot ship; the buyer must withdraw it, or the shop refunds."""
        return bool(self.open_cases)


def situation(ticket: Ticket) -> Situation:
    """The order's situation for T-7 (reads only)."""
    order = ticket.order
    if order is None:
        return Situation("no_order")
    if order.status in (OrderStatus.SHIPPED, OrderStatus.RECEIVED):
        return Situation("shipped")
    if order.status not in SHIPPABLE_STATES:
        return Situation("closed")
    items = list(order.unshipped_shippable_items().select_related("product").order_by("pk"))
    if not items:
        return Situation("shipped")
    cases = list(
        AfterSaleCase.objects.filter(item__in=items, status__in=OPEN_STATES)
        .order_by("pk")
        .only("pk", "case_no", "status", "item_id", "type", "amount")
    )
    return Situation(
        "late" if order.is_late else "not_shipped",
        paths=(UrgePath.TRACKING, UrgePath.SHIP_TIME, UrgePath.OUT_OF_STOCK),
        items=items,
        open_cases=cases,
    )


def _lock_urge(ticket, actor) -> tuple[Ticket, Order]:
    """Lock a pending urge-shipment ticket with an order the actor answers for (lock held from here)."""
    ticket = lock_ticket(ticket, actor)
    require_merchant(actor, ticket)
    require_transition(ticket.submit_result, action=_("提交处理结果"))
    if ticket.category != TicketCategory.URGE_SHIPMENT or ticket.order_id is None:
        raise ApplicationError(_("只有关联订单的催发货服务单才能使用发货引导。"), code="not_urge")
    return ticket, ticket.order


def _unshipped(order: Order) -> list[OrderItem]:
    items = list(order.unshipped_shippable_items().select_related("product").order_by("pk"))
    if order.status not in SHIPPABLE_STATES or not items:
        raise ApplicationError(
            _("订单 %(no)s 已全部发货，没有待发货的商品。") % {"no": order.order_no}, code="shipped"
        )
    return items


@transaction.atomic
def answer_with_tracking(
    ticket: Ticket | int, *, actor, carrier: str, tracking_no: str, text: str = ""
) -> Ticket:
    """Shipped offline without tracking: enter it (a package of every unshipped item), then the result."""
    text = clean_text(text, label=_("处理结果"), required=False)
    ticket, order = _lock_urge(ticket, actor)
    items = _unshipped(order)
    blocking = (
        AfterSaleCase.objects.filter(item__in=items, status__in=OPEN_STATES)
        .order_by("pk")
        .values_list("case_no", flat=True)
    )
    if blocking:
        raise ApplicationError(
            _(
                "买家有进行中的售后（售后单 %(cases)s），商品暂不能发货：需买家先撤销售后，或选择「缺货，为买家退款」同意退款。"
            )
            % {"cases": "、".join(blocking)},
            code="aftersale_open",
        )
    package = merchant_services.ship(
        order, items=[item.pk for item in items], carrier=carrier, tracking_no=tracking_no, actor=actor
    )
    now, limits = clock()
    text = text or replies.prefill(
        replies.SHIPPED_OFFLINE,
        ticket=ticket,
        carrier=Carrier(package.carrier).label,
        tracking_no=package.tracking_no,
    )
    return submit_locked(
        ticket,
        actor=actor,
        text=text,
        params={"why": "tracking", "carrier": package.carrier, "tracking": package.tracking_no},
        data={"package": package.pk},
        now=now,
        limits=limits,
    )


def _to_the_hour(value) -> datetime:
    if not isinstance(value, datetime):
        raise ApplicationError(_("请选择承诺发货时间。"), code="ship_time")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return timezone.localtime(value).replace(minute=0, second=0, microsecond=0)


@transaction.atomic
def answer_with_ship_time(
    ticket: Ticket | int, *, actor, ship_at: datetime, text: str = "", coupon: str = ""
) -> Ticket:
    """Not shipped yet: commit a ship time to the hour (with an apology when the order is late, M-4).

    The commitment is watched: missing it is late shipping, recorded by the overdue sweep.
    """
    text = clean_text(text, label=_("处理结果"), required=False)
    coupon = clean_text(coupon, label=_("优惠券"), required=False, max_length=100)
    ship_at = _to_the_hour(ship_at)
    ticket, order = _lock_urge(ticket, actor)
    _unshipped(order)
    now, limits = clock()
    if ship_at <= now:
        raise ApplicationError(_("承诺发货时间必须晚于现在。"), code="ship_time_past")
    late = order.is_late
    text = text or replies.prefill(
        replies.LATE_APOLOGY if late else replies.SHIP_TIME_NOTICE,
        ticket=ticket,
        ship_time=local(ship_at),
        coupon=coupon,
    )
    ticket.ship_commit_at = ticket.ship_commit_due_at = ship_at
    submit_locked(
        ticket,
        actor=actor,
        text=text,
        params={"why": "ship_time", "ship_time": local(ship_at)},
        data={"ship_at": ship_at.isoformat(), "late": late, "coupon": coupon},
        now=now,
        limits=limits,
        extra_fields=("ship_commit_at", "ship_commit_due_at"),
    )
    return ticket


@transaction.atomic
def answer_with_refund(ticket: Ticket | int, *, actor, text: str = "", coupon: str = "") -> Ticket:
    """Out of stock: refund every unshipped item (`refund_only`, approved by the merchant at once), then the result.

    An item whose buyer already asked for a refund has that pending case approved instead.
    """
    text = clean_text(text, label=_("处理结果"), required=False)
    coupon = clean_text(coupon, label=_("优惠券"), required=False, max_length=100)
    ticket, order = _lock_urge(ticket, actor)
    items = _unshipped(order)
    # The text first: a template the shop cannot fill refuses the answer before any case is opened.
    text = text or replies.prefill(replies.OUT_OF_STOCK, ticket=ticket, coupon=coupon)
    cases = []
    for item in items:
        case = AfterSaleCase.objects.filter(item=item, status__in=OPEN_STATES).first()
        if case is None:
            case = aftersales_services.open_case(
                item,
                type=CaseType.REFUND_ONLY,
                reason=Reason.OUT_OF_STOCK,
                amount=item.refundable_amount(),
                quantity=item.quantity,
                description=_("商家缺货，主动为买家退款（服务单 %(no)s）。") % {"no": ticket.ticket_no},
                actor=actor,
                initiator=actor,  # T-7: the merchant's own move, not the buyer's
            )
        elif case.status != CaseStatus.PENDING:
            raise ApplicationError(
                _("商品「%(name)s」的售后单 %(no)s 正在处理中（%(state)s），请在售后单中处理。")
                % {"name": item.product.name, "no": case.case_no, "state": case.get_status_display()},
                code="case_in_progress",
            )
        if case.status == CaseStatus.PENDING:  # an automation rule may have approved it on opening
            case = aftersales_services.approve(case, actor=actor)
        cases.append(case)
    now, limits = clock()
    return submit_locked(
        ticket,
        actor=actor,
        text=text,
        params={"why": "refund", "cases": "、".join(case.case_no for case in cases)},
        data={"cases": [case.pk for case in cases], "coupon": coupon},
        now=now,
        limits=limits,
    )
