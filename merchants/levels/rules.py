"""The level rules (L-1..L-4) as data and one pure function: no queries, no clock.

`evaluate()` is what merchants.tasks.evaluate_levels applies and what the dashboard's what-if shows, fed
with the same kind of `Metrics`: the two can never disagree. Rates are exact fractions, so the comparison
signs of L-3 hold at their boundaries (99.0 % on-time is not a downgrade, 98.99 % is).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext_lazy as _

MAX_LEVEL = 7
FIRST_EVALUATION_DAYS = 30  # L-2: after the initial level, and after each change
CLEAR_OUT_DAYS = 60  # L-2: at LV0 this many consecutive days -> cleared
WINDOW_DAYS = 30
CAP_WARNING = Fraction(80, 100)  # L-1: warn from 80 % of a cap
FAST_UPGRADE_SHARE = Fraction(80, 100)  # L-4: that day's orders and GMV >= 80 % of the caps
FAST_UPGRADE_REVIEW_RATE = Fraction(10, 100)  # L-4: that day's review rate >= 10 %

# L-1: daily caps (orders, GMV in yuan); LV7 unlimited (None).
CAPS: dict[int, tuple[int | None, Decimal | None]] = {
    0: (50, Decimal("5000")),
    1: (500, Decimal("50000")),
    2: (2000, Decimal("200000")),
    3: (6000, Decimal("600000")),
    4: (15000, Decimal("1500000")),
    5: (30000, Decimal("3000000")),
    6: (50000, Decimal("5000000")),
    7: (None, None),
}
# L-3: cumulative sales needed for the next level, by current level.
SALES_FOR_NEXT = {0: 400, 1: 4000, 2: 16000, 3: 48000, 4: 120000, 5: 240000, 6: 400000}

P = lambda n: Fraction(n) / 100  # noqa: E731  (a percentage as an exact fraction)

ON_TIME_UP, ON_TIME_DOWN = P("99.9"), P(99)
FAKE_UP, FAKE_DOWN = P(1), P(4)
IM_UP_SECONDS, IM_DOWN_SECONDS = 180, 300
GOOD_UP, GOOD_DOWN = P(90), P(83)
GOOD_UP_MIN_REVIEWS, GOOD_DOWN_MIN_REVIEWS = 100, 1
REVIEW_RATE_UP = P(5)
COMPLAINT_UP, COMPLAINT_DOWN = P("0.1"), P("0.2")
COMPLAINT_DOWN_MIN = 2  # "> 1 complaint"


def ratio(numerator, denominator) -> Fraction | None:
    return Fraction(int(numerator), int(denominator)) if denominator else None


RATES = {  # each L-3 rate: (numerator, denominator) among the Metrics' counts
    "on_time": ("orders_on_time", "orders_due"),
    "fake_shipping": ("packages_fake", "packages_shipped"),
    "im_first_response": ("im_first_response_seconds", "im_human_sessions"),
    "service_good": ("service_good", "reviews"),
    "product_good": ("product_good", "reviews"),
    "review_rate": ("reviews", "orders_received"),
    "complaint": ("complaints", "orders"),
}


@dataclass(frozen=True)
class Metrics:
    """A shop's L-3 metrics over the window, as counts (rates are derived, exactly)."""

    orders_due: int = 0  # orders whose ship-by fell in the window (virtual goods out)
    orders_on_time: int = 0
    packages_shipped: int = 0
    packages_fake: int = 0
    im_human_sessions: int = 0
    im_first_response_seconds: int = 0
    reviews: int = 0  # valid reviews in the window (deleted and upheld-appeal reviews out)
    service_good: int = 0
    product_good: int = 0
    orders_received: int = 0  # the review rate's denominator
    orders: int = 0  # valid orders in the window (cod at placement, online when paid)
    complaints: int = 0  # merchant-liable complaints (malicious never)
    cumulative_sales: int = 0  # valid orders over the shop's whole life
    # What-if overrides: a rate typed in by the owner replaces the counted one.
    overrides: dict = field(default_factory=dict, compare=False)

    def rate(self, key: str) -> Fraction | None:
        if key in self.overrides:
            return self.overrides[key]
        numerator, denominator = RATES[key]
        return ratio(getattr(self, numerator), getattr(self, denominator))

    def with_changes(self, **changes) -> Metrics:
        return replace(self, **changes)


