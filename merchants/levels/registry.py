"""Where each app feeds its figures to the level engine (L-3, L-5, L-6) without merchants importing it.

`merchants` sits below aftersales, reviews and tickets: the engine cannot import them, so each registers
a provider from its own `<app>/levels.py` (imported by its AppConfig.ready), as the dashboard cards do:

    from merchants.levels.registry import Windows, level_metric

    @level_metric
    def review_counts(merchant_ids, windows: Windows) -> dict[int, dict[str, int]]:
        ...one or a few grouped queries for all the shops...

A provider returns {merchant_id: {name: number}} for the shops it has figures for (missing names count
0). Names are unique across providers; each figure is defined once, with its exclusions, in its app.
`level_daily_metric` providers answer for (merchant_id, day) pairs (L-4's "that day").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

Figures = dict[int, dict[str, int | float]]
Provider = Callable[[list[int], "Windows"], Figures]
DailyProvider = Callable[[list[tuple[int, date]]], dict[tuple[int, date], dict[str, int]]]

_providers: dict[str, Provider] = {}
_daily: dict[str, DailyProvider] = {}


def _key(func) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def level_metric(func: Provider) -> Provider:
    """Register a provider of window figures (idempotent)."""
    _providers[_key(func)] = func
    return func


def level_daily_metric(func: DailyProvider) -> DailyProvider:
    """Register a provider of one day's figures per shop (L-4), idempotent."""
    _daily[_key(func)] = func
    return func


def midnight(day: date) -> datetime:
    """The local (Asia/Shanghai) start of `day`, aware."""
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Windows:
    """The periods of one evaluation day `today` (local). Each span is [start, end) in aware datetimes.

    L-3's 30 days are the 30 whole days before `today`; L-6's 90 days likewise; the logistics-return
    window is the days 15–104 before `today` (so that late returns have arrived).
    """

    today: date

    def days(self, count: int, *, skip: int = 0) -> tuple[date, date]:
        end = self.today - timedelta(days=skip)
        return end - timedelta(days=count), end

    def span(self, count: int, *, skip: int = 0) -> tuple[datetime, datetime]:
        start, end = self.days(count, skip=skip)
        return midnight(start), midnight(end)

    @property
    def w30(self) -> tuple[datetime, datetime]:
        return self.span(30)

    @property
    def w90(self) -> tuple[datetime, datetime]:
        return self.span(90)

    @property
    def logistics(self) -> tuple[datetime, datetime]:
        return self.span(90, skip=14)  # the days 15..104 before today

    @property
    def end(self) -> datetime:
        return midnight(self.today)


def of_shops(model, merchant_ids, field: str = "merchant_id"):
    """A filter for `model.objects.filter(...)`: the rows of these shops, the ids bound as one parameter
    (`__any`, merchants/kernel/lookups.py) — for 10,000 shops, splitting and quoting one placeholder per
    shop cost more than some of the queries."""
    from django.db.models import Q  # noqa: PLC0415

    return Q(**{f"{field}__any": [int(pk) for pk in merchant_ids]})


def collect(merchant_ids: Iterable[int], windows: Windows) -> Figures:
    """Every provider's figures for the shops, merged: {merchant_id: {name: number}}."""
    ids = list(merchant_ids)
    merged: Figures = {pk: {} for pk in ids}
    for provider in _providers.values():
        for pk, figures in provider(ids, windows).items():
            if pk in merged:
                merged[pk].update(figures)
    return merged


def collect_daily(pairs: list[tuple[int, date]]) -> dict[tuple[int, date], dict[str, int]]:
    merged: dict[tuple[int, date], dict[str, int]] = {pair: {} for pair in pairs}
    if not pairs:
        return merged
    for provider in _daily.values():
        for pair, figures in provider(pairs).items():
            if pair in merged:
                merged[pair].update(figures)
    return merged
