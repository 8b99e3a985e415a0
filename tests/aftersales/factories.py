"""Factories for after-sales tests: orders in a given shipping state, cases in any state, rules.

`CaseFactory` writes a case directly in the state asked for (with the item lock and the deadline that
state has), for tests of one transition and for the sweep benchmark. `walk_to()` reaches a state through
the services instead, with the full timeline.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from aftersales import services
from aftersales.models import (
    AfterSaleCase,
    AftersalesSettings,
    AutoRefundRule,
    DelayReport,
    RejectReason,
    ReturnAddress,
)
from aftersales.transitions import (
    OPEN_STATES,
    ArbitrationOutcome,
    CaseStatus,
    CaseType,
    Liability,
    Reason,
    postage_payer,
)
from merchants.models import Order, OrderItem, Package
from merchants.transitions import AftersaleLock, Carrier, OrderStatus, PaymentMethod
from tests.factories import MerchantFactory, OrderFactory, PlatformUserFactory

_tracking = iter(range(10**9))


def tracking_no() -> str:
    return f"SF{1000000000 + next(_tracking)}"


def make_order(
    merchant,
    *,
    status: str = OrderStatus.TO_SHIP,
    paid_amount: Decimal = Decimal("100.00"),
    items: int = 1,
    payment_method: str = PaymentMethod.ONLINE,
    placed_at=None,
    received_at=None,
    shipped_items: int | None = None,
    **kwargs,
) -> Order:
    """An order in `status`; shipped/received ones have every item (or `shipped_items` of them) in a package."""
    placed_at = placed_at or timezone.now() - timedelta(hours=1)
    order = OrderFactory(
        merchant=merchant,
        status=status,
        paid_amount=paid_amount,
        items=items,
        payment_method=payment_method,
        placed_at=placed_at,
        **kwargs,
    )
    if status in (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.RECEIVED):
        count = (
            shipped_items
            if shipped_items is not None
            else (1 if status == OrderStatus.PARTIALLY_SHIPPED else items)
        )
        package = Package.objects.create(
            merchant=merchant,
            order=order,
            carrier=Carrier.SF,
            tracking_no=tracking_no(),
            shipped_at=placed_at + timedelta(minutes=30),
        )
        ids = list(order.items.order_by("pk").values_list("pk", flat=True)[:count])
        OrderItem.objects.filter(pk__in=ids).update(package=package)
        Order.objects.filter(pk=order.pk).update(shipped_at=package.shipped_at)
    if status == OrderStatus.RECEIVED:
        Order.objects.filter(pk=order.pk).update(received_at=received_at or timezone.now())
    order.refresh_from_db()
    return order


class CaseFactory(factory.django.DjangoModelFactory):
    """A case written directly in `status` (no events): order, item, item lock and deadline made to match.

    `payment_method` and `order_status` describe the order made for it; refund-only cases default to an
    unshipped order, the others to a shipped one. Pass `item=` to use an existing item.
    """

    class Meta:
        model = AfterSaleCase

    # Describe the order made for the case (popped in _create; not model fields).
    payment_method = PaymentMethod.ONLINE
    order_status = None
    order_amount = Decimal("100.00")

    merchant = factory.SubFactory(MerchantFactory)
    type = CaseType.REFUND_ONLY
    status = CaseStatus.PENDING
    reason = Reason.QUALITY
    amount = Decimal("50.00")
    description = "收到的商品有明显划痕，要求退款。"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        payment_method = kwargs.pop("payment_method")
        order_status = kwargs.pop("order_status")
        order_amount = kwargs.pop("order_amount")
        merchant = kwargs["merchant"]
        item = kwargs.pop("item", None)
        if item is None:
            if order_status is None:
                order_status = (
                    OrderStatus.TO_SHIP if kwargs["type"] == CaseType.REFUND_ONLY else OrderStatus.SHIPPED
                )
            order = make_order(
                merchant, status=order_status, paid_amount=order_amount, payment_method=payment_method
            )
            item = order.items.get()
        order = item.order
        now = kwargs.pop("now", None) or timezone.now()
        status = kwargs["status"]
        kwargs.setdefault("order", order)
        kwargs.setdefault("item", item)
        kwargs.setdefault("product", item.product)
        kwargs.setdefault("order_no", order.order_no)
        kwargs.setdefault("buyer_id", order.buyer_id)
        kwargs.setdefault("buyer_name", order.buyer_name)
        kwargs.setdefault("postage_payer", postage_payer(kwargs["reason"]))
        kwargs.setdefault("created_at", now)
        limits = AftersalesSettings.load()
        kwargs.setdefault("merchant_deadline_at", now + timedelta(hours=limits.merchant_response_hours))
        case = model_class(**kwargs)
        if "deadline_at" not in kwargs:
            case._set_deadline_for(status, now, limits)
            if status == CaseStatus.NEGOTIATING:
                case.deadline_at = now + timedelta(hours=limits.negotiation_hours)
            elif status == CaseStatus.PENDING:
                case.deadline_at = case.merchant_deadline_at
        if status == CaseStatus.NEGOTIATING and case.proposed_at is None:
            case.proposed_type, case.proposed_amount = case.type, case.amount - Decimal("10.00")
            case.proposal_text, case.proposed_at = "补偿 10 元，商品无需退回。", now
        if status == CaseStatus.REJECTED and not case.reject_reason:
            case.reject_reason = "商品已拆封使用，影响二次销售。"
        if (
            status
            in (
                CaseStatus.RETURN_IN_TRANSIT,
                CaseStatus.AWAITING_VOUCHER,
                CaseStatus.RESHIPPING,
                CaseStatus.EXCHANGE_SHIPPED,
            )
            and kwargs["type"] != CaseType.REFUND_ONLY
        ):
            case.return_carrier, case.return_tracking_no = Carrier.ZTO, tracking_no()
            case.return_shipped_at = now
        if status == CaseStatus.ARBITRATION and case.arbitration_started_at is None:
            case.arbitration_started_at = now
        case.save()
        if status in OPEN_STATES:
            OrderItem.objects.filter(pk=item.pk).update(aftersale_lock=AftersaleLock.OPEN)
        return case


class AutoRefundRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutoRefundRule

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"小额仅退款自动同意 {n}")
    enabled = True
    priority = 10
    case_types = factory.LazyFunction(list)
    shipping_stages = factory.LazyFunction(list)
    reasons = factory.LazyFunction(list)


def open_pending(
    merchant,
    *,
    type=CaseType.REFUND_ONLY,
    amount=Decimal("50.00"),
    reason=Reason.QUALITY,
    order_status=None,
    payment_method=PaymentMethod.ONLINE,
    order_amount=Decimal("100.00"),
    **order_kwargs,
) -> AfterSaleCase:
    """A pending case opened through services.open_case on a fresh order (not auto-approved)."""
    if order_status is None:
        order_status = OrderStatus.TO_SHIP if type == CaseType.REFUND_ONLY else OrderStatus.SHIPPED
    order = make_order(
        merchant, status=order_status, paid_amount=order_amount, payment_method=payment_method, **order_kwargs
    )
    return services.open_case(
        order.items.get(), type=type, reason=reason, amount=amount, description="商品与描述不符，申请售后。"
    )


def walk_to(
    status: str,
    merchant,
    actor,
    *,
    type=None,
    payment_method=PaymentMethod.ONLINE,
    amount=Decimal("50.00"),
    platform_user=None,
) -> AfterSaleCase:
    """A case brought to `status` through the services (so it has its whole timeline)."""
    if type is None:
        if status in (CaseStatus.RESHIPPING, CaseStatus.EXCHANGE_SHIPPED, CaseStatus.EXCHANGED):
            type = CaseType.EXCHANGE
        elif status in (CaseStatus.REFUNDING, CaseStatus.AWAITING_VOUCHER, CaseStatus.REFUNDED):
            type = CaseType.REFUND_ONLY
        else:
            type = CaseType.RETURN_REFUND
    if status == CaseStatus.AWAITING_VOUCHER:
        payment_method = PaymentMethod.COD
    case = open_pending(merchant, type=type, amount=amount, payment_method=payment_method)

    def staff():
        return platform_user or PlatformUserFactory()

    def paid(c):
        services.pay_refund(c.pk)
        return c

    approve = lambda c: services.approve(c, actor=actor)  # noqa: E731
    reject = lambda c: services.reject(c, actor=actor, reason="商品已使用")  # noqa: E731
    ship_back = lambda c: services.buyer_ship_return(c, carrier=Carrier.ZTO, tracking_no=tracking_no())  # noqa: E731
    confirm = lambda c: services.confirm_return(c, actor=actor)  # noqa: E731
    reship = lambda c: services.reship(c, actor=actor, carrier=Carrier.SF, tracking_no=tracking_no())  # noqa: E731
    goods_back = [approve, ship_back, confirm] if type != CaseType.REFUND_ONLY else [approve]
    moves = {
        CaseStatus.PENDING: [],
        CaseStatus.NEGOTIATING: [
            lambda c: services.propose(
                c, actor=actor, type=c.type, amount=c.amount - 10, text="部分退款，商品无需退回"
            )
        ],
        CaseStatus.REJECTED: [reject],
        CaseStatus.ARBITRATION: [reject, lambda c: services.escalate(c, reason="商品确有质量问题")],
        CaseStatus.AWAITING_RETURN: [approve],
        CaseStatus.RETURN_IN_TRANSIT: [approve, ship_back],
        CaseStatus.CANCELLED: [services.cancel],
        CaseStatus.CLOSED: [
            reject,
            services.escalate,
            lambda c: services.arbitrate(
                c, actor=staff(), outcome=ArbitrationOutcome.REJECT, liability=Liability.BUYER
            ),
        ],
        CaseStatus.REFUNDING: goods_back,
        CaseStatus.AWAITING_VOUCHER: goods_back,
        CaseStatus.REFUNDED: [*goods_back, paid],
        CaseStatus.RESHIPPING: goods_back,
        CaseStatus.EXCHANGE_SHIPPED: [*goods_back, reship],
        CaseStatus.EXCHANGED: [*goods_back, reship, services.confirm_exchange],
    }[status]
    for move in moves:
        case = move(case)
    case.refresh_from_db()
    assert case.status == status, (case.status, status)
    return case


# The registry walk (tests/merchants/test_tenancy_http.py) finds a factory per workbench model by name.
AfterSaleCaseFactory = CaseFactory


class DelayReportFactory(factory.django.DjangoModelFactory):
    """A pending delay report (A-9) on a fresh pending case of the same shop."""

    class Meta:
        model = DelayReport

    merchant = factory.SubFactory(MerchantFactory)
    case = factory.SubFactory(CaseFactory, merchant=factory.SelfAttribute("..merchant"))
    reason = "春节物流停运，无法按时处理退货。"
    delay_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))


class ReturnAddressFactory(factory.django.DjangoModelFactory):
    """One of a shop's return addresses (退货地址库)."""

    class Meta:
        model = ReturnAddress

    merchant = factory.SubFactory(MerchantFactory)
    contact = "李仓管"
    phone = "0571-88886666"
    address = factory.Sequence(lambda n: f"浙江省杭州市余杭区仓前街道 {n} 号")


class RejectReasonFactory(factory.django.DjangoModelFactory):
    """One of a shop's reject reasons (拒绝原因模板)."""

    class Meta:
        model = RejectReason

    merchant = factory.SubFactory(MerchantFactory)
    text = factory.Sequence(lambda n: f"商品已使用，影响二次销售 {n}")
