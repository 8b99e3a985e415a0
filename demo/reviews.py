"""Reviews in the demo (R-1..R-8): buyers' reviews of received items, replies in every moderation state,
appeals in every state, pinned reviews, buyer deletions — and the simulator's new reviews and deletions.

Everything goes through reviews.services, each step at its own backdated time, so every review has its
full history: `submit_review` takes the review's time, the merchant's and staff's moves run under
`backdated`. A shop that has reviews already is skipped (the seeder is idempotent).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from demo.aftersales.seeding import _platform_user, evidence_image
from demo.registry import SeedContext, TickContext, backdated, register_action, register_seeder
from demo.shops import shop_actors, shop_spec
from merchants.kernel.models import Notice
from merchants.models import OrderItem
from merchants.transitions import OrderStatus
from reviews import services
from reviews.models import Review
from reviews.transitions import AppealDecisionReason, AppealStatus, ReplyStatus

# 1..5 stars as marketplaces see them: mostly good, a tail of bad ones.
STARS = (1, 2, 3, 4, 5)
STAR_WEIGHTS = (6, 5, 9, 22, 58)

GOOD = (
    "东西收到了，质量很好，和描述的一样，包装也很仔细，好评！",
    "第二次回购了，一如既往的好，家里人都说不错。",
    "物流很快，隔天就到了，客服态度也很好，耐心解答问题。",
    "做工精致，颜色很正，性价比很高，推荐购买。",
    "比想象中的还要好，送给朋友的，朋友很喜欢。",
    "味道很正宗，日期也很新鲜，下次还会再来。",
    "尺码标准，面料舒服，穿着很合身。",
    "包装完好无损，快递小哥也很客气，满意。",
    "用了一周才来评价，效果不错，值得信赖的店铺。",
    "卖家发货很及时，有问题也很快解决，五星好评。",
)
NEUTRAL = (
    "东西还行吧，和图片有一点色差，能接受。",
    "质量一般，价格便宜也就这样了。",
    "物流有点慢，等了四五天才到，东西本身还可以。",
    "包装有点简陋，幸好东西没坏，中规中矩。",
    "客服回复比较慢，商品本身没什么问题。",
    "用着还可以，就是比想象中小了一点。",
)
BAD = (
    "收到的东西有明显划痕，联系客服也没人理，很失望。",
    "和描述严重不符，质量太差了，不建议购买。",
    "发货太慢了，催了好几次才发，体验很差。",
    "包装破损，里面的东西也坏了，申请售后还被拒绝。",
    "用了两天就坏了，做工粗糙，差评。",
    "味道不对，感觉不新鲜，生产日期也看不清。",
    "客服态度很差，问什么都是复制粘贴的回答。",
)
REPLIES = {
    "good": (
        "感谢亲的认可与支持，您的满意是我们最大的动力，期待您再次光临！",
        "谢谢亲的好评，我们会继续把好品质关，欢迎常来逛逛～",
        "感谢您的五星好评，有任何使用问题随时联系我们的客服哦。",
    ),
    "neutral": (
        "感谢亲的反馈，我们会认真改进包装和发货速度，给您带来更好的购物体验。",
        "谢谢您的建议，色差问题我们已反馈给拍摄同事，会尽量还原实物颜色。",
    ),
    "bad": (
        "非常抱歉给您带来不好的体验，请您联系在线客服，我们会为您优先处理售后。",
        "亲，给您添麻烦了，我们已经在核实这批商品的问题，请通过订单页联系客服为您解决。",
        "抱歉让您久等了，发货延迟是我们的问题，我们已经优化了仓库流程，请您再给我们一次机会。",
    ),
}
# Replies the screening refuses at once (R-2: contact details) — what a careless shop writes.
CONTACT_REPLIES = (
    "亲，加一下我们的微信 vx: shop2024happy，给您补偿一个红包。",
    "有问题请直接打电话 １３８ ００１３ ８０００ 联系店长处理。",
    "详情请看 www.example-shop.cn 或者加QQ 12345678。",
)
STAFF_REJECT_REASONS = (
    "回复内容与评价无关，请针对买家反馈的问题回复。",
    "回复中含有引导买家修改评价的内容，请修改后重新提交。",
)
APPEAL_REASONS = (
    "该买家在评价前曾要求额外赠品未果，随后给出差评，属于恶意评价，附聊天记录截图。",
    "评价内容与我店商品无关，买家描述的商品并非本店所售，附订单详情截图。",
    "买家评价中含有辱骂内容，附截图。",
    "商品已按买家要求更换，买家确认满意后仍未修改评价，附沟通记录。",
)
DISMISS_NOTE = "经核实，评价内容为买家真实购物体验，不符合删除条件。"
UPHOLD_NOTE = "经核实，该评价存在恶意评价情形，已隐藏。"


def mark_old_notices_read(prefix: str, now: datetime) -> int:
    """A shop at work has read its notices of more than two days ago (the bell shows what is new)."""
    return Notice.objects.filter(
        kind__startswith=prefix, read_at__isnull=True, created_at__lt=now - timedelta(days=2)
    ).update(read_at=F("created_at") + timedelta(hours=2))


def kind_of(stars: int) -> str:
    return "good" if stars >= 4 else "neutral" if stars == 3 else "bad"


def _content(rng: random.Random, stars: int) -> str:
    pool = {"good": GOOD, "neutral": NEUTRAL, "bad": BAD}[kind_of(stars)]
    return rng.choice(pool) if rng.random() < 0.92 else ""  # some buyers leave only stars


def _ratings(rng: random.Random) -> tuple[int, int, int]:
    product = rng.choices(STARS, weights=STAR_WEIGHTS)[0]
    near = [s for s in STARS if abs(s - product) <= 1]
    return product, rng.choice(near), rng.choice(near)


def _received_items(shop, *, since: datetime | None = None):
    items = OrderItem.objects.filter(
        order__merchant=shop, order__status=OrderStatus.RECEIVED, order__received_at__isnull=False
    ).filter(review__isnull=True)
    if since is not None:
        items = items.filter(order__received_at__gte=since)
    return items.select_related("order", "product", "sku").order_by("order__received_at", "pk")


@register_seeder("reviews.reviews", order=60)
def seed_reviews(ctx: SeedContext) -> dict[str, int]:
    """Reviews of most received items, with replies, appeals, pins and deletions in every state."""
    staff = _platform_user()
    summary = {"reviews": 0, "replies": 0, "appeals": 0, "pinned": 0, "deleted": 0, "skipped_shops": 0}
    for shop in ctx.shops():
        if Review.objects.filter(merchant=shop).exists():
            summary["skipped_shops"] += 1
            continue
        actors = shop_actors(shop)
        if not actors or staff is None:
            continue
        rng = random.Random(f"{ctx.seed}:reviews:{shop.code}")
        seeder = _ShopReviews(shop, actors, staff, rng, ctx.now)
        # A few hundred over the shops (a share each): enough for every tab and state, and `make demo`
        # stays quick — every review is a walk through the services.
        wanted = max(40, round(ctx.size * 0.2 * shop_spec(shop.code).share))
        items = list(_received_items(shop))
        rng.shuffle(items)
        with transaction.atomic():
            seeder.run(sorted(items[: round(wanted / 0.7)], key=lambda i: (i.order.received_at, i.pk)))
        for key, value in seeder.counts.items():
            summary[key] += value
        ctx.log(
            _("%(shop)s：已生成 %(count)d 条评价") % {"shop": shop.name, "count": seeder.counts["reviews"]}
        )
    mark_old_notices_read("reviews.", ctx.now)
    return summary


class _ShopReviews:
    def __init__(self, shop, actors, staff, rng: random.Random, now: datetime):
        self.shop, self.actors, self.staff, self.rng, self.now = shop, actors, staff, rng, now
        self.counts = {"reviews": 0, "replies": 0, "appeals": 0, "pinned": 0, "deleted": 0}

    def _at(self, start: datetime, *, hours: tuple[float, float]) -> datetime | None:
        at = start + timedelta(hours=self.rng.uniform(*hours))
        return at.replace(microsecond=0) if at < self.now - timedelta(minutes=5) else None

    def run(self, items: list[OrderItem]) -> None:
        rng = self.rng
        reviews = []
        for item in items:
            if rng.random() > 0.7:  # not every buyer reviews
                continue
            at = self._at(item.order.received_at, hours=(0.5, 96))
            if at is None:
                continue
            product, service, logistics = _ratings(rng)
            images = []
            if rng.random() < 0.12:
                images = [evidence_image(rng, f"review{n}.png") for n in range(rng.choice((1, 1, 2, 3)))]
            try:
                review = services.submit_review(
                    item.order,
                    product=item.product,
                    sku=item.sku,
                    product_rating=product,
                    service_rating=service,
                    logistics_rating=logistics,
                    content=_content(rng, product),
                    images=images,
                    created_at=at,
                )
            except ValidationError:
                continue
            reviews.append(review)
        self.counts["reviews"] = len(reviews)
        for review in reviews:
            self._after(review)
        self._pin(reviews)

    def _actor(self):
        return self.actors[0] if self.rng.random() < 0.75 else self.actors[-1]

    def _after(self, review: Review) -> None:
        """What happened to a review since: a reply (and its moderation), an appeal, a buyer deletion."""
        rng = self.rng
        kind = kind_of(review.product_rating)
        roll = rng.random()
        if kind == "bad" and roll < 0.45:
            self._appeal(review)
        elif roll < {"good": 0.45, "neutral": 0.6, "bad": 0.9}[kind]:
            self._reply(review, kind)
        if rng.random() < 0.03:
            at = self._at(review.created_at, hours=(30, 24 * 20))
            if at is not None:
                with backdated(at):
                    services.buyer_delete(review)
                self.counts["deleted"] += 1

    def _reply(self, review: Review, kind: str) -> None:
        rng = self.rng
        at = self._at(review.created_at, hours=(1, 48))
        if at is None:
            return
        careless = rng.random() < 0.06
        text = rng.choice(CONTACT_REPLIES if careless else REPLIES[kind])
        with backdated(at):
            reply = services.reply(review, actor=self._actor(), text=text)
        self.counts["replies"] += 1
        if reply.status != ReplyStatus.PENDING:
            return  # refused at once by the screening: the merchant sees why
        decided = self._at(at, hours=(0.5, 30))
        if decided is None or rng.random() < 0.2:
            return  # still in the staff queue
        approve = rng.random() < 0.88
        with backdated(decided):
            services.moderate_reply(
                reply,
                actor=self.staff,
                approve=approve,
                reason="" if approve else rng.choice(STAFF_REJECT_REASONS),
            )
        if not approve and rng.random() < 0.5:  # the shop rewrites the refused reply
            again = self._at(decided, hours=(1, 24))
            if again is not None:
                with backdated(again):
                    services.reply(review, actor=self._actor(), text=rng.choice(REPLIES[kind]))

    def _appeal(self, review: Review) -> None:
        rng = self.rng
        at = self._at(review.created_at, hours=(2, 24 * 5))
        if at is None:
            return
        images = [evidence_image(rng, "chat.png")] if rng.random() < 0.7 else []
        with backdated(at):
            appeal = services.appeal(
                review, actor=self._actor(), reason=rng.choice(APPEAL_REASONS), images=images
            )
        self.counts["appeals"] += 1
        decided = self._at(at, hours=(4, 72))
        if decided is None or rng.random() < 0.35:
            return  # pending in the staff queue
        uphold = rng.random() < 0.45
        with backdated(decided):
            services.decide_appeal(
                appeal,
                actor=self.staff,
                uphold=uphold,
                code=AppealDecisionReason.MALICIOUS if uphold else AppealDecisionReason.GENUINE,
                reason=UPHOLD_NOTE if uphold else DISMISS_NOTE,
            )

    def _pin(self, reviews: list[Review]) -> None:
        """Two good reviews with images pinned on the shop's most reviewed products (R-4)."""
        by_product: dict[int, list[Review]] = {}
        for review in reviews:
            by_product.setdefault(review.product_id, []).append(review)
        top = sorted(by_product.values(), key=len, reverse=True)[:3]
        for group in top:
            fresh = Review.objects.filter(
                pk__in=[r.pk for r in group],
                product_rating=5,
                deleted_at__isnull=True,
                hidden_at__isnull=True,
                appeal_status="",
            ).order_by("-image_count", "-created_at")[:2]
            for review in fresh:
                at = self._at(review.created_at, hours=(2, 48))
                if at is None:
                    continue
                with backdated(at):
                    services.pin(review, actor=self.actors[-1])
                self.counts["pinned"] += 1


# ---- the simulator: buyers keep reviewing, and now and then one deletes a review


@register_action("reviews.buyers_review", order=80)
def simulate_reviews(tick: TickContext) -> None:
    """0–2 buyers review a received item; rarely, a buyer deletes an older review (R-5)."""
    rng = tick.rng
    for shop in tick.shops:
        if rng.random() < 0.5:
            continue
        for item in list(_received_items(shop)[:200])[-rng.choice((0, 1, 1, 2)) or 200 :][:2]:
            product, service, logistics = _ratings(rng)
            tick.attempt(
                _("买家发表评价：订单 %(no)s（%(stars)d 星）")
                % {"no": item.order.order_no, "stars": product},
                services.submit_review,
                item.order,
                product=item.product,
                sku=item.sku,
                product_rating=product,
                service_rating=service,
                logistics_rating=logistics,
                content=_content(rng, product),
            )
    if rng.random() < 0.1:
        live = Review.objects.filter(merchant__in=tick.shops, deleted_at__isnull=True)
        for review in tick.pick(live, 1):
            tick.attempt(
                _("买家删除评价：订单 %(no)s") % {"no": review.order_no}, services.buyer_delete, review
            )


__all__ = ["seed_reviews", "simulate_reviews", "AppealStatus"]
