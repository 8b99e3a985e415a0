"""The refund of a paid order that platform staff cancel (M-3 through A-6).

merchants.services.cancel_order calls this hook (registered in AftersalesConfig.ready: merchants imports
nothing above it) with the order row locked, before the order leaves its paid state. For every item with
money left on it — a partly refunded item refunds its remainder — it opens a `refund_only` case and the
system approves it at once, on the staff member's decision: the same approve path as any approval, so
the refund goes to the gateway after commit with the case's idempotency key (A-6), and the case's own
timeline says who decided and why.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from aftersales.models import AfterSaleCase, AftersalesSettings, _case_no
from aftersales.services._common import Kind, record
from aftersales.services.cases import _approve  # lock held: the order and item rows are ours
from aftersales.transitions import OPEN_STATES, CaseType, Reason, postage_payer
from merchants.effects import hold_item
from merchants.kernel.scoping import actor_kind_of
from merchants.models import Order, OrderItem
from merchants.transitions import CancelRefund, paid_cancel_hook

# The reason the cases carry: the buyer asked the platform to cancel, nothing is wrong with the goods.
CANCEL_REASON = Reason.OTHER


def _open_refund_case(item: OrderItem, order: Order, *, amount, at: datetime) -> AfterSaleCase:
    case = AfterSaleCase(
        merchant_id=order.merchant_id,
        order=order,
        item=item,
        product=item.product,
        order_no=order.order_no,
        buyer_id=order.buyer_id,
        buyer_name=order.buyer_name,
        type=CaseType.REFUND_ONLY,
        reason=CANCEL_REASON,
        quantity=item.quantity,
        amount=amount,
        postage_payer=postage_payer(CANCEL_REASON),
        merchant_deadline_at=None,
        deadline_at=None,
        created_at=at,
    )
    for attempt in range(3):
        try:
            with transaction.atomic():
                case.save(force_insert=True)
            break
        except IntegrityError:
            if attempt == 2 or not AfterSaleCase.objects.filter(case_no=case.case_no).exists():
                raise  # not a clash of random numbers: the item got an open case meanwhile (lock held: never)
            case.case_no = _case_no()
    case.merchant = order.merchant
    return case


@paid_cancel_hook
def refund_cancelled_order(order: Order, *, actor, reason: str, at: datetime) -> list[CancelRefund]:
    """Refund a paid order being cancelled by platform staff in full: one system-approved refund-only
    case per item with money left (M-3, A-6). Order row locked by the caller; idempotent: an item refunded
    in full, or with an open case (its refund already under way), gets no second case."""
    items = list(
        OrderItem.objects.select_for_update(of=("self",))
        .filter(order=order)
        .select_related("product")
        .order_by("pk")
    )
    open_items = set(
        AfterSaleCase.objects.filter(item__in=items, status__in=OPEN_STATES).values_list("item_id", flat=True)
    )
    decided_by = {
        "order_cancelled": True,
        "decided_by": getattr(actor, "pk", None),
        "decided_by_kind": actor_kind_of(actor),
        "decided_by_name": getattr(actor, "username", ""),
    }
    limits = AftersalesSettings.load()
    refunds = []
    for item in items:
        amount = item.refundable_amount()
        if amount <= 0 or item.pk in open_items:
            continue
        item.order = order
        case = _open_refund_case(item, order, amount=amount, at=at)
        hold_item(item)
        record(
            case,
            Kind.OPENED,
            source="",
            actor=None,
            message=reason,
            amount=amount,
            data={
                "type": CaseType.REFUND_ONLY,
                "reason": CANCEL_REASON,
                "quantity": item.quantity,
                **decided_by,
            },
            at=at,
        )
        _approve(
            case,
            actor=None,
            now=at,
            limits=limits,
            params={"why": "order_cancelled", "no": order.order_no, "amount": amount},
            data=decided_by,
        )
        refunds.append(CancelRefund(item_id=item.pk, case_no=case.case_no, amount=amount))
    return refunds


__all__ = ["refund_cancelled_order"]
