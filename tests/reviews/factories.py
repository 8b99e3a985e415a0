"""Factories for review tests: reviews written through the buyer's service, replies, appeals, banned words.

`ReviewFactory(merchant=shop)` makes a received order and has its buyer review it through
`services.submit_review`, so the product summary and the history are what the real path leaves; pass
`product=` to review an existing product, `created_at=` to date it, and `pinned=True`, `deleted=True`,
`reply=<status>` or `appeal=<status>` to reach a state through the services as well.
"""

from __future__ import annotations

import io
import itertools

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from merchants.models import OrderItem
from merchants.transitions import OrderStatus
from reviews import services
from reviews.models import Appeal, BannedWord, Reply, Review
from reviews.transitions import AppealStatus, BannedWordAction, ReplyStatus
from tests.aftersales.factories import make_order
from tests.factories import MerchantFactory, PlatformUserFactory

CONTENTS = itertools.cycle(
    [
        "质量很好，面料舒服，尺码标准，物流也很快，会回购。",
        "颜色和图片一致，做工不错，就是快递慢了两天。",
        "一般般吧，洗了一次有点缩水。",
        "客服态度很好，有问题马上处理了，点赞。",
        "包装破损，商品有划痕，很失望。",
        "性价比高，家人都说好看。",
    ]
)


def make_png(name: str = "photo.png", colour=(30, 120, 200)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def received_order(merchant, *, product=None, buyer_name: str = "张三", **kwargs):
    """A received order of `merchant` with one item (of `product` when given)."""
    order = make_order(merchant, status=OrderStatus.RECEIVED, buyer_name=buyer_name, **kwargs)
    if product is not None:
        OrderItem.objects.filter(order=order).update(product=product)
    return order


def _staff():
    return PlatformUserFactory(username="review-moderator")


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    merchant = factory.SubFactory(MerchantFactory)
    product_rating = 5
    service_rating = 5
    logistics_rating = 5
    content = factory.LazyFunction(lambda: next(CONTENTS))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        merchant = kwargs.pop("merchant")
        product = kwargs.pop("product", None)
        order = received_order(merchant, product=product, buyer_name=kwargs.pop("buyer_name", "张三"))
        pinned = kwargs.pop("pinned", False)
        deleted = kwargs.pop("deleted", False)
        reply_status = kwargs.pop("reply", None)
        appeal_status = kwargs.pop("appeal", None)
        review = services.submit_review(
            order,
            product=order.items.get().product_id,
            product_rating=kwargs.pop("product_rating"),
            service_rating=kwargs.pop("service_rating"),
            logistics_rating=kwargs.pop("logistics_rating"),
            content=kwargs.pop("content"),
            images=kwargs.pop("images", ()),
            created_at=kwargs.pop("created_at", None),
        )
        if kwargs:
            raise TypeError(f"ReviewFactory does not take {sorted(kwargs)}")
        if reply_status:
            reply = services.reply(review, actor=None, text="感谢您的评价，我们会继续努力！")
            if reply_status != ReplyStatus.PENDING:
                services.moderate_reply(
                    reply, actor=_staff(), approve=reply_status == ReplyStatus.APPROVED, reason="措辞不当"
                )
        if appeal_status:
            appeal = services.appeal(review, actor=None, reason="买家恶意差评，已提供聊天记录。")
            if appeal_status == AppealStatus.VOID:
                services.buyer_delete(review)
            elif appeal_status != AppealStatus.PENDING:
                services.decide_appeal(
                    appeal, actor=_staff(), uphold=appeal_status == AppealStatus.UPHELD, reason="已核实"
                )
        if pinned:
            services.pin(review, actor=None)
        if deleted:
            services.buyer_delete(review)
        review.refresh_from_db()
        return review


class ReplyFactory(factory.django.DjangoModelFactory):
    """A pending reply on a new review of the shop (through services.reply)."""

    class Meta:
        model = Reply

    merchant = factory.SubFactory(MerchantFactory)
    text = "感谢您的支持，欢迎再次光临！"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        review = kwargs.pop("review", None) or ReviewFactory(merchant=kwargs.pop("merchant"))
        kwargs.pop("merchant", None)
        return services.reply(review, actor=None, text=kwargs.pop("text"))


class AppealFactory(factory.django.DjangoModelFactory):
    """A pending appeal of a new review of the shop (through services.appeal)."""

    class Meta:
        model = Appeal

    merchant = factory.SubFactory(MerchantFactory)
    reason = "该买家为同行，评价内容与商品无关。"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        review = kwargs.pop("review", None) or ReviewFactory(
            merchant=kwargs.pop("merchant"), product_rating=1
        )
        kwargs.pop("merchant", None)
        return services.appeal(
            review, actor=None, reason=kwargs.pop("reason"), images=kwargs.pop("images", ())
        )


class BannedWordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BannedWord
        django_get_or_create = ("word",)

    word = factory.Sequence(lambda n: f"违禁{n}")
    action = BannedWordAction.REFUSE
