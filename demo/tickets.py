"""Service tickets in the demo (T-1..T-7): the senior staff login, tickets in every state and category —
some overdue (with their violations), some rejected twice, late reviews raised to senior staff, the
guided urge-shipment answers — and the simulator's new tickets.

Every ticket is walked through tickets.services, each step at its own backdated time; at the end the
real sweep (tickets.tasks.escalate_overdue) runs at the seeding clock, so whatever is due by then is
escalated exactly as the beat would. A shop that has tickets already is skipped (idempotent).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from demo.aftersales.seeding import _platform_user, evidence_image
from demo.registry import SeedContext, TickContext, backdated, register_action, register_seeder
from demo.reviews import mark_old_notices_read
from demo.shops import shop_actors, shop_spec, tracking_number, weighted
from merchants.kernel.scoping import PLATFORM_GROUP, SENIOR_GROUP
from merchants.models import Order
from merchants.transitions import OrderStatus
from tickets import services
from tickets.models import Ticket
from tickets.tasks import escalate_overdue
from tickets.transitions import Liability, TicketCategory

C = TicketCategory
DEMANDS = {
    C.URGE_SHIPMENT: (
        "买家反映下单三天了还没有发货，着急使用，要求尽快发出。",
        "买家称商品页面承诺 48 小时发货，至今未发，要求商家说明原因并尽快发货。",
        "买家表示是送人的礼物，周末前需要收到，请商家尽快安排发货。",
    ),
    C.LOGISTICS: (
        "买家反映物流信息三天没有更新，担心包裹丢失，请商家联系快递核实。",
        "买家称快递显示已签收，但本人并未收到包裹，请商家协助查询。",
    ),
    C.QUALITY: (
        "买家反映收到的商品有明显瑕疵（外壳划痕），要求商家给出处理方案。",
        "买家称商品使用两天后出现故障，要求换货或维修。",
    ),
    C.REFUND: (
        "买家反映退款申请已提交多日，商家一直未处理，请尽快处理退款。",
        "买家称退货已寄回并签收，但迟迟未收到退款。",
    ),
    C.COMPLAINT: (
        "买家投诉商家客服态度恶劣，沟通中使用不文明用语。",
        "买家投诉商品宣传与实物不符，存在虚假宣传。",
        "买家投诉商家未经同意擅自取消订单。",
    ),
    C.OTHER: (
        "买家要求补开发票，多次联系商家未得到回复。",
        "买家询问商品的保修政策，希望商家给出书面说明。",
    ),
}
RESULTS = {
    C.URGE_SHIPMENT: "已联系仓库加急处理，今天下午安排发出，并已向买家致歉说明。",
    C.LOGISTICS: "已联系快递公司核实，包裹滞留在中转站，快递承诺明天派送，已告知买家。",
    C.QUALITY: "已与买家沟通，为买家办理换货，新商品今天发出，旧商品由快递上门取回。",
    C.REFUND: "已核实退货签收情况，退款已于今日处理，预计 1–3 个工作日原路退回。",
    C.COMPLAINT: "已调取客服聊天记录核实，对相关客服进行了培训，并向买家电话致歉。",
    C.OTHER: "已为买家补开电子发票并发送至买家邮箱，买家已确认收到。",
}
REJECT_REASONS = (
    "处理结果未说明具体发货时间，请补充物流单号或承诺时间。",
    "未提供与买家沟通的凭证，请上传聊天记录截图后重新提交。",
    "处理方案买家不认可，请与买家重新协商后提交。",
)
APPROVE_NOTE = "处理结果已核实，买家已确认，服务单关闭。"
LIABILITIES = ((Liability.MERCHANT, 4), (Liability.NONE, 2), (Liability.BUYER, 2), (Liability.MALICIOUS, 1))


@dataclass(frozen=True)
class Plan:
    """One ticket's walk: raised `age` ago, then the steps, each `gap` hours after the one before."""

    key: str
    age_hours: float
    steps: tuple[tuple[str, float], ...] = ()
    category: str | None = None  # None: any but urge shipment


