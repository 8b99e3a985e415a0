"""After-sales demo data and simulator, plugged into merchants.demo's registries (found by autodiscovery).

`seed_cases` walks a few hundred cases through the services — every state, every type, express refunds,
custom rules, negotiations, arbitrations, delay reports, cod vouchers, timeouts handled by the real
deadline sweep — each step at its own backdated time (time_machine), so every timeline is complete and
every deadline is real. `simulate_*` are the simulator's after-sales moves (buyers and unattended shops).
"""

from __future__ import annotations

import io
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import F
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales import services
from aftersales.exceptions import GatewayError
from aftersales.models import AfterSaleCase, AftersalesSettings, AutoRefundRule
from aftersales.tasks import run_deadlines
from aftersales.transitions import (
    OPEN_STATES,
    ArbitrationOutcome,
    CaseStatus,
    CaseType,
    Liability,
    Reason,
    ShippingStage,
)
from demo.registry import SeedContext, TickContext, backdated, register_action, register_seeder
from demo.shops import shop_actors, shop_spec, tracking_number, weighted
from merchants.kernel.scoping import PLATFORM_GROUP
from merchants.models import Merchant, OrderEvent, OrderItem
from merchants.transitions import Carrier, OrderStatus, PaymentMethod

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
ELIGIBLE = (OrderStatus.TO_SHIP, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.RECEIVED)
RETURN_CARRIERS = ((Carrier.ZTO, 4), (Carrier.YTO, 3), (Carrier.SF, 2), (Carrier.YUNDA, 2), (Carrier.JT, 1))

# ---- what buyers, merchants and staff write (realistic, varied)

DESCRIPTIONS = {
    Reason.QUALITY: (
        "收到后发现机身侧面有一道明显划痕，包装完好，应该是出厂就有的。",
        "用了两天就充不进电了，换了几根线和插头都一样。",
        "右耳耳机没有声音，按说明书重置过也不行。",
        "开机十分钟机身明显发烫，还有异响。",
        "茶叶罐密封条是坏的，里面的茶叶有点受潮结块。",
        "拉链拉了两次就坏了，缝线也开了。",
    ),
    Reason.NOT_AS_DESCRIBED: (
        "实物颜色比详情页偏暗很多，和图片差距明显。",
        "详情页写的是 256G，收到的是 128G 版本。",
        "描述说是纯棉，摸起来明显是化纤的。",
        "尺寸和详情页标的不一样，短了三厘米。",
    ),
    Reason.COUNTERFEIT: (
        "包装上的防伪码查询显示未激活，怀疑不是正品。",
        "和专柜买的对比，logo 印刷和做工都不一样。",
    ),
    Reason.WRONG_ITEM: (
        "下单的是白色，收到的是黑色。",
        "少发了一根数据线，包装里只有主机。",
        "拍的是 250g 装，发来的是 100g 装。",
    ),
    Reason.LOGISTICS: (
        "物流显示已签收，但我本人没有收到，驿站也查不到。",
        "外箱破损严重，里面的商品被压坏了。",
        "下单一周了还没发货，不想等了。",
    ),
    Reason.OUT_OF_STOCK: (
        "客服说暂时缺货，要等半个月，不想等了。",
        "商家通知缺货无法发货，申请退款。",
    ),
    Reason.NO_REASON: (
        "买重复了，商品未拆封，申请七天无理由退货。",
        "尺码不合适，想退掉重新买。",
        "家里人已经买了一个，这个用不上了。",
        "收到后觉得不太喜欢，吊牌都在。",
    ),
    Reason.OTHER: (
        "拍错了规格，麻烦处理一下。",
        "地址写错了，申请退款后重新下单。",
    ),
}
REJECT_REASONS = (
    "商品已拆封使用，影响二次销售，不符合七天无理由退货条件。",
    "买家上传的照片看不出质量问题，请补充清晰的细节图。",
    "发货前已拍照验货，商品完好，划痕应为使用中造成。",
    "该商品为定制商品，详情页已注明不支持无理由退货。",
)
PROPOSALS = (
    "商品有轻微瑕疵，给您补偿 {amount} 元，商品无需退回，您看可以吗？",
    "可以部分退款 {amount} 元，您继续使用，后续有问题随时联系我们。",
    "建议您退回商品，我们收到后全额退款，运费由我们承担。",
)
REFUSE_RETURN_REASONS = (
    "退回的商品缺少原装配件和包装盒，影响二次销售。",
    "退回的商品与我店发出的商品序列号不一致。",
    "退回商品有明显使用痕迹和人为损坏。",
)
ESCALATE_REASONS = (
    "商家拒绝售后，但商品确实有质量问题，请平台介入。",
    "已经提供了照片，商家还是不同意，申请客服处理。",
    "",
)
ARBITRATION_NOTES = {
    ArbitrationOutcome.REFUND: "根据买家提供的照片，商品存在质量问题，支持买家退款。",
    ArbitrationOutcome.REJECT: "商家已提供发货前验货视频，商品完好，驳回买家申请。",
}
MERCHANT_MESSAGES = (
    "您好，麻烦提供一下商品问题部位的清晰照片，我们尽快处理。",
    "亲，已收到您的申请，仓库核实后马上给您答复。",
    "退货请寄到店铺售后地址，包裹里请附上订单号。",
)
BUYER_MESSAGES = (
    "照片已经上传了，请尽快处理，谢谢。",
    "请问什么时候可以退款？",
    "快递已经寄出了，麻烦注意查收。",
)
DELAY_REASONS = (
    "春节期间快递停运，退货无法按时签收入库。",
    "仓库搬迁，退货验收需延后三天。",
    "商品需返厂检测，检测报告预计五个工作日出具。",
)

