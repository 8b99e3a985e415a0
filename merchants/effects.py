"""What other apps' moves do to order items (S-2), each defined once: a single form and a batch form.

An after-sales case that opens locks its item against shipping; one that ends without money moving
releases it; a refund adds to the item's refunded amount, and an item refunded in full never ships
(which may complete, or close, its order: merchants.services.resettle_shipping). The single forms
serve the person path (one locked case), the batch forms the deadline sweep and bulk approval (many
locked cases, one UPDATE per distinct value instead of one per row). The caller holds the order and
item locks (order first). tests/aftersales/test_parity.py proves each pair leaves the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Case, F, Value, When
from django.utils.translation import gettext as _

from merchants.kernel.workflow import ApplicationError
from merchants.models import OrderItem
from merchants.services import resettle_shipping
from merchants.transitions import AftersaleLock


def _check_refund(item: OrderItem, amount: Decimal) -> None:
    if amount is None or amount < 0 or item.refunded_amount + amount > item.paid_amount:
        raise ApplicationError(_("退款金额超过了该商品可退的金额。"), code="over_refund")


# ---- a case opens: the item may not ship (S-2)


def hold_item(item: OrderItem) -> None:
    """An after-sales case opened on the item: it cannot ship while the case is open (lock held)."""
    item.aftersale_lock = AftersaleLock.OPEN
    item.save(update_fields=["aftersale_lock"])


# ---- a case ends without a refund: the item is shippable again


def release_item(item: OrderItem) -> None:
    """The item's case ended without money moving (closed, cancelled, exchanged): shippable again."""
    item.aftersale_lock = AftersaleLock.NONE
    item.save(update_fields=["aftersale_lock"])


def release_items(item_ids: Sequence[int]) -> None:
    """The batch form of release_item, by item id (a sweep has not loaded the items): one UPDATE."""
    if item_ids:
        OrderItem.objects.filter(pk__any=list(item_ids)).update(aftersale_lock=AftersaleLock.NONE)


# ---- a case refunded: the amount is added; an item refunded in full never ships


def refund_item(item: OrderItem, amount: Decimal) -> OrderItem:
    """Add a refund to the item (never past what was paid); an item refunded in full leaves shipping."""
    item = OrderItem.objects.select_for_update(of=("self",)).get(pk=item.pk)  # the row as it is now
    _check_refund(item, amount)
    item.refunded_amount += amount
    full = item.refunded_amount >= item.paid_amount
    # A partial refund leaves the rest of the item shippable.
    item.aftersale_lock = AftersaleLock.REFUNDED if full else AftersaleLock.NONE
    item.save(update_fields=["refunded_amount", "aftersale_lock"])
    if full and item.package_id is None:
        resettle_shipping(item.order_id)
    return item


def refund_items(refunds: Sequence[tuple[OrderItem, Decimal]]) -> None:
    """The batch form of refund_item: `refunds` pairs a locked item (as loaded) with its amount.

    One UPDATE per distinct amount, one for the locks; a refund past what was paid raises (the sweep
    then retries the batch row by row, so only that row fails).
    """
    if not refunds:
        return
    by_amount: dict[Decimal, list[int]] = defaultdict(list)
    for item, amount in refunds:
        _check_refund(item, amount)
        by_amount[amount].append(item.pk)
    for amount, item_ids in by_amount.items():
        OrderItem.objects.filter(pk__any=item_ids).update(refunded_amount=F("refunded_amount") + amount)
    OrderItem.objects.filter(pk__any=[item.pk for item, _amount in refunds]).update(
        aftersale_lock=Case(
            When(refunded_amount__gte=F("paid_amount"), then=Value(AftersaleLock.REFUNDED)),
            default=Value(AftersaleLock.NONE),
        )
    )
    for item, amount in refunds:  # rare: refunded in full before shipping (the order row is locked)
        if item.package_id is None and item.refunded_amount + amount >= item.paid_amount:
            resettle_shipping(item.order_id)
