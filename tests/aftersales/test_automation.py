"""A-11 express refund and A-12 custom auto-refund rules, evaluated once when a case opens."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from aftersales import services
from aftersales.automation import EXPRESS_REFUND
from aftersales.models import CaseEvent
from aftersales.transitions import CaseStatus, CaseType, Reason, ShippingStage
from merchants.models import ActorKind, Merchant
from merchants.transitions import OrderStatus, PaymentMethod
from tests.aftersales.factories import AutoRefundRuleFactory, make_order

Kind = CaseEvent.Kind


@pytest.fixture
def express_shop(shop):
    Merchant.objects.filter(pk=shop.pk).update(express_refund_enabled=True)
    shop.refresh_from_db()
    return shop


def _open(
    order, *, type=CaseType.REFUND_ONLY, reason=Reason.OUT_OF_STOCK, amount="20.00", item=None, after=None
):
    """Open a case on the order's (first) item, `after` the order was placed (default: 1 h)."""
    at = order.placed_at + (after if after is not None else timedelta(hours=1))
    with time_machine.travel(at, tick=False):
        return services.open_case(
            item or order.items.order_by("pk").first(), type=type, reason=reason, amount=amount
        )


def _placed(shop, *, status=OrderStatus.TO_SHIP, amount="100.00", **kwargs):
    return make_order(
        shop,
        status=status,
        paid_amount=Decimal(amount),
        placed_at=timezone.now() - timedelta(days=1),
        **kwargs,
    )


def _auto_approved(case) -> bool:
    case.refresh_from_db()
    return case.status != CaseStatus.PENDING


# ---- A-11 express refund


def test_A11_express_refund_approves_at_once_and_names_itself(
    express_shop, refund_queue, django_capture_on_commit_callbacks
):
    order = _placed(express_shop, amount="299.99")

    with django_capture_on_commit_callbacks(execute=True):
        case = _open(order, after=timedelta(hours=5, minutes=59))

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert case.auto_approved_by == EXPRESS_REFUND == "极速退款"
    assert refund_queue == [case.pk]
    opened, approved = case.events.all()
    assert (opened.kind, approved.kind) == (Kind.OPENED, Kind.APPROVED)
    assert (approved.actor_kind, approved.actor_id) == (ActorKind.SYSTEM, None)
    assert "极速退款" in approved.describe()
    assert approved.data == {"automation": "express_refund"}


@pytest.mark.parametrize(
    ("amount", "after", "expected"),
    [
        ("299.99", timedelta(hours=5, minutes=59), True),
        ("300.00", timedelta(hours=5, minutes=59), False),  # under ¥300, strictly
        ("299.99", timedelta(hours=6), False),  # under 6 h, strictly
        ("20.00", timedelta(minutes=1), True),
    ],
)
def test_A11_express_refund_boundaries(express_shop, refund_queue, amount, after, expected):
    order = _placed(express_shop, amount=amount)

    case = _open(order, after=after)

    assert _auto_approved(case) is expected


def test_A11_express_refund_only_when_switched_on(shop, refund_queue):
    order = _placed(shop, amount="50.00")

    case = _open(order)

    assert _auto_approved(case) is False


@pytest.mark.parametrize(
    ("status", "item_index", "expected"),
    [
        (OrderStatus.TO_SHIP, 0, True),
        (OrderStatus.PARTIALLY_SHIPPED, 1, True),  # this item still waits in the warehouse
        (OrderStatus.PARTIALLY_SHIPPED, 0, False),  # this item is on its way
        (OrderStatus.SHIPPED, 0, False),
        (OrderStatus.RECEIVED, 0, False),
    ],
)
def test_A11_express_refund_only_for_unshipped_items(
    express_shop, refund_queue, status, item_index, expected
):
    order = _placed(
        express_shop,
        status=status,
        items=2,
        shipped_items=1 if status == OrderStatus.PARTIALLY_SHIPPED else None,
    )
    item = order.items.order_by("pk")[item_index]

    case = _open(order, item=item)

    assert _auto_approved(case) is expected


def test_A11_express_refund_only_for_refund_only_cases(express_shop, refund_queue):
    order = _placed(express_shop, status=OrderStatus.SHIPPED)

    case = _open(order, type=CaseType.RETURN_REFUND)

    assert _auto_approved(case) is False


def test_A11_express_refund_on_cod_order_waits_for_the_voucher(express_shop, refund_queue):
    order = _placed(express_shop, payment_method=PaymentMethod.COD)

    case = _open(order)

    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_VOUCHER
    assert refund_queue == []


def test_A11_thresholds_follow_the_settings(express_shop, refund_queue):
    from aftersales.models import AftersalesSettings

    limits = AftersalesSettings.load()
    limits.express_max_amount, limits.express_max_hours = Decimal("500.00"), 12
    limits.save()
    order = _placed(express_shop, amount="450.00")

    case = _open(order, after=timedelta(hours=11))

    assert _auto_approved(case) is True


# ---- A-12 custom rules


def test_A12_matching_rule_approves_and_the_timeline_names_it(shop, refund_queue):
    rule = AutoRefundRuleFactory(
        merchant=shop,
        name="未发货缺货秒退",
        case_types=[CaseType.REFUND_ONLY],
        shipping_stages=[ShippingStage.NOT_SHIPPED],
        reasons=[Reason.OUT_OF_STOCK],
        max_amount=Decimal("50.00"),
    )
    order = _placed(shop)

    case = _open(order, amount="50.00")

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert case.auto_approved_by == "未发货缺货秒退"
    approved = case.events.latest("pk")
    assert approved.kind == Kind.APPROVED and approved.actor_kind == ActorKind.SYSTEM
    assert "未发货缺货秒退" in approved.describe()
    assert approved.data == {"automation": "rule", "rule_id": rule.pk, "rule": "未发货缺货秒退"}