# ---- scenarios: (weight, case types, payment needed, steps). Actions run in order; "timeout" lets the
# real deadline sweep act when the state's deadline passes; "pay" runs the refund as the worker would.

ONLINE, COD, ANY = PaymentMethod.ONLINE, PaymentMethod.COD, None
RO, RR, EX = CaseType.REFUND_ONLY, CaseType.RETURN_REFUND, CaseType.EXCHANGE


@dataclass(frozen=True)
class Scenario:
    weight: int
    types: tuple[str, ...]
    payment: str | None
    steps: tuple[str, ...]
    automated: bool = False  # approved at opening by express refund or a shop rule


SCENARIOS = (
    # waiting for the merchant
    Scenario(10, (RO, RR), ANY, ("open",)),
    Scenario(3, (RR, EX), ANY, ("open", "msg_merchant", "msg_buyer")),
    Scenario(2, (RO, RR), ANY, ("open", "delay_report")),
    Scenario(4, (RO, RR), ANY, ("open", "propose")),
    Scenario(4, (RO, RR, EX), ANY, ("open", "reject")),
    # waiting for goods
    Scenario(6, (RR, EX), ANY, ("open", "approve")),
    Scenario(6, (RR, EX), ANY, ("open", "approve", "msg_merchant", "ship_return")),
    Scenario(1, (RR,), ANY, ("open", "approve", "ship_return", "delay_report", "delay_approve")),
    Scenario(2, (RO,), COD, ("open", "approve")),
    Scenario(2, (EX,), ANY, ("open", "approve", "ship_return", "confirm_return")),
    Scenario(2, (EX,), ANY, ("open", "approve", "ship_return", "confirm_return", "reship")),
    # platform
    Scenario(3, (RO, RR), ANY, ("open", "reject", "escalate")),
    Scenario(2, (RR,), ANY, ("open", "approve", "ship_return", "refuse_return")),
    Scenario(1, (RO, RR), ANY, ("open", "reject", "escalate", "timeout")),
    # finished
    Scenario(10, (RO,), ONLINE, ("open", "approve", "pay")),
    Scenario(8, (RR,), ONLINE, ("open", "approve", "ship_return", "confirm_return", "pay")),
    Scenario(3, (RO,), ONLINE, ("open", "propose", "accept", "pay")),
    Scenario(3, (RO,), ONLINE, ("open", "timeout", "pay")),
    Scenario(3, (RO,), ONLINE, ("open", "pay"), automated=True),
    Scenario(2, (RO,), COD, ("open", "approve", "voucher")),
    Scenario(1, (RO,), COD, ("open", "approve", "timeout")),
    Scenario(2, (RO, RR), ONLINE, ("open", "reject", "escalate", "arbitrate_refund", "pay")),
    Scenario(1, (RR,), ONLINE, ("open", "approve", "ship_return", "timeout", "pay")),
    Scenario(
        3, (EX,), ANY, ("open", "approve", "ship_return", "confirm_return", "reship", "confirm_exchange")
    ),
    Scenario(1, (EX,), ANY, ("open", "approve", "ship_return", "confirm_return", "reship", "timeout")),
    Scenario(3, (RO, RR), ANY, ("open", "reject", "timeout")),
    Scenario(2, (RR, EX), ANY, ("open", "approve", "timeout")),
    Scenario(2, (RO, RR), ANY, ("open", "reject", "escalate", "arbitrate_reject")),
    Scenario(4, (RO, RR, EX), ANY, ("open", "cancel")),
    Scenario(2, (RO, RR), ANY, ("open", "reject", "cancel")),
    # a refund the gateway keeps refusing: flagged for platform staff
    Scenario(1, (RO,), ONLINE, ("open", "approve", "fail_refund")),
)

