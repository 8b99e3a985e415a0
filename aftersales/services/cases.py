"""The case's life (A-1..A-3, A-7, A-8): opening, the merchant's and buyer's moves, arbitration.

Each service: one transaction, the skeleton's steps in order (issue 7 §6): lock order, item, case
(scoped to the actor) and check who acts (`_merchant_case`, `_buyer_case`); check the input against the
locked row; run the transition and save the fields it wrote (`_common.move`, MOVE_FIELDS); one event
(`record`); the after-effects of services/effects.py (`settle`). A move the system also makes has its
locked step apart (`_approve`, …). Buyer moves take no actor (the buyer is not a user of the panel: imports, the
buyer feed and the demo call them). The moves the system also makes on due cases have a batch form
beside their locked step (`_approve_many`, …), which the deadline sweep and bulk approval call: the
same transition, saved in bulk, recorded in one INSERT, with the batch forms of the same effects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales import automation
from aftersales.exceptions import (
    CaseAlreadyOpenError,
    CaseAmountError,
    CaseNotEligibleError,
    CaseWindowClosedError,
)
from aftersales.models import AfterSaleCase, AftersalesSettings, RejectReason, _case_no
from aftersales.registrations import ARBITRATED
from aftersales.services._common import (
    MOVE_FIELDS,
    Kind,
    bulk_record,
    check_refundable,
    clean_amount,
    clean_choice,
    clean_files,
    clean_text,
    clock,
    lock_case,
    move,
    move_many,
    pk_of,
    record,
    require_merchant,
    require_merchant_or_platform,
    require_platform,
    save_move,
    transition,
    transition_many,
)
from aftersales.services.addresses import address_for_shop, give_return_address, give_return_addresses
from aftersales.services.effects import settle, settle_many
from aftersales.transitions import (
    OPEN_STATES,
    REASON_CATEGORY,
    ArbitrationOutcome,
    CaseStatus,
    CaseType,
    Liability,
    Reason,
    ReasonCategory,
    arbitration_contradiction,
    postage_payer,
)
from merchants import selectors as merchant_selectors
from merchants.effects import hold_item
from merchants.kernel.deadlines import save_batch
from merchants.kernel.notices import notify
from merchants.kernel.scoping import BUYER, WRITE_ROLES, get_for_actor, is_buyer, require_role
from merchants.kernel.workflow import ApplicationError
from merchants.models import Notice, Order, OrderItem, Product
from merchants.services import clean_tracking
from merchants.transitions import OrderStatus

# a case needs a paid (or confirmed cod) order that was not cancelled.
ELIGIBLE_ORDER_STATES = (
    OrderStatus.TO_SHIP,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.RECEIVED,
)
INELIGIBLE_MESSAGES = {
    OrderStatus.UNPAID: gettext_lazy("订单尚未付款，不能申请售后。"),
    OrderStatus.AWAITING_CONFIRMATION: gettext_lazy("货到付款订单尚未确认，不能申请售后。"),
    OrderStatus.CANCELLED: gettext_lazy("订单已取消，不能申请售后。"),
}


# --------------------------------------------------------------------------------------------
# Opening and automation


def _check_eligible(order: Order, item: OrderItem, case_type: str) -> None:
    if order.status not in ELIGIBLE_ORDER_STATES:
        message = INELIGIBLE_MESSAGES.get(order.status) or _("订单当前状态不能申请售后。")
        raise CaseNotEligibleError(str(message), code="order_state")
    if case_type in (CaseType.RETURN_REFUND, CaseType.EXCHANGE) and item.package_id is None:
        raise CaseNotEligibleError(
            _("商品尚未发货，不能申请「%(type)s」，请申请仅退款。") % {"type": CaseType(case_type).label},
            code="not_shipped",
        )


def window_days(product: Product, reason: str, limits: AftersalesSettings) -> int:
    """A-2: days after receipt a case may be opened; quality claims last longer for 三包 and durable goods."""
    days = limits.window_days
    if REASON_CATEGORY[Reason(reason)] == ReasonCategory.QUALITY_CLAIM:
        if product.durable:
            days = max(days, limits.durable_days)
        if product.three_guarantee:
            days = max(days, limits.three_guarantee_days)
    return days


def _check_window(order: Order, product: Product, reason: str, now, limits: AftersalesSettings) -> None:
    if order.status != OrderStatus.RECEIVED or order.received_at is None:
        return  # not received yet: always in window
    days = window_days(product, reason, limits)
    if now > order.received_at + timedelta(days=days):
        raise CaseWindowClosedError(
            _("已超过售后申请期限：确认收货后 %(days)d 天内可申请（本订单于 %(received)s 确认收货）。")
            % {"days": days, "received": timezone.localtime(order.received_at).strftime("%Y-%m-%d %H:%M")},
            code="window_closed",
        )


def _clean_quantity(value) -> int:
    try:
        quantity = int(value)
    except (TypeError, ValueError) as exc:
        raise CaseAmountError(_("数量「%(value)s」无效。") % {"value": value}, code="quantity") from exc
    if quantity < 1:
        raise CaseAmountError(_("数量至少为 1。"), code="quantity")
    return quantity


@transaction.atomic
def open_case(
    item: OrderItem | int,
    *,
    type: str,
    reason: str,
    amount,
    quantity: int = 1,
    description: str = "",
    attachments: Iterable = (),
    actor=None,
    initiator=BUYER,
) -> AfterSaleCase:
    """The buyer opens a case on an order item (A-1, A-2); automation may approve it at once (A-11, A-12).

    `actor` is only for imports run by a user: the item must then belong to one of their shops (B-4).
    `initiator` is whose move it is: the buyer (default), or `initiator=actor` — an owner or agent of the
    item's shop opening it on the merchant's own initiative (T-7 out of stock). The opening event then
    names that person and the shop's side, and no automation rule runs: the merchant decides next.
    Locks the order, then the item (as merchants.services.ship does).
    """
    by_merchant = initiator is not BUYER
    if by_merchant and (initiator is None or initiator is not actor):
        raise ApplicationError(_("商家主动发起的售后须由操作人本人发起。"), code="initiator")
    case_type = clean_choice(type, CaseType, _("售后类型"))
    reason = clean_choice(reason, Reason, _("售后原因"))
    amount = clean_amount(amount, label=_("申请金额"))
    quantity = _clean_quantity(quantity)
    description = clean_text(description, label=_("问题描述"), required=False)
    files = clean_files(attachments)
    now, limits = clock()

    ref = get_for_actor(OrderItem.objects.only("pk", "order_id", "merchant_id"), actor, pk=pk_of(item))
    require_role(actor, ref.merchant_id, WRITE_ROLES, platform=not by_merchant)
    order = merchant_selectors.order_for_update(ref.order_id, actor=None)
    item = OrderItem.objects.select_for_update(of=("self",)).select_related("product").get(pk=ref.pk)
    item.order = order

    _check_eligible(order, item, case_type)
    check_refundable(item, amount)
    if quantity > item.quantity:
        raise CaseAmountError(
            _("申请数量 %(quantity)d 超过了购买数量 %(bought)d。")
            % {"quantity": quantity, "bought": item.quantity},
            code="quantity",
        )
    existing = AfterSaleCase.objects.filter(item=item, status__in=OPEN_STATES).values_list(
        "case_no", flat=True
    )
    if existing:
        raise CaseAlreadyOpenError(
            _("该商品已有进行中的售后单 %(no)s，请处理完再申请。") % {"no": existing[0]}, code="already_open"
        )
    _check_window(order, item.product, reason, now, limits)

    deadline = now + timedelta(hours=limits.merchant_response_hours)
    case = AfterSaleCase(
        merchant_id=order.merchant_id,
        order=order,
        item=item,
        product=item.product,
        order_no=order.order_no,
        buyer_id=order.buyer_id,
        buyer_name=order.buyer_name,
        type=case_type,
        reason=reason,
        description=description,
        quantity=quantity,
        amount=amount,
        postage_payer=postage_payer(reason),
        merchant_deadline_at=deadline,
        deadline_at=deadline,
        created_at=now,
    )
    for attempt in range(3):
        try:
            with transaction.atomic():
                case.save(force_insert=True)
            break
        except IntegrityError as exc:
            # A random case number may clash (rare): draw another. Otherwise it is the partial
            # unique index: a concurrent request for the same item won the race.
            if attempt < 2 and AfterSaleCase.objects.filter(case_no=case.case_no).exists():
                case.case_no = _case_no()
                continue
            raise CaseAlreadyOpenError(
                _("该商品已有进行中的售后单，请处理完再申请。"), code="already_open"
            ) from exc
    case.merchant = order.merchant
    hold_item(item)
    record(
        case,
        Kind.OPENED,
        source="",
        actor=initiator,
        message=description,
        amount=amount,
        params={"why": "merchant_opened"} if by_merchant else None,
        data={"type": case_type, "reason": reason, "quantity": quantity},
        files=files,
        at=now,
    )
    if by_merchant:
        return case
    match = automation.evaluate(case, limits=limits)
    if match is not None:
        case.auto_approved_by = match.label
        _approve(
            case,
            actor=None,
            now=now,
            limits=limits,
            params=match.params,
            data=match.data,
            fields=("auto_approved_by",),
        )
    return case


# --------------------------------------------------------------------------------------------
# The skeleton's steps (issue 7 §6), in the order every service below takes them: lock the case
# through the scoped selector and check who acts; check the input against the locked row; run the
# transition and save what it wrote; record the event; then the after-effects (settle: the refund on
# commit, the item's side).


def _merchant_case(case: AfterSaleCase | int, actor) -> AfterSaleCase:
    """Lock the case for a move of its shop (owner or agent): another shop's case is a 404 before any lock."""
    case = lock_case(case, actor)
    require_merchant(actor, case)
    return case


