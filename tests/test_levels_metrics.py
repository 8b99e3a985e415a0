"""L-3, L-5, L-6, L-7: each figure on small fixed data, hand-counted, with every exclusion.

The figures come from merchants.levels.registry.collect — all providers of all apps, grouped queries —
for the 30 (90) whole days before `today`.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.models import AfterSaleCase, CaseEvent
from aftersales.transitions import CaseStatus, CaseType, Liability, Reason
from merchants.levels import registry
from merchants.levels.registry import Windows, midnight
from merchants.models import ImDailyStat, Order, OrderItem, Package, Product, ShopDay
from merchants.transitions import OrderStatus
from reviews.models import Review
from tests.aftersales.factories import CaseFactory, make_order
from tests.factories import ProductFactory
from tests.reviews.factories import ReviewFactory
from tests.tickets.factories import TicketFactory
from tickets.transitions import Liability as TicketLiability
from tickets.transitions import TicketCategory, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def day_ago(today):
    """A moment `n` days before today's local midnight, plus `hours` (inside the window for 1 <= n <= 30)."""
    return lambda n, hours=12: midnight(today) - timedelta(days=n) + timedelta(hours=hours)


def figures(shop, today):
    return registry.collect([shop.pk], Windows(today))[shop.pk]


def order(shop, *, ship_by, shipped_at=None, status=OrderStatus.SHIPPED, virtual=False, **kwargs):
    o = make_order(shop, status=status, placed_at=ship_by - timedelta(hours=48), **kwargs)
    Order.objects.filter(pk=o.pk).update(ship_by=ship_by, shipped_at=shipped_at)
    if virtual:
        Product.objects.filter(pk=o.items.get().product_id).update(is_virtual=True)
    return o


def test_L3_on_time_rate_counts_orders_due_in_the_window_virtual_unpaid_and_early_cancels_out(
    shop, today, day_ago
):
    due = day_ago(5)
    order(shop, ship_by=due, shipped_at=due - timedelta(hours=1))  # on time
    order(shop, ship_by=due, shipped_at=due)  # on time: at the promise exactly
    order(shop, ship_by=due, shipped_at=due + timedelta(seconds=1))  # late
    order(shop, ship_by=due, status=OrderStatus.TO_SHIP)  # never shipped: late
    order(shop, ship_by=due, shipped_at=due + timedelta(days=1), virtual=True)  # virtual goods: out
    order(shop, ship_by=due, status=OrderStatus.UNPAID, paid_at=None)  # unpaid online: out
    cancelled = order(shop, ship_by=due, status=OrderStatus.CANCELLED)
    Order.objects.filter(pk=cancelled.pk).update(
        cancelled_at=due - timedelta(hours=2)
    )  # before its promise: out
    order(shop, ship_by=day_ago(31), shipped_at=day_ago(30))  # promise before the window: out
    order(shop, ship_by=day_ago(0), shipped_at=day_ago(0, 20))  # promise today: not yet in the window
    f = figures(shop, today)
    assert (f["orders_due"], f["orders_on_time"]) == (4, 2)


def test_L3_a_mixed_order_with_physical_goods_stays_in_on_time(shop, today, day_ago):
    o = order(shop, ship_by=day_ago(3), shipped_at=day_ago(2))
    OrderItem.objects.create(
        merchant=shop,
        order=o,
        product=ProductFactory(merchant=shop, is_virtual=True),
        paid_amount=Decimal("1"),
    )
    assert figures(shop, today)["orders_due"] == 1


def test_L7_fake_shipping_rate_flagged_packages_over_packages_shipped_in_the_window(shop, today, day_ago):
    for _n in range(4):
        order(shop, ship_by=day_ago(4), shipped_at=day_ago(4))
    Package.objects.filter(merchant=shop).update(shipped_at=day_ago(4))
    Package.objects.filter(pk=Package.objects.filter(merchant=shop).first().pk).update(fake_shipping=True)
    old = order(shop, ship_by=day_ago(40), shipped_at=day_ago(40))
    Package.objects.filter(order=old).update(shipped_at=day_ago(40), fake_shipping=True)  # outside: out
    f = figures(shop, today)
    assert (f["packages_shipped"], f["packages_fake"]) == (4, 1)


