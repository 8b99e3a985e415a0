"""The one writer of every event table (STYLE rule 5), and history read in the reader's language.

An event row stores *what happened* — its kind (the event model's `Kind`, a TextChoices), the states
before and after, who acted — and the parameters of the system's sentence about it (`params`), plus
`message`: people's own words as they typed them (a reason, a note), never a sentence the system
rendered. The sentence is rendered when the row is shown, in the active language, from the event
model's `TEXTS`, so an English reader reads English history of a case handled in Chinese.

    record_event(case, CaseEvent.Kind.APPROVED, actor=user, source=CaseStatus.PENDING)
    record_events(cases, CaseEvent.Kind.CLOSED, source=..., at=now, params={"days": 7})

`record_event` is the person path, `record_events` the batch path of the same write (one INSERT); the
subject model names its event table through the reverse relation `events`.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import connections, router
from django.db.models import JSONField, Model
from django.utils import timezone

from merchants.kernel.models import EventBase
from merchants.kernel.scoping import actor_kind_of


def event_model_of(subject: Model | type[Model]) -> tuple[type[EventBase], str]:
    """(the event model, the name of its foreign key to the subject), from the subject's `events` relation."""
    relation = (subject if isinstance(subject, type) else type(subject))._meta.get_field("events")
    return relation.related_model, relation.field.name


def jsonable(params: dict[str, Any] | None) -> dict[str, Any]:
    """Parameters as JSON keeps them: money and times as strings, choices as their stored values."""
    out: dict[str, Any] = {}
    if not params:
        return out
    for key, value in params.items():
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, datetime.datetime):
            value = value.isoformat()
        elif isinstance(value, datetime.date | datetime.timedelta):
            value = str(value)
        elif hasattr(value, "value") and hasattr(value, "label"):  # a Choices member: its stored value
            value = value.value
        out[key] = value
    return out


def _user_or_none(actor):
    return actor if getattr(actor, "pk", None) else None  # the system (None) and BUYER are no user row


def _check_kind(model: type[EventBase], kind: str) -> str:
    if kind not in model.Kind.values:
        raise ValueError(f"{model.__name__}: unknown event kind {kind!r}")
    return kind


def record_event(
    subject: Model,
    kind: str,
    *,
    actor,
    source: str = "",
    message: str = "",
    params: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    at: datetime.datetime | None = None,
    **fields: Any,
) -> EventBase:
    """Append one history row for `subject` (its current `status` is the target state); returns it.

    `actor`: a user, None (the system) or BUYER. `message`: people's words as typed. `params`: the values
    the kind's sentence shows. `fields`: the event model's own columns (a case event's `amount`).
    """
    model, fk = event_model_of(subject)
    return model.objects.create(
        **{fk: subject},
        kind=_check_kind(model, kind),
        source_status=source or "",
        target_status=getattr(subject, "status", "") or "",
        actor=_user_or_none(actor),
        actor_kind=actor_kind_of(actor),
        message=str(message or ""),
        params=jsonable(params),
        data=data or {},
        created_at=at or timezone.now(),
        **fields,
    )


def record_events(
    subjects: Sequence[Model],
    kind: str,
    *,
    source: str,
    at: datetime.datetime,
    actor=None,
    message: str = "",
    params: dict[str, Any] | None = None,
    per_subject: Callable[[Model], dict[str, Any]] | None = None,
    returning: bool = True,
) -> list[EventBase]:
    """The batch form of record_event: one row per subject, written in one statement (the deadline sweeps).

    `per_subject(subject)` may return per-row columns, a per-row "params" dict merged over `params`, and
    a "target_status" (a batch that moves one subject twice records the state each move left). Returns
    the rows written, with their ids (none with `returning=False`). On PostgreSQL a batch of at least
    COPY_THRESHOLD rows goes in by COPY (ids drawn from the table's sequence first): building and
    compiling an INSERT of model instances cost the sweeps more than the rest of their Python together.
    Elsewhere, and for small batches: bulk_create.
    """
    if not subjects:
        return []
    model, fk = event_model_of(subjects[0])
    _check_kind(model, kind)
    shared = jsonable(params)
    common = {
        "kind": kind,
        "source_status": source or "",
        "actor_id": getattr(_user_or_none(actor), "pk", None),
        "actor_kind": actor_kind_of(actor),
        "message": str(message or ""),
        "created_at": at,
    }
    fk_id = f"{fk}_id"
    rows = []
    for subject in subjects:
        extra = dict(per_subject(subject)) if per_subject else {}
        own = extra.pop("params", None)
        # Rows nobody reads back share one params dict (COPY encodes it once); returned rows get their own.
        row_params = shared if not (own or returning) else {**shared, **jsonable(own)}
        target = extra.pop("target_status", None)
        if target is None:
            target = getattr(subject, "status", "") or ""
        rows.append({**common, fk_id: subject.pk, "target_status": target, "params": row_params, **extra})
    connection = connections[router.db_for_write(model)]
    if connection.vendor == "postgresql" and len(rows) >= COPY_THRESHOLD:
        written = _copy_events(connection, model, rows, returning=returning)
    else:
        written = model.objects.bulk_create([model(**row) for row in rows])
    return written if returning else []


