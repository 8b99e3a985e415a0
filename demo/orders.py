"""Orders in the demo: about `size` orders over every state, and the simulator's buyers and shops.

Each seeded order is planned (when it was placed, paid, shipped, received or cancelled) from the
platform's own periods (PlatformSettings: the unpaid limit, auto-receipt) and the shops' ship promise,
then walked through the services at each step's own time (`backdated`), so every history is complete.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from demo.registry import SeedContext, TickContext, backdated, register_action, register_seeder
from demo.shops import (
    SHOP_CODES,
    SHOPS,
    Buyer,
    make_buyer,
    shop_actors,
    shop_catalog,
    shop_spec,
    spu_table,
    tracking_number,
    weighted,
)
from merchants import services
from merchants.models import Merchant, Order, PlatformSettings, Product, Sku
from merchants.services import BUYER, ItemLine
from merchants.transitions import OrderStatus, PaymentMethod

CENT = Decimal("0.01")


def _order_no(at: datetime, shop_index: int, serial: str) -> str:
    # 18 digits like the marketplaces' numbers; seeded serials start 0-8, the simulator's with 9.
    return f"{timezone.localtime(at):%y%m%d%H%M}{shop_index}{serial}"


def _lines(
    shop: Merchant, catalog: list[tuple[Product, list[Sku]]], rng: random.Random, count: int
) -> list[ItemLine]:
    """`count` distinct products with a sku when the product has specs; Decimal amounts after coupons."""
    prices = {spu_id: row.price for spu_id, row in spu_table(shop.code).items()}
    lines = []
    for product, skus in rng.sample(catalog, k=min(count, len(catalog))):
        sku = rng.choice(skus) if skus else None
        quantity = weighted(rng, ((1, 80), (2, 15), (3, 5)))
        unit = sku.price if sku else prices.get(product.spu_id, Decimal("99.00"))
        amount = unit * quantity
        if rng.random() < 0.3:  # a shop coupon, at most a fifth of the line
            amount -= min(Decimal(rng.choice((3, 5, 10, 20))), (amount / 5).quantize(CENT))
        lines.append(ItemLine(product=product, sku=sku, quantity=quantity, paid_amount=amount.quantize(CENT)))
    return lines


# How the seeded orders spread over the states (received absorbs the rounding).
STATE_WEIGHTS = {
    OrderStatus.UNPAID: 0.03,
    OrderStatus.AWAITING_CONFIRMATION: 0.025,
    OrderStatus.TO_SHIP: 0.09,
    OrderStatus.PARTIALLY_SHIPPED: 0.035,
    OrderStatus.SHIPPED: 0.17,
    OrderStatus.CANCELLED: 0.13,
    OrderStatus.RECEIVED: 0.52,
}
SHIP_PROMISE = timedelta(hours=48)
BUYER_CANCEL_REASONS = ("不想要了", "信息填写错误，重新下单", "商品降价了，重新拍", "重复下单", "地址写错了")
COD_CANCEL_REASONS = ("电话联系买家，确认不需要了", "收货地址不支持货到付款", "买家电话多次无人接听")
COD_TO_SHIP_CANCEL_REASONS = ("商品缺货，与买家协商取消", "买家要求改为在线支付重新下单")


@dataclass
class _Plan:
    """One order's life: placed at `placed_at`, then `steps` of (when, action, argument)."""

    state: str
    placed_at: datetime
    payment: str
    item_count: int
    steps: list[tuple[datetime, str, object]] = field(default_factory=list)


def _hours(value: float) -> timedelta:
    return timedelta(hours=value)