# The first pass places the scenarios that need scarce items (cod orders, fresh unshipped orders, shipped
# items for exchanges) while there are still many candidates to choose from.
FIRST_PASS = tuple(sorted(SCENARIOS, key=lambda s: (s.payment != COD, not s.automated, s.types != (EX,))))

# Hours between a step and the one before it (lo, hi); "timeout" is computed from the deadline.
GAPS = {
    "approve": (0.3, 40),
    "reject": (1, 44),
    "propose": (1, 30),
    "accept": (0.5, 30),
    "ship_return": (3, 100),
    "confirm_return": (20, 120),
    "refuse_return": (20, 120),
    "reship": (2, 40),
    "confirm_exchange": (24, 200),
    "escalate": (1, 100),
    "arbitrate_refund": (2, 60),
    "arbitrate_reject": (2, 60),
    "pay": (0.005, 0.05),
    "voucher": (2, 40),
    "cancel": (0.5, 60),
    "msg_merchant": (0.2, 12),
    "msg_buyer": (0.2, 20),
    "delay_report": (1, 30),
    "delay_approve": (1, 20),
    "fail_refund": (0.005, 0.05),
}


def _state_after(action: str, state: str, case_type: str, payment: str) -> str:
    """The state a step leads to (to plan the timeline before walking it)."""
    paid_online = CaseStatus.REFUNDING if payment == ONLINE else CaseStatus.AWAITING_VOUCHER
    return {
        "open": CaseStatus.PENDING,
        "approve": paid_online if case_type == RO else CaseStatus.AWAITING_RETURN,
        "accept": paid_online if case_type == RO else CaseStatus.AWAITING_RETURN,
        "propose": CaseStatus.NEGOTIATING,
        "reject": CaseStatus.REJECTED,
        "escalate": CaseStatus.ARBITRATION,
        "refuse_return": CaseStatus.ARBITRATION,
        "ship_return": CaseStatus.RETURN_IN_TRANSIT,
        "confirm_return": CaseStatus.RESHIPPING if case_type == EX else paid_online,
        "reship": CaseStatus.EXCHANGE_SHIPPED,
        "confirm_exchange": CaseStatus.EXCHANGED,
        "pay": CaseStatus.REFUNDED,
        "voucher": CaseStatus.REFUNDED,
        "cancel": CaseStatus.CANCELLED,
        "arbitrate_refund": paid_online,
        "arbitrate_reject": CaseStatus.CLOSED,
        "timeout": {
            CaseStatus.PENDING: paid_online if case_type == RO else CaseStatus.AWAITING_RETURN,
            CaseStatus.REJECTED: CaseStatus.CLOSED,
            CaseStatus.AWAITING_RETURN: CaseStatus.CLOSED,
            CaseStatus.RETURN_IN_TRANSIT: CaseStatus.RESHIPPING if case_type == EX else paid_online,
            CaseStatus.AWAITING_VOUCHER: CaseStatus.REFUNDED,
            CaseStatus.EXCHANGE_SHIPPED: CaseStatus.EXCHANGED,
            CaseStatus.ARBITRATION: CaseStatus.ARBITRATION,
        }.get(state, state),
    }.get(action, state)


