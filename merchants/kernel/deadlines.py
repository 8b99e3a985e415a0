"""The deadline engine shared by every app (A-5, M-3, S-5, T-3).

A model with a deadline column (`deadline_at` by default; tickets use `due_at`), indexed with its
`status`, declares a `Sweep`: the rows of one state that may fall due, and a handler for a batch of
them. The engine reads the due ids through that index only — never a scan of the table — oldest first,
and gives them to the handler in batches. Each batch runs in its own short transaction with the rows
locked `FOR UPDATE SKIP LOCKED`, so two beat runs, two workers, or a person acting on the same row at
the same moment never double-act: the row another transaction holds is skipped now and, if still due,
taken by the next run. One failing batch is retried row by row, so one bad row never stops the rest.

An app's periodic task calls one service, which runs the app's sweeps with
`run_sweeps()`, and hands the result to `requeue_rest()`:

    @shared_task(acks_late=True)
    def run_deadlines(limit=None, resume=None) -> int:
        from aftersales import services
        run = services.run_deadlines(now=timezone.now(), limit=limit, resume=resume)
        return requeue_rest(run_deadlines, run, limit=limit)

Called with no arguments (tests, a shell, the Contract) the task handles every due row. The beat entry
passes a `limit` (SHOUHOU_SWEEP_LIMIT): the run then takes at most that many due rows, and when more
are due it queues itself again, on commit, to carry on *after* the last row it took (`resume`), so a
backlog never pins one worker, and a row that stays due (one a handler refuses) is not taken twice by
the same chain.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import Model, Q, QuerySet

logger = logging.getLogger(__name__)

# handler(locked rows, now) -> how many of them it changed. It re-checks each row (the state may
# have moved since the ids were read) and writes rows and events in bulk.
BatchHandler = Callable[[Sequence[Model], datetime], int]


@dataclass(frozen=True)
class Sweep:
    """One due-row query of an app: its rows (one state, say) and the handler of their locked batches."""

    name: str
    queryset: QuerySet
    handler: BatchHandler
    deadline_field: str = "deadline_at"


@dataclass
class SweepRun:
    """What a run did: rows changed, due rows taken, and where a bounded run stopped (None: all done)."""

    changed: int = 0
    taken: int = 0
    resume: dict[str, Any] | None = None


# ---- reading due rows


def _due(
    queryset: QuerySet, now: datetime, deadline_field: str, after: tuple[datetime, int] | None
) -> QuerySet:
    due = queryset.filter(**{f"{deadline_field}__lte": now})
    if after is not None:  # keyset: the rows after (deadline, id) in the sweep's order
        at, pk = after
        due = due.filter(Q(**{f"{deadline_field}__gt": at}) | Q(**{deadline_field: at, "pk__gt": pk}))
    return due.order_by(deadline_field, "pk")


def due_ids(
    queryset: QuerySet, *, now: datetime, batch: int, deadline_field: str = "deadline_at"
) -> Iterator[list[int]]:
    """Ids of the rows of `queryset` whose deadline has passed, oldest first, `batch` at a time."""
    chunk: list[int] = []
    ids = _due(queryset, now, deadline_field, None).values_list("pk", flat=True)
    for pk in ids.iterator(chunk_size=max(batch, 2000)):
        chunk.append(pk)
        if len(chunk) >= batch:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def due_rows(
    queryset: QuerySet,
    *,
    now: datetime,
    limit: int | None,
    deadline_field: str = "deadline_at",
    after: tuple[datetime, int] | None = None,
) -> list[tuple[int, datetime]]:
    """(id, deadline) of at most `limit` due rows, oldest first, after the row `after` if given.

    A bounded run reads the deadlines too: where it stops is a (deadline, id) its follow-up starts after.
    """
    return list(_due(queryset, now, deadline_field, after).values_list("pk", deadline_field)[:limit])


def _lock(queryset: QuerySet, ids: Iterable[int], now: datetime, deadline_field: str) -> list[Model]:
    # Re-check due-ness under the lock: a person may have acted since the ids were read.
    return list(
        queryset.filter(pk__any=list(ids), **{f"{deadline_field}__lte": now})
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
    )


# ---- running sweeps


def _handle(sweep: Sweep, ids: list[int], now: datetime) -> int:
    try:
        with transaction.atomic():
            return sweep.handler(_lock(sweep.queryset, ids, now, sweep.deadline_field), now)
    except Exception as exc:  # noqa: BLE001  (any failure: fall back to row by row)
        logger.warning("deadline batch failed (%s); retrying its %d rows one by one", exc, len(ids))
    changed = 0
    for pk in ids:
        try:
            with transaction.atomic():
                changed += sweep.handler(_lock(sweep.queryset, [pk], now, sweep.deadline_field), now)
        except Exception:  # noqa: BLE001  (one bad row never stops the rest)
            logger.exception("deadline action failed for %s %s", sweep.queryset.model.__name__, pk)
    return changed


def _has_due(sweep: Sweep, now: datetime) -> bool:
    return sweep.queryset.filter(**{f"{sweep.deadline_field}__lte": now}).exists()


def run_sweeps(
    sweeps: Sequence[Sweep],
    *,
    now: datetime,
    limit: int | None = None,
    resume: dict[str, Any] | None = None,
    batch: int | None = None,
) -> SweepRun:
    """Run each sweep in turn on its due rows; returns what changed and, if `limit` cut it short, `resume`.

    `limit` None: every due row. `resume` (a previous run's) skips the sweeps that run finished and
    starts the one it stopped in after the last row it took.
    """
    batch = batch or settings.SHOUHOU_SWEEP_BATCH
    run = SweepRun()
    start, after = 0, None
    names = [sweep.name for sweep in sweeps]
    if resume and resume.get("sweep") in names:
        start = names.index(resume["sweep"])
        if resume.get("after"):
            at, pk = resume["after"]
            after = (datetime.fromisoformat(at), int(pk))
    for index in range(start, len(sweeps)):
        sweep = sweeps[index]
        room = None if limit is None else limit - run.taken
        if room is not None and room <= 0:
            # The limit is spent: carry on in a follow-up only if something is still due.
            rest = next((s for s in sweeps[index:] if _has_due(s, now)), None)
            if rest is not None:
                run.resume = {"sweep": rest.name, "after": None}
            break
        cursor = after if index == start else None
        if room is None and cursor is None:  # every due row: ids only, read as they come
            ids = due_ids(sweep.queryset, now=now, batch=batch, deadline_field=sweep.deadline_field)
            rows = [(pk, None) for chunk in ids for pk in chunk]
        else:  # one more row than there is room for tells whether a follow-up is needed
            more = None if room is None else room + 1
            rows = due_rows(
                sweep.queryset, now=now, limit=more, deadline_field=sweep.deadline_field, after=cursor
            )
            if room is not None and len(rows) > room:
                rows = rows[:room]
                last_pk, last_at = rows[-1]
                run.resume = {"sweep": sweep.name, "after": [last_at.isoformat(), last_pk]}
        for offset in range(0, len(rows), batch):
            ids = [pk for pk, _at in rows[offset : offset + batch]]
            run.changed += _handle(sweep, ids, now)
        run.taken += len(rows)
        if run.resume is not None:
            break
    return run


def requeue_rest(task, run: SweepRun, **kwargs) -> int:
    """A periodic task's tail: if a bounded run left due rows, queue `task` again (on commit) for them.

    `kwargs` (the run's `limit`) go to the follow-up with the run's `resume`. Returns how many rows the
    run changed (the task's result).
    """
    if run.resume is not None:
        follow_up = {**kwargs, "resume": run.resume}
        # robust: a broker hiccup is logged; the next beat tick takes the rest anyway.
        transaction.on_commit(lambda: task.apply_async(kwargs=follow_up), robust=True)
    return run.changed


# Rows per UPDATE: well under SQLite's 32,766 bound variables for any field list (PostgreSQL binds a
# column as one array, whatever the rows).
SAVE_BATCH_ROWS = 1000


# PostgreSQL takes these Python types as they are: Field.get_db_prep_save returns them unchanged (its
# per-value to_python / adapt calls were a tenth of a sweep's time). Anything else goes through it.
_AS_IS = {
    "CharField": (str,),
    "TextField": (str,),
    "BooleanField": (bool,),
    "IntegerField": (int,),
    "BigIntegerField": (int,),
    "SmallIntegerField": (int,),
    "PositiveIntegerField": (int,),
    "PositiveBigIntegerField": (int,),
    "PositiveSmallIntegerField": (int,),
    "AutoField": (int,),
    "BigAutoField": (int,),
    "DecimalField": (Decimal,),
    "DateField": (date,),
}


def _preparer(field, connection) -> Callable[[Any], Any]:
    """The value-to-parameter step of one column: get_db_prep_save, skipped where it would change nothing."""
    target = field.target_field if field.is_relation else field
    kind = target.get_internal_type()
    slow = partial(field.get_db_prep_save, connection=connection)
    if connection.vendor != "postgresql":
        return slow
    if kind == "DateTimeField":
        return lambda value: (
            value if value is None or (type(value) is datetime and value.tzinfo) else slow(value)
        )
    types = _AS_IS.get(kind)
    if types is None:
        return slow
    if types == (str,):  # a str subclass too (a TextChoices member): CharField.to_python keeps it as it is
        return lambda value: value if value is None or isinstance(value, str) else slow(value)
    return lambda value: value if value is None or type(value) in types else slow(value)


def save_batch(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Persist `fields` of locked rows, each row its own values, in one UPDATE (SQLite: per 1,000 rows).

    PostgreSQL: a column with the same value in every row (a state, a timestamp: most of a sweep's) is one
    scalar parameter; the others come from `unnest(%s::type[], …)`, one array per column — a handful of
    parameters whatever the rows (psycopg's client-side query parser costs per placeholder); with no varying
    column, `WHERE pk = ANY(%s)`. SQLite (3.33+): `WITH batch_values AS (VALUES (pk, v1, …), …) UPDATE … FROM
    batch_values`. Grouping rows by equal values instead wrote one UPDATE per shop for approvals (each shop's
    return address differs).
    """
    if not objs:
        return
    model = type(objs[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    concrete = [meta.get_field(name) for name in fields]
    columns = [meta.pk, *concrete]
    preparers = [(f.attname, _preparer(f, connection)) for f in columns]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = [[prep(getattr(obj, attname)) for obj in objs] for attname, prep in preparers]
            cursor.execute(*_update_sql_postgres(connection, meta.db_table, columns, values))
            return
        for start in range(0, len(objs), SAVE_BATCH_ROWS):
            chunk = objs[start : start + SAVE_BATCH_ROWS]
            rows = [[prep(getattr(obj, attname)) for attname, prep in preparers] for obj in chunk]
            cursor.execute(*_update_sql_values(connection, meta.db_table, columns, rows))


def _same(values: list) -> bool:
    first, kind = values[0], type(values[0])
    return all(value == first and type(value) is kind for value in values)


def _update_sql_postgres(connection, db_table: str, columns, values: list[list]) -> tuple[str, list]:
    """UPDATE of the rows whose keys are values[0], each column its own values (column-wise lists)."""
    qn = connection.ops.quote_name
    table, alias = qn(db_table), qn("batch_values")
    pk, pk_values = columns[0], values[0]
    sets, set_params, varying = [], [], []
    for field, column_values in zip(columns[1:], values[1:], strict=True):
        if _same(column_values):
            sets.append(f"{qn(field.column)} = %s::{field.cast_db_type(connection)}")
            set_params.append(column_values[0])
        else:
            varying.append((field, column_values))
    key = f"{table}.{qn(pk.column)}"
    pk_type = pk.cast_db_type(connection)
    if not varying:
        return (
            f"UPDATE {table} SET {', '.join(sets)} WHERE {key} = ANY(%s::{pk_type}[])",
            [*set_params, pk_values],
        )
    names = [qn(f"c{index}") for index in range(len(varying) + 1)]
    sets += [
        f"{qn(field.column)} = {alias}.{name}" for (field, _), name in zip(varying, names[1:], strict=True)
    ]
    arrays = ", ".join(
        [f"%s::{pk_type}[]", *(f"%s::{field.cast_db_type(connection)}[]" for field, _ in varying)]
    )
    return (
        f"UPDATE {table} SET {', '.join(sets)} FROM unnest({arrays}) AS {alias} ({', '.join(names)}) "
        f"WHERE {key} = {alias}.{names[0]}",
        [*set_params, pk_values, *(column_values for _, column_values in varying)],
    )


def _update_sql_values(connection, db_table: str, columns, rows: list[list]) -> tuple[str, list]:
    """The same UPDATE from a VALUES list (SQLite; rows of (pk, v1, …))."""
    qn = connection.ops.quote_name
    table, alias = qn(db_table), qn("batch_values")
    names = [qn(f"c{index}") for index in range(len(columns))]
    assignments = ", ".join(
        f"{qn(f.column)} = {alias}.{name}" for f, name in zip(columns[1:], names[1:], strict=True)
    )
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return (
        f"WITH {alias} ({', '.join(names)}) AS (VALUES {', '.join([row] * len(rows))}) "
        f"UPDATE {table} SET {assignments} FROM {alias} WHERE {table}.{qn(columns[0].column)} = {alias}.{names[0]}",
        [value for values in rows for value in values],
    )
