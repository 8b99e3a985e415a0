"""L-2, L-8: every change of a shop's level leaves its members a notice — old → new and the main reason,
rendered in the reader's language, linking to the level dashboard — written with the evaluation (the
daily run, clear-out, staff's hand-set level); an evaluation that changes nothing writes none."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from merchants import services, tasks
from merchants.kernel.models import Notice
from merchants.kernel.notices import link_of
from merchants.levels import engine
from merchants.levels.notices import LEVEL_CHANGED
from merchants.levels.registry import midnight
from merchants.models import LevelEvaluation, Merchant, Order, ShopDay
from merchants.transitions import OrderStatus
from tests.aftersales.factories import make_order
from tests.reviews.factories import ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


def aged(shop, days, level):
    Merchant.objects.filter(pk=shop.pk).update(
        level=level, level_changed_at=timezone.now() - timedelta(days=days)
    )
    shop.refresh_from_db()


def sales(shop, today, n):
    ShopDay.objects.create(merchant=shop, day=today - timedelta(days=40), orders=n, gmv=Decimal(n))


def level_notices(shop):
    return list(Notice.objects.filter(merchant=shop, kind=LEVEL_CHANGED))


def read(notice, language):
    with translation.override(language):
        return notice.display_title, notice.display_body


def test_L8_down_tells_the_shop_old_new_and_the_metric_in_its_language(shop, today):
    aged(shop, 31, level=3)
    sales(shop, today, 5000)
    late = make_order(shop, status=OrderStatus.TO_SHIP)
    Order.objects.filter(pk=late.pk).update(ship_by=midnight(today) - timedelta(days=2))
    assert tasks.evaluate_levels() == 1
    [notice] = level_notices(shop)
    assert (notice.audience, notice.read_at) == (Notice.Audience.MERCHANT, None)
    assert notice.params["reason"] == "down" and notice.params["reason_params"] == {"metrics": "on_time"}
    assert read(notice, "zh-hans") == ("店铺等级变更（降级）：LV3 → LV2", "准时发货率 超过降级值，下降一级。")
    assert read(notice, "en") == (
        "Shop level changed (Down): LV3 → LV2",
        "On-time shipping rate beyond the downgrade line: down one level.",
    )
    assert link_of(notice, "workbench") == reverse("workbench:merchants_level_dashboard") + "?shop=shop1"
    evaluation = LevelEvaluation.objects.get(merchant=shop, evaluated_on=today)
    assert notice.created_at == evaluation.created_at  # written with the evaluation


def test_L8_up_tells_the_shop(shop, today):
    aged(shop, 30, level=0)
    sales(shop, today, 400)
    for _ in range(100):
        ReviewFactory(merchant=shop, product_rating=5, service_rating=4)
    from reviews.models import Review

    Review.objects.filter(merchant=shop).update(created_at=midnight(today) - timedelta(days=2))
    Order.objects.filter(merchant=shop).update(received_at=midnight(today) - timedelta(days=3))
    assert tasks.evaluate_levels() == 1
    [notice] = level_notices(shop)
    assert (notice.params["outcome"], notice.params["before"], notice.params["after"]) == ("up", 0, 1)
    assert read(notice, "zh-hans")[1] == "全部指标达到升级值，提升一级。"


def test_L8_clear_out_tells_the_shop(shop, other_shop, today):
    aged(shop, 60, level=0)
    aged(other_shop, 59, level=0)
    sales(other_shop, today, 10)
    assert tasks.evaluate_levels() == 1
    [notice] = level_notices(shop)
    assert notice.params["outcome"] == "cleared"
    assert read(notice, "zh-hans")[1] == "连续 60 天处于 LV0，店铺被清退。"
    assert level_notices(other_shop) == []  # unchanged: no notice


def test_L8_an_unchanged_or_not_due_evaluation_writes_no_notice(shop, other_shop, today):
    aged(shop, 40, level=2)  # due, nothing beyond a downgrade line, sales short of LV3: unchanged
    sales(shop, today, 100)
    aged(other_shop, 10, level=2)  # not due
    assert tasks.evaluate_levels() == 0
    assert LevelEvaluation.objects.filter(evaluated_on=today).count() == 2
    assert not Notice.objects.filter(kind=LEVEL_CHANGED).exists()


def test_L8_staff_hand_set_level_tells_the_shop_with_the_reason(shop, operator):
    services.set_level(shop, actor=operator, level=4, reason="规则生效前的老店")
    [notice] = level_notices(shop)
    assert read(notice, "zh-hans") == (
        "店铺等级变更（手动调整）：LV1 → LV4",
        "平台手动调整等级：规则生效前的老店",
    )
    title, body = read(notice, "en")
    assert title.startswith("Shop level changed (") and title.endswith("): LV1 → LV4")
    assert body.endswith(": 规则生效前的老店")  # the staff's own words as typed
    services.set_level(
        shop, actor=operator, level=4, reason="再次确认"
    )  # the same level: no change, no notice
    assert len(level_notices(shop)) == 1


def test_L8_the_daily_run_writes_its_notices_in_batch(today):
    """The notices go in with the evaluations, in one write per batch: as many queries for 6 changed shops
    as for 2."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import MerchantFactory

    def run_with(n):
        LevelEvaluation.objects.all().delete()
        Notice.objects.all().delete()
        Merchant.objects.all().delete()
        for _ in range(n):
            aged(MerchantFactory(), 31, level=2)  # cumulative sales 0: each goes down
        with CaptureQueriesContext(connection) as ctx:
            assert engine.run(today=today) == n
        assert Notice.objects.filter(kind=LEVEL_CHANGED).count() == n
        return len(ctx.captured_queries)

    assert run_with(2) == run_with(6)