def _plan(
    state: str, index: int, rng: random.Random, now: datetime, cancel_hours: int, auto_receive_days: int
) -> _Plan:
    """When each step of an order in `state` happened; `index` spreads the special cases (late, due)."""
    uniform, days = rng.uniform, auto_receive_days * 24
    cod = state == OrderStatus.AWAITING_CONFIRMATION or rng.random() < 0.1
    items = weighted(rng, ((1, 70), (2, 22), (3, 8)))

    def accept(plan: _Plan, after: float = 0.0) -> float:
        """Payment (online) or the merchant's confirmation (cod); returns hours after placing."""
        at = after + (uniform(0.5, 6) if plan.payment == PaymentMethod.COD else uniform(0.02, 0.5))
        plan.steps.append(
            (plan.placed_at + _hours(at), "confirm_cod" if plan.payment == PaymentMethod.COD else "pay", None)
        )
        return at

    def ship_all(plan: _Plan, first_at: float, last_at: float) -> None:
        if plan.item_count > 1 and rng.random() < 0.3:  # split shipping (S-1)
            cut = rng.randint(1, plan.item_count - 1)
            plan.steps.append((plan.placed_at + _hours(first_at), "ship", range(cut)))
            plan.steps.append((plan.placed_at + _hours(last_at), "ship", range(cut, plan.item_count)))
        else:
            plan.steps.append((plan.placed_at + _hours(last_at), "ship", range(plan.item_count)))

    def ship_delay() -> float:  # most ship in time, a few late (L-3): ~1.5 % of shipments
        return uniform(49, 80) if rng.random() < 0.015 else uniform(1.5, 44)

    payment = PaymentMethod.COD if cod else PaymentMethod.ONLINE
    if state == OrderStatus.UNPAID:
        # Some close to the platform's auto-cancel limit (M-3), the others well inside it.
        age = cancel_hours - uniform(0.2, 1.5) if index % 4 == 0 else cancel_hours * uniform(0.004, 0.875)
        return _Plan(state, now - _hours(age), PaymentMethod.ONLINE, items)
    if state == OrderStatus.AWAITING_CONFIRMATION:
        return _Plan(state, now - _hours(uniform(0.2, 30)), PaymentMethod.COD, items)
    if state == OrderStatus.TO_SHIP:
        late = index % 12 == 0  # a few past their ship-by time (M-4); index 0: every shop has one
        age = uniform(50, 144) if late else (uniform(40, 47) if index % 6 == 1 else uniform(0.5, 40))
        plan = _Plan(state, now - _hours(age), payment, items)
        accept(plan)
        return plan
    if state == OrderStatus.PARTIALLY_SHIPPED:
        late = index % 8 == 0
        age = uniform(52, 120) if late else uniform(8, 46)
        plan = _Plan(state, now - _hours(age), payment, max(items, 2))
        paid = accept(plan)
        shipped = rng.randint(1, plan.item_count - 1)
        plan.steps.append(
            (plan.placed_at + _hours(uniform(paid + 1, min(age, 46) - 0.5)), "ship", range(shipped))
        )
        return plan
    if state == OrderStatus.SHIPPED:
        # Every tenth is already past its auto-receive time (the worker acts at once), the next one close to it.
        shipped_age = {0: uniform(days + 0.5, days + 8), 5: uniform(days - 8, days - 0.5)}.get(
            index % 10, uniform(4, days - 12)
        )
        delay = ship_delay()
        plan = _Plan(state, now - _hours(shipped_age + delay), payment, items)
        paid = accept(plan)
        ship_all(plan, uniform(paid + 0.5, max(paid + 0.6, delay * 0.6)), max(delay, paid + 1))
        return plan
    if state == OrderStatus.RECEIVED:
        age = uniform(6, 60) * 24
        plan = _Plan(state, now - _hours(age), payment, items)
        paid = accept(plan)
        delay = max(ship_delay(), paid + 1)
        ship_all(plan, uniform(paid + 0.5, max(paid + 0.6, delay * 0.6)), delay)
        left = age - delay
        if left > days + 1 and rng.random() < 0.35:
            plan.steps.append((plan.placed_at + _hours(delay + days), "auto_receive", None))  # S-5
        else:
            plan.steps.append(
                # the buyer confirms before the auto-receipt would (S-5)
                (
                    plan.placed_at + _hours(delay + uniform(24, min(9 * 24, days - 1, left - 1))),
                    "receive",
                    None,
                )
            )
        return plan
    # cancelled: by the system (unpaid past the limit), by the buyer before paying, or cod by the merchant
    how = weighted(rng, (("auto", 45), ("buyer", 30), ("cod_waiting", 12), ("cod_to_ship", 13)))
    plan = _Plan(state, now - _hours(uniform(cancel_hours + 2, 60 * 24)), PaymentMethod.ONLINE, items)
    if how == "auto":
        plan.steps.append((plan.placed_at + _hours(cancel_hours), "auto_cancel", None))
    elif how == "buyer":
        plan.steps.append(
            (
                plan.placed_at + _hours(cancel_hours * uniform(0.002, 0.83)),
                "cancel",
                rng.choice(BUYER_CANCEL_REASONS),
            )
        )
    else:
        plan.payment = PaymentMethod.COD
        at = accept(plan) if how == "cod_to_ship" else 0.0
        reasons = COD_TO_SHIP_CANCEL_REASONS if how == "cod_to_ship" else COD_CANCEL_REASONS
        plan.steps.append(
            (plan.placed_at + _hours(at + uniform(0.5, 12)), "merchant_cancel", rng.choice(reasons))
        )
    return plan


