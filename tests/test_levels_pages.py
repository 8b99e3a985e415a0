"""L-8: the level dashboard and its what-if over HTTP, the evaluation history, staff's overview and
hand-set level, the home page's level cards; tenancy (another shop's dashboard is a 404)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants.levels import engine
from merchants.models import LevelEvaluation, Merchant, ShopDay

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def evaluated(shop, other_shop):
    Merchant.objects.filter(pk__in=[shop.pk, other_shop.pk]).update(
        level_changed_at=timezone.now() - timedelta(days=35)
    )
    ShopDay.objects.create(merchant=shop, day=timezone.localdate(), orders=450, gmv=Decimal("1000"))
    ShopDay.objects.create(
        merchant=shop, day=timezone.localdate() - timedelta(days=3), orders=7, gmv=Decimal("70")
    )
    engine.run()
    return shop


def test_L8_dashboard_shows_level_caps_metrics_scores_and_charts(client, evaluated, owner):
    client.force_login(owner, backend=BACKEND)
    response = client.get(reverse("workbench:merchants_level_dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="levels-checks"' in body and "准时发货率" in body and "累计销量" in body
    assert body.count('class="chart"') == 3  # 30-day sales, 30- and 90-day trends
    assert "450 / 500" in body and "90.0%" in body  # L-1: today's orders against the LV1 cap, warned
    assert "¥1,000.00 / ¥50,000" in body  # GMV as money, as the home page's card shows it
    assert "<script>" not in body.split('id="levels-dashboard"')[1]  # CSP: no inline script


def test_L8_what_if_shows_the_forecast_and_refuses_bad_input(client, evaluated, owner):
    client.force_login(owner, backend=BACKEND)
    url = reverse("workbench:merchants_level_dashboard")
    response = client.get(url, {"on_time": "98.5"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="what-if-checks"' in body
    assert 'data-key="on_time" data-state="down"' in body.split('id="what-if-checks"')[1]
    bad = client.get(url, {"on_time": "abc", "good_reviews": "1.5"})
    assert (
        bad.status_code == 200 and "不是数字" in bad.content.decode() and "应为整数" in bad.content.decode()
    )


def test_L8_another_shops_dashboard_is_a_404(client, evaluated, owner, other_shop):
    client.force_login(owner, backend=BACKEND)
    response = client.get(reverse("workbench:merchants_level_dashboard"), {"shop": other_shop.code})
    assert response.status_code == 404


def test_L8_the_history_lists_only_the_shops_evaluations_and_explains_them(
    client, evaluated, owner, other_shop
):
    client.force_login(owner, backend=BACKEND)
    response = client.get(reverse("workbench:merchants_levelevaluation_changelist"))
    assert response.status_code == 200
    ids = set(LevelEvaluation.objects.filter(merchant=other_shop).values_list("pk", flat=True))
    mine = LevelEvaluation.objects.filter(merchant=evaluated).latest("pk")
    assert f"/{mine.pk}/change/" in response.content.decode()
    assert not any(f"/{pk}/change/" in response.content.decode() for pk in ids)
    detail = client.get(reverse("workbench:merchants_levelevaluation_change", args=[mine.pk]))
    assert detail.status_code == 200 and "levels-checks" in detail.content.decode()


def test_L8_the_home_page_shows_the_level_cards(client, evaluated, owner):
    client.force_login(owner, backend=BACKEND)
    body = client.get(reverse("workbench:index")).content.decode()
    assert "店铺等级" in body and reverse("workbench:merchants_level_dashboard") in body


def test_L8_staff_overview_and_hand_set_level(client, evaluated, operator):
    client.force_login(operator, backend=BACKEND)
    overview = client.get(reverse("admin:merchants_levelevaluation_changelist"))
    assert overview.status_code == 200 and 'id="levels-overview"' in overview.content.decode()
    url = reverse("admin:merchants_merchant_set_level", args=[evaluated.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"level": "5", "reason": "规则生效前的老店"})
    assert response.status_code == 302
    evaluated.refresh_from_db()
    assert evaluated.level == 5
    assert LevelEvaluation.objects.filter(
        merchant=evaluated, outcome="manual", message="规则生效前的老店"
    ).exists()


def test_L6_score_settings_are_staff_editable_and_rescore_the_past(client, shop, operator):
    from reviews.models import Review
    from tests.reviews.factories import ReviewFactory

    ReviewFactory(merchant=shop, product_rating=1, service_rating=5)  # bad-review rate 100 %: product 0
    Review.objects.filter(merchant=shop).update(created_at=timezone.now() - timedelta(days=2))
    engine.run()
    day = timezone.localdate()
    evaluated = shop
    evaluation = LevelEvaluation.objects.filter(merchant=evaluated, evaluated_on=day).latest("pk")
    assert evaluation.scores["experience_score"] == "57.50"  # 0 × 42.5 % + 100 × 20 % + 100 × 37.5 %
    client.force_login(operator, backend=BACKEND)
    response = client.post(
        reverse("admin:merchants_scoresettings_add"),
        {
            "effective_from": str(day),
            "product_weight": "100",
            "logistics_weight": "0",
            "service_weight": "0",
            "refund_only_weight": "50",
            "return_refund_weight": "50",
            "curves": '{"bad_review_rate": [[0, 40], [100, 40]]}',
            "note": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    evaluation = LevelEvaluation.objects.filter(merchant=evaluated, evaluated_on=day).latest("pk")
    assert evaluation.scores["experience_score"] == "40.00"  # product only, its one indicator at 40
    bad = client.post(
        reverse("admin:merchants_scoresettings_add"),
        {"effective_from": str(day + timedelta(days=1)), "product_weight": "50", "logistics_weight": "0",
         "service_weight": "0", "refund_only_weight": "50", "return_refund_weight": "50", "curves": "{}"},
    )  # fmt: skip
    assert bad.status_code == 200 and "100" in bad.content.decode()


def test_L8_the_dashboard_dsr_averages_the_shops_reviews_of_90_days(shop):
    from merchants.levels.dashboard import context_for
    from tests.reviews.factories import ReviewFactory

    ReviewFactory(merchant=shop, product_rating=5, service_rating=4, logistics_rating=3)
    ReviewFactory(merchant=shop, product_rating=4, service_rating=2, logistics_rating=5)

    dsr = context_for(shop, today=timezone.localdate() + timedelta(days=1))["dsr"]

    assert dsr == {"product": 4.5, "service": 3.0, "logistics": 4.0}


def test_L8_a_member_of_two_shops_sees_a_level_card_for_each_shop(client, evaluated, other_shop):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from merchants.kernel.vocabulary import Role
    from tests.factories import MembershipFactory, MerchantFactory, UserFactory

    member = UserFactory(username="two-shops")
    for merchant in (evaluated, other_shop):
        MembershipFactory(user=member, merchant=merchant, role=Role.AGENT)
    client.force_login(member, backend=BACKEND)

    with CaptureQueriesContext(connection) as two:
        body = client.get(reverse("workbench:index")).content.decode()

    dashboard = reverse("workbench:merchants_level_dashboard")
    for merchant in (evaluated, other_shop):
        assert f"{dashboard}?shop={merchant.code}" in body and merchant.name in body
    assert client.get(f"{dashboard}?shop={other_shop.code}").status_code == 200

    third = MerchantFactory(code="shop3")
    MembershipFactory(user=member, merchant=third, role=Role.AGENT)
    with CaptureQueriesContext(connection) as three:
        body = client.get(reverse("workbench:index")).content.decode()
    assert f"{dashboard}?shop={third.code}" in body
    level_queries = [q["sql"] for q in three.captured_queries if "merchants_shopday" in q["sql"]]
    assert len(level_queries) == len([q for q in two.captured_queries if "merchants_shopday" in q["sql"]])