def test_L3_im_first_response_is_a_sum_over_a_count_and_dissatisfaction_90_days(shop, today):
    ImDailyStat.objects.create(
        merchant=shop, day=today - timedelta(days=1), sessions=10, human_sessions=4,
        human_first_response_seconds=600, rated_sessions=5, low_rated_sessions=1,
    )  # fmt: skip
    ImDailyStat.objects.create(
        merchant=shop, day=today - timedelta(days=30), sessions=2, human_sessions=1,
        human_first_response_seconds=400, rated_sessions=2, low_rated_sessions=2,
    )  # fmt: skip
    ImDailyStat.objects.create(
        merchant=shop,
        day=today - timedelta(days=60),
        sessions=9,
        human_sessions=9,
        human_first_response_seconds=9000,
        rated_sessions=3,
        low_rated_sessions=0,
    )  # fmt: skip  (outside the 30 days, inside the 90)
    ImDailyStat.objects.create(
        merchant=shop, day=today, sessions=5, human_sessions=5, human_first_response_seconds=5
    )
    f = figures(shop, today)
    assert (f["im_human_sessions"], f["im_first_response_seconds"]) == (5, 1000)  # average 200 s
    assert (f["im_rated_90"], f["im_low_rated_90"]) == (10, 3)


def test_L3_reviews_good_and_bad_deleted_and_upheld_out(shop, today, day_ago):
    ratings = [(5, 5), (4, 4), (3, 5), (2, 3), (1, 1)]  # (product, service)
    for product_rating, service_rating in ratings:
        ReviewFactory(merchant=shop, product_rating=product_rating, service_rating=service_rating)
    deleted = ReviewFactory(merchant=shop, product_rating=1, service_rating=1)
    upheld = ReviewFactory(merchant=shop, product_rating=1, service_rating=1)
    old = ReviewFactory(merchant=shop, product_rating=1, service_rating=1)
    Review.objects.filter(merchant=shop).update(created_at=day_ago(3))
    Review.objects.filter(pk=deleted.pk).update(deleted_at=day_ago(2))
    Review.objects.filter(pk=upheld.pk).update(hidden_at=day_ago(2), appeal_status="upheld")
    Review.objects.filter(pk=old.pk).update(created_at=day_ago(45))  # in the 90 days only
    Order.objects.filter(merchant=shop).update(received_at=day_ago(4))
    f = figures(shop, today)
    assert (f["reviews"], f["product_good"], f["service_good"]) == (5, 2, 3)
    assert (f["reviews_90"], f["bad_90"]) == (6, 3)  # bad: product <= 2 stars
    assert f["orders_received"] == 8


def test_L3_complaints_count_merchant_liable_only_malicious_never(shop, today, day_ago):
    for liability in (TicketLiability.MERCHANT, TicketLiability.MERCHANT, TicketLiability.MALICIOUS,
                      TicketLiability.BUYER, TicketLiability.NONE):  # fmt: skip
        TicketFactory(
            merchant=shop, category=TicketCategory.COMPLAINT, status=TicketStatus.CLOSED,
            liability=liability, created_at=day_ago(6),
        )  # fmt: skip
    TicketFactory(
        merchant=shop,
        category=TicketCategory.QUALITY,
        status=TicketStatus.CLOSED,
        liability=TicketLiability.MERCHANT,
        created_at=day_ago(6),
    )  # fmt: skip  (not a complaint)
    assert figures(shop, today)["complaints"] == 2


def test_L3_orders_and_cumulative_sales_from_the_daily_counts(shop, today):
    ShopDay.objects.create(merchant=shop, day=today - timedelta(days=1), orders=3, gmv=Decimal("30"))
    ShopDay.objects.create(merchant=shop, day=today - timedelta(days=30), orders=2, gmv=Decimal("20"))
    ShopDay.objects.create(merchant=shop, day=today - timedelta(days=31), orders=7, gmv=Decimal("70"))
    ShopDay.objects.create(merchant=shop, day=today, orders=100, gmv=Decimal("1"))  # today: not yet
    f = figures(shop, today)
    assert (f["orders"], f["cumulative_sales"]) == (5, 12)


def _ended_case(shop, *, type, created, closed, **fields):
    case = CaseFactory(merchant=shop, type=type, status=fields.pop("status", CaseStatus.REFUNDED))
    AfterSaleCase.objects.filter(pk=case.pk).update(created_at=created, closed_at=closed, **fields)
    return case


