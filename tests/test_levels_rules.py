"""L-1..L-4 on the pure evaluation (merchants.levels.rules): every line at its exact boundary.

No database: the same function the task and the what-if call, fed with hand-made counts.
"""

from decimal import Decimal

import pytest

from merchants.levels import rules
from merchants.levels.rules import Metrics, Outcome, checks, evaluate

# A shop that meets every upgrade line at LV1: 1000 orders due, all on time; 200 reviews of 2000
# received orders (10 %), all good; no complaint of 2000 orders; 5000 sales (LV1 needs 4000).
GOOD = Metrics(
    orders_due=1000,
    orders_on_time=1000,
    packages_shipped=1000,
    packages_fake=0,
    reviews=200,
    service_good=200,
    product_good=200,
    orders_received=2000,
    orders=2000,
    complaints=0,
    cumulative_sales=5000,
)


def by_key(level, metrics):
    return {c.key: c for c in checks(level, metrics)}


def test_L3_on_time_99_0_is_not_a_downgrade_98_99_is():
    at_99 = by_key(1, GOOD.with_changes(orders_due=10000, orders_on_time=9900))["on_time"]
    below = by_key(1, GOOD.with_changes(orders_due=10000, orders_on_time=9899))["on_time"]
    assert not at_99.hits_down and below.hits_down
    assert not at_99.meets_up  # 99.0 % < 99.9 %


def test_L3_on_time_upgrade_at_exactly_99_9():
    assert by_key(1, GOOD.with_changes(orders_due=1000, orders_on_time=999))["on_time"].meets_up
    assert not by_key(1, GOOD.with_changes(orders_due=10000, orders_on_time=9989))["on_time"].meets_up


def test_L3_fake_shipping_boundaries_1_and_4_percent():
    c = lambda fake: by_key(1, GOOD.with_changes(packages_shipped=100, packages_fake=fake))["fake_shipping"]  # noqa: E731
    assert c(1).meets_up and not c(2).meets_up
    assert not c(4).hits_down and c(5).hits_down


def test_L3_im_first_response_boundaries_and_no_consultation():
    c = lambda s: by_key(1, GOOD.with_changes(im_human_sessions=10, im_first_response_seconds=s))[  # noqa: E731
        "im_first_response"
    ]
    assert c(1800).meets_up and not c(1801).meets_up  # 180 s average
    assert not c(3000).hits_down and c(3001).hits_down  # 300 s
    none = by_key(1, GOOD.with_changes(im_human_sessions=0, im_first_response_seconds=0))["im_first_response"]
    assert none.meets_up and not none.hits_down


def test_L3_good_review_rate_needs_100_reviews_and_a_5_percent_review_rate():
    assert by_key(1, GOOD)["service_good"].meets_up
    few = GOOD.with_changes(reviews=99, service_good=99, product_good=99)
    assert not by_key(1, few)["service_good"].meets_up and not by_key(1, few)["product_good"].meets_up
    low_rate = GOOD.with_changes(orders_received=4001)  # 200 / 4001 < 5 %
    assert not by_key(1, low_rate)["service_good"].meets_up
    exact = GOOD.with_changes(orders_received=4000)  # exactly 5 %
    assert by_key(1, exact)["product_good"].meets_up


def test_L3_good_review_rate_90_up_83_down():
    c = lambda good: by_key(1, GOOD.with_changes(reviews=100, service_good=good))["service_good"]  # noqa: E731
    assert c(90).meets_up and not c(89).meets_up
    assert not c(83).hits_down and c(82).hits_down
    one_bad = by_key(1, GOOD.with_changes(reviews=1, product_good=0))["product_good"]
    assert one_bad.hits_down  # < 83 % with >= 1 review


def test_L3_complaint_rate_needs_more_than_one_complaint_to_downgrade():
    c = lambda n, orders: by_key(1, GOOD.with_changes(complaints=n, orders=orders))["complaint"]  # noqa: E731
    assert c(1, 1000).meets_up and not c(2, 1000).meets_up  # 0.1 % / 0.2 %
    assert not c(1, 100).hits_down  # 1 % but a single complaint
    assert c(2, 999).hits_down and not c(2, 1000).hits_down  # 0.2002 % > 0.2 %; exactly 0.2 % is not


