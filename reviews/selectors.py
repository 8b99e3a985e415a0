"""Reads of reviews. The actor-taking ones go through the tenancy layer (SPEC §1); two kinds do not:

- the shop figures of R-7 (`dsr`, `rates`, `daily_rates`) take a shop id and are the system's reads —
  the level engine (L-3, L-4, L-6) calls them as the system, the workbench only for the user's shops;
- the public product page (R-8) reads through `public_product` / `public_page`, which show exactly what
  anyone may see (visible reviews, approved replies, masked names) and never use an actor at all.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Avg, Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.db.models.functions import TruncDate
from django.utils import timezone

from merchants.kernel.models import MerchantStatus
from merchants.kernel.scoping import WRITE_ROLES, get_for_actor, role_for, scope_to_actor
from merchants.models import Product
from reviews.models import (
    Appeal,
    ProductReviewSummary,
    Reply,
    Review,
    ReviewEvent,
    ReviewImage,
    ReviewSettings,
)
from reviews.transitions import BAD_MAX, GOOD_MIN, LIVE_REPLY_STATES, AppealStatus, ReplyStatus

# ---- the workbench and the staff queues (scoped)


def reviews_for(actor) -> QuerySet[Review]:
    """The reviews the actor may see, with what a list row shows already joined."""
    return scope_to_actor(Review.objects.select_related("product", "sku"), actor)


def review_ref(pk: int, *, actor) -> Review:
    """The review's ids (shop, product), unlocked and scoped: what a service needs to lock in order."""
    return get_for_actor(Review.objects.only("pk", "merchant_id", "product_id"), actor, pk=pk)


def review_for_update(pk: int, *, actor) -> Review:
    """Lock one review the actor may see (SELECT … FOR UPDATE on the review row only); 404-like otherwise."""
    return get_for_actor(
        Review.objects.select_for_update(of=("self",)).select_related("product", "merchant"), actor, pk=pk
    )


def product_for_update(pk: int) -> Product:
    """Lock a product row (R-4: pins of one product take turns). Visibility was decided by the review."""
    return Product.objects.select_for_update().only("pk", "merchant_id").get(pk=pk)


def reply_ref(pk: int, *, actor) -> Reply:
    return get_for_actor(Reply.objects.only("pk", "review_id", "merchant_id"), actor, pk=pk)


def appeal_ref(pk: int, *, actor) -> Appeal:
    return get_for_actor(Appeal.objects.only("pk", "review_id", "merchant_id"), actor, pk=pk)