def test_L5_refund_only_time_arbitrated_negotiated_and_excused_cases_out(shop, today, day_ago):
    start = day_ago(10)
    _ended_case(shop, type=CaseType.REFUND_ONLY, created=start, closed=start + timedelta(hours=2))
    _ended_case(
        shop,
        type=CaseType.REFUND_ONLY,
        created=start,
        closed=start + timedelta(hours=4),
        status=CaseStatus.CLOSED,
    )
    _ended_case(
        shop,
        type=CaseType.REFUND_ONLY,
        created=start,
        closed=start + timedelta(hours=90),
        arbitration_started_at=start + timedelta(hours=1),
    )  # fmt: skip  (arbitrated: out of times)
    _ended_case(
        shop, type=CaseType.REFUND_ONLY, created=start, closed=start + timedelta(hours=90), negotiated=True
    )
    _ended_case(
        shop,
        type=CaseType.REFUND_ONLY,
        created=start,
        closed=start + timedelta(hours=90),
        excluded_from_assessment=True,
    )  # fmt: skip  (approved delay report)
    f = figures(shop, today)
    assert (f["refund_only_cases"], f["refund_only_seconds"]) == (2, 6 * 3600)  # average 3 h
    assert f["refund_cases_completed"] == 3  # the arbitrated one completed too


def test_L5_return_refund_time_leaves_out_the_buyers_shipping(shop, today, day_ago):
    start = day_ago(10)
    case = _ended_case(
        shop,
        type=CaseType.RETURN_REFUND,
        created=start,
        closed=start + timedelta(days=5),
        return_shipped_at=start + timedelta(hours=5),
        return_signed_at=start + timedelta(days=3),
        return_received_at=start + timedelta(days=3, hours=6),
    )
    CaseEvent.objects.create(
        case=case, kind="approved", actor_kind="system", created_at=start + timedelta(hours=2)
    )
    f = figures(shop, today)
    assert (f["return_refund_cases"], f["return_refund_seconds"]) == (1, 8 * 3600)  # 2 h + 6 h


def test_L5_disputes_count_merchant_and_both_liability(shop, today, day_ago):
    start = day_ago(8)
    for liability in (Liability.MERCHANT, Liability.BOTH, Liability.BUYER):
        _ended_case(
            shop, type=CaseType.REFUND_ONLY, created=start, closed=start + timedelta(days=2),
            arbitration_started_at=start + timedelta(days=1), arbitrated_at=start + timedelta(days=2),
            liability=liability,
        )  # fmt: skip
    f = figures(shop, today)
    assert (f["merchant_liable_disputes"], f["refund_cases_completed"]) == (2, 3)


def test_L6_logistics_returns_within_14_days_of_shipping_in_the_days_15_to_104(shop, today, day_ago):
    def logistics_case(paid_days_ago, opened_after_shipping_days, reason=Reason.LOGISTICS):
        o = make_order(shop, status=OrderStatus.SHIPPED, placed_at=day_ago(paid_days_ago))
        Order.objects.filter(pk=o.pk).update(
            paid_at=day_ago(paid_days_ago), shipped_at=day_ago(paid_days_ago, 20)
        )
        case = CaseFactory(merchant=shop, item=o.items.get(), type=CaseType.RETURN_REFUND, reason=reason)
        AfterSaleCase.objects.filter(pk=case.pk).update(
            created_at=day_ago(paid_days_ago, 20) + timedelta(days=opened_after_shipping_days)
        )

    logistics_case(20, 3)  # counts
    logistics_case(104, 14)  # counts: the window's first day, 14 days exactly
    logistics_case(20, 15)  # opened too late: out
    logistics_case(20, 2, reason=Reason.QUALITY)  # not logistics: out
    logistics_case(10, 1)  # paid too recently: out
    logistics_case(105, 1)  # paid too long ago: out
    assert figures(shop, today)["logistics_returns"] == 2


def test_L5_figures_are_per_shop(shop, other_shop, today, day_ago):
    _ended_case(other_shop, type=CaseType.REFUND_ONLY, created=day_ago(5), closed=day_ago(4))
    assert "refund_only_cases" not in figures(shop, today)
