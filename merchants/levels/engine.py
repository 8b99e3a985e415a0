"""The daily level evaluation (L-2, L-4) over every active shop at once: figures, rules, stored results.

merchants.tasks.evaluate_levels calls `run()`. For each active shop not yet looked at today:
- one set of grouped queries per provider gathers the figures of all the shops (registry.collect);
- rules.evaluate decides (the same pure function as the dashboard's what-if);
- a shop that is due (30 days after its last change, then daily) is moved up or down, a shop at LV0 for
  60 days is cleared, and any shop meeting L-4 is moved up at once; every shop's result is stored, with
  each metric against its lines and the reason (a shop not due gets its daily preview, applied=False).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from merchants.kernel.vocabulary import MerchantStatus
from merchants.levels import registry, rules, scores
from merchants.levels.numbers import dumps, stored
from merchants.models import LevelEvaluation, LevelOutcome, Merchant, ShopDay

FIGURE_FIELDS = tuple(f.name for f in rules.Metrics.__dataclass_fields__.values() if f.name != "overrides")


def metrics_of(figures: dict) -> rules.Metrics:
    return rules.Metrics(**{name: int(figures.get(name, 0) or 0) for name in FIGURE_FIELDS})


def days_at_level(merchant: Merchant, today: date) -> int:
    return (today - timezone.localdate(merchant.level_changed_at)).days


def next_evaluation_on(changed_on: date, today: date) -> date:
    first = changed_on + timedelta(days=rules.FIRST_EVALUATION_DAYS)
    return first if first > today else today + timedelta(days=1)


def fast_days(shops: list[Merchant], today: date) -> dict[int, date]:
    """L-4: for each shop, the first day since its last change (before today) that met the daily rule."""
    if not shops:
        return {}
    by_pk = {shop.pk: shop for shop in shops}
    candidates = [(pk, day) for pk, day, _orders, _gmv in _cap_candidates(by_pk, today)]
    daily = registry.collect_daily(candidates)
    found: dict[int, date] = {}
    for (pk, day), figures in sorted(daily.items(), key=lambda item: item[0][1]):
        if pk in found:
            continue
        shop = by_pk[pk]
        if rules.fast_day_ok(
            shop.level,
            figures.get("orders", 0),
            figures.get("gmv", 0),
            figures.get("reviews", 0),
            figures.get("received", 0),
            figures.get("service_good", 0),
            figures.get("product_good", 0),
        ):
            found[pk] = day
    return found


def _cap_candidates(by_pk: dict[int, Merchant], today: date):
    """(merchant_id, day, orders, gmv) of the days since each shop's change reaching 80 % of both caps."""
    from django.db.models import Case, IntegerField, Q, When

    share = rules.FAST_UPGRADE_SHARE
    cap_orders = Case(
        *[When(merchant__level=lv, then=int(share * cap[0])) for lv, cap in rules.CAPS.items() if cap[0]],
        default=None,
        output_field=IntegerField(),
    )
    qs = (
        ShopDay.objects.filter(registry.of_shops(ShopDay, by_pk), day__lt=today)
        .annotate(cap=cap_orders)
        .filter(Q(cap__isnull=False), orders__gte=F("cap"))
    )
    for pk, day, orders, gmv in qs.values_list("merchant_id", "day", "orders", "gmv"):
        shop = by_pk[pk]
        if day < timezone.localdate(shop.level_changed_at):
            continue
        cap_gmv = rules.CAPS[shop.level][1]
        if cap_gmv is not None and gmv * 5 >= cap_gmv * 4:
            yield pk, day, orders, gmv


def decide(shop: Merchant, metrics: rules.Metrics, today: date, *, fast_day=None, as_due: bool = False):
    """rules.evaluate for one shop on `today` (with `as_due`, as if its evaluation were due: the what-if's
    "next evaluation"); returns (result, the next evaluation day if nothing changes)."""
    days = days_at_level(shop, today)
    changed_on = today - timedelta(days=days)
    nxt = next_evaluation_on(changed_on, today)
    if as_due:
        days = max(days, rules.FIRST_EVALUATION_DAYS)
    result = rules.evaluate(shop.level, metrics, days_at_level=days, fast_day=fast_day, next_on=str(nxt))
    return result, nxt


def evaluate_shops(
    shops: list[Merchant], today: date
) -> list[tuple[Merchant, rules.Result, dict, date, str]]:
    """The result of each shop's evaluation on `today`, and its forecast (nothing written)."""
    windows = registry.Windows(today)
    figures = registry.collect([shop.pk for shop in shops], windows)
    fast = fast_days(shops, today)
    out = []
    for shop in shops:
        metrics = metrics_of(figures[shop.pk])
        result, nxt = decide(shop, metrics, today, fast_day=fast.get(shop.pk))
        forecast = result.outcome
        if result.outcome == rules.Outcome.NOT_DUE:
            forecast = decide(shop, metrics, today, fast_day=fast.get(shop.pk), as_due=True)[0].outcome
        out.append((shop, result, figures[shop.pk], nxt, forecast))
    return out


def due_shops(today: date):
    """Active shops without an evaluation today (their daily preview included)."""
    done = LevelEvaluation.objects.filter(evaluated_on=today).exclude(outcome=LevelOutcome.MANUAL)
    return (
        Merchant.objects.filter(status=MerchantStatus.ACTIVE)
        .exclude(pk__in=done.values("merchant_id"))
        .order_by("pk")
    )


