"""L-5, L-6 and the stored evaluations without binary floats: every score is an exact Decimal (curves read
as exact decimals, rounded half up only when shown), and an evaluation's JSON keeps Decimal strings that
read back as Decimals; the migration turns the floats of older rows into the same strings."""

import importlib
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone

from merchants import tasks
from merchants.levels import dashboard, numbers, scores
from merchants.levels.registry import midnight
from merchants.models import LevelEvaluation, Merchant, Order
from merchants.transitions import OrderStatus
from tests.aftersales.factories import make_order

ROOT = Path(__file__).resolve().parent.parent


def test_L6_score_at_a_curve_knot_is_the_knot_exactly():
    curve = scores.DEFAULT_CURVES["on_time_rate"]  # [95, 0], [99, 60], [99.9, 100]
    assert scores.interpolate(curve, Decimal("99")) == 60
    assert scores.interpolate(curve, Decimal("99.9")) == 100  # not 99.99999… from a binary 99.9
    parts = scores.score({"orders_due": 1000, "orders_on_time": 999}, scores.DEFAULT_SETTINGS)["parts"]
    assert parts["on_time_rate"] == {"value": Decimal("99.9000"), "score": Decimal("100.00")}


def test_L6_score_between_knots_is_the_exact_decimal_by_hand():
    # on-time 99.5 %: 60 + 40 × 0.5 / 0.9 = 82.2222… -> 82.22; bad reviews 1 %: 100 − 20 × 0.5 / 1.5 = 93.333… -> 93.33
    s = scores.score(
        {"orders_due": 200, "orders_on_time": 199, "reviews_90": 100, "bad_90": 1}, scores.DEFAULT_SETTINGS
    )
    assert s["parts"]["on_time_rate"]["score"] == Decimal("82.22")
    assert s["parts"]["bad_review_rate"]["score"] == Decimal("93.33")
    assert s["dimensions"]["logistics"] == Decimal("91.11")  # (100 + 82.22) / 2
    # 93.33 × 42.5 % + 91.11 × 20 % + 100 × 37.5 % = 39.66525 + 18.222 + 37.5 = 95.38725 -> 95.39
    assert s["experience_score"] == Decimal("95.39")
    assert all(
        type(v) is Decimal for v in (s["experience_score"], s["shop_score"], *s["dimensions"].values())
    )


def test_L5_shop_score_half_way_rounds_half_up():
    # refund only: 36 h average -> 4.5; return refund 60 h -> 4.5 (48 h 5, 72 h 4); 50 % each -> 4.50
    figures = {
        "refund_only_cases": 2,
        "refund_only_seconds": 2 * 36 * 3600,
        "return_refund_cases": 1,
        "return_refund_seconds": 60 * 3600,
    }
    s = scores.score(figures, scores.DEFAULT_SETTINGS)
    assert (s["parts"]["refund_only_hours"]["score"], s["shop_score"]) == (Decimal("4.50"), Decimal("4.50"))
    assert numbers.quantize(Fraction(1, 8), 2) == Decimal("0.13")  # half up, not to even
    assert numbers.quantize(Decimal("2.675"), 2) == Decimal("2.68")  # the float 2.675 would round to 2.67


@pytest.mark.django_db
def test_L2_a_stored_evaluation_reads_back_as_decimal(shop):
    today = timezone.localdate()
    Merchant.objects.filter(pk=shop.pk).update(level=3, level_changed_at=timezone.now() - timedelta(days=31))
    for n in range(3):
        order = make_order(shop, status=OrderStatus.TO_SHIP)
        Order.objects.filter(pk=order.pk).update(
            ship_by=midnight(today) - timedelta(days=2),
            shipped_at=None if n == 0 else midnight(today) - timedelta(days=3),
        )
    tasks.evaluate_levels()
    evaluation = LevelEvaluation.objects.get(merchant=shop, evaluated_on=today)
    evaluation.refresh_from_db()
    on_time = next(c for c in evaluation.checks if c["key"] == "on_time")
    assert on_time["value"] == "0.666667"  # 2 of 3 on time, stored as its Decimal string
    row = next(r for r in dashboard.check_rows(evaluation.checks) if r["key"] == "on_time")
    assert (row["value"], row["display"]) == (Decimal("0.666667"), "66.67%")
    read = scores.read(evaluation.scores)
    assert isinstance(evaluation.scores["experience_score"], str)
    assert type(read["experience_score"]) is Decimal
    assert read["parts"]["on_time_rate"]["value"] == Decimal("66.6667")
    assert read["parts"]["on_time_rate"]["score"] == Decimal("0.00")  # below 95 %


def test_L2_the_migration_turns_old_floats_into_the_same_decimal_strings():
    migration = importlib.import_module(
        "merchants.migrations.0017_level_evaluation_numbers_as_decimal_strings"
    )
    old = SimpleNamespace(
        checks=[{"key": "on_time", "value": 2 / 3}, {"key": "cumulative_sales", "value": 400}],
        figures={"orders": 3, "gmv": 12.5},
        scores={
            "shop_score": 4,
            "experience_score": 95.39,
            "dimensions": {"product": 93.33},
            "parts": {"on_time_rate": {"value": 99.5, "score": 82.22}, "x": {"value": None, "score": 100.0}},
            "settings_from": "2022-06-21",
        },
    )
    assert migration.convert(old) is True
    assert old.checks == [{"key": "on_time", "value": "0.666667"}, {"key": "cumulative_sales", "value": 400}]
    assert old.figures == {"orders": 3, "gmv": "12.5"}
    assert old.scores["shop_score"] == "4.00" and old.scores["experience_score"] == "95.39"
    assert old.scores["parts"] == {
        "on_time_rate": {"value": "99.5000", "score": "82.22"},
        "x": {"value": None, "score": "100.00"},
    }
    assert migration.convert(old) is False  # already converted: nothing to write


def test_L2_no_float_in_the_level_code():
    """Stored rates and scores are Decimal: no FloatField and no float() outside migrations."""
    found = []
    for app in ("merchants", "aftersales", "reviews", "tickets", "demo"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if "FloatField" in line or "float(" in line:
                    found.append(f"{path.relative_to(ROOT)}:{n}")
    assert found == []
