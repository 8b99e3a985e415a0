"""Review figures for the level engine (L-3, L-4, L-6), registered with merchants.levels.

A review counts unless the buyer deleted it or an appeal against it was upheld (the review is hidden).
Good: >= 4 stars in its dimension; bad: <= 2 (the product dimension, L-6's bad-review rate).
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from merchants.levels.registry import Windows, level_daily_metric, level_metric, midnight
from reviews.models import Review
from reviews.transitions import AppealStatus

GOOD, BAD = 4, 2


def counted_reviews():
    return Review.objects.filter(deleted_at__isnull=True, hidden_at__isnull=True).exclude(
        appeal_status=AppealStatus.UPHELD
    )


@level_metric
def review_figures(merchant_ids, windows: Windows) -> dict:
    start30, end = windows.w30
    start90, _end = windows.w90
    rows = (
        counted_reviews()
        .filter(merchant_id__in=merchant_ids, created_at__gte=start90, created_at__lt=end)
        .values("merchant_id")
        .annotate(
            reviews=Count("pk", filter=Q(created_at__gte=start30)),
            service_good=Count("pk", filter=Q(created_at__gte=start30, service_rating__gte=GOOD)),
            product_good=Count("pk", filter=Q(created_at__gte=start30, product_rating__gte=GOOD)),
            reviews_90=Count("pk"),
            bad_90=Count("pk", filter=Q(product_rating__lte=BAD)),
            dsr_product_sum=Sum("product_rating"),
            dsr_service_sum=Sum("service_rating"),
            dsr_logistics_sum=Sum("logistics_rating"),
        )
        .order_by()
    )
    return {
        row["merchant_id"]: {
            k: row[k]
            for k in (
                "reviews",
                "service_good",
                "product_good",
                "reviews_90",
                "bad_90",
                # the dashboard's DSR (90 days): rating sums over reviews_90
                "dsr_product_sum",
                "dsr_service_sum",
                "dsr_logistics_sum",
            )
        }
        for row in rows
    }


@level_daily_metric
def review_days(pairs) -> dict:
    """L-4: one day's reviews and good reviews per shop."""
    ids = sorted({pk for pk, _day in pairs})
    days = sorted({day for _pk, day in pairs})
    wanted = set(pairs)
    rows = (
        counted_reviews()
        .filter(
            merchant_id__in=ids,
            created_at__gte=midnight(days[0]),
            created_at__lt=midnight(days[-1] + timedelta(days=1)),
        )
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("merchant_id", "day")
        .annotate(
            reviews=Count("pk"),
            service_good=Count("pk", filter=Q(service_rating__gte=GOOD)),
            product_good=Count("pk", filter=Q(product_rating__gte=GOOD)),
        )
        .order_by()
    )
    out = {}
    for row in rows:
        key = (row["merchant_id"], row["day"])
        if key in wanted:
            out[key] = {k: row[k] for k in ("reviews", "service_good", "product_good")}
    return out
