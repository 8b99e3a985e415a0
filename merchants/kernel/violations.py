"""The one writer of violations (商家违规行为管理规则): a breach recorded once per episode.

A violation names its rule, the shop, the object that breached it (`source`: a case, a ticket…) and
the *episode*: which deadline was missed, so that

- a sweep that runs twice, or a person and the sweep racing, record the breach once (the unique key
  (rule, source, episode) turns the second INSERT into nothing), and
- the same object missing a second deadline (a ticket overdue, answered, rejected, overdue again: T-3)
  records a second violation.

    record_violation(case, rule=RULE, points=2, episode=case.deadline_at)            # one row
    record_violations(cases, rule=RULE, points=2, episode=lambda c: deadlines[c.pk])  # one INSERT

`record_violation` is the single form, `record_violations` the batch form of the same write (the
sweeps); both ignore a breach already recorded.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import Model
from django.utils import timezone

from merchants.kernel.models import Violation
from merchants.kernel.scoping import merchant_id_of


def episode_key(value: Any) -> str:
    """How an episode is stored: a deadline as its UTC instant (ISO 8601), anything else as text."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    return "" if value is None else str(value)


def _row(source: Model, *, rule: str, points: int, episode: Any, note: str, excluded: bool, at) -> Violation:
    return Violation(
        merchant_id=merchant_id_of(source),
        rule=rule,
        points=points,
        source_type=source._meta.label_lower,
        source_id=source.pk,
        episode=episode_key(episode),
        note=str(note or ""),
        excluded=excluded,
        created_at=at or timezone.now(),
    )


def record_violation(
    source: Model,
    *,
    rule: str,
    points: int,
    episode: Any,
    note: str = "",
    excluded: bool = False,
    at: datetime.datetime | None = None,
) -> bool:
    """Record that `source`'s shop breached `rule` in this episode; False when it was already recorded."""
    row = _row(source, rule=rule, points=points, episode=episode, note=note, excluded=excluded, at=at)
    _obj, created = Violation.objects.get_or_create(
        rule=row.rule,
        source_type=row.source_type,
        source_id=row.source_id,
        episode=row.episode,
        defaults={
            "merchant_id": row.merchant_id,
            "points": row.points,
            "note": row.note,
            "excluded": row.excluded,
            "created_at": row.created_at,
        },
    )
    return created


def record_violations(
    sources: Sequence[Model],
    *,
    rule: str,
    points: int,
    episode: Callable[[Model], Any],
    note: str = "",
    excluded: Callable[[Model], bool] | None = None,
    at: datetime.datetime | None = None,
) -> None:
    """The batch form of record_violation: one INSERT, breaches already recorded ignored.

    `episode(source)` and `excluded(source)` give each row's episode and exclusion.
    """
    if not sources:
        return
    at = at or timezone.now()
    Violation.objects.bulk_create(
        [
            _row(
                source,
                rule=rule,
                points=points,
                episode=episode(source),
                note=note,
                excluded=bool(excluded(source)) if excluded else False,
                at=at,
            )
            for source in sources
        ],
        ignore_conflicts=True,
    )


def exclude_violations(source: Model) -> int:
    """L-7: the violations `source` caused stop counting (an approved delay report); returns how many."""
    return Violation.objects.filter(source_type=source._meta.label_lower, source_id=source.pk).update(
        excluded=True
    )
