"""The simulator's after-sales moves (one tick every few seconds in `make demo`): buyers and unattended shops."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales import services
from aftersales.models import AfterSaleCase
from aftersales.transitions import OPEN_STATES, CaseStatus, CaseType
from demo.aftersales.plans import EX, RO, RR
from demo.aftersales.seeding import ELIGIBLE, RETURN_CARRIERS, evidence_image, pick_amount, pick_reason
from demo.aftersales.wording import BUYER_MESSAGES, ESCALATE_REASONS, REJECT_REASONS, describe
from demo.registry import TickContext, register_action
from demo.shops import shop_actors, shop_spec, tracking_number, weighted
from merchants.kernel.scoping import BUYER
from merchants.models import OrderItem


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
        reason = pick_reason(rng, case_type, shipped)
        said = describe(rng, reason, item)  # fits the product; a photo exactly when the text says so
        tick.attempt(
            _("买家申请售后：订单 %(no)s（%(type)s）")
            % {"no": item.order.order_no, "type": CaseType(case_type).label},
            lambda i=item, t=case_type, r=reason, said=said: services.open_case(
                i,
                type=t,
                reason=r,
                amount=pick_amount(rng, i),
                description=said.text,
                attachments=[evidence_image(rng, "photo.png")] if said.photo else [],
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
                lambda c=case: services.revise(c, description="已补充说明商品问题，请再看看。"),
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
                lambda c=case: services.add_message(c, actor=BUYER, text=rng.choice(BUYER_MESSAGES)),
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
                lambda c=case, a=actor: services.upload_voucher(
                    c, actor=a, file=evidence_image(rng, "voucher.png")
                ),
            )
