"""T-3 and the platform's own clock: what the system does to a batch of locked, due tickets.

merchants.kernel.deadlines hands each handler the due rows of one sweep, locked FOR UPDATE SKIP LOCKED
(a ticket the shop is answering right now is skipped, and is no longer due once it commits). A handler
re-checks every row (can_proceed: another run may have escalated it already), runs the ticket's own
transition, saves the batch with save_batch, writes the log rows in one INSERT, then the violations and
notices in one INSERT each, and queues the owners' e-mail on commit. No query per row.

    escalate_overdue(now=…, limit=None, resume=None)  runs the three sweeps (merchants.kernel.deadlines
    run_sweeps) and returns the run: how many tickets changed and, when `limit` cut it short, `resume`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial

from django.utils.translation import gettext as _

from merchants.kernel.deadlines import Sweep, SweepRun, run_sweeps, save_batch
from merchants.kernel.events import record_events
from merchants.kernel.workflow import can_proceed
from merchants.transitions import SHIPPABLE_STATES
from tickets import selectors
from tickets.models import Ticket, TicketSettings
from tickets.services import effects
from tickets.services._common import Kind, local
from tickets.transitions import TicketStatus


def escalate_overdue(*, now: datetime, limit: int | None = None, resume: dict | None = None) -> SweepRun:
    """Every due ticket: overdue episodes (T-3), late reviews, missed ship commitments (T-7).

    `limit` None handles every due row (the Contract's direct call); the beat passes one, and the run's
    `resume` says where the follow-up carries on (merchants.kernel.deadlines.run_sweeps).
    """
    limits = TicketSettings.load()
    sweeps = [
        Sweep(
            "overdue",
            selectors.overdue_candidates(),
            partial(mark_overdue, limits=limits),
            deadline_field="due_at",
        ),
        Sweep(
            "review_late",
            selectors.late_review_candidates(),
            partial(flag_late_reviews, limits=limits),
            deadline_field="review_due_at",
        ),
        Sweep(
            "ship_commit",
            selectors.ship_commit_candidates(),
            partial(check_ship_commitments, limits=limits),
            deadline_field="ship_commit_due_at",
        ),
    ]
    return run_sweeps(sweeps, now=now, limit=limit, resume=resume)


# ---- the handlers (rows locked by the sweep)


def mark_overdue(tickets: Sequence[Ticket], now: datetime, *, limits: TicketSettings) -> int:
    """pending past the merchant's due time -> one overdue episode: marked, logged, a violation on the shop,
    the owners notified in the workbench and by e-mail (T-3). Idempotent: an episode is marked once."""
    moved = []
    for ticket in tickets:
        if ticket.status == TicketStatus.PENDING and can_proceed(ticket.mark_overdue):
            ticket.mark_overdue(now=now)
            ticket.updated_at = now
            moved.append(ticket)
    if not moved:
        return 0
    save_batch(moved, ["overdue", "overdue_at", "overdue_count", "updated_at"])
    events = record_events(
        moved,
        Kind.OVERDUE,
        source=TicketStatus.PENDING,
        at=now,
        params={"points": limits.overdue_points},
        per_subject=lambda t: {"params": {"due": local(t.due_at)}, "data": {"due_at": t.due_at.isoformat()}},
    )
    effects.record_episode_violations(
        moved,
        events,
        rule=effects.OVERDUE_RULE,
        points=limits.overdue_points,
        episode={t.pk: t.due_at for t in moved},
        note=_("服务单超时未处理"),
        at=now,
    )
    effects.notify_shops(moved, effects.OVERDUE_NOTICE, at=now, points=limits.overdue_points)
    effects.mail_owners_on_commit(moved)
    return len(moved)


def flag_late_reviews(tickets: Sequence[Ticket], now: datetime, *, limits: TicketSettings) -> int:
    """in_review past the platform's review deadline -> raised to senior staff (flag, log row, notice)."""
    moved = []
    for ticket in tickets:
        if ticket.status == TicketStatus.IN_REVIEW and can_proceed(ticket.flag_late_review):
            ticket.flag_late_review(now=now)
            ticket.updated_at = now
            moved.append(ticket)
    if not moved:
        return 0
    save_batch(moved, ["review_late", "updated_at"])
    record_events(
        moved,
        Kind.REVIEW_LATE,
        source=TicketStatus.IN_REVIEW,
        at=now,
        per_subject=lambda t: {"params": {"due": local(t.review_due_at)}},
    )
    effects.notify_senior_staff(moved, effects.REVIEW_LATE_NOTICE, at=now)
    return len(moved)


def check_ship_commitments(tickets: Sequence[Ticket], now: datetime, *, limits: TicketSettings) -> int:
    """T-7: a committed ship time passed; an order still not shipped is late shipping — a violation on the
    shop (once per commitment), a log row and a notice. The watch ends either way."""
    missed = [
        t
        for t in tickets
        if t.order_id and t.order.status in SHIPPABLE_STATES and t.ship_commit_due_at is not None
    ]
    for ticket in tickets:
        ticket.ship_commit_due_at, ticket.updated_at = None, now
    save_batch(list(tickets), ["ship_commit_due_at", "updated_at"])
    if missed:
        events = record_events(
            missed,
            Kind.SHIP_COMMIT_MISSED,
            source="",
            at=now,
            params={"points": limits.ship_commit_points},
            per_subject=lambda t: {"params": {"ship_time": local(t.ship_commit_at)}},
        )
        effects.record_episode_violations(
            missed,
            events,
            rule=effects.SHIP_COMMIT_RULE,
            points=limits.ship_commit_points,
            episode={t.pk: t.ship_commit_at for t in missed},
            note=_("未按承诺时间发货"),
            at=now,
        )
        effects.notify_shops(missed, effects.SHIP_COMMIT_NOTICE, at=now)
    return len(tickets)
