"""The ticket's life (T-1, T-2, T-5): raised by platform staff, answered by the shop, reviewed by staff.

Each service: one transaction; lock the ticket (scoped to the actor); check the actor and the state;
transition; save with update_fields; one log row through the kernel's writer; outside effects on commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from merchants.kernel.models import Merchant, MerchantStatus
from merchants.kernel.scoping import get_for_actor
from merchants.kernel.workflow import ApplicationError, ObjectNotFoundError, require_transition
from merchants.models import Order
from tickets.models import Ticket, _ticket_no
from tickets.services import effects
from tickets.services._common import (
    Kind,
    clean_choice,
    clean_files,
    clean_text,
    clock,
    lock_ticket,
    pk_of,
    record,
    require_merchant,
    require_platform,
    transition,
)
from tickets.transitions import Liability, TicketCategory

SUBMIT_FIELDS = ["status", "result_text", "submitted_at", "due_at", "overdue", "review_due_at", "review_late"]


class TicketOrderError(ApplicationError):
    """The order named on a ticket is not one of the chosen shop's orders."""


def _order_of_shop(order, merchant: Merchant, actor) -> Order | None:
    """The ticket's order, which must belong to the ticket's shop (T-1); None when no order is named."""
    if order in (None, ""):
        return None
    try:
        found = get_for_actor(Order.objects.all(), actor, pk=pk_of(order))
    except ObjectNotFoundError as exc:
        raise TicketOrderError(_("订单不存在。"), code="order_missing") from exc
    if found.merchant_id != merchant.pk:
        raise TicketOrderError(
            _("订单 %(no)s 不属于店铺「%(shop)s」。") % {"no": found.order_no, "shop": merchant.name},
            code="order_other_shop",
        )
    return found


@transaction.atomic
def open_ticket(
    merchant: Merchant | int,
    *,
    actor,
    category: str,
    demand: str,
    order: Order | int | None = None,
    attachments: Iterable = (),
) -> Ticket:
    """Raise a ticket on a shop from a buyer's complaint (T-1); platform staff only. Due 48 h later (default)."""
    require_platform(actor)
    category = clean_choice(category, TicketCategory, _("服务单类型"))
    demand = clean_text(demand, label=_("买家诉求"))
    files = clean_files(attachments)
    try:
        shop = get_for_actor(Merchant.objects.all(), actor, pk=pk_of(merchant))
    except ObjectNotFoundError as exc:
        raise ApplicationError(_("店铺不存在。"), code="merchant_missing") from exc
    if shop.status != MerchantStatus.ACTIVE:
        raise ApplicationError(_("店铺「%(shop)s」已清退，不能发起服务单。") % {"shop": shop.name})
    found = _order_of_shop(order, shop, actor)
    now, limits = clock()
    ticket = Ticket(
        merchant=shop,
        order=found,
        order_no=found.order_no if found else "",
        category=category,
        demand=demand,
        due_at=now + timedelta(hours=limits.first_due_hours),
        created_at=now,
    )
    for attempt in range(3):
        try:
            with transaction.atomic():
                ticket.save(force_insert=True)
            break
        except IntegrityError:
            if attempt == 2:  # three clashes of a random number in a row: not a clash
                raise
            ticket.ticket_no = _ticket_no()
    record(
        ticket,
        Kind.OPENED,
        source="",
        actor=actor,
        message=demand,
        params={"category": category, "hours": limits.first_due_hours},
        files=files,
        at=now,
    )
    effects.notify_shops([ticket], effects.OPENED_NOTICE, at=now)
    return ticket


def submit_locked(
    ticket: Ticket, *, actor, text: str, now, limits, files=(), params=None, data=None, extra_fields=()
) -> Ticket:
    """Record the merchant's result on a locked pending ticket (lock held; the role already checked).

    `extra_fields`: what the caller set on the ticket besides (a T-7 ship commitment).
    """
    source = transition(
        ticket, ticket.submit_result, action=_("提交处理结果"), now=now, limits=limits, text=text
    )
    ticket.save(update_fields=[*SUBMIT_FIELDS, *extra_fields, "updated_at"])
    record(
        ticket,
        Kind.RESULT_SUBMITTED,
        source=source,
        actor=actor,
        message=text,
        params=params,
        data=data,
        files=files,
        at=now,
    )
    return ticket


@transaction.atomic
def submit_result(ticket: Ticket | int, *, actor, text: str, attachments: Iterable = ()) -> Ticket:
    """The shop answers a pending ticket with its handling result (T-2): it goes to staff review."""
    text = clean_text(text, label=_("处理结果"))
    files = clean_files(attachments)
    ticket = lock_ticket(ticket, actor)
    require_merchant(actor, ticket)
    now, limits = clock()
    return submit_locked(ticket, actor=actor, text=text, files=files, now=now, limits=limits)


@transaction.atomic
def review_result(
    ticket: Ticket | int,
    *,
    actor,
    approve: bool,
    reason: str = "",
    liability: str | None = None,
    attachments: Iterable = (),
) -> Ticket:
    """Staff review the shop's result (T-2): approve closes it (a complaint with its liability, T-5);
    reject sends it back with a reason, due again 24 h later (default)."""
    require_platform(actor)
    files = clean_files(attachments)
    if approve:
        reason = clean_text(reason, label=_("审核意见"), required=False)
        liability = clean_choice(liability, Liability, _("责任方")) if liability else ""
    else:
        reason = clean_text(reason, label=_("驳回原因"))
        if liability:
            raise ApplicationError(_("驳回时不判定责任方，请在审核通过时填写。"), code="liability_on_reject")
    ticket = lock_ticket(ticket, actor)
    action = _("审核通过") if approve else _("审核驳回")
    require_transition(ticket.approve if approve else ticket.reject, action=action)  # the state first
    now, limits = clock()
    if approve:
        if ticket.is_complaint and not liability:
            raise ApplicationError(
                _("关闭投诉类服务单时请判定责任方（商家、买家、无责或恶意投诉）。"), code="liability_required"
            )
        source = transition(ticket, ticket.approve, action=action, now=now, liability=liability)
        ticket.save(
            update_fields=["status", "liability", "closed_at", "review_due_at", "review_late", "updated_at"]
        )
        record(
            ticket,
            Kind.APPROVED,
            source=source,
            actor=actor,
            message=reason,
            params={"liability": liability} if liability else None,
            files=files,
            at=now,
        )
        effects.notify_shops(
            [ticket], effects.APPROVED_NOTICE, at=now, message=reason, liability=liability or ""
        )
    else:
        source = transition(ticket, ticket.reject, action=action, now=now, limits=limits, reason=reason)
        ticket.save(
            update_fields=[
                "status",
                "reject_reason",
                "reject_count",
                "due_at",
                "review_due_at",
                "review_late",
                "updated_at",
            ]
        )
        record(
            ticket,
            Kind.REJECTED,
            source=source,
            actor=actor,
            message=reason,
            params={"hours": limits.redo_due_hours},
            files=files,
            at=now,
        )
        effects.notify_shops([ticket], effects.REJECTED_NOTICE, at=now, message=reason)
    return ticket
