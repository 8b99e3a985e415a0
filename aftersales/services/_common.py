"""What every after-sales service shares: locking in the agreed order, role checks, the one event writer.

Lock order, everywhere (the same as merchants.services.ship, so nobody deadlocks): the order row, then
the item row, then the case row. The deadline sweep takes case rows first but never waits for the others
(SKIP LOCKED), so it cannot close a cycle either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from aftersales import selectors
from aftersales.exceptions import CaseAmountError
from aftersales.models import AfterSaleCase, AftersalesSettings, CaseAttachment, CaseEvent
from aftersales.services.addresses import SNAPSHOT_FIELDS
from aftersales.transitions import CaseStatus
from merchants import selectors as merchant_selectors
from merchants.kernel import checks
from merchants.kernel.checks import clean_choice, clean_text, pk_of  # noqa: F401  (re-exported: N-9 cleaning)
from merchants.kernel.deadlines import save_batch
from merchants.kernel.events import record_event, record_events
from merchants.kernel.scoping import WRITE_ROLES, is_platform, require_role
from merchants.kernel.tasks import enqueue
from merchants.kernel.workflow import ActorNotAllowedError, ApplicationError, require_transition
from merchants.models import OrderItem

log = logging.getLogger(__name__)
Kind = CaseEvent.Kind
CENT = checks.CENT
MAX_FILES = 9


def clock() -> tuple[datetime, AftersalesSettings]:
    return timezone.now(), AftersalesSettings.load()


# ---- locking


def lock_case(case, actor) -> AfterSaleCase:
    """Lock the case's order, item and the case itself (in that order); scoped to the actor.

    Another shop's case is ObjectNotFoundError before anything is locked.
    """
    pk = pk_of(case)
    ref = selectors.case_ref(pk, actor=actor)
    merchant_selectors.order_for_update(ref.order_id, actor=None)  # visibility already decided by the case
    list(OrderItem.objects.select_for_update().filter(pk=ref.item_id).values_list("pk", flat=True))
    return selectors.case_for_update(pk, actor=actor)


# ---- who may act


def require_merchant(actor, case: AfterSaleCase) -> None:
    """Owner or agent of the case's shop (superusers and the system too); viewers and platform staff not."""
    require_role(actor, case.merchant_id, WRITE_ROLES, platform=False)


def require_platform(actor) -> None:
    if not is_platform(actor):
        raise ActorNotAllowedError(_("只有平台客服可以执行此操作。"), code="platform_only")


def require_merchant_or_platform(actor, case: AfterSaleCase) -> None:
    if actor is None or is_platform(actor):
        return
    require_role(actor, case.merchant_id, WRITE_ROLES, platform=False)


# ---- input cleaning (before anything is locked or written): merchants.kernel.checks, plus after-sales' own


def clean_amount(value, *, label=None) -> Decimal:
    """A positive money amount with at most two decimals (floats are refused: N-6); CaseAmountError if not."""
    return checks.clean_amount(value, label=label, error=CaseAmountError)


def check_refundable(item: OrderItem, amount: Decimal) -> None:
    """A-1: never more than what is still refundable on the item (paid minus refunded)."""
    refundable = item.refundable_amount()
    if refundable <= 0:
        raise CaseAmountError(_("该商品已全额退款，没有可退的金额。"), code="nothing_refundable")
    if amount > refundable:
        raise CaseAmountError(
            _("退款金额 ¥%(amount)s 超过了该商品可退的金额 ¥%(refundable)s。")
            % {"amount": amount, "refundable": refundable},
            code="over_refundable",
        )


def clean_files(files: Iterable | None, *, required: bool = False, label=None) -> list:
    """Check uploaded evidence with the one upload validator (N-7) before anything is written."""
    from merchants.kernel.uploads import validate_image_upload

    files = [f for f in (files or ()) if f]
    if required and not files:
        raise ApplicationError(_("请上传%(label)s。") % {"label": label or _("图片")}, code="file_required")
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


def _row(*fields: str) -> tuple[str, ...]:
    return ("status", *fields, "updated_at")


