"""What the after-sales app gives the platform's logistics feed (merchants.feeds): its return parcels.

merchants imports nothing above it, so the feed asks through the hook registered here (from
AftersalesConfig.ready): which cases a shop's (carrier, tracking number) is the return parcel of, and
how a return parcel's signed-for scan reaches the case (aftersales.services.record_return_signed, the
one writer of AfterSaleCase.return_signed_at; the system is the actor, as for every platform feed).
"""

from __future__ import annotations

from django.db.models import Q

from aftersales.models import AfterSaleCase
from aftersales.services import record_return_signed
from merchants.feeds import ReturnParcel, register_return_parcels, tracking_history
from merchants.models import TrackingEvent


def find_return_parcels(keys):
    """{(merchant_id, carrier, tracking_no): [ReturnParcel]} for the keys that are a case's return parcel."""
    found: dict[tuple[int, str, str], list[ReturnParcel]] = {}
    by_shop: dict[int, set[str]] = {}
    for merchant_id, _carrier, number in keys:
        by_shop.setdefault(merchant_id, set()).add(number)
    for merchant_id, numbers in by_shop.items():
        numbers = sorted(numbers)
        for start in range(0, len(numbers), 500):
            rows = (
                AfterSaleCase.objects.filter(
                    merchant_id=merchant_id, return_tracking_no__in=numbers[start : start + 500]
                )
                .exclude(Q(return_carrier="") | Q(return_shipped_at=None))
                .values_list("pk", "case_no", "merchant_id", "return_carrier", "return_tracking_no")
            )
            for pk, case_no, shop, carrier, number in rows:
                if (shop, carrier, number) in keys:
                    found.setdefault((shop, carrier, number), []).append(ReturnParcel(pk, case_no))
    return found


def return_signed(case_id: int, *, signed_at):
    return record_return_signed(case_id, signed_at=signed_at, actor=None)


def return_history(case: AfterSaleCase):
    """The 物流轨迹 of the case's return parcel, newest first."""
    return tracking_history(
        case.merchant_id, TrackingEvent.Direction.RETURN, [(case.return_carrier, case.return_tracking_no)]
    )


register_return_parcels(find_return_parcels, return_signed)