def _quotas(total: int) -> dict[str, int]:
    counts = {state: max(1, round(total * weight)) for state, weight in STATE_WEIGHTS.items()}
    counts[OrderStatus.RECEIVED] += total - sum(counts.values())
    return counts


def _shop_sizes(size: int) -> list[int]:
    sizes = [round(size * spec.share) for spec in SHOPS]
    sizes[0] += size - sum(sizes)
    return sizes


@register_seeder("merchants.orders", order=30)
def seed_orders(ctx: SeedContext) -> dict[str, int]:
    """About `ctx.size` orders over every state, each walked through the services at its own time."""
    settings_ = PlatformSettings.load()
    created = {"orders": 0, "skipped_shops": 0}
    buyers = [make_buyer(ctx.rng) for _i in range(max(50, ctx.size // 3))]  # repeat customers
    sizes = dict(zip(SHOP_CODES, _shop_sizes(ctx.size), strict=True))
    for shop in ctx.shops():
        shop_index, size = SHOP_CODES.index(shop.code) + 1, sizes[shop.code]
        if Order.objects.filter(merchant=shop).exists():
            created["skipped_shops"] += 1
            continue
        rng = random.Random(f"{ctx.seed}:orders:{shop.code}")
        plans = [
            _plan(state, index, rng, ctx.now, settings_.unpaid_cancel_hours, settings_.auto_receive_days)
            for state, count in _quotas(size).items()
            for index in range(count)
        ]
        plans.sort(key=lambda plan: plan.placed_at)
        writer = _OrderWriter(shop, shop_index, rng, ctx.now)
        with transaction.atomic():  # one shop at a time, all or nothing: a rerun never finds half a shop
            for serial, plan in enumerate(plans):
                writer.walk(plan, serial, rng.choice(buyers))
                created["orders"] += 1
        ctx.log(_("%(shop)s：已生成 %(count)d 个订单") % {"shop": shop.name, "count": len(plans)})
    return created


class _OrderWriter:
    """Walks planned orders of one shop through the services, the clock set to each step's time."""

    def __init__(self, shop: Merchant, shop_index: int, rng: random.Random, now: datetime) -> None:
        self.shop, self.shop_index, self.rng = shop, shop_index, rng
        self.spec, self.catalog, self.actors = shop_spec(shop.code), shop_catalog(shop), shop_actors(shop)
        self.latest = now - timedelta(minutes=1)  # nothing happens in the future

    def walk(self, plan: _Plan, serial: int, buyer: Buyer) -> Order:
        placed_at = min(plan.placed_at, self.latest).replace(microsecond=0)
        with backdated(placed_at):
            order = services.place_order(
                self.shop, order_no=_order_no(placed_at, self.shop_index, f"{serial:07d}"),
                buyer_id=buyer.buyer_id, buyer_name=buyer.name, buyer_phone=buyer.phone,
                lines=_lines(self.shop, self.catalog, self.rng, plan.item_count), payment_method=plan.payment,
                paid=False, placed_at=placed_at, ship_by=placed_at + SHIP_PROMISE, address=buyer.address,
            )  # fmt: skip
        item_ids = list(order.items.order_by("pk").values_list("pk", flat=True))
        at = placed_at
        for when, action, argument in sorted(plan.steps, key=lambda step: step[0]):
            at = max(at, min(when, self.latest).replace(microsecond=0))  # in order, none in the future
            with backdated(at):
                self._step(order, action, argument, item_ids, at)
        return order

    def _step(self, order: Order, action: str, argument, item_ids: list[int], at: datetime) -> None:
        actor = self.actors[0] if self.rng.random() < 0.8 else self.actors[-1]  # mostly the agent
        if action == "pay":
            services.pay_order(order, at=at)
        elif action == "confirm_cod":
            services.confirm_cod(order, actor=actor)
        elif action == "ship":
            carrier = weighted(self.rng, self.spec.carriers)
            items = [item_ids[i] for i in argument if i < len(item_ids)]
            tracking = tracking_number(carrier, self.rng)
            services.ship(order, items=items, carrier=carrier, tracking_no=tracking, actor=actor)
        elif action == "receive":
            services.confirm_receipt(order, actor=BUYER)
        elif action == "cancel":
            services.cancel_order(order, actor=BUYER, reason=argument)
        elif action == "merchant_cancel":
            services.cancel_order(order, actor=actor, reason=argument)
        else:  # the system's sweeps, on this one order (M-3, S-5)
            system = (
                services.auto_confirm_receipt if action == "auto_receive" else services.auto_cancel_unpaid
            )
            system(list(Order.objects.select_for_update().filter(pk=order.pk)), at)


@register_action("merchants.new_orders", order=10)
def buyers_place_orders(tick: TickContext) -> None:
    """1–3 new orders: most paid at once, some left unpaid, some cash on delivery."""
    now = timezone.now()
    for _i in range(tick.rng.randint(1, 3)):
        shop = tick.rng.choices(tick.shops, weights=[shop_spec(s.code).share for s in tick.shops])[0]
        catalog = shop_catalog(shop, on_shelf_only=True)
        if not catalog:
            continue
        buyer = make_buyer(tick.rng)
        payment = PaymentMethod.COD if tick.rng.random() < 0.15 else PaymentMethod.ONLINE
        order_no = _order_no(now, SHOP_CODES.index(shop.code) + 1, f"9{tick.rng.randrange(10**6):06d}")
        lines = _lines(shop, catalog, tick.rng, weighted(tick.rng, ((1, 70), (2, 22), (3, 8))))
        label = _("%(buyer)s 在「%(shop)s」下单 %(no)s") % {
            "buyer": buyer.name,
            "shop": shop.name,
            "no": order_no,
        }
        order = tick.attempt(
            label, services.place_order, shop, order_no=order_no, buyer_id=buyer.buyer_id, buyer_name=buyer.name,
            buyer_phone=buyer.phone, lines=lines, payment_method=payment, paid=False, placed_at=now,
            ship_by=now + SHIP_PROMISE, address=buyer.address,
        )  # fmt: skip
        if order is not None and payment == PaymentMethod.ONLINE and tick.rng.random() < 0.7:
            tick.attempt(_("买家支付订单 %(no)s") % {"no": order_no}, services.pay_order, order)


@register_action("merchants.payments", order=20)
def buyers_pay(tick: TickContext) -> None:
    """Buyers pay some orders left unpaid; now and then one gives up and cancels."""
    for order in tick.pick(tick.orders(OrderStatus.UNPAID), tick.rng.randint(0, 2)):
        tick.attempt(_("买家支付订单 %(no)s") % {"no": order.order_no}, services.pay_order, order)
    if tick.rng.random() < 0.15:
        for order in tick.pick(tick.orders(OrderStatus.UNPAID), 1):
            reason = tick.rng.choice(BUYER_CANCEL_REASONS)
            label = _("买家取消订单 %(no)s（%(reason)s）") % {"no": order.order_no, "reason": reason}
            tick.attempt(label, services.cancel_order, order, actor=None, reason=reason)


@register_action("merchants.receipts", order=40)
def buyers_confirm_receipt(tick: TickContext) -> None:
    """Buyers confirm receipt of 0–2 parcels that have been on the road at least a day."""
    on_road = tick.orders(OrderStatus.SHIPPED).filter(shipped_at__lte=timezone.now() - timedelta(days=1))
    for order in tick.pick(on_road, tick.rng.randint(0, 2)):
        tick.attempt(
            _("买家确认收货 %(no)s") % {"no": order.order_no}, services.confirm_receipt, order, actor=None
        )


@register_action("merchants.unattended_shops", order=50)
def unattended_shops_work(tick: TickContext) -> None:
    """Shops without demo logins run themselves: confirm cod orders and ship 1–2 waiting orders."""
    for shop in tick.shops:
        spec = shop_spec(shop.code)
        actors = shop_actors(shop)
        if spec.login is not None or not actors:
            continue  # the demo users work their own queues
        orders = Order.objects.filter(merchant=shop)
        for order in tick.pick(orders.filter(status=OrderStatus.AWAITING_CONFIRMATION), 1):
            label = _("%(shop)s 确认货到付款订单 %(no)s") % {"shop": shop.name, "no": order.order_no}
            tick.attempt(label, services.confirm_cod, order, actor=actors[0])
        waiting = orders.filter(status__in=(OrderStatus.TO_SHIP, OrderStatus.PARTIALLY_SHIPPED))
        for order in tick.pick(waiting, tick.rng.randint(1, 2)):
            carrier = weighted(tick.rng, spec.carriers)
            tracking = tracking_number(carrier, tick.rng)
            items = list(order.unshipped_shippable_items().values_list("pk", flat=True))
            label = _("%(shop)s 发货 %(no)s：%(tracking)s") % {
                "shop": shop.name,
                "no": order.order_no,
                "tracking": tracking,
            }
            tick.attempt(
                label,
                services.ship,
                order,
                items=items,
                carrier=carrier,
                tracking_no=tracking,
                actor=actors[0],
            )