def live_reply(review: Review) -> Reply | None:
    """R-2: the review's pending or approved reply that was not deleted, if any."""
    return (
        review.replies.filter(status__in=LIVE_REPLY_STATES, deleted_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


def current_reply(review: Review) -> Reply | None:
    """The latest wording that is not deleted (what the review's reply_status describes)."""
    return review.replies.filter(deleted_at__isnull=True).order_by("-created_at", "-pk").first()


def replies_of(review: Review) -> QuerySet[Reply]:
    """Every wording, oldest first (R-2: the history keeps them all)."""
    return review.replies.select_related("author", "moderated_by").order_by("created_at", "pk")


def appeal_of(review: Review) -> Appeal | None:
    return Appeal.objects.filter(review=review).select_related("filed_by", "decided_by").first()


def timeline(review: Review) -> QuerySet[ReviewEvent]:
    return review.events.select_related("actor").order_by("created_at", "pk")


def replies_for(actor) -> QuerySet[Reply]:
    return scope_to_actor(Reply.objects.select_related("review", "review__product", "merchant"), actor)


def moderation_queue(actor) -> QuerySet[Reply]:
    """R-2: replies waiting for a person, oldest first."""
    return replies_for(actor).filter(status=ReplyStatus.PENDING).order_by("created_at", "pk")


def appeals_for(actor) -> QuerySet[Appeal]:
    return scope_to_actor(Appeal.objects.select_related("review", "review__product", "merchant"), actor)


def appeal_queue(actor) -> QuerySet[Appeal]:
    """R-3: appeals waiting for a decision, oldest first."""
    return appeals_for(actor).filter(status=AppealStatus.PENDING).order_by("created_at", "pk")


def settings_row() -> ReviewSettings:
    return ReviewSettings.load()


def available_actions(
    review: Review, actor, *, now: datetime.datetime | None = None, limits=None
) -> list[str]:
    """The action names the review's state and the actor's role allow (the page shows only these buttons).

    Owners and agents of the review's shop (and superusers) act; viewers, platform staff and other shops get
    nothing. A deleted or hidden review gets nothing (R-3, R-5). The pin limit is left to the service: its
    refusal names the two reviews' product (R-4).
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    if not (actor.is_superuser or role_for(actor, review.merchant_id) in WRITE_ROLES):
        return []
    if not review.is_public:
        return []
    now = now or timezone.now()
    limits = limits or settings_row()
    actions = []
    if review.reply_status in ("", ReplyStatus.REJECTED):
        actions.append("reply")
    if review.reply_status == ReplyStatus.APPROVED:
        actions.append("delete_reply")
    if review.pinned_at is not None:
        actions.append("unpin")
    elif not review.appeal_status:
        actions.append("pin")
        if now < review.appeal_deadline(limits.appeal_days):
            actions.append("appeal")
    return actions


# ---- DSR and good-review rates of one shop (system reads, for the level engine too)


def _visible_in(merchant_id: int, start: datetime.datetime, end: datetime.datetime) -> QuerySet[Review]:
    """A shop's reviews created in [start, end) that count (not deleted, not upheld): review_dsr_idx."""
    return Review.objects.filter(
        merchant_id=merchant_id,
        created_at__gte=start,
        created_at__lt=end,
        deleted_at__isnull=True,
        hidden_at__isnull=True,
    )


# COUNT(*) and COUNT(<a rating>) (never null), not COUNT(id): the id is not in review_dsr_idx, and naming
# it would send every row to the heap instead of an index-only scan.
_RATE_AGGREGATES = {
    "count": Count("*"),
    "product_avg": Avg("product_rating"),
    "service_avg": Avg("service_rating"),
    "logistics_avg": Avg("logistics_rating"),
    "good_product": Count("product_rating", filter=Q(product_rating__gte=GOOD_MIN)),
    "good_service": Count("service_rating", filter=Q(service_rating__gte=GOOD_MIN)),
    "bad_product": Count("product_rating", filter=Q(product_rating__lte=BAD_MAX)),
    "bad_service": Count("service_rating", filter=Q(service_rating__lte=BAD_MAX)),
    "bad_logistics": Count("logistics_rating", filter=Q(logistics_rating__lte=BAD_MAX)),
}


@dataclass(frozen=True)
class Rates:
    """A shop's review figures over [start, end): averages per dimension and good / bad counts (R-7, L-3)."""

    start: datetime.datetime
    end: datetime.datetime
    count: int = 0
    product_avg: float | None = None
    service_avg: float | None = None
    logistics_avg: float | None = None
    good_product: int = 0
    good_service: int = 0
    bad_product: int = 0
    bad_service: int = 0
    bad_logistics: int = 0
    day: datetime.date | None = field(default=None, compare=False)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def good_product_rate(self) -> float | None:
        return self._rate(self.good_product, self.count)

    @property
    def good_service_rate(self) -> float | None:
        return self._rate(self.good_service, self.count)

    @property
    def bad_product_rate(self) -> float | None:
        return self._rate(self.bad_product, self.count)

    @property
    def bad_service_rate(self) -> float | None:
        return self._rate(self.bad_service, self.count)


def _rates_from(row: dict, start, end, day=None) -> Rates:
    return Rates(
        start=start,
        end=end,
        day=day,
        count=row["count"] or 0,
        product_avg=row["product_avg"],
        service_avg=row["service_avg"],
        logistics_avg=row["logistics_avg"],
        good_product=row["good_product"] or 0,
        good_service=row["good_service"] or 0,
        bad_product=row["bad_product"] or 0,
        bad_service=row["bad_service"] or 0,
        bad_logistics=row["bad_logistics"] or 0,
    )


def rates(merchant_id: int, *, start: datetime.datetime, end: datetime.datetime) -> Rates:
    """The shop's figures over [start, end), deleted and upheld reviews left out: one index-only aggregate."""
    return _rates_from(_visible_in(merchant_id, start, end).aggregate(**_RATE_AGGREGATES), start, end)


def dsr(merchant_id: int, *, now: datetime.datetime | None = None, days: int | None = None) -> Rates:
    """R-7: the DSR of a shop — the last `days` (ReviewSettings.dsr_days, 90 by default) up to `now`."""
    now = now or timezone.now()
    days = settings_row().dsr_days if days is None else days
    return rates(merchant_id, start=now - datetime.timedelta(days=days), end=now)


def dsr_trend(
    merchant_id: int, *, now: datetime.datetime | None = None, days: int | None = None, step_days: int = 30
) -> tuple[Rates, Rates]:
    """(the DSR now, the DSR `step_days` ago over the same length of window): the workbench home's trend."""
    now = now or timezone.now()
    days = settings_row().dsr_days if days is None else days
    return dsr(merchant_id, now=now, days=days), dsr(
        merchant_id, now=now - datetime.timedelta(days=step_days), days=days
    )


def daily_rates(merchant_id: int, *, start: datetime.date, end: datetime.date) -> list[Rates]:
    """One Rates per local day in [start, end] that has reviews (L-4 looks at single days)."""
    begin = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    stop = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min))
    rows = (
        _visible_in(merchant_id, begin, stop)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(**_RATE_AGGREGATES)
        .order_by("day")
    )
    out = []
    for row in rows:
        day_start = timezone.make_aware(datetime.datetime.combine(row["day"], datetime.time.min))
        out.append(_rates_from(row, day_start, day_start + datetime.timedelta(days=1), day=row["day"]))
    return out