# The merchant's clock is 48 h, again 24 h after a rejection; the platform's review clock 24 h (defaults).
PLANS = (
    Plan("pending", 6),
    Plan("due_soon", 40),
    Plan("overdue", 60),
    Plan("overdue_answered", 66, (("submit", 56),)),
    Plan("in_review", 20, (("submit", 8),)),
    Plan("review_late", 70, (("submit", 10),)),
    Plan("closed", 24 * 9, (("submit", 7), ("approve", 9))),
    Plan("rejected_once", 40, (("submit", 10), ("reject", 12))),
    Plan("rejected_twice_pending", 36, (("submit", 6), ("reject", 4), ("submit", 6), ("reject", 4))),
    Plan("rejected_twice_overdue", 24 * 4, (("submit", 8), ("reject", 6), ("submit", 10), ("reject", 5))),
    Plan(
        "rejected_twice_closed",
        24 * 8,
        (("submit", 8), ("reject", 6), ("submit", 9), ("reject", 4), ("submit", 6), ("approve", 5)),
    ),
    Plan("complaint_closed", 24 * 12, (("submit", 20), ("approve", 10)), C.COMPLAINT),
    Plan("complaint_malicious", 24 * 15, (("submit", 12), ("approve_malicious", 20)), C.COMPLAINT),
    Plan("urge_pending", 5, (), C.URGE_SHIPMENT),  # for the guided form (T-7) in the demo walk
    Plan("urge_pending_2", 20, (), C.URGE_SHIPMENT),
    Plan("urge_tracking", 14, (("urge_tracking", 5),), C.URGE_SHIPMENT),
    Plan("urge_ship_time", 12, (("urge_ship_time", 3),), C.URGE_SHIPMENT),
    Plan("urge_out_of_stock", 26, (("urge_out_of_stock", 4),), C.URGE_SHIPMENT),
    Plan("urge_closed", 24 * 5, (("urge_tracking", 6), ("approve", 8)), C.URGE_SHIPMENT),
)


# Beyond one walk of each plan, mostly what a shop's ticket list holds day to day: closed and open ones.
EXTRA_WEIGHTS = {
    "closed": 6,
    "pending": 3,
    "in_review": 2,
    "complaint_closed": 2,
    "urge_closed": 2,
    "rejected_once": 1,
    "urge_ship_time": 1,
}


@register_seeder("tickets.senior_staff", order=12)
def seed_senior_staff(ctx: SeedContext) -> dict[str, int]:
    """The senior staff login `senior`/`senior` (groups platform and platform_senior, SPEC §1)."""
    User = get_user_model()
    senior, created = User.objects.get_or_create(
        username="senior",
        defaults={"is_staff": True, "first_name": "高级客服", "email": "senior@example.com"},
    )
    if created:
        senior.set_password("senior")  # demo only: no validators on purpose
        senior.save(update_fields=["password"])
    for name in (PLATFORM_GROUP, SENIOR_GROUP):
        senior.groups.add(Group.objects.get_or_create(name=name)[0])
    return {"users": int(created)}


