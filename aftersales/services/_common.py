"""What every after-sales service shares: locking in the agreed order, role checks, the one event writer.

Lock order, everywhere (the same as merchants.services.ship, so nobody deadlocks): the order row, then
the item row, then the case row. The deadline sweep takes case rows first but never waits for the others
(SKIP LOCKED), so it cannot close a cycle either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales import selectors
from aftersales.exceptions import CaseAmountError
from aftersales.models import AfterSaleCase, AftersalesSettings, CaseAttachment, CaseEvent
from aftersales.tasks import refund_task
from aftersales.transitions import CaseStatus
from merchants import selectors as merchant_selectors
from merchants.kernel import checks
from merchants.kernel.checks import clean_choice, clean_text, pk_of  # noqa: F401  (re-exported: N-9 cleaning)
from merchants.kernel.scoping import WRITE_ROLES, actor_kind_of, is_platform, require_role, role_for
from merchants.kernel.workflow import ActorNotAllowedError, ApplicationError, require_transition
from merchants.models import ActorKind, OrderItem
from merchants.services import record_item_aftersale
from merchants.transitions import AftersaleLock

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


def merchant_may_act(actor, merchant_id: int) -> bool:
    return role_for(actor, merchant_id) in WRITE_ROLES


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


def transition(case: AfterSaleCase, method, *, action, **kwargs) -> str:
    """Check and run an FSM transition in memory; returns the source state."""
    require_transition(method, action=action)
    source = case.status
    method(**kwargs)
    return source


def record(
    case: AfterSaleCase,
    kind: str,
    *,
    source: str,
    actor=None,
    actor_kind: str | None = None,
    message="",
    amount: Decimal | None = None,
    data: dict | None = None,
    files: Sequence = (),
    at: datetime | None = None,
) -> CaseEvent:
    """The one writer of case events (A-4): who, what, from and to state, message, amount, attachments."""
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        source_status=source,
        target_status=case.status,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_kind=actor_kind or actor_kind_of(actor),
        message=str(message or ""),
        amount=amount,
        data=data or {},
        created_at=at or timezone.now(),
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
    message="",
    with_amount: bool = False,
) -> None:
    """System events for a batch of cases, in one INSERT (the deadline sweep)."""
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=case.pk,
            kind=kind,
            source_status=source,
            target_status=case.status,
            actor=None,
            actor_kind=ActorKind.SYSTEM,
            message=str(message),
            amount=case.amount if with_amount else None,
            created_at=at,
        )
        for case in cases
    )


def queue_refund(case: AfterSaleCase) -> None:
    """Hand the refund to the worker once this transaction commits (never before: STYLE rule 4).

    robust: a broker hiccup after the commit is logged, not shown to the person who approved; the case
    stays `refunding` and retry_stuck_refunds queues it again a few minutes later.
    """
    transaction.on_commit(lambda pk=case.pk: refund_task.delay(pk), robust=True)


def settle(case: AfterSaleCase) -> None:
    """After a move: final states release the item (S-2), a refunding case queues its refund.

    The caller holds the order and item locks (lock_case).
    """
    if case.status == CaseStatus.REFUNDING:
        queue_refund(case)
    elif case.status == CaseStatus.REFUNDED:
        record_item_aftersale(
            case.item, lock=AftersaleLock.REFUNDED, refunded=case.refunded_amount or case.amount
        )
    elif case.status in (CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.EXCHANGED):
        record_item_aftersale(case.item, lock=AftersaleLock.NONE)