# ---- the public product page (anyone; never through an actor)


PUBLIC_PAGE_SIZE = 10


def public_reviews() -> QuerySet[Review]:
    """Every review the product page may show: not deleted by the buyer, not hidden by an upheld appeal."""
    return Review.objects.filter(deleted_at__isnull=True, hidden_at__isnull=True)


def public_product(code: str, spu: str) -> Product | None:
    """The product of an active shop by shop code and SPU id, with its shop and review summary (one query)."""
    return (
        Product.objects.select_related("merchant", "review_summary")
        .filter(merchant__code=code, merchant__status=MerchantStatus.ACTIVE, spu_id=spu)
        .first()
    )


def summary_of(product: Product) -> ProductReviewSummary:
    try:
        summary = product.review_summary
    except ProductReviewSummary.DoesNotExist:
        summary = None
    return summary or ProductReviewSummary(product=product)


@dataclass
class PublicPage:
    reviews: list[Review]
    number: int
    pages: int
    total: int
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def _public_rows(queryset: QuerySet[Review]) -> QuerySet[Review]:
    return queryset.select_related("sku").only(
        "pk",
        "product_id",
        "sku__spec",
        "buyer_name",
        "product_rating",
        "service_rating",
        "logistics_rating",
        "content",
        "created_at",
        "pinned_at",
    )


def public_page(product: Product, *, page: int = 1, per_page: int = PUBLIC_PAGE_SIZE) -> PublicPage:
    """R-8: pinned first (latest pin first), then newest; approved replies and images attached.

    Four queries whatever the page number: the pinned (≤ 2), one page of the rest by offset over
    review_public_idx (ids first, then their rows), approved replies, images. The total comes from the
    product's summary row (no COUNT over 50,000 reviews); a page past the end shows the last page.
    """
    total = summary_of(product).review_count
    pages = max(1, -(-total // per_page))
    number = min(max(1, page), pages)
    # pin_slot, not pinned_at: the same rows (review_pin_slot_with_pinned_at), read through the unique
    # (product, pin_slot) index instead of every review of the product.
    pinned = list(
        _public_rows(public_reviews().filter(product=product, pin_slot__isnull=False)).order_by("-pinned_at")
    )
    start = (number - 1) * per_page
    shown = pinned[start : start + per_page]
    offset = max(0, start - len(pinned))
    limit = per_page - len(shown)
    rest: list[Review] = []
    if limit > 0:
        ids = (
            public_reviews()
            .filter(product=product, pinned_at__isnull=True)
            .order_by("-created_at", "-id")
            .values("id")[offset : offset + limit]
        )
        rest = list(_public_rows(Review.objects.filter(pk__in=ids)).order_by("-created_at", "-id"))
    reviews = shown + rest
    if reviews:
        prefetch_related_objects(
            reviews,
            Prefetch(
                "replies",
                queryset=Reply.objects.filter(status=ReplyStatus.APPROVED, deleted_at__isnull=True).only(
                    "pk", "review_id", "text", "status", "moderated_at", "created_at"
                ),
                to_attr="public_replies",
            ),
            Prefetch(
                "images",
                queryset=ReviewImage.objects.only("pk", "review_id", "file", "position"),
                to_attr="public_images",
            ),
        )
    return PublicPage(reviews=reviews, number=number, pages=pages, total=total, per_page=per_page)
