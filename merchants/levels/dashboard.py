"""What the workbench shows a shop about its level (L-8), and the what-if.

`what_if` feeds the same pure evaluation the daily task uses (engine.decide -> rules.evaluate) with the
shop's real figures changed as the owner asks, so the forecast and the real evaluation can never disagree.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.levels import engine, registry, rules, scores
from merchants.levels.numbers import decimal, exact, quantize
from merchants.models import LevelEvaluation, Merchant, ShopDay

# What the owner may change in the what-if: (form field, label, kind). Rates are typed in percent.
WHAT_IF_FIELDS = (
    ("on_time", "percent"),
    ("fake_shipping", "percent"),
    ("im_first_response", "seconds"),
    ("complaints", "count"),
    ("good_reviews", "count"),
    ("bad_reviews", "count"),
    ("sales", "count"),
)


def what_if_labels() -> dict[str, str]:
    return {
        "on_time": _("准时发货率（%）"),
        "fake_shipping": _("虚假发货率（%）"),
        "im_first_response": _("IM 平均首次响应（秒）"),
        "complaints": _("商家责任投诉（件）"),
        "good_reviews": _("增加好评（条）"),
        "bad_reviews": _("增加差评（条）"),
        "sales": _("增加销量（单）"),
    }


def parse_changes(data) -> tuple[dict, list[str]]:
    """The what-if form's values (strings) as numbers; messages for the ones refused (nothing else used)."""
    changes, errors = {}, []
    labels = what_if_labels()
    for key, kind in WHAT_IF_FIELDS:
        raw = (data.get(key) or "").strip()
        if not raw:
            continue
        try:
            value = Decimal(raw)
        except InvalidOperation:
            errors.append(_("「%(field)s」不是数字。") % {"field": labels[key]})
            continue
        if not value.is_finite() or value < 0 or (kind == "percent" and value > 100) or value > 10**7:
            errors.append(_("「%(field)s」超出范围。") % {"field": labels[key]})
            continue
        if kind == "count" and value != value.to_integral_value():
            errors.append(_("「%(field)s」应为整数。") % {"field": labels[key]})
            continue
        changes[key] = int(value) if kind == "count" else value
    return changes, errors


def apply_changes(figures: dict, changes: dict) -> tuple[dict, dict]:
    """The figures with counted changes applied, and the rate overrides (exact fractions)."""
    f = dict(figures)
    for name in ("good_reviews", "bad_reviews"):
        n = changes.get(name, 0)
        if not n:
            continue
        f["reviews"] = f.get("reviews", 0) + n
        f["reviews_90"] = f.get("reviews_90", 0) + n
        if name == "good_reviews":
            f["service_good"] = f.get("service_good", 0) + n
            f["product_good"] = f.get("product_good", 0) + n
        else:
            f["bad_90"] = f.get("bad_90", 0) + n
    if changes.get("sales"):
        f["cumulative_sales"] = f.get("cumulative_sales", 0) + changes["sales"]
    if "complaints" in changes:
        f["complaints"] = changes["complaints"]
    overrides = {}
    for key in ("on_time", "fake_shipping"):
        if key in changes:
            overrides[key] = Fraction(changes[key]) / 100
    if "im_first_response" in changes:
        overrides["im_first_response"] = Fraction(changes["im_first_response"])
    return f, overrides


def what_if(shop: Merchant, *, today: date | None = None, changes: dict) -> dict:
    """What the next evaluation and the scores would say with the shop's figures changed by `changes`."""
    today = today or timezone.localdate()
    figures = registry.collect([shop.pk], registry.Windows(today))[shop.pk]
    changed, overrides = apply_changes(figures, changes)
    metrics = engine.metrics_of(changed).with_changes(overrides=overrides)
    fast = engine.fast_days([shop], today).get(shop.pk)
    result, nxt = engine.decide(shop, metrics, today, fast_day=fast, as_due=True)
    rates = {}
    if "on_time" in overrides:
        rates["on_time"] = overrides["on_time"]
    if "im_first_response" in overrides:
        rates["im_first_response"] = overrides["im_first_response"]
    return {
        "result": result,
        "next_on": nxt,
        "scores": scores.score(changed, scores.settings_for(today), **rates),
        "figures": changed,
    }


# ---- the dashboard's numbers


def caps_today(shop: Merchant, today: date | None = None) -> dict:
    """L-1: the shop's caps and today's use of them (orders and GMV counted as L-3 says); warn from 80 %."""
    return caps_today_for([shop], today)[shop.pk]


def caps_today_for(shops: list[Merchant], today: date | None = None) -> dict[int, dict]:
    """caps_today for several shops (a member of several, on the home page): one query for all of them."""
    today = today or timezone.localdate()
    days = {
        row["merchant_id"]: row
        for row in ShopDay.objects.filter(merchant__in=shops, day=today).values(
            "merchant_id", "orders", "gmv"
        )
    }
    return {shop.pk: _caps(shop, days.get(shop.pk)) for shop in shops}


def _caps(shop: Merchant, row: dict | None) -> dict:
    row = row or {"orders": 0, "gmv": Decimal("0")}
    cap_orders, cap_gmv = rules.CAPS[shop.level]

    def use(value, cap):
        if cap is None:
            return {"value": value, "cap": None, "percent": None, "warn": False, "over": False}
        share = Fraction(value) / Fraction(cap)
        return {
            "value": value,
            "cap": cap,
            "percent": quantize(share * 100, 1),
            "warn": share >= rules.CAP_WARNING,
            "over": share > 1,
        }

    orders, gmv = use(row["orders"], cap_orders), use(row["gmv"], cap_gmv)
    # As the home page's cards show them: counts with separators, money as ¥ with its cents.
    orders["value_text"] = f"{orders['value']:,}"
    orders["cap_text"] = f"{orders['cap']:,}" if orders["cap"] is not None else None
    gmv["value_text"] = f"¥{gmv['value']:,.2f}"
    gmv["cap_text"] = f"¥{gmv['cap']:,.0f}" if gmv["cap"] is not None else None
    return {"orders": orders, "gmv": gmv}


