"""Reads of after-sales cases; the public ones take `actor` and go through the tenancy layer (SPEC §1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from aftersales.models import AfterSaleCase, AftersalesSettings, CaseEvent, DelayReport, Refund
from aftersales.transitions import CASE_MOVES, OPEN_STATES, CaseStatus, DelayReportStatus
from merchants.kernel.scoping import get_for_actor, scope_to_actor

# The workbench quick tabs: tab name -> the state it shows. `due_soon` is computed separately.
QUEUE_STATES = {
    "pending": CaseStatus.PENDING,
    "negotiating": CaseStatus.NEGOTIATING,
    "awaiting_return": CaseStatus.AWAITING_RETURN,
    "return_in_transit": CaseStatus.RETURN_IN_TRANSIT,
    "arbitration": CaseStatus.ARBITRATION,
}


def cases_for(actor) -> QuerySet[AfterSaleCase]:
    """The cases the actor may see, with what a list row shows already joined."""
    return scope_to_actor(AfterSaleCase.objects.select_related("merchant", "order", "item", "product"), actor)


def case_for_update(pk: int, *, actor) -> AfterSaleCase:
    """Lock one case the actor may see (SELECT … FOR UPDATE on the case row only); ObjectNotFoundError otherwise.

    The order, item and product come joined (read, not locked). Services lock the order and the item
    first when they need them (merchants.services order: order, then item, then case).
    """
    return get_for_actor(
        AfterSaleCase.objects.select_for_update(of=("self",)).select_related(
            "merchant", "order", "item", "product"
        ),
        actor,
        pk=pk,
    )


def case_ref(pk: int, *, actor) -> AfterSaleCase:
    """The case's ids only (order, item, shop), unlocked and scoped: what a service needs to lock in order."""
    # "status" too: the FSM mixin reads the state of every row it loads (one more query if deferred).
    return get_for_actor(
        AfterSaleCase.objects.only("pk", "status", "order_id", "item_id", "merchant_id"), actor, pk=pk
    )


def timeline(case: AfterSaleCase) -> QuerySet[CaseEvent]:
    """The case's events, oldest first, with actors and attachments (A-4)."""
    return case.events.select_related("actor").prefetch_related("attachments").order_by("created_at", "pk")


def refund_of(case: AfterSaleCase) -> Refund | None:
    """The case's one refund (A-6), if one was started."""
    return Refund.objects.filter(case=case).first()


def delay_reports_of(case: AfterSaleCase) -> QuerySet[DelayReport]:
    """The case's delay reports (A-9), newest first, with who filed and decided and their images."""
    return case.delay_reports.select_related("filed_by", "decided_by").prefetch_related("images")


def due_soon_q(now: datetime, hours: int) -> Q:
    """A-5 'due soon': a deadline less than `hours` away (or passed, not yet acted on)."""
    return Q(status__in=OPEN_STATES, deadline_at__isnull=False, deadline_at__lt=now + timedelta(hours=hours))


def due_soon(actor, *, now: datetime | None = None, hours: int | None = None) -> QuerySet[AfterSaleCase]:
    hours = AftersalesSettings.load().due_soon_hours if hours is None else hours
    return cases_for(actor).filter(due_soon_q(now or timezone.now(), hours))


def queue_counts(actor, *, now: datetime | None = None, due_soon_hours: int | None = None) -> dict[str, int]:
    """Counts for the workbench quick tabs (A-10) in one query: the QUEUE_STATES keys plus `due_soon`."""
    now = now or timezone.now()
    hours = AftersalesSettings.load().due_soon_hours if due_soon_hours is None else due_soon_hours
    aggregates = {name: Count("pk", filter=Q(status=state)) for name, state in QUEUE_STATES.items()}
    aggregates["due_soon"] = Count("pk", filter=due_soon_q(now, hours))
    return scope_to_actor(AfterSaleCase.objects.all(), actor).aggregate(**aggregates)


def delay_reports_for(actor) -> QuerySet[DelayReport]:
    return scope_to_actor(
        DelayReport.objects.select_related("case", "merchant", "filed_by", "decided_by"), actor
    )


def with_pending_delay_report(queryset: QuerySet[AfterSaleCase]) -> QuerySet[AfterSaleCase]:
    """Annotate `has_pending_delay_report` (saves available_actions a query per row in lists)."""
    pending = DelayReport.objects.filter(case=OuterRef("pk"), status=DelayReportStatus.PENDING)
    return queryset.annotate(has_pending_delay_report=Exists(pending))


def available_actions(case: AfterSaleCase, actor) -> list[str]:
    """The moves the case's state and the actor's role allow now (the case page shows only these buttons).

    The state machine decides (aftersales/transitions.py CASE_MOVES: the transitions' permissions and the
    moves beside them); viewers, other shops, the system and the buyer get nothing to click.
    """
    return CASE_MOVES.available(case, actor)