# What each transition writes on the case row (aftersales/models.py): its single form (move) and its batch
# form (move_many) save these fields and no others. Approval also copies the return address the buyer is
# given (A-3; empty for refunds); accepting a proposal approves on its terms.
PAID_FIELDS = ("refunded_amount", "refunded_at", "refund_failed", "deadline_at", "closed_at")
MOVE_FIELDS: dict[str, tuple[str, ...]] = {
    "approve": _row("deadline_at", *SNAPSHOT_FIELDS),
    "reject": _row("reject_reason", "deadline_at"),
    "propose": _row("proposed_type", "proposed_amount", "proposal_text", "proposed_at", "deadline_at"),
    "revise_proposal": _row("proposed_type", "proposed_amount", "proposal_text"),
    "accept_proposal": _row("deadline_at", *SNAPSHOT_FIELDS, "type", "amount", "negotiated"),
    "decline_proposal": _row("deadline_at"),
    "withdraw_proposal": _row("deadline_at"),
    "revise": _row("amount", "description", "merchant_deadline_at", "deadline_at"),
    "escalate": _row("arbitration_started_at", "deadline_at"),
    "refuse_return": _row("arbitration_started_at", "deadline_at"),
    "buyer_ship_return": _row("return_carrier", "return_tracking_no", "return_shipped_at", "deadline_at"),
    "confirm_return": _row("return_received_at", "return_signed_at", "deadline_at"),
    "reship": _row("reship_carrier", "reship_tracking_no", "reshipped_at", "deadline_at"),
    "confirm_exchange": _row("deadline_at", "closed_at"),
    "cancel": _row("deadline_at", "closed_at"),
    "close": _row("deadline_at", "closed_at"),
    "upload_voucher": _row(*PAID_FIELDS),
    "pay_in_advance": _row("advance_paid", *PAID_FIELDS),
    "mark_refunded": _row(*PAID_FIELDS),
    "arbitrate": _row("arbitration_outcome", "liability", "arbitrated_at", "deadline_at", "closed_at"),
}


def transition(case: AfterSaleCase, method, *, action, **kwargs) -> str:
    """Check and run an FSM transition in memory; returns the source state."""
    require_transition(method, action=action)
    source = case.status
    method(**kwargs)
    return source


def save_move(case: AfterSaleCase, name: str, *extra: str) -> None:
    """Save what the transition `name` wrote (MOVE_FIELDS), and the `extra` fields the service set."""
    case.save(update_fields=[*MOVE_FIELDS[name], *extra])


def move(case: AfterSaleCase, method, *, action, **kwargs) -> str:
    """The skeleton's transition step (lock held): run the transition and save the fields it wrote (MOVE_FIELDS);
    returns the state it left."""
    source = transition(case, method, action=action, **kwargs)
    save_move(case, method.__name__)
    return source


def move_many(cases: Sequence[AfterSaleCase], method: str, *, now: datetime, **kwargs) -> list:
    """move()'s batch form (locks held): transition_many, then one bulk UPDATE of the fields it wrote."""
    moved = transition_many(cases, method, now=now, **kwargs)
    save_batch(moved, MOVE_FIELDS[method])
    return moved


def transition_many(cases: Sequence[AfterSaleCase], method: str, *, now: datetime, **kwargs) -> list:
    """transition()'s batch form: run `method` on every case that may take it now (re-checked per row);
    returns those, `updated_at` set (save_batch writes only the fields it is given). The others stay."""
    moved = []
    for case in cases:
        try:  # the transition checks its source state and conditions itself: once, not twice
            getattr(case, method)(now=now, **kwargs)
        except TransitionNotAllowed:
            continue
        case.updated_at = now
        moved.append(case)
    return moved


def record(
    case: AfterSaleCase,
    kind: str,
    *,
    source: str,
    actor=None,
    message="",
    params: dict | None = None,
    amount: Decimal | None = None,
    data: dict | None = None,
    files: Sequence = (),
    at: datetime | None = None,
) -> CaseEvent:
    """A case event (A-4) through the kernel's one writer, with its evidence files attached."""
    event = record_event(
        case,
        kind,
        actor=actor,
        source=source,
        message=message,
        params=params,
        data=data,
        at=at,
        amount=amount,
    )
    for f in files:
        CaseAttachment.objects.create(event=event, file=f, created_at=event.created_at)
    return event


