"""What every ticket service shares: the clock, locking, who may act, input cleaning, the log writer.

Lock order, everywhere: the ticket row, then (T-7 paths only) what merchants.services.ship and the
after-sales services lock — the order, its items, a case. Nobody locks those first and a ticket after
them, and the overdue sweep never waits for a lock (SKIP LOCKED), so no cycle can form.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.kernel.events import record_event
from merchants.kernel.scoping import WRITE_ROLES, is_platform, require_role
from merchants.kernel.workflow import ActorNotAllowedError, ApplicationError, require_transition
from tickets import selectors
from tickets.models import Ticket, TicketAttachment, TicketEvent, TicketSettings

Kind = TicketEvent.Kind
MAX_FILES = 9


def clock() -> tuple[datetime, TicketSettings]:
    return timezone.now(), TicketSettings.load()


def pk_of(obj) -> int:
    """A model instance or an id (forms and tasks pass ids)."""
    try:
        return int(getattr(obj, "pk", obj))
    except (TypeError, ValueError) as exc:
        raise ApplicationError(_("无效的编号：%(value)s") % {"value": obj}, code="invalid_id") from exc


def lock_ticket(ticket, actor) -> Ticket:
    """The ticket row, locked, if the actor may see it (another shop's ticket: ObjectNotFoundError)."""
    return selectors.ticket_for_update(pk_of(ticket), actor=actor)


# ---- who may act


def require_platform(actor) -> None:
    """Platform staff (and the system) raise and review tickets; shop members never do."""
    if actor is None or is_platform(actor):
        return
    raise ActorNotAllowedError(_("只有平台客服可以执行此操作。"), code="platform_only")


def require_merchant(actor, ticket: Ticket) -> None:
    """Owner or agent of the ticket's shop (superusers and the system too); viewers and platform staff not."""
    require_role(actor, ticket.merchant_id, WRITE_ROLES, platform=False)


# ---- input cleaning (before anything is locked or written)


def clean_choice(value, choices, label) -> str:
    value = str(value or "").strip()
    if value not in choices.values:
        raise ApplicationError(
            _("%(label)s「%(value)s」无效。") % {"label": label, "value": value or "—"}, code="invalid_choice"
        )
    return value


def clean_text(value, *, label, required: bool = True, max_length: int = 2000) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ApplicationError(_("请填写%(label)s。") % {"label": label}, code="required")
    if len(text) > max_length:
        raise ApplicationError(
            _("%(label)s不能超过 %(max)d 个字。") % {"label": label, "max": max_length}, code="too_long"
        )
    return text


def clean_files(files: Iterable | None) -> list:
    """Attachments are images, checked by the one upload validator (N-7) before anything is written."""
    from merchants.kernel.uploads import validate_image_upload

    files = [f for f in (files or ()) if f]
    if len(files) > MAX_FILES:
        raise ApplicationError(_("最多上传 %(max)d 张图片。") % {"max": MAX_FILES}, code="too_many_files")
    errors = []
    for f in files:
        try:
            validate_image_upload(f)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ApplicationError(errors)
    return files


# ---- state change and its record


def transition(ticket: Ticket, method, *, action, **kwargs) -> str:
    """Check and run an FSM transition in memory; returns the source state."""
    require_transition(method, action=action)
    source = ticket.status
    method(**kwargs)
    return source


def record(
    ticket: Ticket,
    kind: str,
    *,
    source: str,
    actor,
    message: str = "",
    params: dict | None = None,
    data: dict | None = None,
    files: Sequence = (),
    at: datetime | None = None,
) -> TicketEvent:
    """One line of the ticket log (T-4) through the kernel's one writer, with its attachments."""
    event = record_event(
        ticket, kind, actor=actor, source=source, message=message, params=params, data=data, at=at
    )
    for f in files:
        TicketAttachment.objects.create(
            event=event, file=f, original_name=str(getattr(f, "name", ""))[:200], created_at=event.created_at
        )
    return event


def local(value: datetime | None) -> str:
    """A time as the log's sentences show it (local, to the minute)."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""