def _buyer_case(case: AfterSaleCase | int) -> AfterSaleCase:
    """Lock the case for its buyer's move (the buyer is not a panel user: no shop scoping applies)."""
    return lock_case(case, None)


# --------------------------------------------------------------------------------------------
# The merchant answers (A-3 pending)


def _approve(
    case: AfterSaleCase,
    *,
    actor,
    now,
    limits,
    params=None,
    data=None,
    fields: Sequence[str] = (),
    return_address=None,
) -> AfterSaleCase:
    """Approve one pending case (lock held: order, item, case): refund only pays (online) or waits for the
    voucher (cod); the others wait for the goods, sent to `return_address` or the shop's default (A-3).
    `params` says why the system approved (A-5, A-11, A-12)."""
    source = transition(case, case.approve, action=_("同意申请"), now=now, limits=limits)
    give_return_address(case, return_address)
    save_move(case, "approve", *fields)
    record(
        case, Kind.APPROVED, source=source, actor=actor, params=params, amount=case.amount, data=data, at=now
    )
    settle(case)
    return case


def _approve_many(
    cases: Sequence[AfterSaleCase], *, actor, now: datetime, limits, params=None, return_address=None
) -> list[AfterSaleCase]:
    """The batch form of _approve (locks held); returns the cases approved, leaves the others untouched."""
    moved = transition_many(cases, "approve", now=now, limits=limits)
    give_return_addresses(moved, return_address)
    save_batch(moved, MOVE_FIELDS["approve"])
    bulk_record(
        moved, Kind.APPROVED, source=CaseStatus.PENDING, actor=actor, at=now, params=params, with_amount=True
    )
    settle_many(moved)
    return moved


