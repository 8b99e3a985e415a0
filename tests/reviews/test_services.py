"""reviews.services through the Contract (SPEC §9): every R- rule with its boundaries, actors and history."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from merchants.kernel import notices
from merchants.kernel.models import Notice
from merchants.kernel.vocabulary import ActorKind
from merchants.kernel.workflow import ActorNotAllowedError, ObjectNotFoundError
from merchants.models import OrderItem
from merchants.transitions import OrderStatus
from reviews import selectors, services
from reviews.models import (
    Appeal,
    ProductReviewSummary,
    Reply,
    ReplyFlag,
    Review,
    ReviewEvent,
    ReviewImage,
    ReviewSettings,
)
from reviews.transitions import AppealDecisionReason, AppealStatus, BannedWordAction, ReplyStatus
from tests.aftersales.factories import make_order
from tests.reviews.factories import BannedWordFactory, ReviewFactory, make_png, received_order

Kind = ReviewEvent.Kind


def summary(product_id) -> ProductReviewSummary:
    return ProductReviewSummary.objects.get(pk=product_id)


def kinds(review) -> list[str]:
    return list(review.events.order_by("created_at", "pk").values_list("kind", flat=True))


def unchanged(review: Review) -> tuple:
    review.refresh_from_db()
    return (
        review.reply_status,
        review.appeal_status,
        review.pinned_at,
        review.replies.count(),
        Appeal.objects.filter(review=review).count(),
        review.events.count(),
    )


# ---------------------------------------------------------------------------------------------
# R-1 the review


def test_R1_buyer_reviews_an_item_of_a_received_order(shop):
    order = received_order(shop, buyer_name="李小龙")
    item = order.items.get()

    review = services.submit_review(
        order,
        product=item.product,
        product_rating=4,
        service_rating="5",
        logistics_rating=3,
        content="  面料舒服，物流稍慢。 ",
        images=[make_png("a.png"), make_png("b.png")],
    )

    assert (review.merchant, review.product, review.item, review.order_no) == (
        shop,
        item.product,
        item,
        order.order_no,
    )
    assert (review.product_rating, review.service_rating, review.logistics_rating) == (4, 5, 3)
    assert review.content == "面料舒服，物流稍慢。"
    assert review.buyer_name == "李小龙" and review.created_at is not None
    assert review.images.count() == 2 == review.image_count
    assert {img.file.name.rsplit("/", 1)[-1] for img in review.images.all()}.isdisjoint({"a.png", "b.png"})
    event = review.events.get()
    assert (event.kind, event.actor_kind, event.actor) == (Kind.SUBMITTED, ActorKind.BUYER, None)
    assert "商品 4 星" in event.sentence()
    row = summary(item.product_id)
    assert (row.review_count, row.product_rating_sum, row.service_rating_sum, row.star_4) == (1, 4, 5, 1)


@pytest.mark.parametrize("status", [OrderStatus.TO_SHIP, OrderStatus.SHIPPED, OrderStatus.CANCELLED])
def test_R1_only_a_received_order_can_be_reviewed(shop, status):
    order = make_order(shop, status=status)

    with pytest.raises(ValidationError, match="尚未确认收货"):
        services.submit_review(
            order, product=order.items.get().product, product_rating=5, service_rating=5, logistics_rating=5
        )

    assert not Review.objects.exists()


def test_R1_an_item_is_reviewed_once(shop):
    review = ReviewFactory(merchant=shop)

    with pytest.raises(ValidationError, match="只能评价一次"):
        services.submit_review(
            review.order, product=review.product, product_rating=1, service_rating=1, logistics_rating=1
        )

    assert Review.objects.count() == 1
    assert summary(review.product_id).review_count == 1


def test_R1_two_items_of_one_product_get_one_review_each(shop):
    order = make_order(shop, status=OrderStatus.RECEIVED, items=2)
    first, second = order.items.order_by("pk")
    OrderItem.objects.filter(pk=second.pk).update(product=first.product)

    a = services.submit_review(
        order, product=first.product, product_rating=5, service_rating=5, logistics_rating=5
    )
    b = services.submit_review(
        order, product=first.product, product_rating=4, service_rating=4, logistics_rating=4
    )

    assert {a.item_id, b.item_id} == {first.pk, second.pk}


def test_R1_a_product_that_is_not_in_the_order_is_refused(shop):
    order = received_order(shop)
    other = ReviewFactory(merchant=shop).product

    with pytest.raises(ValidationError, match="没有这件商品"):
        services.submit_review(order, product=other, product_rating=5, service_rating=5, logistics_rating=5)


@pytest.mark.parametrize("bad", [0, 6, "4.5", 4.5, True, None, "", "五"])
def test_R1_ratings_are_whole_stars_from_1_to_5(shop, bad):
    order = received_order(shop)

    with pytest.raises(ValidationError, match="1 到 5 的整数"):
        services.submit_review(
            order, product=order.items.get().product, product_rating=bad, service_rating=5, logistics_rating=5
        )

    assert not Review.objects.exists()


def test_R1_a_bad_image_or_a_10000_character_text_writes_nothing(shop):
    order = received_order(shop)
    product = order.items.get().product
    fake = make_png("x.png")
    fake.file.write(b"not an image")
    fake.file.seek(0)
    fake.size = None

    with pytest.raises(ValidationError, match="字"):
        services.submit_review(
            order,
            product=product,
            product_rating=5,
            service_rating=5,
            logistics_rating=5,
            content="好" * 10_000,
        )
    with pytest.raises(ValidationError):
        services.submit_review(
            order,
            product=product,
            product_rating=5,
            service_rating=5,
            logistics_rating=5,
            images=[make_png("photo.txt")],
        )

    assert not Review.objects.exists() and not ReviewImage.objects.exists()


# ---------------------------------------------------------------------------------------------
# R-2 replies


def test_R2_a_reply_waits_for_moderation_and_keeps_its_wording_in_the_history(shop, clerk):
    review = ReviewFactory(merchant=shop)

    reply = services.reply(review, actor=clerk, text="感谢亲的支持！")

    assert reply.status == ReplyStatus.PENDING and reply.author == clerk and reply.flag == ""
    review.refresh_from_db()
    assert review.reply_status == ReplyStatus.PENDING
    event = review.events.get(kind=Kind.REPLIED)
    assert (event.actor, event.actor_kind, event.message) == (clerk, ActorKind.MERCHANT, "感谢亲的支持！")
    assert list(selectors.moderation_queue(None)) == [reply]


@pytest.mark.parametrize("text", ["", "   ", "好" * 10_000, "好" * 501])
def test_R2_an_empty_or_too_long_reply_is_refused_and_changes_nothing(shop, clerk, text):
    review = ReviewFactory(merchant=shop)
    before = unchanged(review)

    with pytest.raises(ValidationError, match="回复内容"):
        services.reply(review, actor=clerk, text=text)

    assert unchanged(review) == before


def test_R2_the_reply_length_limit_is_a_setting(shop, clerk):
    limits = ReviewSettings.load()
    limits.reply_max_chars = 20
    limits.save()
    review = ReviewFactory(merchant=shop)

    with pytest.raises(ValidationError, match="20"):
        services.reply(review, actor=clerk, text="好" * 21)
    assert services.reply(review, actor=clerk, text="好" * 20).status == ReplyStatus.PENDING


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("有问题请打１３８１２３４５６７８", "１３８１２３４５６７８"),  # full-width digits
        ("有问题请打 138 1234 5678", "138 1234 5678"),  # split by spaces
        ("加微信 shop_8888 领红包", "微信 shop_8888"),  # a WeChat id
        ("同款见 www.example.com", "www.example.com"),  # a URL
    ],
)
def test_R2_contact_details_are_rejected_at_once_with_the_reason(shop, clerk, text, shown):
    review = ReviewFactory(merchant=shop)

    reply = services.reply(review, actor=clerk, text=text)

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.REJECTED and reply.flag == ReplyFlag.CONTACT
    assert shown in reply.reason_text() and "联系方式" in reply.reason_text()
    review.refresh_from_db()
    assert review.reply_status == ReplyStatus.REJECTED
    rejected = review.events.get(kind=Kind.REPLY_REJECTED)
    assert rejected.actor_kind == ActorKind.SYSTEM and shown in rejected.sentence()
    assert not selectors.moderation_queue(None).exists()


def test_R2_a_refuse_at_once_banned_word_rejects_the_reply(shop, clerk):
    BannedWordFactory(word="垃圾", action=BannedWordAction.REFUSE)
    review = ReviewFactory(merchant=shop)

    reply = services.reply(review, actor=clerk, text="你才是垃 圾")

    assert reply.status == ReplyStatus.REJECTED and reply.flag == ReplyFlag.BANNED
    assert "违禁词「垃圾」" in reply.reason_text()


def test_R2_a_send_to_a_person_banned_word_holds_the_reply_for_staff(shop, clerk):
    BannedWordFactory(word="投诉", action=BannedWordAction.REVIEW)
    review = ReviewFactory(merchant=shop)

    reply = services.reply(review, actor=clerk, text="请不要投诉，我们马上处理")

    assert reply.status == ReplyStatus.PENDING and reply.flag == ReplyFlag.SENSITIVE
    assert reply.flag_text == "投诉"
    assert "敏感词「投诉」" in review.events.get(kind=Kind.REPLIED).sentence()
    assert list(selectors.moderation_queue(None)) == [reply]


def test_R2_refuse_wins_over_send_to_a_person(shop, clerk):
    BannedWordFactory(word="投诉", action=BannedWordAction.REVIEW)
    BannedWordFactory(word="骗子", action=BannedWordAction.REFUSE)

    found = services.screen("投诉你这个骗子")

    assert (found.flag, found.found) == (ReplyFlag.BANNED, "骗子")


def test_R2_one_live_reply_a_rejected_one_may_be_written_anew(shop, clerk, operator):
    review = ReviewFactory(merchant=shop)
    first = services.reply(review, actor=clerk, text="第一版回复")

    with pytest.raises(ValidationError, match="审核中"):
        services.reply(review, actor=clerk, text="第二版回复")
    services.moderate_reply(first, actor=operator, approve=False, reason="语气生硬")
    second = services.reply(review, actor=clerk, text="第二版回复")

    assert second.status == ReplyStatus.PENDING
    texts = list(review.events.filter(kind=Kind.REPLIED).values_list("message", flat=True))
    assert texts == ["第一版回复", "第二版回复"]
    assert list(selectors.replies_of(review).values_list("text", flat=True)) == ["第一版回复", "第二版回复"]


def test_R2_staff_approve_the_shop_is_notified(shop, clerk, operator):
    review = ReviewFactory(merchant=shop)
    reply = services.reply(review, actor=clerk, text="感谢支持")

    services.moderate_reply(reply, actor=operator, approve=True)

    reply.refresh_from_db()
    assert (reply.status, reply.moderated_by) == (ReplyStatus.APPROVED, operator)
    review.refresh_from_db()
    assert review.reply_status == ReplyStatus.APPROVED
    notice = Notice.objects.get()
    assert (notice.audience, notice.merchant_id) == (Notice.Audience.MERCHANT, shop.pk)
    assert review.order_no in notices.render(notice)[1]
    assert notices.link_of(notice, "workbench").endswith(f"/review/{review.pk}/change/")
    assert review.events.filter(kind=Kind.REPLY_APPROVED, actor=operator).exists()


def test_R2_rejecting_needs_a_reason_the_shop_reads(shop, clerk, operator):
    review = ReviewFactory(merchant=shop)
    reply = services.reply(review, actor=clerk, text="感谢支持")

    with pytest.raises(ValidationError, match="驳回原因"):
        services.moderate_reply(reply, actor=operator, approve=False, reason="")
    services.moderate_reply(reply, actor=operator, approve=False, reason="含诱导好评内容")

    reply.refresh_from_db()
    assert reply.status == ReplyStatus.REJECTED and reply.reason_text() == "含诱导好评内容"
    assert "含诱导好评内容" in notices.render(Notice.objects.get())[1]


def test_R2_only_platform_staff_moderate_and_only_once(shop, clerk, operator):
    reply = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="感谢支持")

    with pytest.raises(ActorNotAllowedError):
        services.moderate_reply(reply, actor=clerk, approve=True)
    services.moderate_reply(reply, actor=operator, approve=True)
    with pytest.raises(ValidationError, match="当前状态"):
        services.moderate_reply(reply, actor=operator, approve=False, reason="x")


def test_R2_an_approved_reply_may_be_deleted_and_a_new_one_written(shop, clerk, operator):
    review = ReviewFactory(merchant=shop)
    reply = services.reply(review, actor=clerk, text="旧回复")
    services.moderate_reply(reply, actor=operator, approve=True)

    services.delete_reply(reply, actor=clerk)
    new = services.reply(review, actor=clerk, text="新回复")

    reply.refresh_from_db()
    assert reply.deleted_at is not None and reply.status == ReplyStatus.APPROVED
    assert new.status == ReplyStatus.PENDING
    deleted = review.events.get(kind=Kind.REPLY_DELETED)
    assert deleted.message == "旧回复"


def test_R2_a_pending_reply_cannot_be_deleted(shop, clerk):
    reply = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="感谢")

    with pytest.raises(ValidationError, match="已通过审核的回复"):
        services.delete_reply(reply, actor=clerk)


def test_R2_viewers_and_other_shops_cannot_reply(shop, viewer, other_clerk):
    review = ReviewFactory(merchant=shop)

    with pytest.raises(ActorNotAllowedError):
        services.reply(review, actor=viewer, text="感谢")
    with pytest.raises(ObjectNotFoundError):
        services.reply(review, actor=other_clerk, text="感谢")
    assert not Reply.objects.exists()


def test_R2_platform_staff_do_not_reply_for_a_shop(shop, operator):
    with pytest.raises(ActorNotAllowedError):
        services.reply(ReviewFactory(merchant=shop), actor=operator, text="感谢")


def test_R2_bulk_moderation_gives_a_result_per_reply(shop, clerk, operator):
    a = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="感谢一")
    b = services.reply(ReviewFactory(merchant=shop), actor=clerk, text="感谢二")
    services.moderate_reply(b, actor=operator, approve=True)

    results = services.bulk_moderate([a, b], actor=operator, approve=True)

    assert [(r.reply_id, r.ok) for r in results] == [(a.pk, True), (b.pk, False)]
    assert "当前状态" in results[1].message
    a.refresh_from_db()
    assert a.status == ReplyStatus.APPROVED


# ---------------------------------------------------------------------------------------------
# R-3 appeals


def at(review, **delta) -> datetime:
    return review.created_at + timedelta(**delta)


def test_R3_appeal_on_day_30_is_allowed(shop, clerk, time_machine):
    review = ReviewFactory(merchant=shop, product_rating=1)
    time_machine.move_to(at(review, days=30), tick=False)

    appeal = services.appeal(review, actor=clerk, reason="恶意差评", images=[make_png()])

    assert appeal.status == AppealStatus.PENDING and appeal.images.count() == 1
    review.refresh_from_db()
    assert review.appeal_status == AppealStatus.PENDING
    assert review.events.get(kind=Kind.APPEALED).message == "恶意差评"


def test_R3_appeal_on_day_31_is_refused(shop, clerk, time_machine):
    review = ReviewFactory(merchant=shop, product_rating=1)
    local = timezone.localtime(review.created_at)
    next_day_31 = timezone.make_aware(
        datetime.combine(local.date() + timedelta(days=31), datetime.min.time())
    )
    time_machine.move_to(next_day_31, tick=False)

    with pytest.raises(ValidationError, match="30 天内可以申诉"):
        services.appeal(review, actor=clerk, reason="恶意差评")

    assert not Appeal.objects.exists()


def test_R3_the_window_counts_local_days_and_is_a_setting(shop, clerk, time_machine):
    limits = ReviewSettings.load()
    limits.appeal_days = 7
    limits.save()
    review = ReviewFactory(merchant=shop)
    end_of_day_7 = review.appeal_deadline(7) - timedelta(seconds=1)
    assert timezone.localtime(end_of_day_7).date() - timezone.localtime(
        review.created_at
    ).date() == timedelta(7)
    time_machine.move_to(end_of_day_7, tick=False)

    assert services.appeal(review, actor=clerk, reason="x").pk


def test_R3_an_appeal_without_a_reason_is_refused(shop, clerk):
    review = ReviewFactory(merchant=shop)

    with pytest.raises(ValidationError, match="申诉理由"):
        services.appeal(review, actor=clerk, reason="  ")

    assert unchanged(review)[4] == 0


@pytest.mark.parametrize("outcome", [AppealStatus.PENDING, AppealStatus.UPHELD, AppealStatus.DISMISSED])
def test_R3_once_per_review_whatever_the_outcome(shop, clerk, outcome):
    review = ReviewFactory(merchant=shop, appeal=outcome)

    with pytest.raises(ValidationError):
        services.appeal(review, actor=clerk, reason="再申诉一次")

    assert Appeal.objects.count() == 1


def test_R3_never_while_pinned_allowed_after_unpin(shop, clerk):
    review = ReviewFactory(merchant=shop, pinned=True)

    with pytest.raises(ValidationError, match="请先取消置顶"):
        services.appeal(review, actor=clerk, reason="恶意差评")
    services.unpin(review, actor=clerk)
    appeal = services.appeal(review, actor=clerk, reason="恶意差评")

    assert appeal.status == AppealStatus.PENDING


def test_R3_upheld_hides_the_review_from_the_page_and_the_dsr_and_locks_it(shop, clerk, operator):
    keep = ReviewFactory(merchant=shop, product_rating=5)
    review = ReviewFactory(merchant=shop, product=keep.product, product_rating=1, service_rating=1)
    appeal = services.appeal(review, actor=clerk, reason="同行恶意差评")
    assert selectors.dsr(shop.pk).count == 2

    services.decide_appeal(appeal, actor=operator, uphold=True, code=AppealDecisionReason.MALICIOUS)

    review.refresh_from_db()
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.UPHELD and review.hidden_at is not None
    assert review.appeal_status == AppealStatus.UPHELD
    assert summary(keep.product_id).review_count == 1 and summary(keep.product_id).star_1 == 0
    figures = selectors.dsr(shop.pk)
    assert (figures.count, figures.product_avg) == (1, 5)
    assert review not in selectors.public_page(keep.product).reviews
    for attempt in (
        lambda: services.reply(review, actor=clerk, text="感谢"),
        lambda: services.pin(review, actor=clerk),
    ):
        with pytest.raises(ValidationError, match="申诉成功并隐藏"):
            attempt()
    title, body = notices.render(Notice.objects.get())
    assert "申诉成功" in title and str(AppealDecisionReason.MALICIOUS.label) in body
    event = review.events.get(kind=Kind.APPEAL_UPHELD)
    assert event.sentence() == str(AppealDecisionReason.MALICIOUS.label)


def test_R3_dismissed_keeps_the_review_and_shows_the_reason(shop, clerk, operator):
    review = ReviewFactory(merchant=shop, product_rating=2)
    appeal = services.appeal(review, actor=clerk, reason="恶意差评")

    services.decide_appeal(
        appeal, actor=operator, uphold=False, code=AppealDecisionReason.NO_EVIDENCE, reason="聊天记录不能证明"
    )

    appeal.refresh_from_db()
    review.refresh_from_db()
    assert appeal.status == AppealStatus.DISMISSED and review.hidden_at is None
    assert appeal.decision_text() == f"{AppealDecisionReason.NO_EVIDENCE.label}：聊天记录不能证明"
    assert summary(review.product_id).review_count == 1
    assert "聊天记录不能证明" in notices.render(Notice.objects.get())[1]


def test_R3_free_text_alone_is_a_decision_reason(shop, clerk, operator):
    appeal = services.appeal(ReviewFactory(merchant=shop), actor=clerk, reason="恶意差评")

    services.decide_appeal(appeal, actor=operator, uphold=False, reason="证据不足")

    appeal.refresh_from_db()
    assert (appeal.decision_code, appeal.decision_text()) == ("", "证据不足")


def test_R3_a_decision_needs_a_reason_fitting_the_outcome_by_staff_once(shop, clerk, operator):
    appeal = services.appeal(ReviewFactory(merchant=shop), actor=clerk, reason="恶意差评")

    with pytest.raises(ValidationError, match="审核说明"):
        services.decide_appeal(appeal, actor=operator, uphold=False)
    with pytest.raises(ValidationError, match="不适用"):
        services.decide_appeal(appeal, actor=operator, uphold=False, code=AppealDecisionReason.MALICIOUS)
    with pytest.raises(ActorNotAllowedError):
        services.decide_appeal(appeal, actor=clerk, uphold=True, reason="x")
    services.decide_appeal(appeal, actor=operator, uphold=True, reason="x")
    with pytest.raises(ValidationError, match="当前状态"):
        services.decide_appeal(appeal, actor=operator, uphold=False, reason="y")


def test_R3_R5_a_pending_appeal_becomes_void_when_the_buyer_deletes(shop, clerk, operator):
    review = ReviewFactory(merchant=shop)
    appeal = services.appeal(review, actor=clerk, reason="恶意差评")

    services.buyer_delete(review)

    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.VOID
    review.refresh_from_db()
    assert review.appeal_status == AppealStatus.VOID
    assert kinds(review)[-2:] == [Kind.DELETED, Kind.APPEAL_VOIDED]
    with pytest.raises(ValidationError, match="当前状态"):
        services.decide_appeal(appeal, actor=operator, uphold=True, reason="x")
    assert not Notice.objects.exists()  # void returns no result


# ---------------------------------------------------------------------------------------------
# R-4 pinning


def test_R4_two_pins_per_product_the_third_is_refused(shop, clerk):
    first = ReviewFactory(merchant=shop)
    second, third = (ReviewFactory(merchant=shop, product=first.product) for _ in range(2))
    other_product = ReviewFactory(merchant=shop)

    services.pin(first, actor=clerk)
    services.pin(second, actor=clerk)
    with pytest.raises(ValidationError, match="已有 2 条置顶评价"):
        services.pin(third, actor=clerk)
    services.pin(other_product, actor=clerk)  # another product has its own two places

    third.refresh_from_db()
    assert third.pinned_at is None
    assert Review.objects.filter(product=first.product, pinned_at__isnull=False).count() == 2


def test_R4_unpinning_frees_the_place(shop, clerk):
    a = ReviewFactory(merchant=shop, pinned=True)
    b = ReviewFactory(merchant=shop, product=a.product, pinned=True)
    c = ReviewFactory(merchant=shop, product=a.product)

    services.unpin(a, actor=clerk)
    services.pin(c, actor=clerk)

    c.refresh_from_db()
    b.refresh_from_db()
    assert {b.pin_slot, c.pin_slot} == {1, 2}
    assert [e.kind for e in a.events.filter(kind__in=[Kind.PINNED, Kind.UNPINNED])] == [
        Kind.PINNED,
        Kind.UNPINNED,
    ]


@pytest.mark.parametrize(
    "outcome", [AppealStatus.PENDING, AppealStatus.UPHELD, AppealStatus.DISMISSED, AppealStatus.VOID]
)
def test_R4_a_review_with_any_appeal_cannot_be_pinned(shop, clerk, outcome):
    review = ReviewFactory(merchant=shop, appeal=outcome)

    with pytest.raises(ValidationError):
        services.pin(review, actor=clerk)

    review.refresh_from_db()
    assert review.pinned_at is None


def test_R4_unpinning_what_is_not_pinned_is_refused(shop, clerk):
    with pytest.raises(ValidationError, match="没有置顶"):
        services.unpin(ReviewFactory(merchant=shop), actor=clerk)


def test_R4_R5_a_deleted_review_loses_its_pin_and_frees_the_place(shop, clerk):
    a = ReviewFactory(merchant=shop, pinned=True)
    ReviewFactory(merchant=shop, product=a.product, pinned=True)
    c = ReviewFactory(merchant=shop, product=a.product)

    services.buyer_delete(a)
    services.pin(c, actor=clerk)

    a.refresh_from_db()
    assert a.pinned_at is None and a.pin_slot is None
    assert "自动取消置顶" in a.events.get(kind=Kind.UNPINNED).sentence()


def test_R4_pins_stay_in_the_shop(shop, other_clerk, viewer):
    review = ReviewFactory(merchant=shop)

    with pytest.raises(ObjectNotFoundError):
        services.pin(review, actor=other_clerk)
    with pytest.raises(ActorNotAllowedError):
        services.pin(review, actor=viewer)


# ---------------------------------------------------------------------------------------------
# R-5 buyer deletion


def test_R5_the_shop_still_sees_a_deleted_review_and_can_do_nothing_with_it(shop, clerk, operator):
    review = ReviewFactory(merchant=shop, reply=ReplyStatus.APPROVED)
    reply = review.replies.get()

    services.buyer_delete(review)

    review.refresh_from_db()
    assert review.deleted_at is not None
    assert review in selectors.reviews_for(clerk)
    assert summary(review.product_id).review_count == 0
    assert selectors.dsr(shop.pk).count == 0
    assert review.events.filter(kind=Kind.DELETED, actor_kind=ActorKind.BUYER).exists()
    before = unchanged(review)
    for attempt in (
        lambda: services.reply(review, actor=clerk, text="感谢"),
        lambda: services.pin(review, actor=clerk),
        lambda: services.appeal(review, actor=clerk, reason="恶意"),
        lambda: services.delete_reply(reply, actor=clerk),
    ):
        with pytest.raises(ValidationError, match="买家已删除"):
            attempt()
    assert unchanged(review) == before


def test_R5_a_review_is_deleted_once(shop):
    review = ReviewFactory(merchant=shop)
    services.buyer_delete(review)

    with pytest.raises(ValidationError, match="已被删除"):
        services.buyer_delete(review)

    assert summary(review.product_id).review_count == 0


# ---------------------------------------------------------------------------------------------
# R-7 DSR and rates


def test_R7_dsr_averages_each_dimension_over_90_days_without_deleted_and_upheld(shop, clerk, operator):
    now = timezone.now()
    ReviewFactory(merchant=shop, product_rating=5, service_rating=4, logistics_rating=3)
    ReviewFactory(merchant=shop, product_rating=4, service_rating=2, logistics_rating=5)
    ReviewFactory(merchant=shop, product_rating=1, service_rating=1, logistics_rating=1, deleted=True)
    ReviewFactory(
        merchant=shop, product_rating=1, service_rating=1, logistics_rating=1, appeal=AppealStatus.UPHELD
    )
    ReviewFactory(merchant=shop, product_rating=2, created_at=now - timedelta(days=90, minutes=1))
    ReviewFactory(merchant=shop, product_rating=3, service_rating=5, created_at=now - timedelta(days=89))

    figures = selectors.dsr(shop.pk, now=now + timedelta(seconds=5))  # the undated ones were made after `now`

    assert figures.count == 3
    assert figures.product_avg == pytest.approx(4.0)
    assert figures.service_avg == pytest.approx((4 + 2 + 5) / 3)
    assert figures.logistics_avg == pytest.approx((3 + 5 + 5) / 3)
    assert (figures.good_product, figures.good_service, figures.bad_service) == (2, 2, 1)
    assert figures.good_product_rate == pytest.approx(2 / 3)


def test_R7_the_window_is_a_setting(shop):
    now = timezone.now()
    ReviewFactory(merchant=shop, created_at=now - timedelta(days=40))
    limits = ReviewSettings.load()
    limits.dsr_days = 30
    limits.save()

    assert selectors.dsr(shop.pk, now=now).count == 0
    assert selectors.dsr(shop.pk, now=now, days=90).count == 1


def test_R7_figures_are_per_shop(shop, other_shop):
    ReviewFactory(merchant=shop, product_rating=5)
    ReviewFactory(merchant=other_shop, product_rating=1)

    assert selectors.dsr(shop.pk).product_avg == 5
    assert selectors.dsr(other_shop.pk).product_avg == 1


def test_R7_daily_rates_count_each_local_day(shop):
    day = timezone.localdate() - timedelta(days=3)
    morning = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=1)
    ReviewFactory(merchant=shop, product_rating=5, created_at=morning)
    ReviewFactory(merchant=shop, product_rating=1, created_at=morning + timedelta(hours=22))
    ReviewFactory(merchant=shop, product_rating=5, created_at=morning + timedelta(days=1))

    rows = selectors.daily_rates(shop.pk, start=day, end=day + timedelta(days=1))

    assert [(r.day, r.count, r.good_product, r.bad_product) for r in rows] == [
        (day, 2, 1, 1),
        (day + timedelta(days=1), 1, 1, 0),
    ]


def test_R7_summary_rows_agree_with_a_recount(shop, clerk, operator):
    a = ReviewFactory(merchant=shop, product_rating=5)
    ReviewFactory(merchant=shop, product=a.product, product_rating=3, deleted=True)
    ReviewFactory(merchant=shop, product=a.product, product_rating=1, appeal=AppealStatus.UPHELD)
    ReviewFactory(merchant=shop, product=a.product, product_rating=2, appeal=AppealStatus.DISMISSED)
    kept = {f.name: getattr(summary(a.product_id), f.name) for f in ProductReviewSummary._meta.fields}

    services.rebuild_summaries([a.product_id])

    assert {f.name: getattr(summary(a.product_id), f.name) for f in ProductReviewSummary._meta.fields} == kept
    assert kept["review_count"] == 2 and kept["star_5"] == kept["star_2"] == 1
