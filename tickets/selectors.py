"""Reads of service tickets; the public ones take `actor` and go through the tenancy layer (SPEC §1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet

from merchants.kernel.scoping import WRITE_ROLES, get_for_actor, is_platform, role_for, scope_to_actor
from tickets.models import Ticket, TicketEvent, TicketSettings
from tickets.transitions import Liability, TicketCategory, TicketStatus

# The stage tabs (T-4): key -> the condition of its rows. `overdue` is the current overdue episode (T-3),
# `review_late` the platform's own late reviews (staff only).
STAGE_TABS = ("pending", "in_review", "closed", "overdue")
STAFF_TABS = (*STAGE_TABS, "review_late")


def tab_q(key: str) -> Q | None:
    """The condition of one stage tab (None for an unknown key)."""
    return {
        "pending": Q(status=TicketStatus.PENDING),
        "in_review": Q(status=TicketStatus.IN_REVIEW),
        "closed": Q(status=TicketStatus.CLOSED),
        "overdue": Q(status=TicketStatus.PENDING, overdue=True),
        "review_late": Q(status=TicketStatus.IN_REVIEW, review_late=True),
    }.get(key)


def tickets_for(actor) -> QuerySet[Ticket]:
    """The tickets the actor may see, with what a list row shows already joined."""
    return scope_to_actor(Ticket.objects.select_related("merchant", "order"), actor)


def ticket_for_update(pk: int, *, actor) -> Ticket:
    """Lock one ticket the actor may see (SELECT … FOR UPDATE on the ticket row only); ObjectNotFoundError otherwise."""
    return get_for_actor(
        Ticket.objects.select_for_update(of=("self",)).select_related("merchant", "order"), actor, pk=pk
    )


def timeline(ticket: Ticket) -> QuerySet[TicketEvent]:
    """The ticket's log, oldest first, with actors and attachments (T-4)."""
    return ticket.events.select_related("actor").prefetch_related("attachments").order_by("created_at", "pk")


def tab_counts(queryset: QuerySet[Ticket], *, keys=STAGE_TABS) -> dict[str, int]:
    """{tab key: count} of the stage tabs in one aggregate query over the (already scoped) queryset.

    The counts read only merchant, status and overdue: an index-only scan of ticket_shop_stage_idx (a
    shop's tickets are spread over the whole table, so fetching their rows cost a page each).
    """
    return queryset.order_by().aggregate(**{key: Count("status", filter=tab_q(key)) for key in keys})


def tickets_of_order(order, *, actor) -> QuerySet[Ticket]:
    """T-4: the tickets raised about one order, newest first."""
    return scope_to_actor(Ticket.objects.filter(order_id=order.pk), actor).order_by("-created_at", "-pk")


def due_soon_q(now: datetime, hours: int) -> Q:
    """A pending ticket whose merchant due time is under `hours` away (or passed)."""
    return Q(status=TicketStatus.PENDING, due_at__isnull=False, due_at__lt=now + timedelta(hours=hours))


def due_soon_hours() -> int:
    """The countdown turns red this many hours before a due time (TicketSettings)."""
    return TicketSettings.load().due_soon_hours


# ---- what the deadline sweeps lock (tickets.services.overdue): one query each, through a partial index.
# Only the columns the handlers read: the demand and result texts stay on disk.

SWEPT = ("merchant_id", "ticket_no", "status", "updated_at")


def overdue_candidates() -> QuerySet[Ticket]:
    """Pending tickets not yet escalated in this episode: the sweep takes those with `due_at` passed."""
    return Ticket.objects.filter(status=TicketStatus.PENDING, overdue=False, due_at__isnull=False).only(
        *SWEPT, "due_at", "overdue", "overdue_at", "overdue_count"
    )


def late_review_candidates() -> QuerySet[Ticket]:
    """Tickets in review not yet raised to senior staff: the sweep takes those with `review_due_at` passed."""
    return Ticket.objects.filter(
        status=TicketStatus.IN_REVIEW, review_late=False, review_due_at__isnull=False
    )


def ship_commit_candidates() -> QuerySet[Ticket]:
    """T-7: committed ship times still to be checked (the order is read, not locked)."""
    return (
        Ticket.objects.filter(ship_commit_due_at__isnull=False)
        .select_related("order")
        .only(*SWEPT, "order_id", "ship_commit_at", "ship_commit_due_at", "order__status")
    )


# ---- who may do what (the UI shows only these buttons; the services decide again)


def may_answer(ticket: Ticket, actor) -> bool:
    """Owners and agents of the ticket's shop (and superusers) answer; viewers and platform staff do not."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return actor.is_superuser or role_for(actor, ticket.merchant_id) in WRITE_ROLES


def may_review(actor) -> bool:
    """Platform staff review results; shop members never do."""
    return actor is not None and is_platform(actor)


def available_actions(ticket: Ticket, actor, *, platform_site: bool) -> list[str]:
    """The action names the ticket's state and the actor's role allow on this site."""
    if platform_site:
        if ticket.status == TicketStatus.IN_REVIEW and may_review(actor):
            return ["approve", "reject"]
        return []
    if ticket.status != TicketStatus.PENDING or not may_answer(ticket, actor):
        return []
    if ticket.category == TicketCategory.URGE_SHIPMENT and ticket.order_id:
        return ["urge", "submit_result"]
    return ["submit_result"]


# ---- what the level engine reads (T-5, L-3): merchant-liable complaints, never malicious ones


def merchant_liable_complaints(merchant_ids, *, start: datetime, end: datetime) -> dict[int, int]:
    """{merchant id: complaints filed in [start, end) that the platform closed with merchant liability} (T-5).

    The one definition of the complaint count: the level engine's complaint rate (L-3) reads it. A
    complaint counts in the window it was filed in (like the orders it is divided by); the liability is
    recorded when it is closed, so an open complaint does not count yet. Malicious ones never count, nor
    those found the buyer's fault or nobody's.
    """
    rows = (
        Ticket.objects.filter(
            merchant_id__in=list(merchant_ids),
            category=TicketCategory.COMPLAINT,
            status=TicketStatus.CLOSED,
            liability=Liability.MERCHANT,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("merchant_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["merchant_id"]: row["n"] for row in rows}