@dataclass(frozen=True)
class Check:
    """One metric against its two lines (what the owner reads)."""

    key: str
    value: Fraction | int | None
    meets_up: bool
    hits_down: bool
    up_line: str
    down_line: str
    note: str = ""

    def as_json(self) -> dict:
        """The check as stored: numbers.stored() (or numbers.dumps) writes a rate or an average as its
        Decimal string to 6 places ("0.999500"), a count as is."""
        return {
            "key": self.key,
            "value": self.value,
            "meets_up": self.meets_up,
            "hits_down": self.hits_down,
            "up_line": self.up_line,
            "down_line": self.down_line,
            "note": self.note,
        }


LABELS = {
    "on_time": _("准时发货率"),
    "fake_shipping": _("虚假发货率"),
    "im_first_response": _("IM 平均首次响应时长"),
    "service_good": _("商家服务好评率"),
    "complaint": _("投诉率"),
    "product_good": _("商品好评率"),
    "cumulative_sales": _("累计销量"),
}
KINDS = {  # how a value is shown: a percentage, seconds, a count
    "on_time": "percent",
    "fake_shipping": "percent",
    "im_first_response": "seconds",
    "service_good": "percent",
    "complaint": "percent",
    "product_good": "percent",
    "cumulative_sales": "count",
}


def checks(level: int, m: Metrics) -> list[Check]:
    """Every L-3 metric of a shop at `level` against its upgrade and downgrade line, signs exact."""
    out = []
    on_time = m.rate("on_time")  # no order due: nothing late, meets the upgrade line
    out.append(
        Check(
            "on_time",
            on_time,
            on_time is None or on_time >= ON_TIME_UP,
            on_time is not None and on_time < ON_TIME_DOWN,
            "≥ 99.9%",
            "< 99%",
        )
    )
    fake = m.rate("fake_shipping")
    out.append(
        Check(
            "fake_shipping",
            fake,
            fake is None or fake <= FAKE_UP,
            fake is not None and fake > FAKE_DOWN,
            "≤ 1%",
            "> 4%",
        )
    )
    im = m.rate("im_first_response")  # no consultation handled by a person: meets the upgrade line
    out.append(
        Check(
            "im_first_response",
            im,
            im is None or im <= IM_UP_SECONDS,
            im is not None and im > IM_DOWN_SECONDS,
            "≤ 180s",
            "> 300s",
        )
    )
    review_rate = m.rate("review_rate")
    reviews = m.overrides.get("reviews", m.reviews)
    for key in ("service_good", "product_good"):
        rate = m.rate(key)
        meets = (
            rate is not None
            and rate >= GOOD_UP
            and reviews >= GOOD_UP_MIN_REVIEWS
            and review_rate is not None
            and review_rate >= REVIEW_RATE_UP
        )
        hits = rate is not None and rate < GOOD_DOWN and reviews >= GOOD_DOWN_MIN_REVIEWS
        out.append(Check(key, rate, meets, hits, "≥ 90%, ≥ 100, ≥ 5%", "< 83%, ≥ 1"))
    complaint = m.rate("complaint")
    complaints = m.overrides.get("complaints", m.complaints)
    out.append(
        Check(
            "complaint",
            complaint,
            complaint is None or complaint <= COMPLAINT_UP,
            complaint is not None and complaint > COMPLAINT_DOWN and complaints >= COMPLAINT_DOWN_MIN,
            "≤ 0.1%",
            "> 0.2%, > 1",
        )
    )
    sales = m.overrides.get("cumulative_sales", m.cumulative_sales)
    need = SALES_FOR_NEXT.get(level)
    out.append(
        Check(
            "cumulative_sales",
            sales,
            need is not None and sales >= need,
            sales == 0,
            f"≥ {need}" if need is not None else "—",
            "= 0",
        )
    )
    order = list(LABELS)
    return sorted(out, key=lambda c: order.index(c.key))


class Outcome:
    UP = "up"
    DOWN = "down"
    UNCHANGED = "unchanged"
    FAST_UP = "fast_up"
    CLEARED = "cleared"
    NOT_DUE = "not_due"
    MANUAL = "manual"


@dataclass(frozen=True)
class Result:
    outcome: str
    level_before: int
    level_after: int
    reason: str  # a key of REASONS
    params: dict
    checks: list[Check]

    @property
    def changed(self) -> bool:
        return self.level_after != self.level_before or self.outcome == Outcome.CLEARED


