"""Order and shipping services: M-2 transitions, M-3 cancelling, M-4 late shipment, S-1..S-4, events."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from merchants import services
from merchants.kernel.workflow import (
    ActorNotAllowedError,
    ApplicationError,
    InvalidTransitionError,
    ObjectNotFoundError,
)
from merchants.models import ActorKind, Order, OrderEvent, OrderItem, Package, PlatformSettings
from merchants.services import BUYER, EventKind, ItemLine
from merchants.transitions import AftersaleLock, Carrier, OrderStatus, PaymentMethod
from tests.factories import OrderFactory, ProductFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONLINE, COD = PaymentMethod.ONLINE, PaymentMethod.COD


def _snapshot(order):
    """Everything a refused service must leave as it was."""
    order = Order.objects.get(pk=order.pk)
    return {
        "status": order.status,
        "updated_at": order.updated_at,
        "deadline_at": order.deadline_at,
        "events": OrderEvent.objects.filter(order=order).count(),
        "packages": list(Package.objects.filter(order=order).values_list("pk", "carrier", "tracking_no")),
        "items": list(OrderItem.objects.filter(order=order).values_list("pk", "package_id")),
    }


def _items(order):
    return list(order.items.order_by("pk"))


def _ship(order, items, actor, tracking_no="SF1000000001", carrier=Carrier.SF):
    return services.ship(order, items=items, carrier=carrier, tracking_no=tracking_no, actor=actor)


def _messages(excinfo) -> str:
    return " ".join(excinfo.value.messages)


def _place(shop, *, payment_method=ONLINE, paid=True, lines=1, **kwargs):
    product = ProductFactory(merchant=shop)
    return services.place_order(
        shop,
        order_no=kwargs.pop("order_no", f"P{Order.objects.count() + 1:012d}"),
        buyer_id="B000001",
        buyer_name="李四",
        buyer_phone="13900001111",
        payment_method=payment_method,
        paid=paid,
        lines=[ItemLine(product=product, quantity=1, paid_amount=Decimal("50.00")) for _ in range(lines)],
        **kwargs,
    )


# --- M-2 orders arrive


def test_M2_place_paid_online_order_is_to_ship(shop):
    order = _place(shop, lines=2)

    assert order.status == OrderStatus.TO_SHIP
    assert order.paid_amount == Decimal("100.00")
    assert order.paid_at == order.placed_at
    assert order.deadline_at is None
    assert order.items.count() == 2


def test_M2_place_unpaid_online_order_waits_for_payment_with_a_deadline(shop):
    placed = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)

    order = _place(shop, paid=False, placed_at=placed)

    assert order.status == OrderStatus.UNPAID
    assert order.paid_at is None
    assert order.deadline_at == placed + timedelta(hours=24)


def test_M2_place_cod_order_awaits_confirmation(shop):
    order = _place(shop, payment_method=COD, paid=True)

    assert order.status == OrderStatus.AWAITING_CONFIRMATION
    assert order.paid_at is None
    assert order.deadline_at is None


def test_M2_place_order_refuses_duplicate_number_and_foreign_products(shop, other_shop):
    _place(shop, order_no="DUP0001")
    foreign = ProductFactory(merchant=other_shop)

    with pytest.raises(ApplicationError) as duplicate:
        _place(shop, order_no="DUP0001")
    with pytest.raises(ApplicationError) as wrong_shop:
        services.place_order(
            shop,
            order_no="X1",
            buyer_id="B",
            buyer_name="B",
            lines=[ItemLine(product=foreign, quantity=1, paid_amount=Decimal("1"))],
        )
    with pytest.raises(ApplicationError) as empty:
        services.place_order(shop, order_no="X2", buyer_id="B", buyer_name="B", lines=[])

    assert "DUP0001" in _messages(duplicate)
    assert foreign.name in _messages(wrong_shop)
    assert "至少" in _messages(empty)
    assert Order.objects.count() == 1


# --- M-2 each transition allowed


def test_M2_pay_moves_unpaid_online_order_to_to_ship(shop):
    order = _place(shop, paid=False)
    paid_at = datetime(2026, 3, 2, 11, 0, tzinfo=SHANGHAI)

    services.pay_order(order, at=paid_at)

    order.refresh_from_db()
    assert order.status == OrderStatus.TO_SHIP
    assert order.paid_at == paid_at
    assert order.deadline_at is None  # M-3: the auto-cancel no longer applies


def test_M2_confirm_cod_moves_awaiting_confirmation_to_to_ship(shop, clerk):
    order = _place(shop, payment_method=COD)

    services.confirm_cod(order, actor=clerk)

    order.refresh_from_db()
    assert order.status == OrderStatus.TO_SHIP


def test_M2_ship_moves_to_ship_to_partially_shipped_to_shipped(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    now = datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI)

    with time_machine.travel(now, tick=False):
        _ship(order, [first], clerk, "SF1000000001")
        order.refresh_from_db()
        assert order.status == OrderStatus.PARTIALLY_SHIPPED
        assert order.shipped_at is None
        assert order.deadline_at is None
    with time_machine.travel(now + timedelta(hours=3), tick=False):
        _ship(order, [second], clerk, "SF1000000002")

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.shipped_at == now + timedelta(hours=3)
    assert order.deadline_at == now + timedelta(hours=3, days=15)  # S-5 clock starts when fully shipped


def test_M2_ship_all_items_at_once_moves_to_shipped(shop, clerk):
    order = OrderFactory(merchant=shop, items=3)

    _ship(order, _items(order), clerk)

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.packages.count() == 1


def test_M2_ship_uses_the_platform_receipt_period(shop, clerk):
    settings_ = PlatformSettings.load()
    settings_.auto_receive_days = 10
    settings_.save()
    order = OrderFactory(merchant=shop)

    _ship(order, _items(order), clerk)

    order.refresh_from_db()
    assert order.deadline_at == order.shipped_at + timedelta(days=10)


def test_M2_buyer_confirm_receipt_moves_shipped_to_received(shop, clerk):
    shop.settlement_cycle = shop.SettlementCycle.MONTHLY
    shop.save()
    order = OrderFactory(merchant=shop)
    _ship(order, _items(order), clerk)

    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI), tick=False):
        services.confirm_receipt(order, actor=BUYER)

    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED
    assert order.received_at == datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)
    assert order.deadline_at is None
    assert str(order.settlement_due_on) == "2026-04-01"


def test_M2_platform_operator_may_confirm_receipt_for_the_buyer(shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    _ship(order, _items(order), clerk)

    services.confirm_receipt(order, actor=operator)

    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED


def test_M2_merchant_cannot_confirm_receipt(shop, clerk, owner):
    order = OrderFactory(merchant=shop)
    _ship(order, _items(order), clerk)
    before = _snapshot(order)

    with pytest.raises(ActorNotAllowedError) as exc:
        services.confirm_receipt(order, actor=owner)

    assert "买家" in _messages(exc)
    assert _snapshot(order) == before


# --- M-2 refused transitions change nothing


def _do_pay(order, user):
    services.pay_order(order)


def _do_confirm_cod(order, user):
    services.confirm_cod(order, actor=user)


def _do_ship(order, user):
    _ship(order, _items(order), user, "ZT2000000001", Carrier.ZTO)


def _do_confirm_receipt(order, user):
    services.confirm_receipt(order, actor=BUYER)


@pytest.mark.parametrize(
    ("payment_method", "status", "action", "message"),
    [
        # pay: only an unpaid online order
        (ONLINE, OrderStatus.TO_SHIP, _do_pay, "待发货"),
        (ONLINE, OrderStatus.CANCELLED, _do_pay, "已取消"),
        (COD, OrderStatus.AWAITING_CONFIRMATION, _do_pay, "待确认"),
        (COD, OrderStatus.UNPAID, _do_pay, "在线支付订单才有付款这一步"),
        # confirm_cod: only a cod order awaiting confirmation
        (ONLINE, OrderStatus.UNPAID, _do_confirm_cod, "待付款"),
        (COD, OrderStatus.TO_SHIP, _do_confirm_cod, "待发货"),
        (ONLINE, OrderStatus.AWAITING_CONFIRMATION, _do_confirm_cod, "货到付款订单才需要商家确认"),
        # ship: only to_ship / partially_shipped
        (ONLINE, OrderStatus.UNPAID, _do_ship, "待付款"),
        (COD, OrderStatus.AWAITING_CONFIRMATION, _do_ship, "待确认"),
        (ONLINE, OrderStatus.CANCELLED, _do_ship, "已取消"),
        (ONLINE, OrderStatus.RECEIVED, _do_ship, "已收货"),
        # confirm_receipt: only shipped
        (ONLINE, OrderStatus.TO_SHIP, _do_confirm_receipt, "待发货"),
        (ONLINE, OrderStatus.PARTIALLY_SHIPPED, _do_confirm_receipt, "部分发货"),
        (ONLINE, OrderStatus.RECEIVED, _do_confirm_receipt, "已收货"),
        (COD, OrderStatus.CANCELLED, _do_confirm_receipt, "已取消"),
    ],
)
def test_M2_transition_from_wrong_state_is_refused_and_changes_nothing(
    shop, clerk, payment_method, status, action, message
):
    order = OrderFactory(merchant=shop, payment_method=payment_method, status=status)
    before = _snapshot(order)

    with pytest.raises(InvalidTransitionError) as exc:
        action(order, clerk)

    assert message in _messages(exc)
    assert _snapshot(order) == before


def test_M2_viewer_cannot_confirm_cod_or_ship(shop, viewer):
    cod = OrderFactory(merchant=shop, payment_method=COD, status=OrderStatus.AWAITING_CONFIRMATION)
    online = OrderFactory(merchant=shop)
    before = (_snapshot(cod), _snapshot(online))

    with pytest.raises(ActorNotAllowedError) as confirm:
        services.confirm_cod(cod, actor=viewer)
    with pytest.raises(ActorNotAllowedError) as ship:
        _ship(online, _items(online), viewer)

    assert "只读" in _messages(confirm)
    assert "只读" in _messages(ship)
    assert (_snapshot(cod), _snapshot(online)) == before


def test_M2_other_shops_user_gets_not_found(shop, other_clerk):
    cod = OrderFactory(merchant=shop, payment_method=COD, status=OrderStatus.AWAITING_CONFIRMATION)
    online = OrderFactory(merchant=shop)
    before = (_snapshot(cod), _snapshot(online))

    with pytest.raises(ObjectNotFoundError):
        services.confirm_cod(cod, actor=other_clerk)
    with pytest.raises(ObjectNotFoundError):
        _ship(online, _items(online), other_clerk)

    assert (_snapshot(cod), _snapshot(online)) == before


def test_M2_platform_operator_cannot_ship_for_the_merchant(shop, operator):
    order = OrderFactory(merchant=shop)
    before = _snapshot(order)

    with pytest.raises(ActorNotAllowedError) as exc:
        _ship(order, _items(order), operator)

    assert "平台人员不能代替商家" in _messages(exc)
    assert _snapshot(order) == before


# --- M-3 cancelling


def test_M3_buyer_cancels_unpaid_online_order(shop):
    order = _place(shop, paid=False)

    services.cancel_order(order, actor=BUYER, reason="")

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancelled_at is not None
    assert order.cancel_reason == "买家取消"
    assert order.deadline_at is None


def test_M3_buyer_cannot_cancel_paid_online_order(shop):
    order = OrderFactory(merchant=shop, payment_method=ONLINE, status=OrderStatus.TO_SHIP)
    before = _snapshot(order)

    with pytest.raises(ActorNotAllowedError) as exc:
        services.cancel_order(order, actor=BUYER, reason="不想要了")

    assert "已付款" in _messages(exc)
    assert _snapshot(order) == before


@pytest.mark.parametrize("status", [OrderStatus.AWAITING_CONFIRMATION, OrderStatus.TO_SHIP])
def test_M3_buyer_cannot_cancel_cod_order(shop, status):
    order = OrderFactory(merchant=shop, payment_method=COD, status=status)
    before = _snapshot(order)

    with pytest.raises(ActorNotAllowedError) as exc:
        services.cancel_order(order, actor=BUYER, reason="不想要了")

    assert "货到付款订单提交后，买家不能取消" in _messages(exc)
    assert _snapshot(order) == before


@pytest.mark.parametrize("status", [OrderStatus.UNPAID, OrderStatus.TO_SHIP])
def test_M3_merchant_cannot_cancel_online_order_paid_or_not(shop, owner, status):
    order = OrderFactory(merchant=shop, payment_method=ONLINE, status=status)
    before = _snapshot(order)

    with pytest.raises(ActorNotAllowedError) as exc:
        services.cancel_order(order, actor=owner, reason="缺货")

    assert "在线支付订单不能由商家取消" in _messages(exc)
    assert _snapshot(order) == before


@pytest.mark.parametrize("status", [OrderStatus.AWAITING_CONFIRMATION, OrderStatus.TO_SHIP])
def test_M3_merchant_cancels_cod_order_before_shipping(shop, clerk, status):
    order = OrderFactory(merchant=shop, payment_method=COD, status=status)

    services.cancel_order(order, actor=clerk, reason="联系不上买家")

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == "联系不上买家"


def test_M3_merchant_must_give_a_reason(shop, clerk):
    order = OrderFactory(merchant=shop, payment_method=COD, status=OrderStatus.TO_SHIP)
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        services.cancel_order(order, actor=clerk, reason="   ")

    assert "取消原因" in _messages(exc)
    assert _snapshot(order) == before


@pytest.mark.parametrize(
    ("payment_method", "who"),
    [(COD, "clerk"), (ONLINE, "operator"), (ONLINE, "buyer"), (COD, "buyer")],
)
def test_M3_nobody_but_staff_on_cod_cancels_once_anything_shipped(request, shop, payment_method, who):
    shipper = request.getfixturevalue("clerk")
    actor = None if who == "buyer" else request.getfixturevalue(who)
    order = OrderFactory(merchant=shop, payment_method=payment_method, items=2)
    _ship(order, _items(order)[:1], shipper)
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    before = _snapshot(order)

    with pytest.raises(ValidationError):
        services.cancel_order(order, actor=actor, reason="不要了")

    assert _snapshot(order) == before


def test_M3_partially_shipped_cod_refusal_names_the_shipment(shop, clerk):
    order = OrderFactory(merchant=shop, payment_method=COD, items=2)
    _ship(order, _items(order)[:1], clerk)

    with pytest.raises(ApplicationError) as exc:
        services.cancel_order(order, actor=clerk, reason="缺货")

    assert "已有商品发货" in _messages(exc)


def test_M3_viewer_cannot_cancel(shop, viewer):
    order = OrderFactory(merchant=shop, payment_method=COD, status=OrderStatus.TO_SHIP)
    before = _snapshot(order)

    with pytest.raises(ActorNotAllowedError) as exc:
        services.cancel_order(order, actor=viewer, reason="缺货")

    assert "只读" in _messages(exc)
    assert _snapshot(order) == before


def test_M3_other_shops_user_gets_not_found(shop, other_clerk):
    order = OrderFactory(merchant=shop, payment_method=COD, status=OrderStatus.TO_SHIP)
    before = _snapshot(order)

    with pytest.raises(ObjectNotFoundError):
        services.cancel_order(order, actor=other_clerk, reason="缺货")

    assert _snapshot(order) == before


@pytest.mark.parametrize(
    ("payment_method", "status"),
    [(ONLINE, OrderStatus.UNPAID), (ONLINE, OrderStatus.TO_SHIP), (COD, OrderStatus.AWAITING_CONFIRMATION)],
)
def test_M3_platform_operator_can_cancel(shop, operator, payment_method, status):
    order = OrderFactory(merchant=shop, payment_method=payment_method, status=status)

    services.cancel_order(order, actor=operator, reason="买家投诉，平台取消")

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    event = order.events.get(kind=services.EventKind.CANCELLED)
    assert (event.actor, event.actor_kind) == (operator, ActorKind.PLATFORM)


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.RECEIVED, OrderStatus.CANCELLED])
def test_M3_platform_operator_cannot_cancel_a_finished_order(shop, operator, status):
    order = OrderFactory(merchant=shop, status=status)
    before = _snapshot(order)

    with pytest.raises(ValidationError):
        services.cancel_order(order, actor=operator, reason="平台取消")

    assert _snapshot(order) == before


# --- M-4 late shipment


def test_M4_shipment_after_ship_by_sets_shipped_late(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    _ship(order, [first], clerk, "SF1000000001")  # on time, but the order still owes an item

    with time_machine.travel(order.ship_by + timedelta(minutes=1), tick=False):
        _ship(order, [second], clerk, "SF1000000002")

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.shipped_late is True


def test_M4_shipment_before_ship_by_is_on_time(shop, clerk):
    order = OrderFactory(merchant=shop)

    with time_machine.travel(order.ship_by - timedelta(minutes=1), tick=False):
        _ship(order, _items(order), clerk)

    order.refresh_from_db()
    assert order.shipped_late is False
    assert order.is_late is False


# --- S-1 packages


def test_S1_item_cannot_ship_twice(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, _second = _items(order)
    package = _ship(order, [first], clerk, "SF1000000001")
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        _ship(order, [first], clerk, "YT3000000001", Carrier.YTO)

    assert "SF1000000001" in _messages(exc)
    assert "不能拆分到多个运单" in _messages(exc)
    assert _snapshot(order) == before
    assert list(package.items.all()) == [first]


def test_S1_item_shipped_together_with_a_new_one_is_refused(shop, clerk):
    order = OrderFactory(merchant=shop, items=3)
    first, second, _third = _items(order)
    _ship(order, [first], clerk, "SF1000000001")
    before = _snapshot(order)

    with pytest.raises(ApplicationError):
        _ship(order, [first, second], clerk, "SF1000000002")

    assert _snapshot(order) == before


def test_S1_package_carries_several_items(shop, clerk):
    order = OrderFactory(merchant=shop, items=3)
    first, second, third = _items(order)

    package = _ship(order, [second, first.pk], clerk, "JD0000000001", Carrier.JD)

    order.refresh_from_db()
    assert set(package.items.all()) == {first, second}
    assert package.order == order
    assert package.merchant == shop
    assert (package.carrier, package.tracking_no) == (Carrier.JD, "JD0000000001")
    third.refresh_from_db()
    assert third.package is None
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert order.events.get().data["items"] == sorted([first.pk, second.pk])


def test_S1_items_of_another_order_are_refused(shop, clerk):
    order = OrderFactory(merchant=shop)
    other = OrderFactory(merchant=shop)
    before = (_snapshot(order), _snapshot(other))

    with pytest.raises(ApplicationError) as exc:
        _ship(order, _items(order) + _items(other), clerk)

    assert order.order_no in _messages(exc)
    assert (_snapshot(order), _snapshot(other)) == before


def test_S1_items_of_another_shop_are_refused(shop, other_shop, clerk):
    order = OrderFactory(merchant=shop)
    foreign = OrderFactory(merchant=other_shop)
    before = (_snapshot(order), _snapshot(foreign))

    with pytest.raises(ApplicationError):
        _ship(order, _items(foreign), clerk)

    assert (_snapshot(order), _snapshot(foreign)) == before


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "请选择要发货的商品"),
        (["abc"], "所选商品无效"),
        ([None], "所选商品无效"),
        ([999999], "不属于订单"),
    ],
)
def test_S1_missing_or_unknown_items_are_refused(shop, clerk, items, message):
    order = OrderFactory(merchant=shop)
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        _ship(order, items, clerk)

    assert message in _messages(exc)
    assert _snapshot(order) == before


@pytest.mark.parametrize(
    ("carrier", "tracking_no", "message"),
    [
        ("", "SF1234567890", "请选择快递公司"),
        ("shunfeng", "SF1234567890", "未知的快递公司：shunfeng"),
        (Carrier.SF, "", "请填写运单号"),
        (Carrier.SF, "   ", "请填写运单号"),
        (Carrier.SF, "SF12", "6–32 位"),
        (Carrier.SF, "SF 1234 5678", "顺丰速运的运单号应为"),  # normalised to SF12345678: cut short
        (Carrier.SF, "SF1234567890<script>", "6–32 位"),
        (Carrier.SF, "S" * 33, "6–32 位"),
    ],
)
def test_S1_unknown_carrier_or_bad_tracking_is_refused(shop, clerk, carrier, tracking_no, message):
    order = OrderFactory(merchant=shop)
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        _ship(order, _items(order), clerk, tracking_no, carrier)

    assert message in _messages(exc)
    assert _snapshot(order) == before


def test_S1_tracking_number_is_trimmed(shop, clerk):
    order = OrderFactory(merchant=shop)

    package = _ship(order, _items(order), clerk, "  SF1234567890 ")

    assert package.tracking_no == "SF1234567890"


def test_S1_second_package_cannot_reuse_the_first_ones_tracking(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    _ship(order, [first], clerk, "SF1000000001")
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        _ship(order, [second], clerk, "SF1000000001")

    assert "同一包裹的商品请一次选中发货" in _messages(exc)
    assert _snapshot(order) == before


# --- S-2 after-sales locks and refunded items


@pytest.mark.parametrize(
    ("lock", "message"), [(AftersaleLock.OPEN, "进行中的售后"), (AftersaleLock.REFUNDED, "已退款成功")]
)
def test_S2_item_with_open_or_refunded_aftersale_cannot_ship(shop, clerk, lock, message):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    OrderItem.objects.filter(pk=second.pk).update(aftersale_lock=lock)
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        _ship(order, [first, second], clerk)

    assert message in _messages(exc)
    assert second.product.name in _messages(exc)
    assert _snapshot(order) == before


def test_S2_order_is_shipped_when_every_item_not_refunded_shipped(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    OrderItem.objects.filter(pk=second.pk).update(aftersale_lock=AftersaleLock.REFUNDED)

    _ship(order, [first], clerk)

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.deadline_at is not None


def test_S2_open_aftersale_item_still_owes_a_shipment(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    OrderItem.objects.filter(pk=second.pk).update(aftersale_lock=AftersaleLock.OPEN)

    _ship(order, [first], clerk)

    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED


def test_S2_resettle_ships_the_order_once_the_remaining_item_is_refunded(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    _ship(order, [first], clerk)
    OrderItem.objects.filter(pk=second.pk).update(aftersale_lock=AftersaleLock.REFUNDED)

    services.resettle_shipping(order)

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.deadline_at == order.shipped_at + timedelta(days=15)
    event = order.events.latest("pk")
    assert (event.kind, event.source_status, event.target_status) == (
        EventKind.SHIPPING_SETTLED,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
    )
    assert event.actor_kind == ActorKind.SYSTEM


def test_S2_resettle_changes_nothing_while_an_item_is_still_owed(shop, clerk):
    order = OrderFactory(merchant=shop, items=3)
    first, second, _third = _items(order)
    _ship(order, [first], clerk)
    OrderItem.objects.filter(pk=second.pk).update(aftersale_lock=AftersaleLock.REFUNDED)
    before = _snapshot(order)

    services.resettle_shipping(order)

    assert _snapshot(order) == before


@pytest.mark.parametrize("status", [OrderStatus.SHIPPED, OrderStatus.RECEIVED, OrderStatus.UNPAID])
def test_S2_resettle_ignores_orders_outside_shipping(shop, status):
    order = OrderFactory(merchant=shop, status=status)
    before = _snapshot(order)

    services.resettle_shipping(order)

    assert _snapshot(order) == before


def test_S2_resettle_twice_records_one_event(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    _ship(order, [first], clerk)
    OrderItem.objects.filter(pk=second.pk).update(aftersale_lock=AftersaleLock.REFUNDED)

    services.resettle_shipping(order)
    services.resettle_shipping(order)

    assert order.events.filter(kind=EventKind.SHIPPING_SETTLED).count() == 1


def test_S2_order_refunded_in_full_before_shipping_closes_instead_of_shipping(shop):
    order = OrderFactory(merchant=shop, items=2)
    order.items.update(aftersale_lock=AftersaleLock.REFUNDED)

    services.resettle_shipping(order)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.shipped_at is None
    assert order.deadline_at is None  # never auto-received, no settlement
    assert order.settlement_due_on is None
    assert not order.is_late
    event = order.events.get()
    assert (event.kind, event.source_status, event.actor_kind) == (
        EventKind.CANCELLED,
        OrderStatus.TO_SHIP,
        ActorKind.SYSTEM,
    )


# --- S-3 / S-4 tracking changes


def test_S3_tracking_cannot_change_while_items_are_still_owed(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    package = _ship(order, _items(order)[:1], clerk, "SF1000000001")
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        services.update_tracking(package, carrier=Carrier.ZTO, tracking_no="ZT9000000001", actor=clerk)

    assert "全部发货前不能修改" in _messages(exc)
    assert _snapshot(order) == before
    package.refresh_from_db()
    assert package.tracking_changed_at is None


def test_S4_tracking_change_moves_every_item_of_the_package_together(shop, clerk):
    order = OrderFactory(merchant=shop, items=3)
    first, second, third = _items(order)
    package = _ship(order, [first, second], clerk, "SF1000000001")
    other_package = _ship(order, [third], clerk, "SF1000000002")
    changed_at = datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)

    with time_machine.travel(changed_at, tick=False):
        services.update_tracking(package, carrier=Carrier.ZTO, tracking_no="ZT9000000001", actor=clerk)

    package.refresh_from_db()
    assert (package.carrier, package.tracking_no) == (Carrier.ZTO, "ZT9000000001")
    assert package.tracking_changed_at == changed_at
    assert set(OrderItem.objects.filter(order=order, package=package)) == {first, second}
    assert Package.objects.filter(order=order).count() == 2
    other_package.refresh_from_db()
    assert (other_package.carrier, other_package.tracking_no) == (Carrier.SF, "SF1000000002")
    event = order.events.latest("pk")
    assert event.kind == EventKind.TRACKING_CHANGED
    assert event.data["old"] == {"carrier": Carrier.SF, "tracking_no": "SF1000000001"}
    assert event.data["new"] == {"carrier": Carrier.ZTO, "tracking_no": "ZT9000000001"}
    assert event.data["package"] == package.pk
    assert "SF1000000001" in event.describe() and "ZT9000000001" in event.describe()


def test_S4_tracking_change_is_allowed_when_the_rest_was_refunded(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    package = _ship(order, [first], clerk, "SF1000000001")
    OrderItem.objects.filter(pk=second.pk).update(aftersale_lock=AftersaleLock.REFUNDED)
    services.resettle_shipping(order)

    services.update_tracking(package, carrier=Carrier.SF, tracking_no="SF1000000009", actor=clerk)

    package.refresh_from_db()
    assert package.tracking_no == "SF1000000009"


def test_S4_package_cannot_be_split_once_fully_shipped(shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    _ship(order, [first, second], clerk, "SF1000000001")
    before = _snapshot(order)

    with pytest.raises(ApplicationError):
        _ship(order, [second], clerk, "SF1000000002")

    assert _snapshot(order) == before


def test_S4_package_cannot_be_split_while_other_items_are_owed(shop, clerk):
    order = OrderFactory(merchant=shop, items=3)
    first, second, third = _items(order)
    package = _ship(order, [first, second], clerk, "SF1000000001")
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        _ship(order, [second, third], clerk, "SF1000000002")

    assert "不能拆分" in _messages(exc)
    assert _snapshot(order) == before
    assert set(package.items.all()) == {first, second}


@pytest.mark.parametrize(
    ("carrier", "tracking_no", "message"),
    [
        (Carrier.SF, "SF1000000001", "物流信息没有变化"),
        (Carrier.SF, "SF1000000002", "已用于本订单的另一个包裹"),
        ("dhl", "SF1000000003", "未知的快递公司"),
        (Carrier.SF, "bad no", "6–32 位"),
    ],
)
def test_S4_bad_tracking_change_is_refused(shop, clerk, carrier, tracking_no, message):
    order = OrderFactory(merchant=shop, items=2)
    first, second = _items(order)
    package = _ship(order, [first], clerk, "SF1000000001")
    _ship(order, [second], clerk, "SF1000000002")
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        services.update_tracking(package, carrier=carrier, tracking_no=tracking_no, actor=clerk)

    assert message in _messages(exc)
    assert _snapshot(order) == before


def test_S4_tracking_cannot_change_after_receipt(shop, clerk):
    order = OrderFactory(merchant=shop)
    package = _ship(order, _items(order), clerk, "SF1000000001")
    services.confirm_receipt(order, actor=BUYER)
    before = _snapshot(order)

    with pytest.raises(ApplicationError) as exc:
        services.update_tracking(package, carrier=Carrier.SF, tracking_no="SF1000000002", actor=clerk)

    assert "已收货" in _messages(exc)
    assert _snapshot(order) == before


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("viewer", ActorNotAllowedError),
        ("other_clerk", ObjectNotFoundError),
        ("operator", ActorNotAllowedError),
    ],
)
def test_S4_tracking_change_needs_a_writing_member_of_the_shop(request, shop, clerk, who, error):
    order = OrderFactory(merchant=shop)
    package = _ship(order, _items(order), clerk, "SF1000000001")
    before = _snapshot(order)

    with pytest.raises(error):
        services.update_tracking(
            package, carrier=Carrier.SF, tracking_no="SF1000000002", actor=request.getfixturevalue(who)
        )

    assert _snapshot(order) == before


# --- Events: one per service call, with who and which states


def _scenario_place(shop, clerk, operator):
    order = _place(shop, paid=False)
    return order, (lambda: None), (EventKind.PLACED, None, ActorKind.SYSTEM, "", OrderStatus.UNPAID)


def _scenario_place_by_clerk(shop, clerk, operator):
    order = _place(shop, actor=clerk)
    return order, (lambda: None), (EventKind.PLACED, clerk, ActorKind.MERCHANT, "", OrderStatus.TO_SHIP)


def _scenario_pay(shop, clerk, operator):
    order = _place(shop, paid=False)
    return (
        order,
        (lambda: services.pay_order(order)),
        (EventKind.PAID, None, ActorKind.BUYER, OrderStatus.UNPAID, OrderStatus.TO_SHIP),
    )


def _scenario_confirm_cod(shop, clerk, operator):
    order = OrderFactory(merchant=shop, payment_method=COD, status=OrderStatus.AWAITING_CONFIRMATION)
    return (
        order,
        (lambda: services.confirm_cod(order, actor=clerk)),
        (
            EventKind.COD_CONFIRMED,
            clerk,
            ActorKind.MERCHANT,
            OrderStatus.AWAITING_CONFIRMATION,
            OrderStatus.TO_SHIP,
        ),
    )


def _scenario_ship_part(shop, clerk, operator):
    order = OrderFactory(merchant=shop, items=2)
    return (
        order,
        (lambda: _ship(order, _items(order)[:1], clerk)),
        (EventKind.SHIPPED, clerk, ActorKind.MERCHANT, OrderStatus.TO_SHIP, OrderStatus.PARTIALLY_SHIPPED),
    )


def _scenario_ship_rest(shop, clerk, operator):
    order = OrderFactory(merchant=shop, items=2)
    _ship(order, _items(order)[:1], clerk)
    return (
        order,
        (lambda: _ship(order, _items(order)[1:], clerk, "SF1000000002")),
        (EventKind.SHIPPED, clerk, ActorKind.MERCHANT, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED),
    )


def _scenario_update_tracking(shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    package = _ship(order, _items(order), clerk)
    return (
        order,
        (
            lambda: services.update_tracking(
                package, carrier=Carrier.EMS, tracking_no="EM1234567890", actor=clerk
            )
        ),
        (EventKind.TRACKING_CHANGED, clerk, ActorKind.MERCHANT, OrderStatus.SHIPPED, OrderStatus.SHIPPED),
    )


def _scenario_receipt_by_buyer(shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    _ship(order, _items(order), clerk)
    return (
        order,
        (lambda: services.confirm_receipt(order, actor=BUYER)),
        (EventKind.RECEIVED, None, ActorKind.BUYER, OrderStatus.SHIPPED, OrderStatus.RECEIVED),
    )


def _scenario_receipt_by_platform(shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    _ship(order, _items(order), clerk)
    return (
        order,
        (lambda: services.confirm_receipt(order, actor=operator)),
        (EventKind.RECEIVED, operator, ActorKind.PLATFORM, OrderStatus.SHIPPED, OrderStatus.RECEIVED),
    )


def _scenario_cancel_by_buyer(shop, clerk, operator):
    order = _place(shop, paid=False)
    return (
        order,
        (lambda: services.cancel_order(order, actor=BUYER, reason="")),
        (EventKind.CANCELLED, None, ActorKind.BUYER, OrderStatus.UNPAID, OrderStatus.CANCELLED),
    )


def _scenario_cancel_by_merchant(shop, clerk, operator):
    order = OrderFactory(merchant=shop, payment_method=COD, status=OrderStatus.TO_SHIP)
    return (
        order,
        (lambda: services.cancel_order(order, actor=clerk, reason="缺货")),
        (EventKind.CANCELLED, clerk, ActorKind.MERCHANT, OrderStatus.TO_SHIP, OrderStatus.CANCELLED),
    )


def _scenario_resettle(shop, clerk, operator):
    order = OrderFactory(merchant=shop, items=2)
    _ship(order, _items(order)[:1], clerk)
    OrderItem.objects.filter(pk=_items(order)[1].pk).update(aftersale_lock=AftersaleLock.REFUNDED)
    return (
        order,
        (lambda: services.resettle_shipping(order)),
        (
            EventKind.SHIPPING_SETTLED,
            None,
            ActorKind.SYSTEM,
            OrderStatus.PARTIALLY_SHIPPED,
            OrderStatus.SHIPPED,
        ),
    )


@pytest.mark.parametrize(
    "scenario",
    [
        _scenario_place,
        _scenario_place_by_clerk,
        _scenario_pay,
        _scenario_confirm_cod,
        _scenario_ship_part,
        _scenario_ship_rest,
        _scenario_update_tracking,
        _scenario_receipt_by_buyer,
        _scenario_receipt_by_platform,
        _scenario_cancel_by_buyer,
        _scenario_cancel_by_merchant,
        _scenario_resettle,
    ],
)
def test_every_service_writes_exactly_one_event(shop, clerk, operator, scenario):
    order, act, (kind, actor, actor_kind, source, target) = scenario(shop, clerk, operator)
    before = set(OrderEvent.objects.filter(order=order).values_list("pk", flat=True))
    if kind == EventKind.PLACED:
        before = set()  # the placing call is the scenario itself

    act()

    new = OrderEvent.objects.filter(order=order).exclude(pk__in=before)
    assert new.count() == 1
    event = new.get()
    assert (event.kind, event.actor, event.actor_kind, event.source_status, event.target_status) == (
        kind,
        actor,
        actor_kind,
        source,
        target,
    )
    order.refresh_from_db()
    assert event.target_status == order.status