def test_L3_cumulative_sales_lines_per_level():
    assert by_key(0, GOOD.with_changes(cumulative_sales=400))["cumulative_sales"].meets_up
    assert not by_key(0, GOOD.with_changes(cumulative_sales=399))["cumulative_sales"].meets_up
    assert not by_key(6, GOOD.with_changes(cumulative_sales=399999))["cumulative_sales"].meets_up
    assert by_key(1, GOOD.with_changes(cumulative_sales=0))["cumulative_sales"].hits_down
    assert not by_key(7, GOOD)["cumulative_sales"].meets_up  # no level above LV7


def test_L2_up_when_every_metric_meets_its_upgrade_value():
    result = evaluate(1, GOOD, days_at_level=30)
    assert (result.outcome, result.level_after) == (Outcome.UP, 2)


def test_L2_down_when_any_metric_is_beyond_its_downgrade_value():
    result = evaluate(3, GOOD.with_changes(packages_fake=41), days_at_level=45)  # 4.1 %
    assert (result.outcome, result.level_after) == (Outcome.DOWN, 2)
    assert result.params["metrics"] == "fake_shipping"
    assert rules.reason_text(result.reason, result.params) == "虚假发货率 超过降级值，下降一级。"


def test_L2_unchanged_between_the_lines_and_the_floor_and_ceiling():
    between = GOOD.with_changes(orders_on_time=995)  # 99.5 %
    assert evaluate(2, between, days_at_level=31).outcome == Outcome.UNCHANGED
    assert evaluate(0, GOOD.with_changes(cumulative_sales=0), days_at_level=31).level_after == 0
    top = evaluate(7, GOOD, days_at_level=31)
    assert (top.outcome, top.level_after) == (Outcome.UNCHANGED, 7)


def test_L2_not_due_before_30_days_after_the_change():
    result = evaluate(1, GOOD, days_at_level=29)
    assert (result.outcome, result.level_after) == (Outcome.NOT_DUE, 1)
    assert evaluate(1, GOOD, days_at_level=30).outcome == Outcome.UP


def test_L2_cleared_after_60_days_at_LV0():
    assert evaluate(0, GOOD, days_at_level=59).outcome == Outcome.UP
    assert evaluate(0, GOOD, days_at_level=60).outcome == Outcome.CLEARED
    assert evaluate(1, GOOD, days_at_level=90).outcome != Outcome.CLEARED


def test_L4_fast_upgrade_needs_the_three_rates_and_a_qualifying_day():
    short = GOOD.with_changes(cumulative_sales=10)  # the regular upgrade fails on sales
    assert evaluate(1, short, days_at_level=5).outcome == Outcome.NOT_DUE
    fast = evaluate(1, short, days_at_level=5, fast_day="2026-11-20")
    assert (fast.outcome, fast.level_after) == (Outcome.FAST_UP, 2)
    poor = short.with_changes(complaints=2)  # complaint rate 0.1 % -> 0.1 %? 2/2000 = 0.1 % still meets
    assert evaluate(1, poor, days_at_level=5, fast_day="2026-11-20").outcome == Outcome.FAST_UP
    worse = short.with_changes(complaints=3)  # 0.15 % > 0.1 %
    assert evaluate(1, worse, days_at_level=5, fast_day="2026-11-20").outcome == Outcome.NOT_DUE
    few = short.with_changes(reviews=40, service_good=36, product_good=36)  # 90 %, though < 100 reviews
    assert evaluate(1, few, days_at_level=5, fast_day="2026-11-20").outcome == Outcome.FAST_UP
    poor_service = few.with_changes(service_good=35)  # 87.5 %
    assert evaluate(1, poor_service, days_at_level=5, fast_day="2026-11-20").outcome == Outcome.NOT_DUE


@pytest.mark.parametrize(
    ("orders", "gmv", "reviews", "received", "good", "ok"),
    [
        (400, Decimal("40000"), 10, 100, 9, True),  # LV1 caps 500 / 50,000: exactly 80 %; 10 %; 90 %
        (399, Decimal("40000"), 10, 100, 9, False),
        (400, Decimal("39999.99"), 10, 100, 9, False),
        (400, Decimal("40000"), 9, 100, 9, False),  # review rate 9 %
        (400, Decimal("40000"), 10, 100, 8, False),  # 80 % good
    ],
)
def test_L4_the_qualifying_day_at_its_boundaries(orders, gmv, reviews, received, good, ok):
    assert rules.fast_day_ok(1, orders, gmv, reviews, received, good, good) is ok


def test_L1_caps():
    assert rules.CAPS[0] == (50, Decimal("5000")) and rules.CAPS[6] == (50000, Decimal("5000000"))
    assert rules.CAPS[7] == (None, None)