@dataclass(frozen=True, slots=True)
class Shop:
    """The columns of a shop the evaluation reads (duck-typed like a Merchant): no model instances built
    for ten thousand shops."""

    pk: int
    code: str
    level: int
    level_changed_at: datetime


def run(
    *,
    today: date | None = None,
    now: datetime | None = None,
    batch: int = 10000,
    limit: int | None = None,
    preview: bool = False,
) -> int:
    """Evaluate every active shop not yet evaluated on `today`; returns how many shops changed (level or status).

    Shops go in batches of `batch` (each batch: one set of grouped queries, then its writes in one
    transaction). `preview`: store each shop's daily preview only (what the rules say, nothing applied) —
    for back-filling the trend of past days (the demo).
    """
    if now is None:
        now = timezone.now()
        if today is not None and today != timezone.localdate(
            now
        ):  # a replay of another day (tests, backfill)
            now = registry.midnight(today) + timedelta(hours=1)
    today = today or timezone.localdate(now)
    settings_rows = list(scores_settings_rows())
    score_settings = scores.settings_for(today, settings_rows)
    changed = 0
    seen = 0
    while True:
        size = batch if limit is None else min(batch, max(limit - seen, 1))
        shops = [
            Shop(*row)
            for row in due_shops(today).values_list("pk", "code", "level", "level_changed_at")[:size]
        ]
        if not shops:
            break
        results = evaluate_shops(shops, today)
        if preview:
            results = [
                (shop, _as_preview(result), figures, nxt, result.outcome)
                for shop, result, figures, nxt, _f in results
            ]
        changed += _apply(results, today=today, now=now, score_settings=score_settings)
        seen += len(shops)
        if limit is not None and seen >= limit:
            break
    return changed


def _as_preview(result: rules.Result) -> rules.Result:
    return rules.Result(
        rules.Outcome.NOT_DUE,
        result.level_before,
        result.level_before,
        "not_due",
        {"next": ""},
        result.checks,
    )


def scores_settings_rows():
    from merchants.models import ScoreSettings

    return ScoreSettings.objects.all()


EVALUATION_COLUMNS = (
    "merchant_id",
    "evaluated_on",
    "outcome",
    "applied",
    "level_before",
    "level_after",
    "reason",
    "params",
    "checks",
    "figures",
    "scores",
    "next_evaluation_on",
    "forecast",
    "actor_id",
    "message",
    "created_at",
)
JSON_COLUMNS = frozenset({"params", "checks", "figures", "scores"})


def _write_evaluations(rows: list[dict]) -> None:
    """The evaluations in one go: COPY on PostgreSQL (the JSON encoded in C, Decimals and Fractions as
    strings by numbers.dumps), else bulk_create (numbers.stored)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = [
            LevelEvaluation(**{c: stored(v) if c in JSON_COLUMNS else v for c, v in row.items()})
            for row in rows
        ]
        LevelEvaluation.objects.bulk_create(objs, batch_size=1000)
        return
    from merchants.kernel.importing import insert_rows  # noqa: PLC0415

    insert_rows(
        LevelEvaluation,
        list(EVALUATION_COLUMNS),
        [tuple(dumps(row[c]) if c in JSON_COLUMNS else row[c] for c in EVALUATION_COLUMNS) for row in rows],
    )


@transaction.atomic
def _apply(results, *, today: date, now: datetime, score_settings) -> int:
    """Store every result, move the shops that changed, and tell each changed shop why (one transaction)."""
    from merchants.levels import notices  # noqa: PLC0415

    rows, changed, told = [], 0, []
    ups: dict[int, list[int]] = {}
    cleared: list[int] = []
    for shop, result, figures, nxt, forecast in results:
        applied = result.outcome != rules.Outcome.NOT_DUE
        if result.outcome == rules.Outcome.CLEARED:
            cleared.append(shop.pk)
        elif result.level_after != result.level_before:
            ups.setdefault(result.level_after, []).append(shop.pk)
        if result.changed:
            changed += 1
            nxt = today + timedelta(days=rules.FIRST_EVALUATION_DAYS)
            told.append(
                notices.build(
                    shop,
                    outcome=result.outcome,
                    before=result.level_before,
                    after=result.level_after,
                    reason=result.reason,
                    reason_params=result.params,
                    at=now,
                )
            )
        rows.append(
            {
                "merchant_id": shop.pk,
                "evaluated_on": today,
                "outcome": result.outcome,
                "applied": applied,
                "level_before": result.level_before,
                "level_after": result.level_after,
                "reason": result.reason,
                "params": result.params,
                "checks": [c.as_json() for c in result.checks],
                "figures": figures,
                "scores": scores.score(figures, score_settings),
                "next_evaluation_on": None if result.outcome == rules.Outcome.CLEARED else nxt,
                "forecast": forecast,
                "actor_id": None,
                "message": "",
                "created_at": now,
            }
        )
    for level, pks in ups.items():
        Merchant.objects.filter(registry.of_shops(Merchant, pks, "id")).update(
            level=level, level_changed_at=now
        )
    if cleared:
        Merchant.objects.filter(registry.of_shops(Merchant, cleared, "id")).update(
            status=MerchantStatus.CLEARED
        )
    _write_evaluations(rows)
    notices.write_many(told)
    return changed