def _periods(limits: AftersalesSettings) -> dict[str, timedelta]:
    return {
        CaseStatus.PENDING: timedelta(hours=limits.merchant_response_hours),
        CaseStatus.NEGOTIATING: timedelta(hours=limits.negotiation_hours),
        CaseStatus.REJECTED: timedelta(days=limits.rejected_idle_days),
        CaseStatus.AWAITING_RETURN: timedelta(days=limits.buyer_return_days),
        CaseStatus.RETURN_IN_TRANSIT: timedelta(days=limits.merchant_receipt_days),
        CaseStatus.AWAITING_VOUCHER: timedelta(hours=limits.voucher_hours),
        CaseStatus.EXCHANGE_SHIPPED: timedelta(days=limits.exchange_delivery_days),
        CaseStatus.ARBITRATION: timedelta(hours=limits.arbitration_hours),
    }


# ---- helpers


def _image(rng: random.Random, name: str) -> SimpleUploadedFile:
    """A small real PNG (evidence photos, vouchers) that passes merchants.kernel.uploads."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (96, 72), tuple(rng.randrange(120, 240) for _i in range(3)))
    draw = ImageDraw.Draw(image)
    for _i in range(4):
        x, y = rng.randrange(96), rng.randrange(72)
        draw.rectangle((x, y, x + rng.randrange(8, 30), y + rng.randrange(4, 12)), fill=(90, 90, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _reason(rng: random.Random, case_type: str, shipped: bool) -> str:
    if not shipped:
        return weighted(
            rng, ((Reason.OUT_OF_STOCK, 3), (Reason.LOGISTICS, 2), (Reason.NO_REASON, 2), (Reason.OTHER, 1))
        )
    if case_type == EX:
        return weighted(rng, ((Reason.QUALITY, 3), (Reason.WRONG_ITEM, 3), (Reason.NOT_AS_DESCRIBED, 2)))
    return weighted(
        rng,
        (
            (Reason.NO_REASON, 4),
            (Reason.QUALITY, 4),
            (Reason.NOT_AS_DESCRIBED, 2),
            (Reason.WRONG_ITEM, 1),
            (Reason.COUNTERFEIT, 1),
            (Reason.LOGISTICS, 1),
        ),
    )


def _amount(rng: random.Random, item: OrderItem) -> Decimal:
    refundable = item.refundable_amount()
    if rng.random() < 0.75 or refundable < Decimal("2.00"):
        return refundable
    return max(CENT, (refundable * Decimal(str(round(rng.uniform(0.3, 0.8), 2)))).quantize(CENT))


def _platform_user():
    User = get_user_model()
    return (
        User.objects.filter(username="staff").first()
        or User.objects.filter(groups__name=PLATFORM_GROUP, is_active=True).order_by("pk").first()
    )


@dataclass
class _Candidate:
    item: OrderItem
    earliest: datetime  # after the order's last event
    latest: datetime | None  # the A-2 window, for received orders
    shipped: bool
    payment: str
    placed_at: datetime


def _candidates(shop: Merchant, now: datetime, limits: AftersalesSettings) -> list[_Candidate]:
    items = list(
        OrderItem.objects.filter(order__merchant=shop, order__status__in=ELIGIBLE, cases__isnull=True)
        .select_related("order", "product")
        .order_by("pk")
    )
    last_event = {}
    for order_id, at in OrderEvent.objects.filter(order__merchant=shop).values_list("order_id", "created_at"):
        last_event[order_id] = max(at, last_event.get(order_id, at))
    found = []
    for item in items:
        order = item.order
        earliest = last_event.get(order.pk, order.placed_at) + timedelta(minutes=10)
        latest = None
        if order.status == OrderStatus.RECEIVED and order.received_at:
            latest = order.received_at + timedelta(days=limits.window_days) - timedelta(hours=2)
        if earliest < now - timedelta(hours=1) and item.refundable_amount() > 0:
            found.append(
                _Candidate(
                    item, earliest, latest, item.package_id is not None, order.payment_method, order.placed_at
                )
            )
    return found


# ---- seeding


@register_seeder("aftersales.rules", order=45)
def seed_rules(ctx: SeedContext) -> dict[str, int]:
    """A custom auto-refund rule for 江南茶舍 (A-12); 晨光数码 has express refund on (A-11) already."""
    created = 0
    for shop in ctx.shops():
        if shop.code != "jiangnan-tea":
            continue
        _rule, was_created = AutoRefundRule.objects.get_or_create(
            merchant=shop,
            name="未发货小额仅退款秒退",
            defaults={
                "priority": 1,
                "case_types": [CaseType.REFUND_ONLY],
                "shipping_stages": [ShippingStage.NOT_SHIPPED],
                "max_amount": Decimal("60.00"),
            },
        )
        created += was_created
    return {"rules": created}


@register_seeder("aftersales.cases", order=50)
def seed_cases(ctx: SeedContext) -> dict[str, int]:
    """A few hundred cases over every state and type, each walked through the services at its own time."""
    limits = AftersalesSettings.load()
    staff = _platform_user()
    summary = {"cases": 0, "skipped_shops": 0, "unplaced": 0}
    shops = ctx.shops()
    total = max(60, min(600, round(ctx.size * 0.15)))
    cursor = 0  # one pass over every scenario first (across shops, scarce items first), then by weight
    for shop in shops:
        if AfterSaleCase.objects.filter(merchant=shop).exists():
            summary["skipped_shops"] += 1
            continue
        rng = random.Random(f"{ctx.seed}:aftersales:{shop.code}")
        actors = shop_actors(shop)
        if not actors:
            continue
        candidates = _candidates(shop, ctx.now, limits)
        rng.shuffle(candidates)
        wanted = max(10, round(total * shop_spec(shop.code).share))
        walker = _Walker(shop, actors, staff, rng, ctx.now, limits)
        with transaction.atomic():
            for _index in range(wanted):
                if cursor < len(FIRST_PASS):
                    scenario = FIRST_PASS[cursor]
                else:
                    scenario = rng.choices(SCENARIOS, weights=[s.weight for s in SCENARIOS])[0]
                cursor += 1
                if walker.place(scenario, candidates):
                    summary["cases"] += 1
                else:
                    summary["unplaced"] += 1
        ctx.log(_("%(shop)s：已生成 %(count)d 个售后单") % {"shop": shop.name, "count": walker.placed})
    return summary


class _Walker:
    """Places one scenario on a suitable item and walks it, each step at its planned (past) time."""

    def __init__(self, shop, actors, staff, rng, now, limits):
        self.shop, self.actors, self.staff, self.rng = shop, actors, staff, rng
        self.now, self.limits = now, limits
        self.periods = _periods(limits)
        self.placed = 0
        self.automation = (
            shop.express_refund_enabled or AutoRefundRule.objects.filter(merchant=shop, enabled=True).exists()
        )

    def place(self, scenario: Scenario, candidates: list[_Candidate]) -> bool:
        if self.staff is None and any(s.startswith(("arbitrate", "delay_approve")) for s in scenario.steps):
            return False
        for attempt, candidate in enumerate(list(candidates)):
            if attempt > 150:
                return False
            case_type = self._type_for(scenario, candidate)
            if case_type is None:
                continue
            start = self._start(scenario, candidate, case_type)
            if start is None:
                continue
            try:
                with transaction.atomic():  # a savepoint: a scenario that does not fit leaves nothing
                    self._walk(scenario, candidate, case_type, start)
            except (ValidationError, _Misfit) as exc:
                logger.debug(
                    "demo scenario %s did not fit item %s: %s", scenario.steps, candidate.item.pk, exc
                )
                continue
            candidates.remove(candidate)
            self.placed += 1
            return True
        return False

    def _type_for(self, scenario: Scenario, candidate: _Candidate) -> str | None:
        if scenario.payment and candidate.payment != scenario.payment:
            return None
        if scenario.automated and (candidate.shipped or not self.automation):
            return None
        types = [t for t in scenario.types if t == RO or candidate.shipped]
        return self.rng.choice(types) if types else None

    def _start(self, scenario: Scenario, candidate: _Candidate, case_type: str) -> datetime | None:
        """When the case opens, so the last step lands in the past and a waiting state's deadline ahead."""
        rng, state, span = self.rng, CaseStatus.PENDING, timedelta()
        self.gaps = []
        for action in scenario.steps[1:]:
            if action == "timeout":
                gap = self.periods[state] + timedelta(minutes=rng.uniform(1, 30))
            else:
                gap = timedelta(hours=rng.uniform(*GAPS[action]))
            self.gaps.append(gap)
            span += gap
            state = _state_after(action, state, case_type, candidate.payment)
        if scenario.automated and self.shop.express_refund_enabled:
            start = candidate.placed_at + timedelta(
                hours=rng.uniform(0.3, self.limits.express_max_hours - 0.5)
            )
            return start if candidate.earliest <= start and start + span < self.now else None
        if state in self.periods:  # still waiting: the deadline is still ahead, sometimes due soon
            age = self.periods[state] * rng.uniform(0.05, 0.95)
        elif state == CaseStatus.REFUNDING:
            age = timedelta(minutes=rng.uniform(2, 30))
        else:
            age = timedelta(hours=rng.uniform(1, 24 * 20))
        start = self.now - age - span
        if start < candidate.earliest or (candidate.latest and start > candidate.latest):
            return None
        return start

    def _walk(self, scenario: Scenario, candidate: _Candidate, case_type: str, start: datetime) -> None:
        rng = self.rng
        item = candidate.item
        reason = _reason(rng, case_type, candidate.shipped)
        at = start.replace(microsecond=0)
        with backdated(at):
            case = services.open_case(
                item,
                type=case_type,
                reason=reason,
                amount=_amount(rng, item),
                description=rng.choice(DESCRIPTIONS[reason]),
                attachments=[_image(rng, "photo.png")]
                if reason in (Reason.QUALITY, Reason.NOT_AS_DESCRIBED, Reason.WRONG_ITEM)
                else [],
            )
        if (case.status != CaseStatus.PENDING) != scenario.automated:
            raise _Misfit("automation did not do what the scenario needs")
        for action, gap in zip(scenario.steps[1:], self.gaps, strict=True):
            at = at + gap
            if action == "timeout":
                case.refresh_from_db()
                if case.deadline_at is None:
                    raise _Misfit("no deadline to pass")
                at = max(at, case.deadline_at + timedelta(minutes=1))
            if at >= self.now:
                raise _Misfit("ran into the future")
            with backdated(at.replace(microsecond=0)):
                case = self._step(action, case) or case

    def _step(self, action: str, case: AfterSaleCase):
        rng = self.rng
        actor = self.actors[0] if rng.random() < 0.8 else self.actors[-1]
        if action == "approve":
            return services.approve(case, actor=actor)
        if action == "reject":
            return services.reject(
                case,
                actor=actor,
                reason=rng.choice(REJECT_REASONS),
                attachments=[_image(rng, "check.png")] if rng.random() < 0.5 else [],
            )
        if action == "propose":
            case.refresh_from_db()
            amount = max(CENT, (case.amount * Decimal("0.4")).quantize(CENT))
            return services.propose(
                case,
                actor=actor,
                type=case.type,
                amount=amount,
                text=rng.choice(PROPOSALS).format(amount=amount),
            )
        if action == "accept":
            return services.accept_proposal(case)
        if action == "ship_return":
            carrier = weighted(rng, RETURN_CARRIERS)
            return services.buyer_ship_return(
                case, carrier=carrier, tracking_no=tracking_number(carrier, rng)
            )
        if action == "confirm_return":
            return services.confirm_return(case, actor=actor)
        if action == "refuse_return":
            return services.refuse_return(
                case,
                actor=actor,
                reason=rng.choice(REFUSE_RETURN_REASONS),
                attachments=[_image(rng, "received.png")],
            )
        if action == "reship":
            carrier = weighted(rng, shop_spec(self.shop.code).carriers)
            return services.reship(
                case, actor=actor, carrier=carrier, tracking_no=tracking_number(carrier, rng)
            )
        if action == "confirm_exchange":
            return services.confirm_exchange(case)
        if action == "escalate":
            return services.escalate(case, reason=rng.choice(ESCALATE_REASONS))
        if action in ("arbitrate_refund", "arbitrate_reject"):
            outcome = ArbitrationOutcome.REFUND if action == "arbitrate_refund" else ArbitrationOutcome.REJECT
            liability = Liability.MERCHANT if outcome == ArbitrationOutcome.REFUND else Liability.BUYER
            return services.arbitrate(
                case, actor=self.staff, outcome=outcome, liability=liability, note=ARBITRATION_NOTES[outcome]
            )
        if action == "pay":
            return services.pay_refund(case.pk)
        if action == "fail_refund":
            with override_settings(SHOUHOU_REFUND_GATEWAY="aftersales.gateway.FailingGateway"):
                for _attempt in range(self.limits.refund_max_attempts):
                    try:
                        services.pay_refund(case.pk)
                    except GatewayError:
                        continue
            return None
        if action == "voucher":
            return services.upload_voucher(case, actor=actor, file=_image(rng, "voucher.png"))
        if action == "cancel":
            return services.cancel(case)
        if action == "timeout":
            run_deadlines()
            return None
        if action == "msg_merchant":
            services.add_message(case, actor=actor, text=rng.choice(MERCHANT_MESSAGES))
            return None
        if action == "msg_buyer":
            services.add_message(case, actor=None, text=rng.choice(BUYER_MESSAGES))
            return None
        if action == "delay_report":
            services.file_delay_report(
                case,
                actor=actor,
                reason=rng.choice(DELAY_REASONS),
                delay_until=timezone.now() + timedelta(days=rng.randint(2, 6)),
                images=[_image(rng, "proof.png")],
            )
            return None
        if action == "delay_approve":
            report = case.delay_reports.get(status="pending")
            services.decide_delay_report(report, actor=self.staff, approve=True, note="情况属实，同意报备。")
            return None
        raise ValueError(action)