def test_A12_rule_for_returns_sends_the_buyer_the_return_address(shop, refund_queue):
    AutoRefundRuleFactory(merchant=shop, case_types=[CaseType.RETURN_REFUND])
    order = _placed(shop, status=OrderStatus.SHIPPED)

    case = _open(order, type=CaseType.RETURN_REFUND, reason=Reason.NO_REASON)

    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RETURN


# Each condition, matching and not: (rule fields, case kwargs, order kwargs, matches?)
CONDITIONS = [
    ({"case_types": [CaseType.REFUND_ONLY]}, {}, {}, True),
    ({"case_types": [CaseType.EXCHANGE, CaseType.RETURN_REFUND]}, {}, {}, False),
    ({"shipping_stages": [ShippingStage.NOT_SHIPPED]}, {}, {}, True),
    ({"shipping_stages": [ShippingStage.SHIPPED]}, {}, {}, False),
    ({"shipping_stages": [ShippingStage.SHIPPED]}, {}, {"status": OrderStatus.SHIPPED}, True),
    ({"shipping_stages": [ShippingStage.RECEIVED]}, {}, {"status": OrderStatus.SHIPPED}, False),
    ({"shipping_stages": [ShippingStage.RECEIVED]}, {}, {"status": OrderStatus.RECEIVED}, True),
    (
        {"shipping_stages": [ShippingStage.NOT_SHIPPED, ShippingStage.RECEIVED]},
        {},
        {"status": OrderStatus.RECEIVED},
        True,
    ),
    ({"reasons": [Reason.OUT_OF_STOCK, Reason.LOGISTICS]}, {}, {}, True),
    ({"reasons": [Reason.QUALITY]}, {}, {}, False),
    ({"max_amount": Decimal("20.00")}, {"amount": "20.00"}, {}, True),  # inclusive
    ({"max_amount": Decimal("20.00")}, {"amount": "20.01"}, {}, False),
    ({"max_hours_since_order": 24}, {"after": timedelta(hours=24)}, {}, True),  # inclusive
    ({"max_hours_since_order": 24}, {"after": timedelta(hours=24, minutes=1)}, {}, False),
]


@pytest.mark.parametrize(("rule_fields", "case_kwargs", "order_kwargs", "matches"), CONDITIONS)
def test_A12_each_condition_matching_and_not(
    shop, refund_queue, rule_fields, case_kwargs, order_kwargs, matches
):
    AutoRefundRuleFactory(merchant=shop, **rule_fields)
    order = _placed(shop, **order_kwargs)

    case = _open(order, **case_kwargs)

    assert _auto_approved(case) is matches


@pytest.mark.parametrize(
    ("received_hours_before_case", "matches"), [(None, False), (72, True), (72 + 1 / 60, False), (1, True)]
)
def test_A12_hours_since_delivery(shop, refund_queue, received_hours_before_case, matches):
    AutoRefundRuleFactory(merchant=shop, max_hours_since_delivery=72)
    case_at = timezone.now()
    if received_hours_before_case is None:  # not delivered yet: a delivery limit never matches
        order = make_order(shop, status=OrderStatus.SHIPPED, placed_at=case_at - timedelta(days=5))
    else:
        order = make_order(
            shop,
            status=OrderStatus.RECEIVED,
            placed_at=case_at - timedelta(days=5),
            received_at=case_at - timedelta(hours=received_hours_before_case),
        )

    with time_machine.travel(case_at, tick=False):
        case = services.open_case(
            order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.QUALITY, amount="10"
        )

    assert _auto_approved(case) is matches


def test_A12_disabled_and_other_shops_rules_are_ignored(shop, other_shop, refund_queue):
    AutoRefundRuleFactory(merchant=shop, enabled=False)
    AutoRefundRuleFactory(merchant=other_shop)
    order = _placed(shop)

    case = _open(order)

    assert _auto_approved(case) is False


def test_A12_rules_by_priority_first_match_wins(shop, refund_queue):
    AutoRefundRuleFactory(merchant=shop, name="不匹配的高优先级", priority=1, reasons=[Reason.QUALITY])
    AutoRefundRuleFactory(merchant=shop, name="后建但优先", priority=5)
    AutoRefundRuleFactory(merchant=shop, name="兜底", priority=9)
    order = _placed(shop)

    case = _open(order)

    case.refresh_from_db()
    assert case.auto_approved_by == "后建但优先"


def test_A11_A12_express_refund_goes_first_when_both_are_on(express_shop, refund_queue):
    AutoRefundRuleFactory(merchant=express_shop, name="全部同意", priority=1)
    order = _placed(express_shop)

    case = _open(order)

    case.refresh_from_db()
    assert case.auto_approved_by == EXPRESS_REFUND
    assert case.events.filter(kind=Kind.APPROVED).count() == 1


def test_A12_rules_fire_only_when_the_case_opens(shop, clerk, refund_queue):
    order = _placed(shop)
    case = _open(order)
    assert _auto_approved(case) is False

    AutoRefundRuleFactory(merchant=shop)
    services.reject(case, actor=clerk, reason="库存已补")
    services.revise(case, amount="10.00")

    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING and case.auto_approved_by == ""
