"""Demo: the level story (L-1..L-8) — a shop on its way up, one on its way down, one near clear-out.

晨光数码 (shop1) answers its chats ever faster: its IM first response and its scores climb over the 90
days, and it changed level 20 days ago, so its next evaluation is still ahead (the dashboard shows what
it still misses — a few percent of the demo's orders ship late in every shop, below the 99 % line — and
the what-if tries the fixes). 江南茶舍 (shop2) lets its IM first
response slip past five minutes: today's evaluation takes it down a level, and says why. 悦家家居 has been
at LV0 for 48 days: twelve days left before it is cleared. 青禾手作 (qinghe-craft, a small shop the level
story opens itself, owner login `shop3`) is the one whose level really rises: at LV0 for 40 days, evaluated
daily from day 30 and kept at LV0 (too few reviews for an upgrade), it ran a promotion three days ago — 45
orders, ¥4,500, all received that day and six of them reviewed with five stars: 90 % of LV0's caps, a 13 %
review rate, every rate better than its upgrade line — so today's evaluation moves it up to LV1 at once
(L-4's fast upgrade), and its dashboard, history and notice say why. Thirty days of daily previews give the
trend charts their history; then the real evaluation of today runs.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from demo.registry import SeedContext, backdated, register_seeder
from demo.shops import make_buyer
from merchants import services
from merchants.kernel.vocabulary import MerchantStatus, Role
from merchants.levels import engine
from merchants.levels.registry import midnight
from merchants.models import ImDailyStat, LevelEvaluation, Membership, Merchant, Order, Product
from merchants.services import BUYER, ItemLine, rebuild_shop_days
from merchants.transitions import Carrier, PaymentMethod
from reviews import services as review_services

RISING = "qinghe-craft"  # the shop on its way up (opened by this seeder)
RISING_DAYS_AT_LV0 = 40
PROMOTION_DAYS_AGO, PROMOTION_ORDERS, PROMOTION_PRICE, PROMOTION_REVIEWS = 3, 45, Decimal("100.00"), 6

# code: (level, days at that level, daily sessions, first response seconds 90 days ago -> yesterday,
#        share of human sessions, share of rated sessions rated 1–3 stars)
STORY = {
    "chenguang-digital": (3, 20, 120, (240, 75), 0.6, 0.03),
    "jiangnan-tea": (2, 35, 60, (200, 420), 0.7, 0.12),
    "yuejia-home": (0, 48, 40, (160, 150), 0.5, 0.06),
}


@register_seeder("merchants.levels", order=80)  # after the cases (50), reviews (60) and tickets (70) it reads
def seed_levels(ctx: SeedContext) -> dict[str, int]:
    shops = [shop for shop in ctx.shops() if shop.code in STORY]
    if not shops:
        return {"skipped": 0}
    today = timezone.localdate(ctx.now)
    rising = open_rising_shop(ctx, today)  # its promotion's orders come back when someone deleted them
    if LevelEvaluation.objects.filter(merchant__in=shops).exists():
        return {"skipped": len(shops)}
    rows = []
    for shop in shops:
        level, days, sessions, (start, end), human, unhappy = STORY[shop.code]
        for n in range(90, 0, -1):
            day = today - timedelta(days=n)
            count = max(1, int(sessions * ctx.rng.uniform(0.7, 1.3)))
            people = max(1, int(count * human))
            seconds = start + (end - start) * (90 - n) / 89
            rated = max(1, int(count * 0.4))
            rows.append(
                ImDailyStat(
                    merchant=shop,
                    day=day,
                    sessions=count,
                    human_sessions=people,
                    human_first_response_seconds=int(people * seconds * ctx.rng.uniform(0.9, 1.1)),
                    rated_sessions=rated,
                    low_rated_sessions=min(rated, int(round(rated * unhappy * ctx.rng.uniform(0.5, 1.5)))),
                )
            )
        Merchant.objects.filter(pk=shop.pk).update(
            level=level, level_changed_at=ctx.now - timedelta(days=days)
        )
    ImDailyStat.objects.bulk_create(rows, ignore_conflicts=True)
    rebuild_shop_days(merchant_ids=[shop.pk for shop in shops] + [rising.pk])
    for n in range(30, 0, -1):  # the daily previews of the last 30 days: the trend charts' history
        engine.run(today=today - timedelta(days=n), preview=True)
    changed = engine.run(today=today)
    ctx.log(_("店铺等级：已生成 %(count)d 天的客服日报和评估记录") % {"count": 90})
    return {"im_days": len(rows), "changed": changed}


def open_rising_shop(ctx: SeedContext, today) -> Merchant:
    """青禾手作 with its owner (shop3) and the promotion day that lifts it (see the module's docstring)."""
    shop = Merchant.objects.filter(code=RISING).first()
    if shop is None:
        shop = Merchant.objects.create(
            name="青禾手作",
            code=RISING,
            level=0,
            status=MerchantStatus.ACTIVE,
            return_contact="林青禾",
            return_phone="0592-5201314",
            return_address="福建省厦门市思明区沙坡尾 18 号青禾手作工作室",
            level_changed_at=ctx.now - timedelta(days=RISING_DAYS_AT_LV0),
            created_at=ctx.now - timedelta(days=RISING_DAYS_AT_LV0),
        )
    elif Order.objects.filter(merchant=shop).exists():
        return shop
    owner, created = get_user_model().objects.get_or_create(username="shop3")
    if created:
        owner.set_password("shop3")
        owner.save(update_fields=["password"])
    Membership.objects.get_or_create(user=owner, merchant=shop, defaults={"role": Role.OWNER})
    rng = random.Random(f"{ctx.seed}:levels:{RISING}")  # the same buyers whatever the seeders before drew
    product, _created = Product.objects.get_or_create(
        merchant=shop, spu_id="QH0001", defaults={"name": "手工草木染棉麻围巾"}
    )
    day = midnight(today - timedelta(days=PROMOTION_DAYS_AGO))
    for n in range(PROMOTION_ORDERS):  # placed and paid that morning, shipped in time, received by night
        placed = day + timedelta(hours=8, minutes=10 * n)
        buyer = make_buyer(rng)
        with backdated(placed):
            order = services.place_order(
                shop, order_no=f"QH{today:%y%m%d}{n:04d}", buyer_id=buyer.buyer_id, buyer_name=buyer.name,
                buyer_phone=buyer.phone, payment_method=PaymentMethod.ONLINE, paid=False, placed_at=placed,
                ship_by=placed + timedelta(hours=48), address=buyer.address,
                lines=[ItemLine(product=product, sku=None, quantity=1, paid_amount=PROMOTION_PRICE)],
            )  # fmt: skip
        with backdated(placed + timedelta(minutes=1)):
            services.pay_order(order, at=placed + timedelta(minutes=1))
        with backdated(placed + timedelta(hours=2)):
            items = list(order.items.values_list("pk", flat=True))
            services.ship(
                order, items=items, carrier=Carrier.SF, tracking_no=f"SF{today:%y%m%d}{n:06d}", actor=owner
            )
        with backdated(day + timedelta(hours=22)):
            services.confirm_receipt(order, actor=BUYER)
        if n < PROMOTION_REVIEWS:
            with backdated(day + timedelta(hours=23)):
                review_services.submit_review(
                    order, product=product, product_rating=5, service_rating=5, logistics_rating=5,
                    content="围巾颜色很温柔，做工细致，发货也快。", created_at=day + timedelta(hours=23),
                )  # fmt: skip
    return shop
