"""The rows of any history (a case's 协商记录, an order's 订单记录): one helper for every app's events.

Each row says when, which party, which person and their role in the shop, what happened (the kind's
label), the event's text in the reader's language (`event.describe()`), the state change and the
attachments. templates/kernel/timeline.html draws them as a list; an inline table can read the cells.
"""

from __future__ import annotations

from merchants.kernel.admin.display import actor_parts, local_time, member_roles, money
from merchants.kernel.models import ActorKind

PARTY_VARIANTS = {
    ActorKind.BUYER: "info",
    ActorKind.MERCHANT: "warning",
    ActorKind.PLATFORM: "primary",
    ActorKind.SYSTEM: "default",
}


def state_text(states, value: str) -> str:
    """The label of a state value in `states` (a TextChoices class); the value itself if unknown, "" if empty."""
    if not value:
        return ""
    try:
        return str(states(value).label)
    except ValueError:
        return value


def event_row(event, *, roles: dict[int, str] | None = None, states=None) -> dict:
    """One history row (see the module docstring); `states` names the subject's states for the transition."""
    source = state_text(states, event.source_status) if states else event.source_status
    target = state_text(states, event.target_status) if states else event.target_status
    side, person, role = actor_parts(event, roles or {})
    attachments = getattr(event, "attachments", None)
    amount = getattr(event, "amount", None)
    return {
        "event": event,
        "when": local_time(event.created_at, "Y-m-d H:i"),
        "party": event.actor_kind,
        "party_label": side,
        "party_variant": PARTY_VARIANTS.get(event.actor_kind, "default"),
        "username": person,
        "role": role,
        "what": event.kind_label,
        "text": event.describe(),
        "source": source,
        "target": target,
        "transition": f"{source} → {target}" if source and target and source != target else "",
        "amount": money(amount) if amount is not None else "",
        "attachments": list(attachments.all()) if attachments is not None else [],
    }


def timeline_rows(events, *, merchant_id: int, states=None) -> list[dict]:
    """The rows of `events` (oldest first, as given); the merchant actors' shop roles come from one query."""
    events = list(events)
    roles = member_roles(merchant_id, events)
    return [event_row(event, roles=roles, states=states) for event in events]


__all__ = ["PARTY_VARIANTS", "event_row", "state_text", "timeline_rows"]
