"""Levels, first part: the data the metrics read (L-1, L-3, L-5, L-7) — flags, daily counts, signed-for time."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from aftersales import services as case_services
from aftersales.transitions import CaseStatus
from merchants import services
from merchants.models import FakeShippingSource, ImDailyStat, OrderEvent, Package, ShopDay
from merchants.services import ItemLine
from merchants.transitions import PaymentMethod
from tests.aftersales.factories import make_order, walk_to
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _place(shop, no, *, amount="10.00", method=PaymentMethod.ONLINE, paid=True, at=None):
    product = ProductFactory(merchant=shop)
    return services.place_order(
        shop,
        order_no=no,
        buyer_id="B1",
        buyer_name="买家",
        lines=[ItemLine(product=product, quantity=1, paid_amount=Decimal(amount))],
        payment_method=method,
        paid=paid,
        placed_at=at,
    )


def _days(shop):
    return {d.day: (d.orders, d.gmv) for d in ShopDay.objects.filter(merchant=shop)}


# ---- ShopDay (L-1 caps, L-3 "an order counts when ...")


def test_L3_shopday_counts_cod_at_placement_online_when_paid_never_unpaid(shop):
    day1 = datetime(2026, 11, 3, 23, 30, tzinfo=SH)  # 23:30 local: still the 3rd in Shanghai (15:30 UTC)
    _place(shop, "N1", amount="10.00", at=day1)  # online, paid at once
    _place(shop, "N2", amount="20.00", method=PaymentMethod.COD, at=day1)  # cod: counted when placed
    unpaid = _place(shop, "N3", amount="40.00", paid=False, at=day1)  # unpaid: not counted
    assert _days(shop) == {day1.date(): (2, Decimal("30.00"))}
    services.pay_order(unpaid, at=day1 + timedelta(hours=1))  # paid on the 4th (local)
    assert _days(shop) == {
        day1.date(): (2, Decimal("30.00")),
        day1.date() + timedelta(days=1): (1, Decimal("40.00")),
    }


def test_L3_shopday_rebuild_gives_the_same_rows_as_the_upkeep(shop, other_shop):
    at = timezone.now() - timedelta(days=2)
    _place(shop, "R1", amount="10.00", at=at)
    _place(shop, "R2", amount="5.50", method=PaymentMethod.COD, at=at)
    _place(shop, "R3", amount="7.00", paid=False, at=at)
    services.pay_order(_place(other_shop, "R4", amount="3.00", paid=False, at=at), at=at + timedelta(days=1))
    kept = {m.pk: _days(m) for m in (shop, other_shop)}
    ShopDay.objects.all().delete()
    ShopDay.objects.create(merchant=shop, day=at.date() - timedelta(days=9), orders=99, gmv=Decimal("1"))
    assert services.rebuild_shop_days() == 2
    assert {m.pk: _days(m) for m in (shop, other_shop)} == kept
    ShopDay.objects.filter(merchant=other_shop).delete()
    assert services.rebuild_shop_days(merchant_ids=[other_shop.pk]) == 1
    assert _days(other_shop) == kept[other_shop.pk] and _days(shop) == kept[shop.pk]


def test_L1_shopday_is_unique_per_shop_and_day(shop):
    ShopDay.objects.create(merchant=shop, day=datetime(2026, 11, 1).date())
    with pytest.raises(IntegrityError):
        ShopDay.objects.create(merchant=shop, day=datetime(2026, 11, 1).date())


# ---- Fake shipping (L-7)


def test_L7_fake_shipping_flag_set_by_staff_or_feed_with_an_event(shop, operator, owner):
    order = make_order(shop, status="shipped")
    package = order.packages.get()
    with pytest.raises(ValidationError):
        services.flag_fake_shipping(package, actor=owner)  # a shop never flags itself
    services.flag_fake_shipping(package, actor=operator)
    package.refresh_from_db()
    assert package.fake_shipping and package.fake_shipping_at is not None
    assert package.fake_shipping_source == FakeShippingSource.STAFF
    services.flag_fake_shipping(package, None, source=FakeShippingSource.LOGISTICS_FEED)  # repeated: no-op
    events = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.FAKE_SHIPPING_FLAGGED)
    assert events.count() == 1 and events.get().params["source"] == "staff"
    services.flag_fake_shipping(package, actor=None, flagged=False)
    package.refresh_from_db()
    assert (
        not package.fake_shipping and package.fake_shipping_at is None and package.fake_shipping_source == ""
    )
    assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.FAKE_SHIPPING_CLEARED).count() == 1
    with pytest.raises(ValidationError):
        services.flag_fake_shipping(package, actor=None, source="rumour")
    assert not Package.objects.get(pk=package.pk).fake_shipping


# ---- IM daily statistics (L-3, L-6)


def test_L3_im_daily_stat_holds_sums_and_counts_one_row_per_day(shop):
    day = datetime(2026, 11, 2).date()
    ImDailyStat.objects.create(
        merchant=shop, day=day, sessions=10, human_sessions=4, human_first_response_seconds=480,
        rated_sessions=5, low_rated_sessions=1,
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        ImDailyStat.objects.create(merchant=shop, day=day)


def test_L3_im_daily_stat_refuses_more_human_than_all_sessions(shop):
    with pytest.raises(IntegrityError):
        ImDailyStat.objects.create(
            merchant=shop, day=datetime(2026, 11, 2).date(), sessions=1, human_sessions=2
        )


# ---- The return parcel's signed-for time (L-5)


def test_L5_return_signed_keeps_the_earliest_and_falls_back_to_receipt(shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    shipped = timezone.now() - timedelta(hours=3)
    type(case).objects.filter(pk=case.pk).update(return_shipped_at=shipped)
    with pytest.raises(ValidationError):
        case_services.record_return_signed(case, signed_at=shipped - timedelta(minutes=1))
    with pytest.raises(ValidationError):
        case_services.record_return_signed(case, signed_at=timezone.now() + timedelta(hours=1))
    later, earlier = shipped + timedelta(hours=2), shipped + timedelta(hours=1)
    case_services.record_return_signed(case, signed_at=later)
    case_services.record_return_signed(case, signed_at=earlier)
    case_services.record_return_signed(case, signed_at=later)  # later again: kept the earlier
    case.refresh_from_db()
    assert case.return_signed_at == earlier
    assert case.events.filter(kind="return_signed").count() == 2
    case_services.confirm_return(case, actor=clerk)
    case.refresh_from_db()
    assert case.return_signed_at == earlier  # the feed's time stays


def test_L5_without_a_feed_the_merchant_receipt_is_the_signed_time(shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    case = case_services.confirm_return(case, actor=clerk)
    case.refresh_from_db()
    assert case.return_signed_at == case.return_received_at is not None


def test_L5_no_signed_time_for_a_case_without_a_return_parcel(shop, clerk):
    case = walk_to(CaseStatus.AWAITING_RETURN, shop, clerk)
    with pytest.raises(ValidationError):
        case_services.record_return_signed(case, signed_at=timezone.now())