@register_seeder("tickets.tickets", order=70)
def seed_tickets(ctx: SeedContext) -> dict[str, int]:
    """Tickets in every state and category per shop, walked through the services; then the real sweep."""
    staff = _platform_user()
    summary = {"tickets": 0, "unplaced": 0, "escalated": 0, "skipped_shops": 0}
    if staff is None:
        return summary
    for shop in ctx.shops():
        if Ticket.objects.filter(merchant=shop).exists():
            summary["skipped_shops"] += 1
            continue
        actors = shop_actors(shop)
        if not actors:
            continue
        rng = random.Random(f"{ctx.seed}:tickets:{shop.code}")
        wanted = max(len(PLANS), round(ctx.size * 0.03 * shop_spec(shop.code).share))
        extra = [plan for plan in PLANS if plan.key in EXTRA_WEIGHTS]
        weights = [EXTRA_WEIGHTS[plan.key] for plan in extra]
        plans = list(PLANS) + rng.choices(extra, weights=weights, k=wanted - len(PLANS))
        walker = _Walker(shop, actors, staff, rng, ctx.now)
        with transaction.atomic():
            for plan in plans:
                if walker.place(plan):
                    summary["tickets"] += 1
                else:
                    summary["unplaced"] += 1
        ctx.log(_("%(shop)s：已生成 %(count)d 张服务单") % {"shop": shop.name, "count": walker.placed})
    with backdated(ctx.now):
        summary["escalated"] = escalate_overdue()
    mark_old_notices_read("tickets.", ctx.now)
    return summary


OTHERS = (C.LOGISTICS, C.QUALITY, C.REFUND, C.COMPLAINT, C.OTHER)


def _escalate_one(ticket: Ticket) -> int:
    """The overdue sweep on this one ticket, at the (backdated) clock: what the beat did back then."""
    from django.utils import timezone

    from merchants.kernel.deadlines import Sweep, run_sweeps
    from tickets import selectors
    from tickets.models import TicketSettings
    from tickets.services.overdue import mark_overdue

    handler = partial(mark_overdue, limits=TicketSettings.load())
    sweep = Sweep("overdue", selectors.overdue_candidates().filter(pk=ticket.pk), handler, "due_at")
    return run_sweeps([sweep], now=timezone.now()).changed