COPY_THRESHOLD = 2  # rows from which record_events writes with COPY on PostgreSQL (one row: an INSERT)


def _copy_events(
    connection, model: type[EventBase], rows: list[dict[str, Any]], *, returning: bool = True
) -> list[EventBase]:
    """COPY `rows` (attname -> value) into the event table; returns them as saved instances (or [])."""
    fields = [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]
    pk = model._meta.pk
    defaults = {field.attname: field.get_default() for field in fields if field is not pk}
    # A per-row column given by its field name (a foreign key as an object) goes in as its id.
    for name in {key for row in rows for key in row}:
        field = model._meta.get_field(name)
        if field.attname != name:
            for row in rows:
                if name in row:
                    value = row.pop(name)
                    row[field.attname] = getattr(value, "pk", value)
    if not returning:  # the table's own default numbers the rows: no round trip for the ids
        fields = [f for f in fields if f is not pk]
    table = connection.ops.quote_name(model._meta.db_table)
    attnames = [f.attname for f in fields]
    json_at = [(i, fields[i].encoder) for i, f in enumerate(fields) if isinstance(f, JSONField)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        ids: list = [None] * len(rows)
        if returning:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, len(rows)],
            )
            ids = [pk_value for (pk_value,) in cursor.fetchall()]
        values = []
        encoded: dict[int, tuple[Any, str]] = {}  # one JSON text per shared dict (the batch's common params)
        # A row's values in column order, in one C call over the defaults overlaid with the row.
        pick = itemgetter(*attnames) if len(attnames) > 1 else (lambda row: (row[attnames[0]],))
        dumps = [(i, _dumps_for(encoder)) for i, encoder in json_at]
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk_value, row in zip(ids, rows, strict=True):
                if returning:
                    row[pk.attname] = pk_value
                python = pick({**defaults, **row})
                if returning:
                    values.append(list(python))
                out = list(python)
                for i, dump in dumps:
                    if out[i] is not None:
                        out[i] = _encoded(out[i], dump, encoded)
                copy.write_row(out)
    if not returning:
        return []
    return [model.from_db(connection.alias, attnames, python) for python in values]


def _encoded(value, dump, cache: dict[int, tuple[Any, str]]) -> str:
    """`dump(value)` (its JSON text), once per object: the rows of a batch share their params and data dicts. The
    object is kept beside its text, so its id cannot be reused by another while the cache lives."""
    hit = cache.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    text = dump(value)
    cache[id(value)] = (value, text)
    return text


def _dumps_for(encoder):
    """json.dumps with the field's encoder; an empty dict (most events' params or data) is "{}" at once."""
    if encoder is None:
        dump = json.dumps  # the module's cached encoder: no encoder object built per value
    else:

        def dump(value):
            return json.dumps(value, cls=encoder)

    def dumps(value):
        if value.__class__ is dict and not value:
            return "{}"
        return dump(value)

    return dumps


def sentences(events: Iterable[EventBase]) -> list[str]:
    """Each event's sentence in the active language (for lists and exports)."""
    return [event.sentence() for event in events]


def recover_params(message: str, sentences: dict[str, str], labels: dict[str, dict[str, str]]):
    """For data migrations: read (sentence key, params) back out of a sentence stored already rendered.

    `sentences` maps a key to its Chinese template (%(name)s / %(name)d placeholders), `labels` maps a
    param to {Chinese label: stored value} (a carrier's name back to its code). None when no sentence
    matches the whole message — the row then keeps its message as it was.
    """
    import re

    for key, template in sentences.items():
        pattern, names, pos = "", [], 0
        for match in re.finditer(r"%\((\w+)\)([sd])", template):
            pattern += re.escape(template[pos : match.start()])
            name, conversion = match.group(1), match.group(2)
            pattern += f"(?P<{name}>-?\\d+)" if conversion == "d" else f"(?P<{name}>.+?)"
            names.append((name, conversion))
            pos = match.end()
        pattern += re.escape(template[pos:])
        found = re.fullmatch(pattern, message or "", flags=re.S)
        if found is None:
            continue
        params = {}
        for name, conversion in names:
            value = found.group(name)
            if conversion == "d":
                value = int(value)
            elif name in labels:
                value = labels[name].get(value, value)
            params[name] = value
        return key, params
    return None