class _Misfit(Exception):
    """The scenario does not fit this item (automation fired, a deadline would be in the future…)."""


# ---- the simulator (one tick every few seconds in `make demo`)


def _open_cases(tick: TickContext, *statuses: str):
    return AfterSaleCase.objects.filter(merchant__in=tick.shops, status__in=statuses).order_by("-created_at")


@register_action("aftersales.buyer_requests", order=60)
def simulate_buyer_requests(tick: TickContext) -> None:
    """0–2 buyers ask for after-sales on recent orders (some qualify for express refund or a shop rule)."""
    rng = tick.rng
    recent = OrderItem.objects.filter(
        order__merchant__in=tick.shops,
        order__status__in=ELIGIBLE,
        order__placed_at__gte=timezone.now() - timedelta(days=10),
        refunded_amount__lt=F("paid_amount"),
    ).exclude(cases__status__in=OPEN_STATES)
    for item in tick.pick(recent, rng.choice((0, 0, 1, 1, 2))):
        item = OrderItem.objects.select_related("order").get(pk=item.pk)
        shipped = item.package_id is not None
        case_type = rng.choice((RO, RR, RR, EX)) if shipped else RO
        reason = _reason(rng, case_type, shipped)
        tick.attempt(
            _("买家申请售后：订单 %(no)s（%(type)s）")
            % {"no": item.order.order_no, "type": CaseType(case_type).label},
            lambda i=item, t=case_type, r=reason: services.open_case(
                i, type=t, reason=r, amount=_amount(rng, i), description=rng.choice(DESCRIPTIONS[r])
            ),
        )


