"""The shop score (L-5, 0–5) and the experience score (L-6, 0–100): indicator-to-score curves and weights.

Curves are piecewise-linear: [[indicator value, score], ...] in ascending value order, clamped at both
ends. The defaults below are our reading of seed 003 (Kuaishou's 店铺分, Douyin's 体验分); staff change
them by adding a dated merchants.ScoreSettings row, and each day is scored under the row in force then.

Why these defaults:
- refund_only_hours / return_refund_hours (L-5, 5 points): the platforms publish no curve; full marks
  while a case is answered within the merchant's A-5 answer period (about a day for refund only, two for
  return refund including the receiving), one point lost per further day, a floor of 1 after five/seven
  days. A failed dispute rate (> 4 disputes and > 0.35 %) caps both at 4 (seed 003).
- bad_review_rate, logistics_return_rate, im_dissatisfaction, complaint_rate, on_time_rate,
  im_first_response (L-6, 100 points): full marks at the level rules' upgrade lines (L-3) where one
  exists (on-time 99.9 %, complaint 0.1 %, first response 180 s), 60 at the downgrade lines (99 %, 0.2 %,
  300 s), 0 far beyond; rates with no L-3 line (bad reviews, logistics returns, IM dissatisfaction) get
  full marks at half a percent / 0.2 % / 5 %, the rates a well-run shop shows, and 0 at 10 % / 5 % / 30 %.
- Weights: product 42.5 %, logistics 20 %, service 37.5 % from 2022-06-21 (seed 003), 50/15/35 before;
  the two L-5 times weigh half each (the seed names no weights).
An indicator with nothing to measure (no reviews, no cases) scores full marks: no data is no fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from merchants.levels.numbers import SCORE, VALUE, dec, decimal, exact, quantize, stored

D = Decimal
# Curve points are exact decimals ([indicator value, score]); staff's JSON numbers are read as typed.
DEFAULT_CURVES: dict[str, list[list[Decimal | int]]] = {
    "refund_only_hours": [[0, 5], [24, 5], [48, 4], [72, 3], [96, 2], [120, 1]],
    "return_refund_hours": [[0, 5], [48, 5], [72, 4], [96, 3], [120, 2], [168, 1]],
    "bad_review_rate": [[0, 100], [D("0.5"), 100], [2, 80], [5, 50], [10, 0]],
    "logistics_return_rate": [[0, 100], [D("0.2"), 100], [1, 70], [3, 30], [5, 0]],
    "im_dissatisfaction": [[0, 100], [5, 100], [15, 60], [30, 0]],
    "complaint_rate": [[0, 100], [D("0.1"), 100], [D("0.2"), 60], [1, 0]],
    "on_time_rate": [[95, 0], [99, 60], [D("99.9"), 100]],
    "im_first_response": [[0, 100], [180, 100], [300, 60], [600, 0]],
}
INDICATOR_LABELS = {
    "refund_only_hours": gettext_lazy("仅退款自主完结时长（小时）"),
    "return_refund_hours": gettext_lazy("退货退款自主完结时长（小时）"),
    "bad_review_rate": gettext_lazy("差评率（%，近 90 天）"),
    "logistics_return_rate": gettext_lazy("物流退货率（%，前 15–104 天）"),
    "im_dissatisfaction": gettext_lazy("IM 不满意率（%，近 90 天）"),
    "complaint_rate": gettext_lazy("投诉率（%）"),
    "on_time_rate": gettext_lazy("准时发货率（%）"),
    "im_first_response": gettext_lazy("IM 平均首次响应（秒）"),
}
DIMENSIONS = {  # L-6: which indicators make each dimension (their scores averaged)
    "product": ("bad_review_rate",),
    "logistics": ("logistics_return_rate", "on_time_rate"),
    "service": ("im_dissatisfaction", "complaint_rate", "im_first_response"),
}
DISPUTE_PASS_COUNT = 4
DISPUTE_PASS_RATE = Fraction(35, 10000)  # 0.35 %
DISPUTE_CAP = 4


@dataclass(frozen=True)
class Settings:
    effective_from: date | None
    product_weight: Decimal
    logistics_weight: Decimal
    service_weight: Decimal
    refund_only_weight: Decimal
    return_refund_weight: Decimal
    curves: dict

    def curve(self, key: str) -> list[list]:
        return (self.curves or {}).get(key) or DEFAULT_CURVES[key]

    @cached_property
    def points(self) -> dict[str, tuple[tuple[Decimal, Decimal], ...]]:
        """Every indicator's curve as exact Decimal points, converted once per settings."""
        return {key: points_of(self.curve(key)) for key in DEFAULT_CURVES}