@transaction.atomic
def approve(case: AfterSaleCase | int, *, actor, return_address=None) -> AfterSaleCase:
    """Approve a pending case (A-3); a refund is queued only once this commits. actor None = the system.

    A return or an exchange sends the buyer to `return_address` (one of the shop's, by keyword), else to
    the shop's default; the case keeps a copy of it."""
    case = _merchant_case(case, actor)
    chosen = address_for_shop(return_address, case.merchant_id)
    now, limits = clock()
    return _approve(case, actor=actor, now=now, limits=limits, return_address=chosen)


def _reject(case: AfterSaleCase, *, actor, now, limits, reason: str, files: Sequence = ()) -> AfterSaleCase:
    """Refuse one pending case (lock held): the buyer may revise or escalate within the idle period."""
    source = move(case, case.reject, action=_("拒绝申请"), now=now, limits=limits, reason=reason)
    record(case, Kind.REJECTED, source=source, actor=actor, message=reason, files=files, at=now)
    return case


def _reject_many(cases: Sequence[AfterSaleCase], *, actor, now, limits, reason: str) -> list[AfterSaleCase]:
    """The batch form of _reject (locks held): one reason for all, no evidence files."""
    moved = move_many(cases, "reject", now=now, limits=limits, reason=reason)
    bulk_record(moved, Kind.REJECTED, source=CaseStatus.PENDING, actor=actor, at=now, message=reason)
    return moved