def display_value(key: str, value) -> str:
    """A check's value as the owner reads it: a rate in percent to 2 places, seconds whole, a count."""
    if value is None:
        return "—"
    kind = rules.KINDS.get(key)
    if kind == "percent":
        return f"{quantize(exact(value) * 100, 2)}%"
    if kind == "seconds":
        return f"{quantize(value, 0)}s"
    return f"{value:,}" if isinstance(value, int) else str(value)


def check_rows(checks: list[dict]) -> list[dict]:
    """Stored (or fresh) checks for display; each value read back as a Decimal (a count as an int)."""
    return [
        {
            **c,
            "value": decimal(c["value"]),
            "label": str(rules.LABELS.get(c["key"], c["key"])),
            "display": display_value(c["key"], c["value"]),
            "state": "down" if c["hits_down"] else ("up" if c["meets_up"] else "between"),
        }
        for c in checks
    ]


def trend_chart(evaluations: list[LevelEvaluation], days: int, today: date) -> dict:
    """Chart.js data (unfold's line component) for the level and both scores over `days` days."""
    since = today - timedelta(days=days)
    points = [e for e in evaluations if e.evaluated_on >= since and e.outcome != "manual"]
    points.sort(key=lambda e: e.evaluated_on)
    labels = [e.evaluated_on.strftime("%m-%d") for e in points]
    read = [scores.read(e.scores) for e in points]
    # Chart.js reads each Decimal string as a number (its linear scale parses `+value`).
    number = lambda value: None if value is None else str(value)  # noqa: E731
    return {
        "labels": labels,
        "datasets": [
            {
                "label": str(_("体验分")),
                "data": [number(s.get("experience_score")) for s in read],
                "borderColor": "#2563eb",
                "yAxisID": "y",
            },
            {
                "label": str(_("店铺分（×20）")),
                "data": [number((s.get("shop_score") or 0) * 20) for s in read],
                "borderColor": "#16a34a",
                "yAxisID": "y",
            },
            {
                "label": str(_("等级（×10）")),
                "data": [e.level_after * 10 for e in points],
                "borderColor": "#f59e0b",
                "yAxisID": "y",
            },
        ],
    }


def sales_chart(shop: Merchant, days: int, today: date) -> dict:
    rows = dict(
        ShopDay.objects.filter(
            merchant=shop, day__gte=today - timedelta(days=days), day__lte=today
        ).values_list("day", "orders")
    )
    cap = rules.CAPS[shop.level][0]
    span = [today - timedelta(days=n) for n in range(days, -1, -1)]
    datasets = [
        {"label": str(_("订单数")), "data": [rows.get(d, 0) for d in span], "backgroundColor": "#93c5fd"},
    ]
    if cap is not None:
        datasets.append(
            {
                "type": "line",
                "label": str(_("80% 上限")),
                "data": [int(cap * rules.CAP_WARNING)] * len(span),
                "borderColor": "#dc2626",
            }
        )
    return {"labels": [d.strftime("%m-%d") for d in span], "datasets": datasets}


def context_for(shop: Merchant, *, today: date | None = None, changes: dict | None = None) -> dict:
    """Everything the level dashboard of one shop shows; a handful of queries."""
    today = today or timezone.localdate()
    evaluations = list(
        LevelEvaluation.objects.filter(merchant=shop, evaluated_on__gte=today - timedelta(days=90)).order_by(
            "-evaluated_on", "-pk"
        )
    )
    latest = next((e for e in evaluations if e.outcome != "manual"), None)
    last_applied = next((e for e in evaluations if e.applied), None)
    forecast = what_if(shop, today=today, changes=changes or {})
    live = forecast if not changes else what_if(shop, today=today, changes={})
    figures = live["figures"]
    reviews_90 = figures.get("reviews_90", 0) or 0
    dsr = {
        key: (
            quantize(Fraction(figures.get(f"dsr_{key}_sum", 0) or 0, reviews_90), 2) if reviews_90 else None
        )
        for key in ("product", "service", "logistics")
    }
    result = forecast["result"]
    days = engine.days_at_level(shop, today)
    return {
        "shop": shop,
        "today": today,
        "level_label": f"LV{shop.level}",
        "caps": caps_today(shop, today),
        "days_at_level": days,
        "next_on": forecast["next_on"],
        "clear_out_in": (rules.CLEAR_OUT_DAYS - days) if shop.level == 0 else None,
        "checks": check_rows([c.as_json() for c in live["result"].checks]),
        "forecast": result,
        "forecast_checks": check_rows([c.as_json() for c in result.checks]) if changes else None,
        "forecast_reason": rules.reason_text(result.reason, result.params),
        "scores": live["scores"],
        "forecast_scores": forecast["scores"] if changes else None,
        "dsr": dsr,
        "latest": latest,
        "last_applied": last_applied,
        "history": [e for e in evaluations if e.applied][:10],
        "trend_30": json.dumps(trend_chart(evaluations, 30, today)),
        "trend_90": json.dumps(trend_chart(evaluations, 90, today)),
        "sales_30": json.dumps(sales_chart(shop, 30, today)),
        "labels": what_if_labels(),
        "indicator_labels": {k: str(v) for k, v in scores.INDICATOR_LABELS.items()},
    }
