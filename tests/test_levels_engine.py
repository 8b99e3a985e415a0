"""L-2, L-4: merchants.tasks.evaluate_levels — due shops only, up / down / unchanged / fast upgrade /
clear-out, next evaluation, stored explanations; staff's hand-set level; the what-if agrees with it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from merchants import services, tasks
from merchants.kernel.vocabulary import MerchantStatus
from merchants.levels import dashboard, engine, scores
from merchants.levels.registry import midnight
from merchants.models import LevelEvaluation, Merchant, Order, ShopDay
from merchants.transitions import OrderStatus
from tests.aftersales.factories import make_order
from tests.factories import MerchantFactory
from tests.reviews.factories import ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


def aged(shop, days, level=None):
    fields = {"level_changed_at": timezone.now() - timedelta(days=days)}
    if level is not None:
        fields["level"] = level
    Merchant.objects.filter(pk=shop.pk).update(**fields)
    shop.refresh_from_db()
    return shop


def latest(shop):
    return LevelEvaluation.objects.filter(merchant=shop).latest("pk")


def sales(shop, today, n):
    ShopDay.objects.create(merchant=shop, day=today - timedelta(days=40), orders=n, gmv=Decimal(n))


def test_L2_a_new_shop_is_not_evaluated_before_30_days(shop, today):
    sales(shop, today, 5000)
    assert tasks.evaluate_levels() == 0
    evaluation = latest(shop)
    assert (evaluation.outcome, evaluation.applied) == ("not_due", False)
    assert evaluation.next_evaluation_on == timezone.localdate(shop.level_changed_at) + timedelta(days=30)


def test_L2_down_one_level_with_the_metric_and_its_line_stored(shop, today):
    aged(shop, 31, level=3)
    sales(shop, today, 5000)
    late = make_order(shop, status=OrderStatus.TO_SHIP)  # never shipped, promise 2 days ago: on-time 0 %
    Order.objects.filter(pk=late.pk).update(ship_by=midnight(today) - timedelta(days=2))
    assert tasks.evaluate_levels() == 1
    shop.refresh_from_db()
    assert shop.level == 2
    evaluation = latest(shop)
    assert (evaluation.outcome, evaluation.level_before, evaluation.level_after) == ("down", 3, 2)
    on_time = next(c for c in evaluation.checks if c["key"] == "on_time")
    assert (on_time["value"], on_time["hits_down"], on_time["down_line"]) == ("0.000000", True, "< 99%")
    assert "准时发货率" in evaluation.reason_text()
    assert evaluation.next_evaluation_on == today + timedelta(days=30)


def test_L2_after_a_change_the_next_evaluation_is_30_days_later(shop, today):
    aged(shop, 31, level=3)
    sales(shop, today, 100)
    late = make_order(shop, status=OrderStatus.TO_SHIP)
    Order.objects.filter(pk=late.pk).update(ship_by=midnight(today) - timedelta(days=2))
    assert tasks.evaluate_levels() == 1
    LevelEvaluation.objects.all().delete()
    assert engine.run(today=today + timedelta(days=29)) == 0  # 29 days after the change: not due
    assert latest(shop).outcome == "not_due"
    assert engine.run(today=today + timedelta(days=30)) == 0  # due: nothing late in its window, LV2 stays
    assert (latest(shop).outcome, latest(shop).applied) == ("unchanged", True)


def test_L2_unchanged_then_evaluated_again_the_next_day(shop, today):
    aged(shop, 40, level=2)
    sales(shop, today, 100)  # LV2 needs 16,000: no upgrade, nothing beyond a downgrade line
    assert tasks.evaluate_levels() == 0
    evaluation = latest(shop)
    assert (evaluation.outcome, evaluation.applied) == ("unchanged", True)
    assert evaluation.next_evaluation_on == today + timedelta(days=1)
    assert "累计销量" in evaluation.reason_text()
    assert tasks.evaluate_levels() == 0  # the same day again: nothing new
    assert LevelEvaluation.objects.filter(merchant=shop).count() == 1


def test_L2_up_one_level_when_every_metric_meets_its_upgrade_value(shop, today):
    aged(shop, 30, level=0)
    sales(shop, today, 400)  # LV0 needs 400; no orders due, no packages, no reviews... reviews needed
    for _ in range(100):
        ReviewFactory(merchant=shop, product_rating=5, service_rating=4)
    from reviews.models import Review

    Review.objects.filter(merchant=shop).update(created_at=midnight(today) - timedelta(days=2))
    Order.objects.filter(merchant=shop).update(received_at=midnight(today) - timedelta(days=3))
    assert tasks.evaluate_levels() == 1
    shop.refresh_from_db()
    assert shop.level == 1 and latest(shop).outcome == "up"


def test_L2_cleared_after_60_days_at_LV0(shop, other_shop, today):
    aged(shop, 60, level=0)
    aged(other_shop, 59, level=0)
    sales(other_shop, today, 10)
    assert tasks.evaluate_levels() == 1
    shop.refresh_from_db()
    other_shop.refresh_from_db()
    assert shop.status == MerchantStatus.CLEARED and latest(shop).outcome == "cleared"
    assert other_shop.status == MerchantStatus.ACTIVE and latest(other_shop).outcome == "unchanged"
    LevelEvaluation.objects.all().delete()
    engine.run(today=today + timedelta(days=1))
    assert not LevelEvaluation.objects.filter(merchant=shop).exists()  # a cleared shop is not evaluated


def test_L4_fast_upgrade_at_once_even_when_not_due(shop, today):
    aged(shop, 10, level=0)  # LV0 caps 50 / 5,000
    day = today - timedelta(days=2)
    ShopDay.objects.create(merchant=shop, day=day, orders=40, gmv=Decimal("4000"))
    for _ in range(4):  # that day: 4 reviews of 40 received orders (10 %), all good
        ReviewFactory(merchant=shop)
    from reviews.models import Review

    Review.objects.filter(merchant=shop).update(created_at=midnight(day) + timedelta(hours=10))
    first = Order.objects.filter(merchant=shop).first()
    for _i in range(36):
        make_order(shop, status=OrderStatus.RECEIVED)
    Order.objects.filter(merchant=shop).update(received_at=midnight(day) + timedelta(hours=9))
    assert first is not None
    assert tasks.evaluate_levels() == 1
    shop.refresh_from_db()
    evaluation = latest(shop)
    assert (shop.level, evaluation.outcome, evaluation.params["day"]) == (1, "fast_up", str(day))


def test_L2_only_active_shops_and_a_direct_call_handles_every_shop(today):
    shops = [aged(MerchantFactory(), 31, level=2) for _ in range(5)]
    assert engine.run(today=today, batch=2) == 5  # cumulative sales 0: each goes down (in batches of 2)
    assert LevelEvaluation.objects.filter(merchant__in=shops, evaluated_on=today).count() == 5


def test_L2_staff_set_a_level_by_hand_with_a_reason(shop, operator, owner, today):
    with pytest.raises(ValidationError):
        services.set_level(shop, actor=owner, level=5, reason="我想升级")
    with pytest.raises(ValidationError):
        services.set_level(shop, actor=operator, level=8, reason="规则生效前的老店")
    with pytest.raises(ValidationError):
        services.set_level(shop, actor=operator, level=4, reason="  ")
    services.set_level(shop, actor=operator, level=4, reason="规则生效前的老店")
    shop.refresh_from_db()
    evaluation = latest(shop)
    assert shop.level == 4 and (evaluation.outcome, evaluation.actor, evaluation.message) == (
        "manual",
        operator,
        "规则生效前的老店",
    )
    assert engine.run(today=today) == 0 and latest(shop).outcome == "not_due"  # a change: 30 days' wait


def test_L2_what_if_agrees_with_the_real_evaluation_when_the_data_are_made_so(shop, today):
    aged(shop, 30, level=0)
    sales(shop, today, 400)
    for _ in range(95):
        ReviewFactory(merchant=shop, product_rating=5, service_rating=5)
    from reviews.models import Review

    Review.objects.filter(merchant=shop).update(created_at=midnight(today) - timedelta(days=2))
    Order.objects.filter(merchant=shop).update(received_at=midnight(today) - timedelta(days=3))
    base = dashboard.what_if(shop, today=today, changes={})
    assert base["result"].outcome == "unchanged"  # 95 reviews: fewer than 100
    forecast = dashboard.what_if(shop, today=today, changes={"good_reviews": 5})
    assert forecast["result"].outcome == "up"
    for _ in range(5):
        ReviewFactory(merchant=shop, product_rating=5, service_rating=5)
    Review.objects.filter(merchant=shop).update(created_at=midnight(today) - timedelta(days=2))
    Order.objects.filter(merchant=shop).update(received_at=midnight(today) - timedelta(days=3))
    assert tasks.evaluate_levels() == 1
    real = latest(shop)
    assert (real.outcome, real.level_after) == (forecast["result"].outcome, forecast["result"].level_after)
    assert scores.read(real.scores)["experience_score"] == forecast["scores"]["experience_score"]