REASONS = {
    "down": _("%(metrics)s 超过降级值，下降一级。"),
    "down_floor": _("%(metrics)s 超过降级值，但已是最低等级 LV0。"),
    "up": _("全部指标达到升级值，提升一级。"),
    "up_ceiling": _("全部指标达到升级值，已是最高等级 LV7。"),
    "fast_up": _(
        "投诉率、商品好评率、服务好评率优于升级值，且 %(day)s 当日订单量和成交金额均达到上限的 80%%，快速升级一级。"
    ),
    "unchanged": _("%(metrics)s 未达到升级值，等级不变。"),
    "cleared": _("连续 %(days)d 天处于 LV0，店铺被清退。"),
    "not_due": _("下次评估日为 %(next)s。"),
    "manual": _("平台手动调整等级：%(reason)s"),
}


def reason_text(reason: str, params: dict) -> str:
    """The reason's sentence in the active language."""
    template = REASONS.get(reason)
    if template is None:
        return reason
    values = dict(params or {})
    if "metrics" in values:  # metric keys, stored: their names in the active language
        from django.utils.translation import get_language

        sep = "、" if (get_language() or "zh-hans").startswith("zh") else ", "
        values["metrics"] = sep.join(str(LABELS.get(k, k)) for k in str(values["metrics"]).split(",") if k)
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return str(template)


def is_due(days_at_level: int) -> bool:
    """L-2: the first evaluation 30 days after the initial level (or a change), then daily."""
    return days_at_level >= FIRST_EVALUATION_DAYS


def fast_day_ok(
    level: int, orders: int, gmv: Decimal, reviews: int, received: int, service_good: int, product_good: int
) -> bool:
    """L-4, one day: orders and GMV >= 80 % of the caps, review rate >= 10 %, both good rates >= 90 %."""
    cap_orders, cap_gmv = CAPS[level]
    if cap_orders is None:
        return False
    if Fraction(orders) < FAST_UPGRADE_SHARE * cap_orders or Fraction(gmv) < FAST_UPGRADE_SHARE * Fraction(
        cap_gmv
    ):
        return False
    rate = ratio(reviews, received)
    if rate is None or rate < FAST_UPGRADE_REVIEW_RATE:
        return False
    return Fraction(service_good, reviews) >= GOOD_UP and Fraction(product_good, reviews) >= GOOD_UP


def fast_rates_ok(m: Metrics) -> bool:
    """L-4's first condition: the current complaint, product-good and service-good *rates* beat their
    upgrade values (the rates themselves: the 100-review minimum is the regular upgrade's, and the
    qualifying day already demands a 10 % review rate)."""
    complaint, product, service = m.rate("complaint"), m.rate("product_good"), m.rate("service_good")
    return (
        (complaint is None or complaint <= COMPLAINT_UP)
        and product is not None
        and product >= GOOD_UP
        and service is not None
        and service >= GOOD_UP
    )


def evaluate(level: int, metrics: Metrics, *, days_at_level: int, fast_day=None, next_on: str = "") -> Result:
    """L-2, L-4: what the evaluation of a shop at `level`, `days_at_level` days after its last change, says.

    `fast_day`: a day since the last change that met L-4's daily condition (None when none did).
    Order: clear-out (LV0 for 60 days), then — when due — down, up; then, due or not, fast upgrade.
    """
    results = checks(level, metrics)
    down = [c for c in results if c.hits_down]
    short = [c for c in results if not c.meets_up]
    names = lambda cs: ",".join(c.key for c in cs)  # noqa: E731  (keys: named in the reader's language when shown)

    def result(outcome, after, reason, **params):
        return Result(outcome, level, after, reason, params, results)

    if level == 0 and days_at_level >= CLEAR_OUT_DAYS:
        return result(Outcome.CLEARED, 0, "cleared", days=days_at_level)
    due = is_due(days_at_level)
    if due and down:
        if level == 0:
            return result(Outcome.UNCHANGED, 0, "down_floor", metrics=names(down))
        return result(Outcome.DOWN, level - 1, "down", metrics=names(down))
    if due and not short:
        if level == MAX_LEVEL:
            return result(Outcome.UNCHANGED, level, "up_ceiling")
        return result(Outcome.UP, level + 1, "up")
    if fast_day is not None and level < MAX_LEVEL and fast_rates_ok(metrics):
        return result(Outcome.FAST_UP, level + 1, "fast_up", day=str(fast_day))
    if not due:
        return result(Outcome.NOT_DUE, level, "not_due", next=next_on)
    return result(Outcome.UNCHANGED, level, "unchanged", metrics=names(short))