def reject_reason_text(preset, text: str, merchant_id: int, files: Sequence) -> str:
    """The refusal's words: the shop's preset reason (checked: its shop, enabled, evidence when it needs it)
    followed by what the merchant added, or the typed text alone."""
    text = clean_text(text, label=_("拒绝原因"), required=preset in (None, ""))
    if preset in (None, ""):
        return text
    pk = getattr(preset, "pk", preset)
    try:
        preset = RejectReason.objects.get(pk=int(pk), merchant_id=merchant_id, enabled=True)
    except (RejectReason.DoesNotExist, TypeError, ValueError) as exc:
        raise ApplicationError(_("所选拒绝原因不可用，请重新选择。"), code="reject_reason") from exc
    if preset.evidence_required and not files:
        raise ApplicationError(
            _("拒绝原因「%(reason)s」需要上传凭证图片。") % {"reason": preset.text}, code="evidence_required"
        )
    return f"{preset.text}：{text}" if text else preset.text


@transaction.atomic
def reject(
    case: AfterSaleCase | int, *, actor, reason: str = "", attachments: Iterable = (), preset=None
) -> AfterSaleCase:
    """Refuse a pending case with a reason and evidence; the buyer may revise or escalate (A-3).

    `preset`: one of the shop's reject reasons (拒绝原因模板); `reason` then adds to it. A preset that
    requires evidence refuses a refusal without images."""
    files = clean_files(attachments)
    if preset in (None, ""):
        clean_text(reason, label=_("拒绝原因"))  # before anything is locked (N-9)
    case = _merchant_case(case, actor)
    reason = reject_reason_text(preset, reason, case.merchant_id, files)
    now, limits = clock()
    return _reject(case, actor=actor, now=now, limits=limits, reason=reason, files=files)


def _clean_proposal(type, amount, text) -> tuple[str, object, str]:
    return (
        clean_choice(type, CaseType, _("协商售后类型")),
        clean_amount(amount, label=_("协商金额")),
        clean_text(text, label=_("协商方案说明")),
    )


def _check_proposal(case: AfterSaleCase, proposed_type: str, amount) -> None:
    """A-8: a proposal never pays more than is refundable, nor asks for goods that were never shipped."""
    check_refundable(case.item, amount)
    if proposed_type in (CaseType.RETURN_REFUND, CaseType.EXCHANGE) and case.item.package_id is None:
        raise CaseNotEligibleError(
            _("商品尚未发货，不能协商为「%(type)s」。") % {"type": CaseType(proposed_type).label},
            code="not_shipped",
        )


def _put_proposal(
    case: AfterSaleCase | int, *, actor, method: str, action, kind: str, type, amount, text, check_in=None
) -> AfterSaleCase:
    """Make (`propose`) or change (`revise_proposal`) the proposal, with its event: the terms cleaned before
    the lock, checked against the locked case (only in state `check_in` when given: in another the
    transition names the state)."""
    proposed_type, amount, text = _clean_proposal(type, amount, text)
    case = _merchant_case(case, actor)
    now, limits = clock()
    if check_in is None or case.status == check_in:
        _check_proposal(case, proposed_type, amount)
    terms = {"type": proposed_type, "amount": amount, "text": text}
    source = move(case, getattr(case, method), action=action, now=now, limits=limits, **terms)
    data = {"type": proposed_type, "amount": str(amount)}
    record(case, kind, source=source, actor=actor, message=text, amount=amount, data=data, at=now)
    return case


@transaction.atomic
def propose(case: AfterSaleCase | int, *, actor, type: str, amount, text: str) -> AfterSaleCase:
    """Offer the buyer another solution (A-8); the merchant's own answer deadline keeps running."""
    terms = {"type": type, "amount": amount, "text": text}
    return _put_proposal(
        case, actor=actor, method="propose", action=_("发起协商"), kind=Kind.PROPOSED, **terms
    )


@transaction.atomic
def revise_proposal(case: AfterSaleCase | int, *, actor, type: str, amount, text: str) -> AfterSaleCase:
    """Change the proposal the buyer has not answered yet (A-3): new terms, the negotiation clock unchanged.

    Locks the row and re-checks the state: a buyer who accepted or declined meanwhile wins, and the
    merchant is told the case is no longer negotiating.
    """
    terms = {"type": type, "amount": amount, "text": text}
    return _put_proposal(
        case,
        actor=actor,
        method="revise_proposal",
        action=_("修改协商方案"),
        kind=Kind.PROPOSAL_REVISED,
        check_in=CaseStatus.NEGOTIATING,
        **terms,
    )


