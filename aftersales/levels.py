"""After-sales figures for the level engine and the shop score (L-5, L-6), registered with merchants.levels.

Every figure leaves out, as L-7 says, the cases that must never hurt a shop: negotiated ones (A-8) and
those whose delay report was approved (A-9, `excluded_from_assessment`). The L-5 times also leave out the
cases the platform arbitrated (A-7) — the time is the platform's, not the merchant's.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)

from aftersales.models import AfterSaleCase, CaseEvent
from aftersales.transitions import CaseStatus, CaseType, Liability, Reason
from merchants.levels.registry import Windows, level_metric

ENDED = (CaseStatus.REFUNDED, CaseStatus.CLOSED)  # 退款成功 / 退款关闭: a refund case that is over
MERCHANT_LIABLE = (Liability.MERCHANT, Liability.BOTH)  # L-5: `both` counts as merchant-liable


def assessed_cases():
    """Cases that count in any metric (L-7): negotiated and delay-excused cases out."""
    return AfterSaleCase.objects.filter(negotiated=False, excluded_from_assessment=False)


def _seconds(value) -> int:
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return int(value) // 1_000_000  # some backends hand durations back as microseconds


def _duration(end, start):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


@level_metric
def case_figures(merchant_ids, windows: Windows) -> dict:
    """L-5 over the 30 days: the two self-completion times (sums and counts), disputes, completed cases;
    L-6: logistics returns over the days 15–104 before the evaluation."""
    start, end = windows.w30
    ended = assessed_cases().filter(
        merchant_id__in=merchant_ids,
        type__in=(CaseType.REFUND_ONLY, CaseType.RETURN_REFUND),
        status__in=ENDED,
        closed_at__gte=start,
        closed_at__lt=end,
    )
    out: dict = {}
    counts = (
        ended.values("merchant_id")
        .annotate(
            completed=Count("pk"),
            disputes=Count("pk", filter=Q(arbitrated_at__isnull=False, liability__in=MERCHANT_LIABLE)),
        )
        .order_by()
    )
    for row in counts:
        out.setdefault(row["merchant_id"], {}).update(
            refund_cases_completed=row["completed"], merchant_liable_disputes=row["disputes"]
        )
    self_completed = ended.filter(arbitration_started_at__isnull=True)
    refund_only = (
        self_completed.filter(type=CaseType.REFUND_ONLY)
        .values("merchant_id")
        .annotate(n=Count("pk"), total=Sum(_duration("closed_at", "created_at")))
        .order_by()
    )
    for row in refund_only:
        out.setdefault(row["merchant_id"], {}).update(
            refund_only_cases=row["n"], refund_only_seconds=_seconds(row["total"])
        )
    approved_at = (
        CaseEvent.objects.filter(case=OuterRef("pk"), kind=CaseEvent.Kind.APPROVED)
        .values("case")
        .annotate(first=Min("created_at"))
        .values("first")[:1]
    )
    returns = (
        self_completed.filter(type=CaseType.RETURN_REFUND, return_received_at__isnull=False)
        .annotate(approved_at=Subquery(approved_at))
        .filter(approved_at__isnull=False)
        .values("merchant_id")
        .annotate(
            n=Count("pk"),
            deciding=Sum(_duration("approved_at", "created_at")),
            receiving=Sum(_duration("return_received_at", "return_signed_at")),
        )
        .order_by()
    )
    for row in returns:
        out.setdefault(row["merchant_id"], {}).update(
            return_refund_cases=row["n"],
            return_refund_seconds=_seconds(row["deciding"]) + _seconds(row["receiving"]),
        )
    l_start, l_end = windows.logistics
    logistics = (
        assessed_cases()
        .filter(
            merchant_id__in=merchant_ids,
            type=CaseType.RETURN_REFUND,
            reason=Reason.LOGISTICS,
            order__paid_at__gte=l_start,
            order__paid_at__lt=l_end,
            order__shipped_at__isnull=False,
            created_at__lte=F("order__shipped_at") + timedelta(days=14),
        )
        .values("merchant_id")
        .annotate(n=Count("order", distinct=True))
        .order_by()
    )
    for row in logistics:
        out.setdefault(row["merchant_id"], {})["logistics_returns"] = row["n"]
    return out