@register_action("aftersales.buyer_moves", order=65)
def simulate_buyer_moves(tick: TickContext) -> None:
    """Buyers ship returns, answer proposals, escalate or revise refusals, confirm exchanges, sometimes withdraw."""
    rng = tick.rng
    for case in tick.pick(_open_cases(tick, CaseStatus.AWAITING_RETURN), rng.randint(0, 2)):
        carrier = weighted(rng, RETURN_CARRIERS)
        tick.attempt(
            _("买家寄回商品：%(no)s") % {"no": case.case_no},
            lambda c=case, k=carrier: services.buyer_ship_return(
                c, carrier=k, tracking_no=tracking_number(k, rng)
            ),
        )
    for case in tick.pick(_open_cases(tick, CaseStatus.NEGOTIATING), rng.randint(0, 1)):
        accept = rng.random() < 0.6
        tick.attempt(
            (_("买家接受协商方案：%(no)s") if accept else _("买家拒绝协商方案：%(no)s"))
            % {"no": case.case_no},
            lambda c=case, a=accept: services.accept_proposal(c) if a else services.decline_proposal(c),
        )
    for case in tick.pick(_open_cases(tick, CaseStatus.REJECTED), rng.randint(0, 1)):
        roll = rng.random()
        if roll < 0.5:
            tick.attempt(
                _("买家申请平台介入：%(no)s") % {"no": case.case_no},
                lambda c=case: services.escalate(c, reason=rng.choice(ESCALATE_REASONS)),
            )
        elif roll < 0.8:
            tick.attempt(
                _("买家修改申请：%(no)s") % {"no": case.case_no},
                lambda c=case: services.revise(c, description="已补充商品问题照片，请再看看。"),
            )
        else:
            tick.attempt(_("买家撤销申请：%(no)s") % {"no": case.case_no}, lambda c=case: services.cancel(c))
    for case in tick.pick(_open_cases(tick, CaseStatus.EXCHANGE_SHIPPED), rng.randint(0, 1)):
        tick.attempt(
            _("买家确认收到换货：%(no)s") % {"no": case.case_no}, lambda c=case: services.confirm_exchange(c)
        )
    if rng.random() < 0.2:
        for case in tick.pick(_open_cases(tick, CaseStatus.PENDING, CaseStatus.RETURN_IN_TRANSIT), 1):
            tick.attempt(
                _("买家留言：%(no)s") % {"no": case.case_no},
                lambda c=case: services.add_message(c, actor=None, text=rng.choice(BUYER_MESSAGES)),
            )


