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
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Model
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
    for key, value in (params or {}).items():
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
    """The batch form of record_event: one row per subject, one INSERT (the deadline sweeps).

    `per_subject(subject)` may return per-row columns, a per-row "params" dict merged over `params`, and
    a "target_status" (a batch that moves one subject twice records the state each move left). With
    `returning=False` a large batch on PostgreSQL is written with COPY (kernel.importing.insert_rows),
    and nothing is returned (an import of 100,000 rows).
    """
    if not subjects:
        return []
    model, fk = event_model_of(subjects[0])
    _check_kind(model, kind)
    shared = jsonable(params)
    user, actor_kind = _user_or_none(actor), actor_kind_of(actor)
    fixed = {
        "kind": kind,
        "source_status": source or "",
        "actor_id": getattr(user, "pk", None),
        "actor_kind": actor_kind,
        "message": str(message or ""),
        "created_at": at,
    }
    rows = []
    for subject in subjects:
        extra = dict(per_subject(subject)) if per_subject else {}
        row_params = {**shared, **jsonable(extra.pop("params", None))}
        target = extra.pop("target_status", None)
        if target is None:
            target = getattr(subject, "status", "") or ""
        rows.append({f"{fk}_id": subject.pk, **fixed, "target_status": target, "params": row_params, **extra})
    from django.db import connection  # noqa: PLC0415

    uniform = all(row.keys() == rows[0].keys() for row in rows)
    if connection.vendor == "postgresql" and not returning and len(rows) >= COPY_THRESHOLD and uniform:
        from merchants.kernel.importing import insert_rows  # noqa: PLC0415

        columns = list(rows[0])
        json_fields = [model._meta.get_field(name) for name in ("params", "data") if name in columns]
        for row in rows:
            for field in json_fields:
                row[field.name] = field.get_db_prep_save(row[field.name], connection)
        insert_rows(model, columns, [tuple(row[c] for c in columns) for row in rows])
        return []
    return model.objects.bulk_create(model(**row) for row in rows)


COPY_THRESHOLD = 1000  # rows from which record_events writes with COPY (PostgreSQL)


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