class _Walker:
    def __init__(self, shop, actors, staff, rng: random.Random, now: datetime):
        self.shop, self.actors, self.staff, self.rng, self.now = shop, actors, staff, rng, now
        self.placed = 0
        self.used_orders: set[int] = set()

    def _order(self, plan: Plan, category: str, start: datetime) -> Order | None:
        orders = Order.objects.filter(merchant=self.shop, placed_at__lt=start - timedelta(hours=2)).exclude(
            pk__in=self.used_orders
        )
        if category == C.URGE_SHIPMENT:
            # Only orders to ship, of which every shop has plenty: a scarce state (partly shipped, late)
            # stays in the demo for the order pages (the ship-time answer changes no order).
            orders = orders.filter(status=OrderStatus.TO_SHIP)
            if plan.steps and plan.steps[0][0] in ("urge_tracking", "urge_out_of_stock"):
                orders = orders.filter(ship_by__gt=self.now).exclude(items__cases__isnull=False)
        else:
            orders = orders.filter(status__in=(OrderStatus.SHIPPED, OrderStatus.RECEIVED))
        ids = list(orders.order_by("-placed_at").values_list("pk", flat=True)[:60])
        return Order.objects.get(pk=self.rng.choice(ids)) if ids else None

    def place(self, plan: Plan) -> bool:
        rng = self.rng
        category = plan.category
        if category is None:  # every other category once first, then by weight
            category = (
                OTHERS[self.placed % len(OTHERS)]
                if self.placed < 2 * len(OTHERS)
                else weighted(
                    rng, ((C.LOGISTICS, 3), (C.QUALITY, 3), (C.REFUND, 2), (C.COMPLAINT, 2), (C.OTHER, 1))
                )
            )
        start = (self.now - timedelta(hours=plan.age_hours * rng.uniform(0.97, 1.0))).replace(microsecond=0)
        order = None
        if category == C.URGE_SHIPMENT or rng.random() < 0.85:  # the order is optional (T-1)
            order = self._order(plan, category, start)
            if order is None:
                return False
        try:
            with transaction.atomic():  # a savepoint: a walk that does not fit leaves nothing
                self._walk(plan, category, order, start)
        except ValidationError:
            return False
        if order is not None:
            self.used_orders.add(order.pk)
        self.placed += 1
        return True

    def _walk(self, plan: Plan, category: str, order: Order | None, start: datetime) -> None:
        rng = self.rng
        with backdated(start):
            ticket = services.open_ticket(
                self.shop,
                actor=self.staff,
                category=category,
                demand=rng.choice(DEMANDS[category]),
                order=order,
                attachments=[evidence_image(rng, "complaint.png")] if rng.random() < 0.3 else [],
            )
        at = start
        for step, gap in plan.steps:
            at = at + timedelta(hours=gap * rng.uniform(0.9, 1.0))
            if at >= self.now:
                raise ValidationError("the walk ran into the future")
            if step == "submit" and ticket.due_at and at > ticket.due_at and plan.key != "overdue_answered":
                raise ValidationError("would be overdue first")
            with backdated(at.replace(microsecond=0)):
                if plan.key == "overdue_answered" and step == "submit":
                    _escalate_one(ticket)  # the episode is escalated before the late answer
                ticket = self._step(step, ticket, category) or ticket
            ticket.refresh_from_db()

    def _step(self, step: str, ticket: Ticket, category: str) -> Ticket | None:
        rng = self.rng
        actor = self.actors[0] if rng.random() < 0.8 else self.actors[-1]
        if step == "submit":
            return services.submit_result(
                ticket,
                actor=actor,
                text=RESULTS[category],
                attachments=[evidence_image(rng, "proof.png")] if rng.random() < 0.4 else [],
            )
        if step == "reject":
            return services.review_result(
                ticket, actor=self.staff, approve=False, reason=rng.choice(REJECT_REASONS)
            )
        if step in ("approve", "approve_malicious"):
            liability = None
            if category == C.COMPLAINT:
                liability = (
                    Liability.MALICIOUS if step == "approve_malicious" else weighted(rng, LIABILITIES[:3])
                )
            return services.review_result(
                ticket, actor=self.staff, approve=True, reason=APPROVE_NOTE, liability=liability
            )
        if step == "urge_tracking":
            carrier = weighted(rng, shop_spec(self.shop.code).carriers)
            return services.answer_with_tracking(
                ticket, actor=actor, carrier=carrier, tracking_no=tracking_number(carrier, rng)
            )
        if step == "urge_ship_time":
            from django.utils import timezone

            ship_at = timezone.localtime() + timedelta(hours=rng.choice((20, 26, 30)))
            return services.answer_with_ship_time(
                ticket, actor=actor, ship_at=ship_at, coupon=rng.choice(("", "5 元无门槛优惠券"))
            )
        if step == "urge_out_of_stock":
            return services.answer_with_refund(
                ticket, actor=actor, coupon=rng.choice(("", "10 元店铺优惠券"))
            )
        raise ValueError(step)


# ---- the simulator: platform staff raise new tickets from buyers' complaints


@register_action("tickets.staff_raise", order=85)
def simulate_tickets(tick: TickContext) -> None:
    """Now and then platform staff raise a ticket on a demo shop (an urge on an order still to ship)."""
    rng = tick.rng
    if rng.random() > 0.15:
        return
    staff = _platform_user()
    if staff is None:
        return
    urge = rng.random() < 0.5
    statuses = (OrderStatus.TO_SHIP,) if urge else (OrderStatus.SHIPPED, OrderStatus.RECEIVED)
    category = (
        C.URGE_SHIPMENT if urge else rng.choice((C.LOGISTICS, C.QUALITY, C.REFUND, C.COMPLAINT, C.OTHER))
    )
    for order in tick.pick(tick.orders(*statuses), 1):
        tick.attempt(
            _("平台客服发起服务单：订单 %(no)s（%(category)s）")
            % {"no": order.order_no, "category": TicketCategory(category).label},
            services.open_ticket,
            order.merchant,
            actor=staff,
            category=category,
            demand=rng.choice(DEMANDS[category]),
            order=order,
        )