@register_action("aftersales.unattended_shops", order=70)
def simulate_unattended_shops(tick: TickContext) -> None:
    """Shops without demo logins answer their own after-sales queue."""
    rng = tick.rng
    for shop in tick.shops:
        if shop_spec(shop.code).login is not None:
            continue  # the demo users work their own queues
        actors = shop_actors(shop)
        if not actors:
            continue
        actor = actors[0]
        mine = AfterSaleCase.objects.filter(merchant=shop).order_by("created_at")
        for case in tick.pick(mine.filter(status=CaseStatus.PENDING), rng.randint(0, 2)):
            if rng.random() < 0.8:
                tick.attempt(
                    _("%(shop)s 同意售后 %(no)s") % {"shop": shop.name, "no": case.case_no},
                    lambda c=case, a=actor: services.approve(c, actor=a),
                )
            else:
                tick.attempt(
                    _("%(shop)s 拒绝售后 %(no)s") % {"shop": shop.name, "no": case.case_no},
                    lambda c=case, a=actor: services.reject(c, actor=a, reason=rng.choice(REJECT_REASONS)),
                )
        for case in tick.pick(mine.filter(status=CaseStatus.RETURN_IN_TRANSIT), rng.randint(0, 1)):
            tick.attempt(
                _("%(shop)s 确认收到退货 %(no)s") % {"shop": shop.name, "no": case.case_no},
                lambda c=case, a=actor: services.confirm_return(c, actor=a),
            )
        for case in tick.pick(mine.filter(status=CaseStatus.RESHIPPING), rng.randint(0, 1)):
            carrier = weighted(rng, shop_spec(shop.code).carriers)
            tick.attempt(
                _("%(shop)s 补发换货 %(no)s") % {"shop": shop.name, "no": case.case_no},
                lambda c=case, k=carrier, a=actor: services.reship(
                    c, actor=a, carrier=k, tracking_no=tracking_number(k, rng)
                ),
            )
        for case in tick.pick(mine.filter(status=CaseStatus.AWAITING_VOUCHER), rng.randint(0, 1)):
            tick.attempt(
                _("%(shop)s 上传退款凭证 %(no)s") % {"shop": shop.name, "no": case.case_no},
                lambda c=case, a=actor: services.upload_voucher(c, actor=a, file=_image(rng, "voucher.png")),
            )