# The built-in dated settings (used while staff have added no row in force): seed 003's weights changed
# on 2022-06-21 from 50 / 15 / 35 to 42.5 / 20 / 37.5.
WEIGHTS_CHANGED_ON = date(2022, 6, 21)
DEFAULT_SETTINGS = Settings(
    WEIGHTS_CHANGED_ON, Decimal("42.5"), Decimal("20"), Decimal("37.5"), Decimal("50"), Decimal("50"), {}
)
SETTINGS_BEFORE_2022_06_21 = Settings(
    None, Decimal("50"), Decimal("15"), Decimal("35"), Decimal("50"), Decimal("50"), {}
)


def check_curves(curves) -> None:
    """ValidationError naming the first malformed curve (unknown indicator, points not ascending)."""
    if not isinstance(curves, dict):
        raise ValidationError(_("评分曲线应为「指标: 折线点」的对象。"))
    for key, points in curves.items():
        if key not in DEFAULT_CURVES:
            raise ValidationError(_("未知的评分指标：%(key)s") % {"key": key})
        ok = isinstance(points, list) and len(points) >= 2
        ok = ok and all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in p)
            and all(exact(v) is not None for v in p)
            for p in points
        )
        if not ok or any(exact(a[0]) >= exact(b[0]) for a, b in zip(points, points[1:], strict=False)):
            raise ValidationError(
                _("评分曲线「%(key)s」应为至少两个 [指标值, 分数] 点，指标值严格递增。") % {"key": key}
            )


@lru_cache(maxsize=256)
def _points(curve: tuple) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((dec(x), dec(y)) for x, y in curve)


def points_of(curve) -> tuple[tuple[Decimal, Decimal], ...]:
    """A curve's points as exact Decimals (staff's JSON numbers read as typed), converted once."""
    return _points(tuple(tuple(point) for point in curve))