@transaction.atomic
def withdraw_proposal(case: AfterSaleCase | int, *, actor) -> AfterSaleCase:
    """Take back the proposal the buyer has not answered (A-3): pending again, on the original answer deadline."""
    case = _merchant_case(case, actor)
    now, limits = clock()
    source = move(case, case.withdraw_proposal, action=_("撤回协商方案"), now=now, limits=limits)
    record(case, Kind.PROPOSAL_WITHDRAWN, source=source, actor=actor, at=now)
    return case


@transaction.atomic
def accept_proposal(case: AfterSaleCase | int) -> AfterSaleCase:
    """The buyer accepts the merchant's proposal: the case proceeds as approved on its terms, negotiated (A-8)."""
    case = _buyer_case(case)
    now, limits = clock()
    if case.status == CaseStatus.NEGOTIATING and case.proposed_amount is not None:
        check_refundable(case.item, case.proposed_amount)
    source = transition(case, case.accept_proposal, action=_("接受协商方案"), now=now, limits=limits)
    give_return_address(case)
    save_move(case, "accept_proposal")
    terms = {"type": case.type, "amount": str(case.amount)}
    record(case, Kind.PROPOSAL_ACCEPTED, source=source, actor=BUYER, amount=case.amount, data=terms, at=now)
    settle(case)
    return case


def _decline(case: AfterSaleCase, *, kind: str, actor, now, limits) -> AfterSaleCase:
    """The proposal is off (lock held): declined by the buyer, or expired (A-8); back to the merchant."""
    source = move(case, case.decline_proposal, action=_("拒绝协商方案"), now=now, limits=limits)
    record(case, kind, source=source, actor=actor, at=now)
    return case


def _decline_many(cases: Sequence[AfterSaleCase], *, kind: str, actor, now, limits) -> list[AfterSaleCase]:
    """The batch form of _decline (locks held)."""
    moved = move_many(cases, "decline_proposal", now=now, limits=limits)
    bulk_record(moved, kind, source=CaseStatus.NEGOTIATING, actor=actor, at=now)
    return moved


@transaction.atomic
def decline_proposal(case: AfterSaleCase | int) -> AfterSaleCase:
    """The buyer declines: back to the merchant on the original answer deadline (A-8)."""
    case = _buyer_case(case)
    now, limits = clock()
    return _decline(case, kind=Kind.PROPOSAL_DECLINED, actor=BUYER, now=now, limits=limits)


# --------------------------------------------------------------------------------------------
# The buyer after a refusal


@transaction.atomic
def revise(case: AfterSaleCase | int, *, amount=None, description: str = "") -> AfterSaleCase:
    """The buyer revises a refused request (new amount and/or description): pending again, new answer period."""
    amount = clean_amount(amount, label=_("申请金额")) if amount not in (None, "") else None
    description = clean_text(description, label=_("问题描述"), required=False)
    case = _buyer_case(case)
    now, limits = clock()
    if amount is not None:
        check_refundable(case.item, amount)
    changes = {"amount": amount, "description": description}
    source = move(case, case.revise, action=_("修改申请"), now=now, limits=limits, **changes)
    record(case, Kind.REVISED, source=source, actor=BUYER, message=description, amount=case.amount, at=now)
    return case


@transaction.atomic
def escalate(case: AfterSaleCase | int, *, reason: str = "", attachments: Iterable = ()) -> AfterSaleCase:
    """The buyer asks the platform to step in after a refusal (官方客服介入, A-7)."""
    reason = clean_text(reason, label=_("申请理由"), required=False)
    files = clean_files(attachments)
    case = _buyer_case(case)
    now, limits = clock()
    source = move(case, case.escalate, action=_("申请平台介入"), now=now, limits=limits)
    record(case, Kind.ARBITRATION_REQUESTED, source=source, actor=BUYER, message=reason, files=files, at=now)
    return case


