"""The deadline engine shared by every app (A-5, M-3, S-5, T-3).

A model with a `deadline_at` column (indexed with its `status`) hands `sweep()` the rows that are due;
the engine reads their ids through that index only — never a scan of the table — and gives them to a
handler in batches. Each batch runs in its own short transaction with the rows locked
`FOR UPDATE SKIP LOCKED`, so two beat runs, two workers, or a person acting on the same row at the
same moment never double-act: the row another transaction holds is skipped now and, if still due,
taken by the next run. One failing batch is retried row by row, so one bad row never stops the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Model, QuerySet

logger = logging.getLogger(__name__)

# handler(locked rows, now) -> how many of them it changed. It re-checks each row (the state may
# have moved since the ids were read) and writes rows and events in bulk.
BatchHandler = Callable[[Sequence[Model], datetime], int]


def due_ids(queryset: QuerySet, *, now: datetime, batch: int) -> Iterator[list[int]]:
    """Ids of the rows of `queryset` whose deadline has passed, oldest first, `batch` at a time."""
    ids = queryset.filter(deadline_at__lte=now).order_by("deadline_at").values_list("pk", flat=True)
    chunk: list[int] = []
    for pk in ids.iterator(chunk_size=max(batch, 2000)):
        chunk.append(pk)
        if len(chunk) >= batch:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _lock(queryset: QuerySet, ids: Iterable[int], now: datetime) -> list[Model]:
    # Re-check due-ness under the lock: a person may have acted since the ids were read.
    return list(
        queryset.filter(pk__in=list(ids), deadline_at__lte=now)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
    )


def sweep(queryset: QuerySet, handler: BatchHandler, *, now: datetime, batch: int | None = None) -> int:
    """Run `handler` on every due row of `queryset`; returns how many rows it changed."""
    batch = batch or settings.SHOUHOU_SWEEP_BATCH
    changed = 0
    for ids in list(due_ids(queryset, now=now, batch=batch)):
        try:
            with transaction.atomic():
                changed += handler(_lock(queryset, ids, now), now)
        except Exception as exc:  # noqa: BLE001  (any failure: fall back to row by row)
            logger.warning("deadline batch failed (%s); retrying its %d rows one by one", exc, len(ids))
            changed += _one_by_one(queryset, handler, ids, now)
    return changed


def _one_by_one(queryset: QuerySet, handler: BatchHandler, ids: list[int], now: datetime) -> int:
    changed = 0
    for pk in ids:
        try:
            with transaction.atomic():
                changed += handler(_lock(queryset, [pk], now), now)
        except Exception:  # noqa: BLE001  (one bad row never stops the rest)
            logger.exception("deadline action failed for %s %s", queryset.model.__name__, pk)
    return changed


def save_batch(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Persist `fields` of locked rows with one UPDATE per distinct set of values (not a CASE per row)."""
    if not objs:
        return
    model = type(objs[0])
    groups: dict[tuple, list[int]] = {}
    for obj in objs:
        key = tuple(getattr(obj, name) for name in fields)
        groups.setdefault(key, []).append(obj.pk)
    for values, pks in groups.items():
        model._base_manager.filter(pk__in=pks).update(**dict(zip(fields, values, strict=True)))