def interpolate(points, x) -> Decimal:
    """The curve's score at indicator value `x` (Decimal arithmetic: exact where the decimals end, else
    to 28 digits — far below the 2 places a score is rounded to)."""
    x = dec(x)
    pts = points if isinstance(points, tuple) else points_of(points)
    if x <= pts[0][0]:
        return pts[0][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pts[-1][1]


def settings_for(day: date, rows=None) -> Settings:
    """The settings in force on `day` (the latest row effective on or before it; the defaults if none)."""
    from merchants.models import ScoreSettings

    candidates = rows if rows is not None else ScoreSettings.objects.filter(effective_from__lte=day)
    best = None
    for row in candidates:
        if row.effective_from <= day and (best is None or row.effective_from > best.effective_from):
            best = row
    if best is None:
        return DEFAULT_SETTINGS if day >= WEIGHTS_CHANGED_ON else SETTINGS_BEFORE_2022_06_21
    return Settings(
        best.effective_from,
        best.product_weight,
        best.logistics_weight,
        best.service_weight,
        best.refund_only_weight,
        best.return_refund_weight,
        best.curves or {},
    )


HUNDRED, HOUR = Decimal(100), Decimal(3600)


def _pct(num: Decimal, den: Decimal) -> Decimal | None:
    return None if not den else HUNDRED * num / den


def indicators(figures: dict, *, on_time=None, im_first_response=None, complaint=None) -> dict:
    """Each score indicator's value from a shop's figures, a Decimal (None: nothing to measure).

    The L-3 rates may be passed in (the what-if's overrides, rates 0–1 and seconds); otherwise they come
    from the counts.
    """
    f = lambda k: dec(figures.get(k, 0) or 0) or Decimal(0)  # noqa: E731  (counts; stored Decimal strings)
    hours = lambda seconds, cases: f(seconds) / (f(cases) * HOUR) if f(cases) else None  # noqa: E731
    values = {
        "refund_only_hours": hours("refund_only_seconds", "refund_only_cases"),
        "return_refund_hours": hours("return_refund_seconds", "return_refund_cases"),
        "bad_review_rate": _pct(f("bad_90"), f("reviews_90")),
        "logistics_return_rate": _pct(f("logistics_returns"), f("orders_logistics_window")),
        "im_dissatisfaction": _pct(f("im_low_rated_90"), f("im_rated_90")),
        "complaint_rate": _pct(f("complaints"), f("orders"))
        if complaint is None
        else dec(complaint) * HUNDRED,
        "on_time_rate": _pct(f("orders_on_time"), f("orders_due"))
        if on_time is None
        else dec(on_time) * HUNDRED,
        "im_first_response": (
            dec(im_first_response)
            if im_first_response is not None
            else (f("im_first_response_seconds") / f("im_human_sessions") if f("im_human_sessions") else None)
        ),
    }
    return values


def dispute_passes(figures: dict) -> bool:
    disputes, completed = (
        figures.get("merchant_liable_disputes", 0) or 0,
        figures.get("refund_cases_completed", 0) or 0,
    )
    if disputes <= DISPUTE_PASS_COUNT:
        return True
    return Fraction(disputes, completed) <= DISPUTE_PASS_RATE


FULL = {True: Decimal("5.00"), False: Decimal("100.00")}  # an indicator with nothing to measure
CAP = Decimal(DISPUTE_CAP).quantize(Decimal("0.01"))


def score(figures: dict, settings: Settings, **rates) -> dict:
    """Both scores and their parts as Decimals (numbers.stored() makes them JSON strings): what an
    evaluation stores and the dashboard shows.

    Each indicator's score is its curve's value rounded half up to 2 places; a dimension is the mean of its
    indicators' scores, the experience score the weighted sum of the dimensions, the shop score the
    weighted sum of the two times' scores — each rounded half up to 2 places only at the end.
    """
    values = indicators(figures, **rates)
    parts = {}
    for key, value in values.items():
        if value is None:
            points = FULL[key.endswith("_hours")]
        else:
            points = quantize(interpolate(settings.points[key], value), SCORE)
        parts[key] = {"value": quantize(value, VALUE), "score": points}
    passes = dispute_passes(figures)
    if not passes:
        for key in ("refund_only_hours", "return_refund_hours"):
            parts[key]["score"] = min(parts[key]["score"], CAP)
    shop = (
        parts["refund_only_hours"]["score"] * settings.refund_only_weight
        + parts["return_refund_hours"]["score"] * settings.return_refund_weight
    ) / HUNDRED
    dims = {name: sum(parts[k]["score"] for k in keys) / len(keys) for name, keys in DIMENSIONS.items()}
    experience = sum(dims[name] * getattr(settings, f"{name}_weight") for name in DIMENSIONS) / HUNDRED
    return {
        "shop_score": quantize(shop, SCORE),
        "experience_score": quantize(experience, SCORE),
        "dimensions": {k: quantize(v, SCORE) for k, v in dims.items()},
        "parts": parts,
        "dispute_passes": passes,
        "disputes": figures.get("merchant_liable_disputes", 0) or 0,
        "settings_from": str(settings.effective_from) if settings.effective_from else "",
    }


def read(stored_scores: dict | None) -> dict:
    """Stored scores (JSON: Decimal strings) with their numbers as Decimals again."""
    s = dict(stored_scores or {})
    for key in ("shop_score", "experience_score"):
        if key in s:
            s[key] = decimal(s[key])
    if isinstance(s.get("dimensions"), dict):
        s["dimensions"] = {k: decimal(v) for k, v in s["dimensions"].items()}
    if isinstance(s.get("parts"), dict):
        s["parts"] = {
            k: {**part, "value": decimal(part.get("value")), "score": decimal(part.get("score"))}
            for k, part in s["parts"].items()
            if isinstance(part, dict)
        }
    return s


def recompute(since: date | None = None) -> int:
    """Re-score the stored evaluations (from `since` on) under the settings in force on each one's day."""
    from merchants.models import LevelEvaluation, ScoreSettings

    rows = list(ScoreSettings.objects.all())
    evaluations = LevelEvaluation.objects.exclude(figures={})
    if since is not None:
        evaluations = evaluations.filter(evaluated_on__gte=since)
    changed = []
    for evaluation in evaluations.iterator(chunk_size=2000):
        evaluation.scores = stored(score(evaluation.figures, settings_for(evaluation.evaluated_on, rows)))
        changed.append(evaluation)
        if len(changed) >= 2000:
            LevelEvaluation.objects.bulk_update(changed, ["scores"])
            changed = []
    LevelEvaluation.objects.bulk_update(changed, ["scores"])
    return evaluations.count()
