"""Small display helpers shared by the shop and order pages (badges, money, local times)."""

from __future__ import annotations

from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from merchants.models import ActorKind, Membership
from merchants.transitions import OrderStatus, Role

# Badge colours of unfold's label component: default (grey), info, success, warning, danger, primary.
STATUS_VARIANTS = {
    OrderStatus.UNPAID: "default",
    OrderStatus.AWAITING_CONFIRMATION: "primary",
    OrderStatus.TO_SHIP: "warning",
    OrderStatus.PARTIALLY_SHIPPED: "info",
    OrderStatus.SHIPPED: "info",
    OrderStatus.RECEIVED: "success",
    OrderStatus.CANCELLED: "default",
}


def badge(text, variant: str = "default") -> SafeString:
    """One unfold label (escaped text)."""
    return mark_safe(render_to_string("unfold/helpers/label.html", {"type": variant, "text": text}))  # noqa: S308


def badges(pairs) -> SafeString:
    """Several labels side by side; `pairs` is an iterable of (text, variant)."""
    return format_html_join(" ", "{}", ((badge(text, variant),) for text, variant in pairs))


def money(amount: Decimal | None) -> str:
    if amount is None:
        return "-"
    return f"¥{amount:,.2f}"


def local_time(value, fmt: str = "Y-m-d H:i") -> str:
    if value is None:
        return "-"
    return date_format(timezone.localtime(value), fmt)


def status_label(status: str) -> str:
    try:
        return str(OrderStatus(status).label)
    except ValueError:
        return status or "-"


def member_roles(merchant_id: int, events) -> dict[int, str]:
    """{user id: role} in the shop of the merchant actors among `events` (one query, none without any)."""
    members = {
        event.actor_id for event in events if event.actor_id and event.actor_kind == ActorKind.MERCHANT
    }
    if not members:
        return {}
    return dict(
        Membership.objects.filter(merchant_id=merchant_id, user_id__in=members).values_list("user_id", "role")
    )


def actor_parts(event, roles: dict[int, str]) -> tuple[str, str, str]:
    """(side, person, role) of a history row: the person is the full name, else the login as typed
    (never upper-cased); the role is a merchant actor's role in the shop (see EventBase.actor_display)."""
    side = str(event.get_actor_kind_display())
    if event.actor_id is None or event.actor_kind in (ActorKind.SYSTEM, ActorKind.BUYER):
        return side, "", ""
    person = event.actor.get_full_name().strip() or event.actor.get_username()
    role = roles.get(event.actor_id) if event.actor_kind == ActorKind.MERCHANT else None
    return side, person, str(Role(role).label) if role else ""
