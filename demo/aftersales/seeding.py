"""Seeding cases: each scenario placed on a suitable item and walked through the services, backdated."""

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
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales import services
from aftersales.exceptions import GatewayError
from aftersales.models import AfterSaleCase, AftersalesSettings, AutoRefundRule
from aftersales.tasks import run_deadlines
from aftersales.transitions import CaseStatus, CaseType, Reason, ShippingStage
from demo.aftersales.plans import ARBITRATIONS, EX, FIRST_PASS, RO, SCENARIOS, Scenario, plan_timeline
from demo.aftersales.wording import (
    ARBITRATION_NOTES,
    BUYER_MESSAGES,
    DELAY_REASONS,
    ESCALATE_REASONS,
    MERCHANT_MESSAGES,
    PROPOSALS,
    REFUSE_RETURN_REASONS,
    REJECT_REASONS,
    REVISED_PROPOSALS,
    describe,
)
from demo.registry import SeedContext, backdated, register_seeder
from demo.shops import shop_actors, shop_spec, tracking_number, weighted
from merchants.kernel.scoping import BUYER, PLATFORM_GROUP
from merchants.models import Merchant, OrderEvent, OrderItem
from merchants.transitions import Carrier, OrderStatus

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
ELIGIBLE = (OrderStatus.TO_SHIP, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.RECEIVED)
RETURN_CARRIERS = ((Carrier.ZTO, 4), (Carrier.YTO, 3), (Carrier.SF, 2), (Carrier.YUNDA, 2), (Carrier.JT, 1))


# ---- helpers


def evidence_image(rng: random.Random, name: str) -> SimpleUploadedFile:
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


def pick_reason(rng: random.Random, case_type: str, shipped: bool) -> str:
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


def pick_amount(rng: random.Random, item: OrderItem) -> Decimal:
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
        timeline = plan_timeline(scenario, case_type, candidate.item, self.limits, self.rng)
        if timeline is None:
            return None
        self.gaps = timeline.gaps
        span = sum(timeline.gaps, timedelta())
        if scenario.automated and self.shop.express_refund_enabled:
            start = candidate.placed_at + timedelta(
                hours=self.rng.uniform(0.3, self.limits.express_max_hours - 0.5)
            )
            return start if candidate.earliest <= start and start + span < self.now else None
        start = self.now - timeline.age - span
        if start < candidate.earliest or (candidate.latest and start > candidate.latest):
            return None
        return start

    def _walk(self, scenario: Scenario, candidate: _Candidate, case_type: str, start: datetime) -> None:
        rng = self.rng
        item = candidate.item
        reason = pick_reason(rng, case_type, candidate.shipped)
        said = describe(rng, reason, item)  # fits the product; a photo exactly when the text says so
        at = start.replace(microsecond=0)
        with backdated(at):
            case = services.open_case(
                item,
                type=case_type,
                reason=reason,
                amount=pick_amount(rng, item),
                description=said.text,
                attachments=[evidence_image(rng, "photo.png")] if said.photo else [],
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
        case.refresh_from_db(fields=["deadline_at"])
        if case.deadline_at is not None and case.deadline_at <= self.now:
            raise _Misfit("the case would sit past its deadline")  # a plan the sweep would overtake

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
                attachments=[evidence_image(rng, "check.png")] if rng.random() < 0.5 else [],
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
        if action == "revise_proposal":
            case.refresh_from_db()
            amount = max(CENT, (case.amount * Decimal("0.6")).quantize(CENT))
            return services.revise_proposal(
                case,
                actor=actor,
                type=case.type,
                amount=amount,
                text=rng.choice(REVISED_PROPOSALS).format(amount=amount),
            )
        if action == "withdraw_proposal":
            return services.withdraw_proposal(case, actor=actor)
        if action == "accept":
            return services.accept_proposal(case)
        if action == "ship_return":
            carrier = weighted(rng, RETURN_CARRIERS)
            return services.buyer_ship_return(
                case, carrier=carrier, tracking_no=tracking_number(carrier, rng)
            )
        if action == "confirm_return":
            case.refresh_from_db()
            if (
                case.return_shipped_at and rng.random() < 0.7
            ):  # the logistics feed said when it was signed for
                now = timezone.now()
                signed = case.return_shipped_at + (now - case.return_shipped_at) * rng.uniform(0.5, 0.95)
                services.record_return_signed(case, signed_at=min(signed, now))
            return services.confirm_return(case, actor=actor)
        if action == "refuse_return":
            return services.refuse_return(
                case,
                actor=actor,
                reason=rng.choice(REFUSE_RETURN_REASONS),
                attachments=[evidence_image(rng, "received.png")],
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
        if action in ARBITRATIONS:
            outcome, liability = ARBITRATIONS[action]
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
            return services.upload_voucher(case, actor=actor, file=evidence_image(rng, "voucher.png"))
        if action == "cancel":
            return services.cancel(case)
        if action == "timeout":
            run_deadlines()
            return None
        if action == "msg_merchant":
            services.add_message(case, actor=actor, text=rng.choice(MERCHANT_MESSAGES))
            return None
        if action == "msg_buyer":
            services.add_message(case, actor=BUYER, text=rng.choice(BUYER_MESSAGES))
            return None
        if action == "delay_report":
            services.file_delay_report(
                case,
                actor=actor,
                reason=rng.choice(DELAY_REASONS),
                delay_until=timezone.now() + timedelta(days=rng.randint(2, 6)),
                images=[evidence_image(rng, "proof.png")],
            )
            return None
        if action == "delay_approve":
            report = case.delay_reports.get(status="pending")
            services.decide_delay_report(report, actor=self.staff, approve=True, note="情况属实，同意报备。")
            return None
        raise ValueError(action)


class _Misfit(Exception):
    """The scenario does not fit this item (automation fired, a deadline would be in the future…)."""