def bulk_record(
    cases: Sequence[AfterSaleCase],
    kind: str,
    *,
    source: str,
    at: datetime,
    actor=None,
    params: dict | None = None,
    with_amount: bool = False,
    message: str = "",
) -> None:
    """record()'s batch form: one event per case, one INSERT (the deadline sweep, bulk approval).

    Nothing reads the written rows back (returning=False): building 10,000 event instances from the
    COPY's values cost the case sweep a twentieth of its time."""
    record_events(
        cases,
        kind,
        source=source,
        at=at,
        actor=actor,
        params=params,
        message=message,
        per_subject=(lambda case: {"amount": case.amount}) if with_amount else None,
        returning=False,
    )


# ---- the refund's tasks, published by name

# aftersales/tasks.py is the thin Celery entry that calls these services, so the services never import it
# back: they publish its tasks by their Celery names (AftersalesConfig.ready registers them at start-up).
REFUND_TASK = "aftersales.tasks.refund_task"
REFUND_BATCH_TASK = "aftersales.tasks.refund_batch_task"


# N-3: the wait after a failed publish: 10 s (the requeue beat entry runs every 15 s), then doubling up
# to five minutes; retry_stuck_refunds stays the last resort for anything this misses.
REQUEUE_FIRST_DELAY = timedelta(seconds=10)
REQUEUE_MAX_DELAY = timedelta(minutes=5)


def requeue_delay(failures: int) -> timedelta:
    """How long to wait after the `failures`-th failed publish in a row (1, 2, …) before trying again."""
    return min(REQUEUE_FIRST_DELAY * 2 ** (min(max(failures, 1), 16) - 1), REQUEUE_MAX_DELAY)


def publish_refunds(case_ids: Sequence[int], publish: Callable[[], object]) -> bool:
    """Run `publish()` (the task's .delay) after the commit; on a broker error mark the cases, never raise.

    Returns whether it went. The transaction that made the cases `refunding` is already committed and
    nobody waits on this call, so a failure marks them for requeue_refunds (the first retry seconds
    later) instead of leaving them to retry_stuck_refunds' ten-minute sweep.
    """
    try:
        publish()
    except Exception:  # noqa: BLE001  (any broker or transport error: kombu raises many kinds)
        log.warning(
            "Queueing the refund of cases %s failed; requeue_refunds retries", list(case_ids), exc_info=True
        )
        AfterSaleCase.objects.filter(pk__any=list(case_ids), status=CaseStatus.REFUNDING).update(
            refund_requeue_at=timezone.now() + requeue_delay(1), refund_queue_failures=1
        )
        return False
    return True


def requeue_refunds(now: datetime | None = None, *, limit: int = 200) -> int:
    """Publish again the refunds whose queueing failed, once their backoff is over; returns how many went.

    Idempotent and safe twice at once: a refund published twice is paid once (pay_refund acts only on a
    refunding case, once per idempotency key). Stops at the first failure (the broker is still down):
    that case waits longer, the others keep their turn for the next tick.
    """
    now = now or timezone.now()
    due = list(
        AfterSaleCase.objects.filter(status=CaseStatus.REFUNDING, refund_requeue_at__lte=now)
        .order_by("refund_requeue_at", "pk")
        .values_list("pk", "refund_queue_failures")[:limit]
    )
    sent = 0
    for case_id, failures in due:
        try:
            enqueue(REFUND_TASK, case_id)
        except Exception:  # noqa: BLE001  (as in publish_refunds)
            log.warning(
                "Queueing the refund of case %s failed again (%d)", case_id, failures + 1, exc_info=True
            )
            AfterSaleCase.objects.filter(pk=case_id).update(
                refund_requeue_at=now + requeue_delay(failures + 1), refund_queue_failures=failures + 1
            )
            break
        AfterSaleCase.objects.filter(pk=case_id).update(refund_requeue_at=None, refund_queue_failures=0)
        sent += 1
    return sent