@transaction.atomic
def cancel(case: AfterSaleCase | int) -> AfterSaleCase:
    """The buyer withdraws while no money has moved (A-3); the item is released."""
    case = _buyer_case(case)
    now = timezone.now()
    source = move(case, case.cancel, action=_("撤销申请"), now=now)
    record(case, Kind.CANCELLED, source=source, actor=BUYER, at=now)
    settle(case)
    return case


# --------------------------------------------------------------------------------------------
# Goods going back and forth


def _record_parcel(
    case: AfterSaleCase, kind: str, *, source: str, actor, carrier: str, tracking_no: str, now
) -> None:
    """The event of a parcel sent (the buyer's return, the merchant's replacement), with its tracking."""
    record(
        case,
        kind,
        source=source,
        actor=actor,
        params={"carrier": carrier, "tracking": tracking_no},
        data={"carrier": carrier, "tracking_no": tracking_no},
        at=now,
    )


@transaction.atomic
def buyer_ship_return(case: AfterSaleCase | int, *, carrier: str, tracking_no: str) -> AfterSaleCase:
    """The buyer sends the goods back with a tracking number; the merchant's receipt clock starts (A-3)."""
    # The buyer's number arrives through the platform, where nobody could correct it: normalised and the
    # generic rule only, not the carrier's format (a return must never be lost to a mismatch).
    carrier, tracking_no = clean_tracking(carrier, tracking_no, check_format=False)
    case = _buyer_case(case)
    now, limits = clock()
    parcel = {"carrier": carrier, "tracking_no": tracking_no}
    source = move(case, case.buyer_ship_return, action=_("填写退货物流"), now=now, limits=limits, **parcel)
    _record_parcel(case, Kind.RETURN_SHIPPED, source=source, actor=BUYER, now=now, **parcel)
    return case


def _confirm_return(case: AfterSaleCase, *, actor, now, limits, params=None) -> AfterSaleCase:
    """The goods are back (lock held): refund (online), voucher (cod) or replacement (exchange)."""
    source = move(case, case.confirm_return, action=_("确认收货"), now=now, limits=limits)
    record(case, Kind.RETURN_CONFIRMED, source=source, actor=actor, params=params, at=now)
    settle(case)
    return case


def _confirm_return_many(
    cases: Sequence[AfterSaleCase], *, actor, now, limits, params=None
) -> list[AfterSaleCase]:
    """The batch form of _confirm_return (locks held)."""
    moved = move_many(cases, "confirm_return", now=now, limits=limits)
    bulk_record(
        moved, Kind.RETURN_CONFIRMED, source=CaseStatus.RETURN_IN_TRANSIT, actor=actor, at=now, params=params
    )
    settle_many(moved)
    return moved


@transaction.atomic
def confirm_return(case: AfterSaleCase | int, *, actor) -> AfterSaleCase:
    """The merchant received the goods: refund (online), voucher (cod) or replacement (exchange)."""
    case = _merchant_case(case, actor)
    now, limits = clock()
    return _confirm_return(case, actor=actor, now=now, limits=limits)


@transaction.atomic
def refuse_return(
    case: AfterSaleCase | int, *, actor, reason: str, attachments: Iterable = ()
) -> AfterSaleCase:
    """The merchant refuses the returned goods, with reason and evidence: the platform decides (A-3, A-7)."""
    reason = clean_text(reason, label=_("拒绝收货原因"))
    files = clean_files(attachments)
    case = _merchant_case(case, actor)
    now, limits = clock()
    source = move(case, case.refuse_return, action=_("拒绝收货"), now=now, limits=limits)
    record(case, Kind.RETURN_REFUSED, source=source, actor=actor, message=reason, files=files, at=now)
    return case


@transaction.atomic
def reship(case: AfterSaleCase | int, *, actor, carrier: str, tracking_no: str) -> AfterSaleCase:
    """The merchant sends the replacement (exchange, or a reship ordered by arbitration)."""
    carrier, tracking_no = clean_tracking(carrier, tracking_no)
    case = _merchant_case(case, actor)
    now, limits = clock()
    parcel = {"carrier": carrier, "tracking_no": tracking_no}
    source = move(case, case.reship, action=_("补发商品"), now=now, limits=limits, **parcel)
    _record_parcel(case, Kind.RESHIPPED, source=source, actor=actor, now=now, **parcel)
    return case


