"""Shop and membership data rules (M-1), late orders (M-4), settlement days (S-5), immutable events."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from merchants import selectors, services
from merchants.kernel.vocabulary import MerchantStatus, Role
from merchants.models import Merchant, OrderEvent, PlatformSettings, mask_phone, next_settlement_day
from merchants.transitions import Carrier, OrderStatus
from tests.factories import MembershipFactory, OrderFactory, UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKLY = Merchant.SettlementCycle.WEEKLY
HALF_MONTHLY = Merchant.SettlementCycle.HALF_MONTHLY
MONTHLY = Merchant.SettlementCycle.MONTHLY


# --- M-1 shop and members


def test_M1_new_shop_starts_at_lv1_and_active(db):
    shop = Merchant.objects.create(name="新店", code="new-shop")

    shop.refresh_from_db()

    assert shop.level == 1
    assert shop.level_label == "LV1"
    assert shop.status == MerchantStatus.ACTIVE
    assert shop.express_refund_enabled is False


def test_M1_shop_code_is_unique(shop):
    with pytest.raises(IntegrityError), transaction.atomic():
        Merchant.objects.create(name="冒名店", code=shop.code)

    assert Merchant.objects.filter(code=shop.code).count() == 1


def test_M1_shop_level_outside_lv0_lv7_fails_validation(shop):
    shop.level = 8

    with pytest.raises(ValidationError) as exc:
        shop.full_clean()

    assert "level" in exc.value.message_dict


def test_M1_membership_is_unique_per_user_and_shop(shop, clerk):
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(user=clerk, merchant=shop, role=Role.VIEWER)

    assert clerk.memberships.get().role == Role.AGENT


def test_M1_same_user_may_belong_to_two_shops(shop, other_shop):
    user = UserFactory(username="both")

    MembershipFactory(user=user, merchant=shop, role=Role.OWNER)
    MembershipFactory(user=user, merchant=other_shop, role=Role.VIEWER)

    assert set(user.memberships.values_list("merchant__code", "role")) == {
        ("shop1", Role.OWNER),
        ("shop2", Role.VIEWER),
    }


def test_M2_buyer_phone_is_masked():
    assert mask_phone("13812340000") == "138****0000"
    assert mask_phone(" 13812340000 ") == "138****0000"
    assert mask_phone("12345") == "*****"
    assert mask_phone("") == ""


def test_M3_platform_settings_are_a_single_row_with_spec_defaults(db):
    first = PlatformSettings.load()
    first.unpaid_cancel_hours = 2
    first.save()

    again = PlatformSettings.load()

    assert PlatformSettings.objects.count() == 1
    assert again.unpaid_cancel_hours == 2
    assert again.auto_receive_days == 15
    with pytest.raises(ValidationError):
        again.delete()


# --- M-4 late orders


@pytest.mark.parametrize(
    ("status", "ship_by_offset", "late"),
    [
        (OrderStatus.TO_SHIP, timedelta(minutes=-1), True),
        (OrderStatus.PARTIALLY_SHIPPED, timedelta(hours=-5), True),
        (OrderStatus.TO_SHIP, timedelta(minutes=1), False),
        (OrderStatus.SHIPPED, timedelta(hours=-5), False),
        (OrderStatus.RECEIVED, timedelta(hours=-5), False),
        (OrderStatus.CANCELLED, timedelta(hours=-5), False),
        (OrderStatus.UNPAID, timedelta(hours=-5), False),
        (OrderStatus.AWAITING_CONFIRMATION, timedelta(hours=-5), False),
    ],
)
def test_M4_is_late_only_while_a_shipment_is_owed_past_ship_by(shop, status, ship_by_offset, late):
    now = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=False):
        order = OrderFactory(
            merchant=shop, status=status, placed_at=now - timedelta(days=3), ship_by=now + ship_by_offset
        )

        assert order.is_late is late
        assert selectors.late_orders(None).filter(pk=order.pk).exists() is late


def test_M4_order_without_ship_by_is_never_late(shop):
    order = OrderFactory(merchant=shop, ship_by=None, placed_at=datetime(2020, 1, 1, tzinfo=SHANGHAI))

    assert order.is_late is False
    assert not selectors.late_orders(None).exists()


def test_M4_late_orders_are_scoped_to_the_actor(shop, other_shop, clerk, operator):
    overdue = datetime(2020, 1, 1, tzinfo=SHANGHAI)
    mine = OrderFactory(merchant=shop, ship_by=overdue)
    theirs = OrderFactory(merchant=other_shop, ship_by=overdue)
    OrderFactory(merchant=shop)  # ship_by 47 h ahead: not late

    clerk_sees = set(selectors.late_orders(clerk))
    operator_sees = set(selectors.late_orders(operator))

    assert clerk_sees == {mine}
    assert operator_sees == {mine, theirs}


def test_M4_late_orders_uses_the_given_time(shop):
    order = OrderFactory(merchant=shop)

    later = order.ship_by + timedelta(seconds=1)

    assert list(selectors.late_orders(None, now=later)) == [order]
    assert list(selectors.late_orders(None, now=order.ship_by)) == []


# --- S-5 settlement day in the merchant's next cycle


@pytest.mark.parametrize(
    ("received", "cycle", "due"),
    [
        (datetime(2026, 3, 4, 10, 0), WEEKLY, date(2026, 3, 9)),  # Wednesday -> next Monday
        (datetime(2026, 3, 9, 0, 30), WEEKLY, date(2026, 3, 16)),  # a Monday -> the Monday after
        (datetime(2026, 3, 8, 23, 59), WEEKLY, date(2026, 3, 9)),  # Sunday night -> tomorrow
        (datetime(2026, 12, 31, 12, 0), WEEKLY, date(2027, 1, 4)),  # across the year
        (datetime(2026, 3, 15, 9, 0), HALF_MONTHLY, date(2026, 3, 16)),
        (datetime(2026, 3, 16, 9, 0), HALF_MONTHLY, date(2026, 4, 1)),
        (datetime(2026, 2, 10, 9, 0), MONTHLY, date(2026, 3, 1)),
        (datetime(2026, 3, 1, 0, 0), MONTHLY, date(2026, 4, 1)),
        (datetime(2026, 12, 27, 9, 0), MONTHLY, date(2027, 1, 1)),
    ],
)
def test_S5_settlement_falls_due_on_the_first_day_of_the_next_cycle(received, cycle, due):
    assert next_settlement_day(received.replace(tzinfo=SHANGHAI), cycle) == due


def test_S5_settlement_day_is_computed_on_the_shanghai_date():
    # 16:30 UTC on 31 March is already 1 April in Shanghai: next month's cycle, not this one's.
    received = datetime(2026, 3, 31, 16, 30, tzinfo=ZoneInfo("UTC"))

    assert next_settlement_day(received, MONTHLY) == date(2026, 5, 1)


# --- Events are append-only


def test_event_cannot_be_updated(shop, clerk):
    order = OrderFactory(merchant=shop)
    services.ship(
        order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )
    event = OrderEvent.objects.get(order=order)

    event.message = "改写历史"
    with pytest.raises(ValidationError):
        event.save()

    event.refresh_from_db()
    assert event.message != "改写历史"


def test_event_cannot_be_deleted(shop, clerk):
    order = OrderFactory(merchant=shop)
    services.ship(
        order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )
    event = OrderEvent.objects.get(order=order)

    with pytest.raises(ValidationError):
        event.delete()

    assert OrderEvent.objects.filter(pk=event.pk).exists()
