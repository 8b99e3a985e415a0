"""Reads of after-sales cases; the public ones take `actor` and go through the tenancy layer (SPEC §1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from aftersales.models import AfterSaleCase, AftersalesSettings, CaseEvent, DelayReport
from aftersales.transitions import OPEN_STATES, CaseStatus, DelayReportStatus
from merchants.kernel.scoping import WRITE_ROLES, get_for_actor, is_platform, role_for, scope_to_actor

# The workbench quick tabs: tab name -> the state it shows. `due_soon` is computed separately.
QUEUE_STATES = {
    "pending": CaseStatus.PENDING,
    "negotiating": CaseStatus.NEGOTIATING,
    "awaiting_return": CaseStatus.AWAITING_RETURN,
    "return_in_transit": CaseStatus.RETURN_IN_TRANSIT,
    "arbitration": CaseStatus.ARBITRATION,
}

# Every action name the UI may show as a button (available_actions returns a subset).
MERCHANT_ACTIONS_BY_STATE = {
    CaseStatus.PENDING: ("approve", "reject", "propose"),
    CaseStatus.RETURN_IN_TRANSIT: ("confirm_return", "refuse_return"),
    CaseStatus.RESHIPPING: ("reship",),
    CaseStatus.AWAITING_VOUCHER: ("upload_voucher",),
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


def due_cases(now: datetime | None = None) -> QuerySet[AfterSaleCase]:
    """Open cases whose deadline has passed (read through the status/deadline index)."""
    now = now or timezone.now()
    return AfterSaleCase.objects.filter(status__in=OPEN_STATES, deadline_at__lte=now)


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


def arbitration_queue(actor) -> QuerySet[AfterSaleCase]:
    """A-7: cases waiting for platform staff, escalated and oldest first."""
    return (
        cases_for(actor)
        .filter(status=CaseStatus.ARBITRATION)
        .order_by("-escalated", "arbitration_started_at")
    )


def delay_reports_for(actor) -> QuerySet[DelayReport]:
    return scope_to_actor(
        DelayReport.objects.select_related("case", "merchant", "filed_by", "decided_by"), actor
    )


def pending_delay_reports(actor) -> QuerySet[DelayReport]:
    """A-9: reports waiting for a platform decision."""
    return delay_reports_for(actor).filter(status=DelayReportStatus.PENDING).order_by("created_at")


def with_pending_delay_report(queryset: QuerySet[AfterSaleCase]) -> QuerySet[AfterSaleCase]:
    """Annotate `has_pending_delay_report` (saves available_actions a query per row in lists)."""
    pending = DelayReport.objects.filter(case=OuterRef("pk"), status=DelayReportStatus.PENDING)
    return queryset.annotate(has_pending_delay_report=Exists(pending))


def _has_pending_delay_report(case: AfterSaleCase) -> bool:
    annotated = getattr(case, "has_pending_delay_report", None)
    if annotated is not None:
        return bool(annotated)
    return case.delay_reports.filter(status=DelayReportStatus.PENDING).exists()


def available_actions(case: AfterSaleCase, actor) -> list[str]:
    """The action names the case's state and the actor's role allow (the UI shows only these buttons).

    Merchant owners/agents of the case's shop get the merchant moves of the state; platform staff get
    `arbitrate` (arbitration) and `retry_refund` (flagged refund); superusers get both; viewers,
    other shops and the system get nothing to click.
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    platform = is_platform(actor)
    merchant_role = role_for(actor, case.merchant_id) in WRITE_ROLES
    acts_as_merchant = merchant_role or (platform and actor.is_superuser)
    actions: list[str] = []
    if acts_as_merchant:
        actions.extend(MERCHANT_ACTIONS_BY_STATE.get(case.status, ()))
        if (
            case.status in OPEN_STATES
            and case.status != CaseStatus.REFUNDING
            and not _has_pending_delay_report(case)
        ):
            actions.append("file_delay_report")
    if platform:
        if case.status == CaseStatus.ARBITRATION:
            actions.append("arbitrate")
        if case.status == CaseStatus.REFUNDING and case.refund_failed:
            actions.append("retry_refund")
    if acts_as_merchant or platform:
        actions.append("add_message")
    return actions