def _confirm_exchange(case: AfterSaleCase, *, actor, now, params=None) -> AfterSaleCase:
    """The replacement arrived (lock held): exchanged, the item released."""
    source = move(case, case.confirm_exchange, action=_("确认收到换货"), now=now)
    record(case, Kind.EXCHANGE_CONFIRMED, source=source, actor=actor, params=params, at=now)
    settle(case)
    return case


def _confirm_exchange_many(cases: Sequence[AfterSaleCase], *, actor, now, params=None) -> list[AfterSaleCase]:
    """The batch form of _confirm_exchange (locks held: the items too)."""
    moved = move_many(cases, "confirm_exchange", now=now)
    bulk_record(
        moved, Kind.EXCHANGE_CONFIRMED, source=CaseStatus.EXCHANGE_SHIPPED, actor=actor, at=now, params=params
    )
    settle_many(moved)
    return moved


@transaction.atomic
def confirm_exchange(case: AfterSaleCase | int) -> AfterSaleCase:
    """The buyer confirms the replacement arrived: exchanged, the item released."""
    case = _buyer_case(case)
    return _confirm_exchange(case, actor=BUYER, now=timezone.now())


@transaction.atomic
def upload_voucher(case: AfterSaleCase | int, *, actor, file) -> AfterSaleCase:
    """Cash on delivery: the merchant refunded offline and uploads the proof; the case is refunded."""
    files = clean_files([file] if file else [], required=True, label=_("退款凭证"))
    case = _merchant_case(case, actor)
    now = timezone.now()
    if case.status == CaseStatus.AWAITING_VOUCHER:  # else the transition names the state
        check_refundable(case.item, case.amount)
    source = move(case, case.upload_voucher, action=_("上传退款凭证"), now=now)
    record(case, Kind.VOUCHER_UPLOADED, source=source, actor=actor, amount=case.amount, files=files, at=now)
    settle(case)
    return case


# --------------------------------------------------------------------------------------------
# The platform


@transaction.atomic
def arbitrate(
    case: AfterSaleCase | int, *, actor, outcome: str, liability: str, note: str = ""
) -> AfterSaleCase:
    """Platform staff decide a case in arbitration: refund, reship or reject, with the liability (A-7)."""
    outcome = clean_choice(outcome, ArbitrationOutcome, _("判定结果"))
    liability = clean_choice(liability, Liability, _("责任方"))
    if problem := arbitration_contradiction(outcome, liability):
        raise ApplicationError(problem, code="arbitration_contradiction")
    note = clean_text(note, label=_("判定说明"), required=False)
    case = lock_case(case, actor)
    require_platform(actor)
    now, limits = clock()
    decision = {"outcome": outcome, "liability": liability}
    source = move(case, case.arbitrate, action=_("平台判定"), now=now, limits=limits, **decision)
    record(
        case,
        Kind.ARBITRATED,
        source=source,
        actor=actor,
        message=note,
        params=decision,
        amount=case.amount if outcome == ArbitrationOutcome.REFUND else None,
        data=decision,
        at=now,
    )
    settle(case)
    notify(
        ARBITRATED,
        audience=Notice.Audience.MERCHANT,
        merchant_id=case.merchant_id,
        params={"case_id": case.pk, "no": case.case_no, **decision},
        message=note,
        at=now,
    )
    return case


# --------------------------------------------------------------------------------------------
# Messages


@transaction.atomic
def add_message(case: AfterSaleCase | int, *, actor, text: str, attachments: Iterable = ()):
    """A note or message on the timeline, no state change; actor=BUYER for the buyer's own words."""
    files = clean_files(attachments)
    text = clean_text(text, label=_("留言内容"), required=not files)
    if is_buyer(actor):
        case = _buyer_case(case)  # the buyer's own case: buyers are not scoped by shop
    else:
        case = lock_case(case, actor)
        require_merchant_or_platform(actor, case)
    return record(case, Kind.MESSAGE, source=case.status, actor=actor, message=text, files=files)


__all__ = [
    "accept_proposal",
    "add_message",
    "approve",
    "arbitrate",
    "buyer_ship_return",
    "cancel",
    "confirm_exchange",
    "confirm_return",
    "decline_proposal",
    "escalate",
    "open_case",
    "propose",
    "refuse_return",
    "reject",
    "reship",
    "revise",
    "revise_proposal",
    "upload_voucher",
    "window_days",
    "withdraw_proposal",
]
