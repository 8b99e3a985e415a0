"""The review itself (R-1, R-4, R-5): the buyer writes and deletes it, the merchant pins and unpins it.

Each service: one transaction; lock (scoped to the actor) in the agreed order; check the actor and the
rules; change; save with update_fields; one event through the kernel's writer. Buyer moves take no actor
(the buyer is not a user of the panel: imports, the buyer feed and the demo call them) and are recorded
as the BUYER actor.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants import selectors as merchant_selectors
from merchants.kernel.events import record_event
from merchants.kernel.scoping import BUYER
from merchants.models import OrderItem
from merchants.transitions import OrderStatus
from reviews import selectors
from reviews.exceptions import PinNotAllowedError, ReviewNotAllowedError
from reviews.models import Appeal, ProductReviewSummary, Review, ReviewEvent, ReviewImage
from reviews.services._common import (
    clean_files,
    clean_rating,
    clean_text,
    pk_of,
    require_merchant,
    require_unlocked,
    summary_add,
    summary_remove,
)
from reviews.transitions import PIN_SLOTS, AppealStatus, never_appealed

Kind = ReviewEvent.Kind
CONTENT_MAX = 2000


@transaction.atomic
def submit_review(
    order,
    *,
    product,
    product_rating,
    service_rating,
    logistics_rating,
    content: str = "",
    images: Iterable = (),
    sku=None,
    created_at: datetime.datetime | None = None,
) -> Review:
    """The buyer reviews an item of a received order, once per item (R-1). Locks the order, then its items.

    `product` names the item (with `sku` when the order holds the product in several SKUs); `created_at`
    is for imports of past reviews (B-1) and defaults to now.
    """
    ratings = {
        "product_rating": clean_rating(product_rating, label=_("商品评分")),
        "service_rating": clean_rating(service_rating, label=_("服务评分")),
        "logistics_rating": clean_rating(logistics_rating, label=_("物流评分")),
    }
    content = clean_text(content, label=_("评价内容"), required=False, max_length=CONTENT_MAX)
    files = clean_files(images)
    now = created_at or timezone.now()

    order = merchant_selectors.order_for_update(pk_of(order), actor=None)
    if order.status != OrderStatus.RECEIVED:
        raise ReviewNotAllowedError(
            _("订单 %(no)s 尚未确认收货（%(state)s），收货后才能评价。")
            % {"no": order.order_no, "state": order.get_status_display()},
            code="not_received",
        )
    items = OrderItem.objects.select_for_update(of=("self",)).filter(order=order, product_id=pk_of(product))
    if sku is not None:
        items = items.filter(sku_id=pk_of(sku))
    items = list(items.order_by("pk"))
    if not items:
        raise ReviewNotAllowedError(
            _("订单 %(no)s 中没有这件商品，不能评价。") % {"no": order.order_no}, code="not_in_order"
        )
    reviewed = set(Review.objects.filter(item__in=items).values_list("item_id", flat=True))
    item = next((item for item in items if item.pk not in reviewed), None)
    if item is None:
        raise ReviewNotAllowedError(
            _("订单 %(no)s 的这件商品已评价过，每件商品只能评价一次。") % {"no": order.order_no},
            code="already_reviewed",
        )
    review = Review(
        merchant_id=order.merchant_id,
        product_id=item.product_id,
        sku_id=item.sku_id,
        order=order,
        item=item,
        order_no=order.order_no,
        buyer_id=order.buyer_id,
        buyer_name=order.buyer_name,
        content=content,
        image_count=len(files),
        created_at=now,
        **ratings,
    )
    try:
        with transaction.atomic():
            review.save(force_insert=True)
    except IntegrityError as exc:  # the item's unique index: a concurrent review of the same item won
        raise ReviewNotAllowedError(
            _("订单 %(no)s 的这件商品已评价过，每件商品只能评价一次。") % {"no": order.order_no},
            code="already_reviewed",
        ) from exc
    for position, f in enumerate(files):
        ReviewImage.objects.create(review=review, file=f, position=position, created_at=now)
    summary_add(review)
    record_event(
        review,
        Kind.SUBMITTED,
        actor=BUYER,
        params={
            "product": review.product_rating,
            "service": review.service_rating,
            "logistics": review.logistics_rating,
        },
        at=now,
    )
    return review


@transaction.atomic
def buyer_delete(review) -> Review:
    """The buyer deletes the review (R-5): the shop still sees it, marked; it leaves the DSR and the
    product page, loses its pin (R-4), and a pending appeal on it becomes void (R-3)."""
    review = selectors.review_for_update(pk_of(review), actor=None)
    if review.deleted_at is not None:
        raise ReviewNotAllowedError(_("该评价已被删除。"), code="already_deleted")
    now = timezone.now()
    was_public = review.is_public
    was_pinned = review.pinned_at is not None
    review.deleted_at = now
    review.pinned_at = review.pin_slot = None
    appeal = Appeal.objects.select_for_update().filter(review=review, status=AppealStatus.PENDING).first()
    if appeal is not None:
        appeal.void(now=now)
        appeal.save(update_fields=["status", "decided_at"])
        review.appeal_status = appeal.status
    review.save(update_fields=["deleted_at", "pinned_at", "pin_slot", "appeal_status", "updated_at"])
    if was_public:
        summary_remove(review)
    record_event(review, Kind.DELETED, actor=BUYER, at=now)
    if was_pinned:
        record_event(review, Kind.UNPINNED, actor=None, params={"why": "deleted_unpinned"}, at=now)
    if appeal is not None:
        record_event(
            review,
            Kind.APPEAL_VOIDED,
            actor=None,
            source=AppealStatus.PENDING,
            data={"appeal": appeal.pk},
            at=now,
        )
    return review


@transaction.atomic
def pin(review, *, actor) -> Review:
    """Pin a review to the top of its product page (R-4): at most two per product at a time, never one
    with an appeal. The product row is locked first, so two pins at once take turns; each takes a free
    place (review_pin_slot_unique), so even a caller that skipped the lock could not make a third."""
    ref = selectors.review_ref(pk_of(review), actor=actor)
    require_merchant(actor, ref.merchant_id)
    selectors.product_for_update(ref.product_id)
    review = selectors.review_for_update(ref.pk, actor=actor)
    require_unlocked(review)
    if not never_appealed(review):
        raise PinNotAllowedError(str(never_appealed.message), code="appealed")
    if review.pinned_at is not None:
        raise PinNotAllowedError(_("该评价已置顶。"), code="already_pinned")
    taken = set(
        Review.objects.filter(product_id=review.product_id, pin_slot__isnull=False).values_list(
            "pin_slot", flat=True
        )
    )
    free = [slot for slot in PIN_SLOTS if slot not in taken]
    if not free:
        raise PinNotAllowedError(
            _("该商品已有 %(max)d 条置顶评价，请先取消其中一条再置顶。") % {"max": len(PIN_SLOTS)},
            code="pin_limit",
        )
    now = timezone.now()
    review.pinned_at, review.pin_slot = now, free[0]
    try:
        with transaction.atomic():
            review.save(update_fields=["pinned_at", "pin_slot", "updated_at"])
    except IntegrityError as exc:
        raise PinNotAllowedError(
            _("该商品已有 %(max)d 条置顶评价，请先取消其中一条再置顶。") % {"max": len(PIN_SLOTS)},
            code="pin_limit",
        ) from exc
    record_event(review, Kind.PINNED, actor=actor, at=now)
    return review


@transaction.atomic
def unpin(review, *, actor) -> Review:
    """Take a review off the top of its product page (R-4: always allowed while it is pinned)."""
    ref = selectors.review_ref(pk_of(review), actor=actor)
    require_merchant(actor, ref.merchant_id)
    review = selectors.review_for_update(ref.pk, actor=actor)
    if review.pinned_at is None:
        raise PinNotAllowedError(_("该评价没有置顶。"), code="not_pinned")
    now = timezone.now()
    review.pinned_at = review.pin_slot = None
    review.save(update_fields=["pinned_at", "pin_slot", "updated_at"])
    record_event(review, Kind.UNPINNED, actor=actor, at=now)
    return review


def rebuild_summaries(product_ids: Iterable[int] | None = None) -> int:
    """Recount the product summaries from the reviews (after a bulk load or to repair); returns rows written.

    The services keep the summaries exact; this is for data written around them (COPY in the benchmarks,
    demo seeding) and as the reference the summary tests compare against.
    """
    reviews = selectors.public_reviews()
    if product_ids is not None:
        product_ids = list(product_ids)
        reviews = reviews.filter(product_id__in=product_ids)
    stars = {f"star_{n}": Count("pk", filter=Q(product_rating=n)) for n in range(1, 6)}
    rows = (
        reviews.order_by()
        .values("product_id")
        .annotate(
            review_count=Count("pk"),
            product_rating_sum=Sum("product_rating"),
            service_rating_sum=Sum("service_rating"),
            logistics_rating_sum=Sum("logistics_rating"),
            **stars,
        )
    )
    summaries = [ProductReviewSummary(**row) for row in rows]
    with transaction.atomic():
        existing = ProductReviewSummary.objects.all()
        if product_ids is not None:
            existing = existing.filter(product_id__in=product_ids)
        existing.delete()
        ProductReviewSummary.objects.bulk_create(summaries, batch_size=1000)
    return len(summaries)


__all__ = ["buyer_delete", "pin", "rebuild_summaries", "submit_review", "unpin"]
