"""After-sales services: A-1 opening rules, A-2 windows, every A-3 move (allowed and refused), A-4 events,
A-7 arbitration, A-8 negotiation, A-9 delay reports, A-10 bulk approval, tenancy and roles."""

import inspect
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from aftersales import selectors, services
from aftersales.exceptions import (
    CaseAlreadyOpenError,
    CaseAmountError,
    CaseNotEligibleError,
    CaseWindowClosedError,
    DelayReportError,
)
from aftersales.models import AfterSaleCase, AftersalesSettings, CaseAttachment, CaseEvent, DelayReport
from aftersales.transitions import (
    WITHDRAWABLE_STATES,
    ArbitrationOutcome,
    CaseStatus,
    CaseType,
    DelayReportStatus,
    Liability,
    Party,
    Reason,
)
from merchants import services as merchant_services
from merchants.kernel.scoping import BUYER, roles_for
from merchants.kernel.violations import record_violation
from merchants.kernel.vocabulary import Role
from merchants.kernel.workflow import ActorNotAllowedError, InvalidTransitionError, ObjectNotFoundError
from merchants.models import ActorKind, Notice, OrderItem, Violation
from merchants.transitions import AftersaleLock, Carrier, OrderStatus, PaymentMethod
from tests.aftersales.factories import CaseFactory, make_order, open_pending, tracking_no, walk_to
from tests.factories import MembershipFactory, ProductFactory, UserFactory

Kind = CaseEvent.Kind


def snapshot(case):
    """What a refused action must leave untouched: state, timeline, item lock and refunds, deadline."""
    case = AfterSaleCase.objects.get(pk=case.pk)
    item = OrderItem.objects.get(pk=case.item_id)
    return (
        case.status,
        case.events.count(),
        item.aftersale_lock,
        item.refunded_amount,
        case.deadline_at,
        case.amount,
    )


def item_of(case):
    return OrderItem.objects.get(pk=case.item_id)


# --------------------------------------------------------------------------------------------
# A-1 opening


def test_A1_open_case_copies_order_sets_deadlines_locks_item_and_records_buyer_event(shop):
    order = make_order(shop, status=OrderStatus.SHIPPED, paid_amount=Decimal("120.00"))
    item = order.items.get()

    case = services.open_case(
        item, type=CaseType.RETURN_REFUND, reason=Reason.NO_REASON, amount="80.50", description="尺码偏小"
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING
    assert (case.order_no, case.buyer_id, case.buyer_name) == (
        order.order_no,
        order.buyer_id,
        order.buyer_name,
    )
    assert case.product_id == item.product_id and case.merchant_id == shop.pk
    assert case.amount == Decimal("80.50")
    assert case.postage_payer == Party.BUYER
    hours = AftersalesSettings.load().merchant_response_hours
    assert case.deadline_at == case.merchant_deadline_at == case.created_at + timedelta(hours=hours)
    assert item_of(case).aftersale_lock == AftersaleLock.OPEN
    event = case.events.get()
    assert (event.kind, event.actor_kind, event.actor_id) == (Kind.OPENED, ActorKind.BUYER, None)
    assert event.amount == Decimal("80.50") and event.target_status == CaseStatus.PENDING
    assert event.message == "尺码偏小"


@pytest.mark.parametrize(
    ("reason", "payer"),
    [(Reason.QUALITY, Party.MERCHANT), (Reason.WRONG_ITEM, Party.MERCHANT), (Reason.NO_REASON, Party.BUYER)],
)
def test_A2_postage_payer_follows_reason_category(shop, reason, payer):
    case = open_pending(shop, type=CaseType.RETURN_REFUND, reason=reason)

    assert case.postage_payer == payer


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (OrderStatus.UNPAID, "尚未付款"),
        (OrderStatus.AWAITING_CONFIRMATION, "尚未确认"),
        (OrderStatus.CANCELLED, "已取消"),
    ],
)
def test_A1_order_must_be_paid_or_confirmed(shop, status, message):
    payment = PaymentMethod.COD if status == OrderStatus.AWAITING_CONFIRMATION else PaymentMethod.ONLINE
    order = make_order(shop, status=status, payment_method=payment)

    with pytest.raises(CaseNotEligibleError, match=message):
        services.open_case(order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="10")

    assert not AfterSaleCase.objects.exists()
    assert order.items.get().aftersale_lock == AftersaleLock.NONE


@pytest.mark.parametrize(
    "status", [OrderStatus.TO_SHIP, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.RECEIVED]
)
def test_A1_refund_only_opens_on_every_paid_order_state(shop, status):
    order = make_order(shop, status=status)

    case = services.open_case(order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="10")

    assert case.status == CaseStatus.PENDING


@pytest.mark.parametrize("case_type", [CaseType.RETURN_REFUND, CaseType.EXCHANGE])
def test_A1_return_and_exchange_need_a_shipped_item(shop, case_type):
    order = make_order(shop, status=OrderStatus.PARTIALLY_SHIPPED, items=2, shipped_items=1)
    shipped, unshipped = order.items.order_by("pk")

    with pytest.raises(CaseNotEligibleError, match="尚未发货"):
        services.open_case(unshipped, type=case_type, reason=Reason.QUALITY, amount="10")
    case = services.open_case(shipped, type=case_type, reason=Reason.QUALITY, amount="10")

    assert AfterSaleCase.objects.get().pk == case.pk


def test_A1_amount_at_most_refundable_paid_minus_refunded(shop):
    order = make_order(shop, paid_amount=Decimal("100.00"))
    item = order.items.get()
    OrderItem.objects.filter(pk=item.pk).update(refunded_amount=Decimal("30.00"))

    with pytest.raises(CaseAmountError, match="70.00"):
        services.open_case(item, type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="70.01")
    case = services.open_case(item, type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="70.00")

    assert case.amount == Decimal("70.00")


@pytest.mark.parametrize("amount", ["0", "-1", "abc", "10.001", "NaN", None])
def test_A1_amount_must_be_positive_money(shop, amount):
    order = make_order(shop)

    with pytest.raises(CaseAmountError):
        services.open_case(order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount=amount)

    assert not AfterSaleCase.objects.exists()


def test_A1_amount_from_a_spreadsheet_float_is_stored_exactly(shop):
    order = make_order(shop)

    case = services.open_case(order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount=10.1)

    case.refresh_from_db()
    assert case.amount == Decimal("10.10")


def test_A1_fully_refunded_item_has_nothing_to_refund(shop):
    order = make_order(shop, status=OrderStatus.SHIPPED)
    item = order.items.get()
    OrderItem.objects.filter(pk=item.pk).update(refunded_amount=item.paid_amount)

    with pytest.raises(CaseAmountError, match="全额退款"):
        services.open_case(item, type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="1")


def test_A1_quantity_at_most_bought(shop):
    order = make_order(shop)
    item = order.items.get()

    with pytest.raises(CaseAmountError, match="购买数量"):
        services.open_case(item, type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="10", quantity=2)
    with pytest.raises(CaseAmountError):
        services.open_case(item, type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="10", quantity=0)

    assert not AfterSaleCase.objects.exists()


@pytest.mark.parametrize(("field", "value"), [("type", "refund"), ("reason", "bored")])
def test_A1_unknown_type_or_reason_refused(shop, field, value):
    order = make_order(shop)
    kwargs = {"type": CaseType.REFUND_ONLY, "reason": Reason.OTHER, "amount": "10", field: value}

    with pytest.raises(ValidationError, match=value):
        services.open_case(order.items.get(), **kwargs)


def test_A1_one_open_case_per_item(shop, clerk):
    case = open_pending(shop)

    with pytest.raises(CaseAlreadyOpenError, match=case.case_no):
        services.open_case(item_of(case), type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="10")
    services.cancel(case)
    again = services.open_case(item_of(case), type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="10")

    assert again.status == CaseStatus.PENDING
    assert AfterSaleCase.objects.filter(item_id=case.item_id).count() == 2


def test_A1_database_refuses_a_second_open_case_on_an_item(shop):
    case = CaseFactory(merchant=shop)

    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFactory(merchant=shop, item=item_of(case), status=CaseStatus.AWAITING_RETURN)

    CaseFactory(merchant=shop, item=item_of(case), status=CaseStatus.CLOSED)  # closed ones may pile up
    assert AfterSaleCase.objects.filter(item_id=case.item_id).count() == 2


def test_A1_integrity_error_from_a_race_becomes_a_clear_message(shop, monkeypatch):
    from aftersales.services import cases as cases_module

    case = open_pending(shop)
    # As if a concurrent request inserted its case after our check: only the unique index stops this one.
    monkeypatch.setattr(cases_module, "OPEN_STATES", ())

    with pytest.raises(CaseAlreadyOpenError, match="进行中的售后单"):
        services.open_case(item_of(case), type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="10")

    assert AfterSaleCase.objects.count() == 1


def test_A1_import_actor_may_only_open_cases_in_own_shop(shop, other_shop, clerk, other_clerk):
    order = make_order(shop)

    with pytest.raises(ObjectNotFoundError):
        services.open_case(
            order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="10", actor=other_clerk
        )
    case = services.open_case(
        order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.OTHER, amount="10", actor=clerk
    )

    assert case.events.get().actor_kind == ActorKind.BUYER


# --------------------------------------------------------------------------------------------
# A-2 windows


def _received(shop, *, days_ago, minutes=0, three_guarantee=False, durable=False):
    product = ProductFactory(merchant=shop, three_guarantee=three_guarantee, durable=durable)
    order = make_order(
        shop,
        status=OrderStatus.RECEIVED,
        received_at=timezone.now() - timedelta(days=days_ago, minutes=minutes),
    )
    OrderItem.objects.filter(order=order).update(product=product)
    return order.items.get()


@pytest.mark.parametrize(
    ("flags", "reason", "days"),
    [
        ({}, Reason.NO_REASON, 15),
        ({}, Reason.QUALITY, 15),
        ({"three_guarantee": True}, Reason.QUALITY, 90),
        ({"three_guarantee": True}, Reason.NOT_AS_DESCRIBED, 90),
        ({"durable": True}, Reason.COUNTERFEIT, 180),
        ({"durable": True, "three_guarantee": True}, Reason.QUALITY, 180),
        ({"durable": True}, Reason.NO_REASON, 15),
        ({"three_guarantee": True}, Reason.WRONG_ITEM, 15),
    ],
)
def test_A2_window_after_receipt(shop, flags, reason, days):
    inside = _received(shop, days_ago=days, minutes=-1, **flags)
    outside = _received(shop, days_ago=days, minutes=1, **flags)

    case = services.open_case(inside, type=CaseType.RETURN_REFUND, reason=reason, amount="10")
    with pytest.raises(CaseWindowClosedError, match=f"{days} 天"):
        services.open_case(outside, type=CaseType.RETURN_REFUND, reason=reason, amount="10")

    assert case.status == CaseStatus.PENDING
    assert item_of(case).aftersale_lock == AftersaleLock.OPEN
    assert OrderItem.objects.get(pk=outside.pk).aftersale_lock == AftersaleLock.NONE


def test_A2_window_follows_the_setting(shop):
    limits = AftersalesSettings.load()
    limits.window_days = 30
    limits.save()
    item = _received(shop, days_ago=20)

    case = services.open_case(item, type=CaseType.REFUND_ONLY, reason=Reason.NO_REASON, amount="10")

    assert case.status == CaseStatus.PENDING


def test_A2_order_not_yet_received_is_always_in_window(shop):
    order = make_order(shop, status=OrderStatus.SHIPPED, placed_at=timezone.now() - timedelta(days=400))

    case = services.open_case(
        order.items.get(), type=CaseType.RETURN_REFUND, reason=Reason.NO_REASON, amount="10"
    )

    assert case.status == CaseStatus.PENDING


# --------------------------------------------------------------------------------------------
# A-3 pending: approve, reject


def test_A3_approve_refund_only_online_goes_refunding_and_queues_refund_on_commit(
    shop, clerk, refund_queue, django_capture_on_commit_callbacks
):
    case = open_pending(shop)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.approve(case, actor=clerk)
    assert refund_queue == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert case.deadline_at is None
    assert refund_queue == [case.pk]
    event = case.events.latest("pk")
    assert (event.kind, event.actor_id, event.actor_kind) == (Kind.APPROVED, clerk.pk, ActorKind.MERCHANT)
    assert (event.source_status, event.target_status, event.amount) == (
        CaseStatus.PENDING,
        CaseStatus.REFUNDING,
        case.amount,
    )


def test_A3_approve_refund_only_cod_waits_for_voucher(
    shop, clerk, refund_queue, django_capture_on_commit_callbacks
):
    case = open_pending(shop, payment_method=PaymentMethod.COD)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(case, actor=clerk)

    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_VOUCHER
    assert case.deadline_at == case.events.latest("pk").created_at + timedelta(hours=48)
    assert refund_queue == []


@pytest.mark.parametrize("case_type", [CaseType.RETURN_REFUND, CaseType.EXCHANGE])
def test_A3_approve_return_or_exchange_waits_for_goods(shop, clerk, case_type, refund_queue):
    case = open_pending(shop, type=case_type)

    services.approve(case, actor=clerk)

    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RETURN
    assert case.deadline_at == case.events.latest("pk").created_at + timedelta(days=7)


def test_A3_reject_needs_reason_and_keeps_evidence(shop, clerk, png):
    case = open_pending(shop)
    before = snapshot(case)

    with pytest.raises(ValidationError, match="拒绝原因"):
        services.reject(case, actor=clerk, reason="  ")
    assert snapshot(case) == before
    services.reject(case, actor=clerk, reason="商品已拆封使用", attachments=[png("a.png"), png("b.png")])

    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED
    assert case.reject_reason == "商品已拆封使用"
    assert case.deadline_at == case.events.latest("pk").created_at + timedelta(days=7)
    event = case.events.latest("pk")
    assert event.kind == Kind.REJECTED and event.message == "商品已拆封使用"
    assert event.attachments.count() == 2


def test_A3_bad_evidence_file_refuses_the_action_and_changes_nothing(shop, clerk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = open_pending(shop)
    before = snapshot(case)

    with pytest.raises(ValidationError):
        services.reject(
            case, actor=clerk, reason="已使用", attachments=[SimpleUploadedFile("x.png", b"not an image")]
        )

    assert snapshot(case) == before
    assert not CaseAttachment.objects.exists()


# --------------------------------------------------------------------------------------------
# A-3 every other move


def test_A3_buyer_revises_rejected_case_back_to_pending_with_new_answer_period(shop, clerk):
    case = walk_to(CaseStatus.REJECTED, shop, clerk)

    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        services.revise(case, amount="30.00", description="只退一半即可")
        now = timezone.now()

    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING
    assert case.amount == Decimal("30.00") and case.description == "只退一半即可"
    assert case.deadline_at == case.merchant_deadline_at == now + timedelta(hours=48)
    assert case.events.latest("pk").kind == Kind.REVISED


def test_A3_buyer_ships_return_then_merchant_confirms_and_refund_is_queued(
    shop, clerk, refund_queue, django_capture_on_commit_callbacks
):
    case = walk_to(CaseStatus.AWAITING_RETURN, shop, clerk)

    services.buyer_ship_return(case, carrier=Carrier.ZTO, tracking_no="75123456789012")
    case.refresh_from_db()
    assert case.status == CaseStatus.RETURN_IN_TRANSIT
    assert (case.return_carrier, case.return_tracking_no) == (Carrier.ZTO, "75123456789012")
    assert case.deadline_at == case.return_shipped_at + timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_return(case, actor=clerk)

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert case.return_received_at is not None
    assert refund_queue == [case.pk]
    assert [e.kind for e in case.events.all()] == [
        Kind.OPENED,
        Kind.APPROVED,
        Kind.RETURN_SHIPPED,
        Kind.RETURN_CONFIRMED,
    ]


def test_A3_bad_return_tracking_refused(shop, clerk):
    case = walk_to(CaseStatus.AWAITING_RETURN, shop, clerk)
    before = snapshot(case)

    with pytest.raises(ValidationError):
        services.buyer_ship_return(case, carrier=Carrier.ZTO, tracking_no="12")
    with pytest.raises(ValidationError):
        services.buyer_ship_return(case, carrier="pigeon", tracking_no="75123456789012")

    assert snapshot(case) == before


def test_A3_confirm_return_on_cod_waits_for_voucher(shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk, payment_method=PaymentMethod.COD)

    services.confirm_return(case, actor=clerk)

    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_VOUCHER
    assert case.deadline_at is not None


def test_A3_exchange_return_confirmed_then_reshipped_then_buyer_confirms(shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk, type=CaseType.EXCHANGE)

    services.confirm_return(case, actor=clerk)
    case.refresh_from_db()
    assert case.status == CaseStatus.RESHIPPING and case.deadline_at is None
    services.reship(case, actor=clerk, carrier=Carrier.SF, tracking_no="SF1234567890123")
    case.refresh_from_db()
    assert case.status == CaseStatus.EXCHANGE_SHIPPED
    assert case.deadline_at == case.reshipped_at + timedelta(days=15)
    services.confirm_exchange(case)

    case.refresh_from_db()
    assert case.status == CaseStatus.EXCHANGED and case.closed_at is not None
    assert item_of(case).aftersale_lock == AftersaleLock.NONE
    assert item_of(case).refunded_amount == Decimal("0.00")
    assert case.events.latest("pk").actor_kind == ActorKind.BUYER


def test_A3_merchant_refuses_returned_goods_platform_steps_in(shop, clerk, png):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)

    services.refuse_return(case, actor=clerk, reason="退回的不是我店商品", attachments=[png()])

    case.refresh_from_db()
    assert case.status == CaseStatus.ARBITRATION
    assert case.deadline_at == case.arbitration_started_at + timedelta(hours=72)
    event = case.events.latest("pk")
    assert event.kind == Kind.RETURN_REFUSED and event.attachments.count() == 1


def test_A3_buyer_escalates_a_refusal_to_arbitration(shop, clerk):
    case = walk_to(CaseStatus.REJECTED, shop, clerk)

    services.escalate(case, reason="商品确实有质量问题")

    case.refresh_from_db()
    assert case.status == CaseStatus.ARBITRATION
    event = case.events.latest("pk")
    assert (event.kind, event.actor_kind, event.message) == (
        Kind.ARBITRATION_REQUESTED,
        ActorKind.BUYER,
        "商品确实有质量问题",
    )


def test_A3_upload_voucher_refunds_cod_case_and_item(shop, clerk, png):
    case = walk_to(CaseStatus.AWAITING_VOUCHER, shop, clerk, amount=Decimal("100.00"))

    with pytest.raises(ValidationError, match="退款凭证"):
        services.upload_voucher(case, actor=clerk, file=None)
    services.upload_voucher(case, actor=clerk, file=png("voucher.png"))

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDED
    assert case.refunded_amount == Decimal("100.00") and not case.advance_paid
    item = item_of(case)
    assert item.refunded_amount == Decimal("100.00")
    assert item.aftersale_lock == AftersaleLock.REFUNDED
    event = case.events.latest("pk")
    assert event.kind == Kind.VOUCHER_UPLOADED and event.attachments.count() == 1


@pytest.mark.parametrize("status", WITHDRAWABLE_STATES)
def test_A3_buyer_may_withdraw_while_no_money_moved(shop, clerk, status):
    case = walk_to(status, shop, clerk)

    services.cancel(case)

    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert item_of(case).aftersale_lock == AftersaleLock.NONE
    assert case.events.latest("pk").kind == Kind.CANCELLED


@pytest.mark.parametrize(
    "status", [CaseStatus.REFUNDING, CaseStatus.AWAITING_VOUCHER, CaseStatus.RESHIPPING, CaseStatus.REFUNDED]
)
def test_A3_buyer_cannot_withdraw_once_money_or_goods_moved(shop, clerk, status):
    case = walk_to(status, shop, clerk)
    before = snapshot(case)

    with pytest.raises(InvalidTransitionError):
        services.cancel(case)

    assert snapshot(case) == before


# (service call, state it is refused in) — a representative set of refusals; nothing may change.
REFUSALS = [
    ("approve", CaseStatus.REJECTED),
    ("approve", CaseStatus.REFUNDING),
    ("reject", CaseStatus.AWAITING_RETURN),
    ("propose", CaseStatus.NEGOTIATING),
    ("confirm_return", CaseStatus.PENDING),
    ("refuse_return", CaseStatus.AWAITING_RETURN),
    ("reship", CaseStatus.RETURN_IN_TRANSIT),
    ("upload_voucher", CaseStatus.REFUNDING),
    ("buyer_ship_return", CaseStatus.PENDING),
    ("escalate", CaseStatus.PENDING),
    ("accept_proposal", CaseStatus.PENDING),
    ("decline_proposal", CaseStatus.REJECTED),
    ("revise", CaseStatus.PENDING),
    ("confirm_exchange", CaseStatus.RESHIPPING),
    ("arbitrate", CaseStatus.PENDING),
    ("approve", CaseStatus.CLOSED),
    ("reject", CaseStatus.EXCHANGED),
]


def _call(name, case, clerk, operator, png):
    calls = {
        "approve": lambda: services.approve(case, actor=clerk),
        "reject": lambda: services.reject(case, actor=clerk, reason="不同意"),
        "propose": lambda: services.propose(
            case, actor=clerk, type=CaseType.REFUND_ONLY, amount="5", text="补偿"
        ),
        "confirm_return": lambda: services.confirm_return(case, actor=clerk),
        "refuse_return": lambda: services.refuse_return(case, actor=clerk, reason="不符"),
        "reship": lambda: services.reship(case, actor=clerk, carrier=Carrier.SF, tracking_no=tracking_no()),
        "upload_voucher": lambda: services.upload_voucher(case, actor=clerk, file=png()),
        "buyer_ship_return": lambda: services.buyer_ship_return(
            case, carrier=Carrier.SF, tracking_no=tracking_no()
        ),
        "escalate": lambda: services.escalate(case),
        "accept_proposal": lambda: services.accept_proposal(case),
        "decline_proposal": lambda: services.decline_proposal(case),
        "revise": lambda: services.revise(case, amount="5"),
        "confirm_exchange": lambda: services.confirm_exchange(case),
        "arbitrate": lambda: services.arbitrate(
            case, actor=operator, outcome=ArbitrationOutcome.REFUND, liability=Liability.MERCHANT
        ),
    }
    return calls[name]()


@pytest.mark.parametrize(("name", "status"), REFUSALS)
def test_A3_move_refused_in_wrong_state_changes_nothing(
    shop, clerk, operator, png, name, status, refund_queue
):
    case = walk_to(status, shop, clerk, platform_user=operator)
    before = snapshot(case)
    notices, violations = Notice.objects.count(), Violation.objects.count()

    with pytest.raises(ValidationError) as exc:
        _call(name, case, clerk, operator, png)

    assert snapshot(case) == before
    assert (Notice.objects.count(), Violation.objects.count()) == (notices, violations)
    assert "当前状态" in str(exc.value)


def test_A3_upload_voucher_refused_for_online_orders(shop, clerk, png):
    # An online case can never reach awaiting_voucher through the services; one written there directly
    # is still refused by the transition's condition.
    case = CaseFactory(merchant=shop, status=CaseStatus.AWAITING_VOUCHER)
    before = snapshot(case)

    with pytest.raises(InvalidTransitionError, match="货到付款"):
        services.upload_voucher(case, actor=clerk, file=png())

    assert snapshot(case) == before


# --------------------------------------------------------------------------------------------
# S-2 interplay: an item refunded in full never ships; refunding the last unshipped item completes shipping


def test_A3_S2_full_refund_of_last_unshipped_item_completes_order_shipping(shop, clerk):
    order = make_order(shop, items=2, paid_amount=Decimal("200.00"))
    first, second = order.items.order_by("pk")
    merchant_services.ship(order, items=[first], carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk)
    case = services.open_case(second, type=CaseType.REFUND_ONLY, reason=Reason.OUT_OF_STOCK, amount="100.00")

    with pytest.raises(ValidationError, match="售后"):
        merchant_services.ship(
            order, items=[second], carrier=Carrier.SF, tracking_no="SF1234567891", actor=clerk
        )
    services.approve(case, actor=clerk)
    services.pay_refund(case.pk)

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert OrderItem.objects.get(pk=second.pk).aftersale_lock == AftersaleLock.REFUNDED
    with pytest.raises(ValidationError):
        merchant_services.ship(
            order, items=[second], carrier=Carrier.SF, tracking_no="SF1234567892", actor=clerk
        )


def test_A3_partial_refund_leaves_item_shippable(shop, clerk):
    case = open_pending(shop, amount=Decimal("20.00"))
    services.approve(case, actor=clerk)
    services.pay_refund(case.pk)

    item = item_of(case)
    assert item.refunded_amount == Decimal("20.00")
    assert item.aftersale_lock == AftersaleLock.NONE
    merchant_services.ship(
        item.order, items=[item], carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )


def test_A3_closing_releases_the_item_for_shipping(shop, clerk):
    case = open_pending(shop)

    services.cancel(case)

    item = item_of(case)
    merchant_services.ship(
        item.order, items=[item], carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )


# --------------------------------------------------------------------------------------------
# A-7 arbitration


def test_A7_arbitrate_refund_merchant_liable_goes_refunding(
    shop, clerk, operator, refund_queue, django_capture_on_commit_callbacks
):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk)

    with django_capture_on_commit_callbacks(execute=True):
        services.arbitrate(
            case,
            actor=operator,
            outcome=ArbitrationOutcome.REFUND,
            liability=Liability.MERCHANT,
            note="商家未能证明商品完好",
        )

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert (case.arbitration_outcome, case.liability) == (ArbitrationOutcome.REFUND, Liability.MERCHANT)
    assert case.arbitrated_at is not None and case.deadline_at is None
    assert refund_queue == [case.pk]
    event = case.events.latest("pk")
    assert (event.kind, event.actor_kind, event.data) == (
        Kind.ARBITRATED,
        ActorKind.PLATFORM,
        {"outcome": "refund", "liability": "merchant"},
    )
    # L-5 counts merchant-liable decisions from the case itself.
    assert AfterSaleCase.objects.filter(merchant=shop, liability=Liability.MERCHANT).count() == 1


def test_A7_arbitrate_reject_closes_and_releases_item(shop, clerk, operator):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk)

    services.arbitrate(case, actor=operator, outcome=ArbitrationOutcome.REJECT, liability=Liability.BUYER)

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert item_of(case).aftersale_lock == AftersaleLock.NONE


def test_A7_arbitrate_reship_works_for_a_return_refund_case(shop, clerk, operator):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    services.refuse_return(case, actor=clerk, reason="包装破损")

    services.arbitrate(case, actor=operator, outcome=ArbitrationOutcome.RESHIP, liability=Liability.BOTH)
    services.reship(case, actor=clerk, carrier=Carrier.SF, tracking_no="SF9876543210")

    case.refresh_from_db()
    assert case.status == CaseStatus.EXCHANGE_SHIPPED


def test_A7_arbitrate_cod_refund_waits_for_voucher(shop, clerk, operator):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk, payment_method=PaymentMethod.COD)

    services.arbitrate(case, actor=operator, outcome=ArbitrationOutcome.REFUND, liability=Liability.MERCHANT)

    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_VOUCHER


def test_A7_only_platform_staff_arbitrate(shop, clerk, owner):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk)
    before = snapshot(case)

    for actor in (clerk, owner, None):
        with pytest.raises(ActorNotAllowedError):
            services.arbitrate(
                case, actor=actor, outcome=ArbitrationOutcome.REFUND, liability=Liability.MERCHANT
            )

    assert snapshot(case) == before


@pytest.mark.parametrize(("outcome", "liability"), [("refund_all", "merchant"), ("refund", "malicious")])
def test_A7_unknown_outcome_or_liability_refused(shop, clerk, operator, outcome, liability):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk)
    before = snapshot(case)

    with pytest.raises(ValidationError):
        services.arbitrate(case, actor=operator, outcome=outcome, liability=liability)

    assert snapshot(case) == before


# --------------------------------------------------------------------------------------------
# A-8 negotiation


def test_A8_propose_keeps_merchant_clock_and_accept_marks_negotiated(
    shop, clerk, refund_queue, django_capture_on_commit_callbacks
):
    case = open_pending(shop, amount=Decimal("50.00"))
    merchant_deadline = case.merchant_deadline_at

    services.propose(
        case, actor=clerk, type=CaseType.REFUND_ONLY, amount="30.00", text="补偿 30 元，不用退货"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.NEGOTIATING
    assert case.merchant_deadline_at == merchant_deadline
    assert case.deadline_at == case.proposed_at + timedelta(hours=48)
    assert (case.proposed_type, case.proposed_amount) == (CaseType.REFUND_ONLY, Decimal("30.00"))
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_proposal(case)

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert case.negotiated is True
    assert case.amount == Decimal("30.00")
    assert refund_queue == [case.pk]
    assert [e.kind for e in case.events.all()] == [Kind.OPENED, Kind.PROPOSED, Kind.PROPOSAL_ACCEPTED]


def test_A8_accepting_a_return_proposal_waits_for_goods(shop, clerk):
    case = open_pending(shop, type=CaseType.REFUND_ONLY, order_status=OrderStatus.SHIPPED)

    services.propose(
        case, actor=clerk, type=CaseType.RETURN_REFUND, amount=case.amount, text="请退回商品后退款"
    )
    services.accept_proposal(case)

    case.refresh_from_db()
    assert (case.status, case.type, case.negotiated) == (
        CaseStatus.AWAITING_RETURN,
        CaseType.RETURN_REFUND,
        True,
    )


def test_A8_decline_returns_to_pending_on_the_original_clock(shop, clerk):
    case = open_pending(shop)
    merchant_deadline = case.merchant_deadline_at
    services.propose(case, actor=clerk, type=CaseType.REFUND_ONLY, amount="10", text="补偿 10 元")

    with time_machine.travel(timezone.now() + timedelta(hours=5), tick=False):
        services.decline_proposal(case)

    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING
    assert case.deadline_at == case.merchant_deadline_at == merchant_deadline
    assert case.negotiated is False
    assert case.events.latest("pk").kind == Kind.PROPOSAL_DECLINED


def test_A8_proposal_must_be_within_refundable_and_possible(shop, clerk):
    case = open_pending(shop, order_amount=Decimal("100.00"))
    before = snapshot(case)

    with pytest.raises(CaseAmountError):
        services.propose(case, actor=clerk, type=CaseType.REFUND_ONLY, amount="100.01", text="多退点")
    with pytest.raises(CaseNotEligibleError, match="尚未发货"):
        services.propose(case, actor=clerk, type=CaseType.EXCHANGE, amount="10", text="换一件")
    with pytest.raises(ValidationError, match="协商方案说明"):
        services.propose(case, actor=clerk, type=CaseType.REFUND_ONLY, amount="10", text="")

    assert snapshot(case) == before


# --------------------------------------------------------------------------------------------
# A-9 delay reports


def test_A9_file_and_approve_delay_report_excludes_case_from_assessment(shop, clerk, operator, png):
    case = open_pending(shop)
    until = timezone.now() + timedelta(days=3)

    report = services.file_delay_report(
        case, actor=clerk, reason="春节物流停运", delay_until=until, images=[png()]
    )
    assert report.status == DelayReportStatus.PENDING and report.images.count() == 1
    assert report.merchant_id == shop.pk and report.filed_by == clerk
    services.decide_delay_report(report, actor=operator, approve=True, note="情况属实")

    report.refresh_from_db()
    case.refresh_from_db()
    assert report.status == DelayReportStatus.APPROVED and report.decided_by == operator
    assert case.excluded_from_assessment is True
    assert case.status == CaseStatus.PENDING
    kinds = [(e.kind, e.actor_kind) for e in case.events.all()]
    assert kinds[-2:] == [
        (Kind.DELAY_REPORTED, ActorKind.MERCHANT),
        (Kind.DELAY_APPROVED, ActorKind.PLATFORM),
    ]


def test_A9_rejected_report_keeps_case_in_assessment_and_allows_a_new_one(shop, clerk, operator):
    case = open_pending(shop)
    until = timezone.now() + timedelta(days=1)
    report = services.file_delay_report(case, actor=clerk, reason="仓库盘点", delay_until=until)

    with pytest.raises(ValidationError, match="审核意见"):
        services.decide_delay_report(report, actor=operator, approve=False)
    services.decide_delay_report(report, actor=operator, approve=False, note="理由不充分")
    second = services.file_delay_report(case, actor=clerk, reason="补充证明", delay_until=until)

    case.refresh_from_db()
    assert case.excluded_from_assessment is False
    assert case.events.latest("pk").kind == Kind.DELAY_REPORTED
    assert second.status == DelayReportStatus.PENDING


def test_A9_one_pending_report_per_case_and_time_in_future(shop, clerk):
    case = open_pending(shop)
    services.file_delay_report(
        case, actor=clerk, reason="原因", delay_until=timezone.now() + timedelta(days=1)
    )

    with pytest.raises(DelayReportError, match="待审核"):
        services.file_delay_report(
            case, actor=clerk, reason="再报", delay_until=timezone.now() + timedelta(days=2)
        )
    other = open_pending(shop)
    with pytest.raises(DelayReportError, match="晚于现在"):
        services.file_delay_report(
            other, actor=clerk, reason="原因", delay_until=timezone.now() - timedelta(minutes=1)
        )

    assert DelayReport.objects.count() == 1


def test_A9_no_report_on_a_finished_case(shop, clerk):
    case = walk_to(CaseStatus.CANCELLED, shop, clerk)

    with pytest.raises(DelayReportError, match="不需要报备"):
        services.file_delay_report(
            case, actor=clerk, reason="原因", delay_until=timezone.now() + timedelta(days=1)
        )

    assert not DelayReport.objects.exists()


def test_A9_only_platform_decides_and_only_once(shop, clerk, owner, operator):
    case = open_pending(shop)
    report = services.file_delay_report(
        case, actor=clerk, reason="原因", delay_until=timezone.now() + timedelta(days=1)
    )

    with pytest.raises(ActorNotAllowedError):
        services.decide_delay_report(report, actor=owner, approve=True)
    services.decide_delay_report(report, actor=operator, approve=True)
    with pytest.raises(DelayReportError, match="已审核"):
        services.decide_delay_report(report, actor=operator, approve=False, note="改判")

    report.refresh_from_db()
    assert report.status == DelayReportStatus.APPROVED


def test_A9_approval_also_excludes_the_violations_the_case_caused(shop, clerk, operator):
    case = walk_to(CaseStatus.AWAITING_VOUCHER, shop, clerk)
    record_violation(case, rule="aftersales_voucher_timeout", points=2, episode=case.deadline_at)
    report = services.file_delay_report(
        case, actor=clerk, reason="银行系统维护", delay_until=timezone.now() + timedelta(days=1)
    )

    services.decide_delay_report(report, actor=operator, approve=True)

    assert Violation.objects.get().excluded is True


# --------------------------------------------------------------------------------------------
# A-4 timeline: messages, immutability


def test_A4_messages_from_merchant_platform_and_buyer(shop, clerk, operator, png):
    case = open_pending(shop)

    services.add_message(case, actor=clerk, text="您好，请提供商品照片")
    services.add_message(case, actor=BUYER, text="", attachments=[png()])
    services.add_message(case, actor=operator, text="平台已关注此单")

    events = list(case.events.filter(kind=Kind.MESSAGE))
    assert [e.actor_kind for e in events] == [ActorKind.MERCHANT, ActorKind.BUYER, ActorKind.PLATFORM]
    assert events[1].attachments.count() == 1
    assert all(e.source_status == e.target_status == CaseStatus.PENDING for e in events)
    with pytest.raises(ValidationError, match="留言内容"):
        services.add_message(case, actor=clerk, text=" ")


def test_A4_events_are_append_only(shop):
    case = open_pending(shop)
    event = case.events.get()

    event.message = "篡改"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()

    assert case.events.get().message != "篡改"


def test_A4_every_move_of_a_full_case_life_is_one_event(shop, clerk):
    case = walk_to(CaseStatus.EXCHANGED, shop, clerk)

    events = list(case.events.all())
    assert [e.kind for e in events] == [
        Kind.OPENED,
        Kind.APPROVED,
        Kind.RETURN_SHIPPED,
        Kind.RETURN_CONFIRMED,
        Kind.RESHIPPED,
        Kind.EXCHANGE_CONFIRMED,
    ]
    assert [e.target_status for e in events] == [
        CaseStatus.PENDING,
        CaseStatus.AWAITING_RETURN,
        CaseStatus.RETURN_IN_TRANSIT,
        CaseStatus.RESHIPPING,
        CaseStatus.EXCHANGE_SHIPPED,
        CaseStatus.EXCHANGED,
    ]
    assert all(a.target_status == b.source_status for a, b in zip(events[1:], events[2:], strict=False))
    assert events[1].kind_label == "同意申请"


# --------------------------------------------------------------------------------------------
# Tenancy and roles (SPEC §1)

MERCHANT_CALLS = {
    CaseStatus.PENDING: [
        lambda c, a: services.approve(c, actor=a),
        lambda c, a: services.reject(c, actor=a, reason="不同意"),
        lambda c, a: services.propose(c, actor=a, type=CaseType.REFUND_ONLY, amount="5", text="补偿"),
        lambda c, a: services.add_message(c, actor=a, text="你好"),
        lambda c, a: services.file_delay_report(
            c, actor=a, reason="原因", delay_until=timezone.now() + timedelta(days=1)
        ),
    ],
    CaseStatus.RETURN_IN_TRANSIT: [
        lambda c, a: services.confirm_return(c, actor=a),
        lambda c, a: services.refuse_return(c, actor=a, reason="不符"),
    ],
    CaseStatus.RESHIPPING: [
        lambda c, a: services.reship(c, actor=a, carrier=Carrier.SF, tracking_no=tracking_no()),
    ],
}
MERCHANT_CASES = [(status, index) for status, calls in MERCHANT_CALLS.items() for index in range(len(calls))]


@pytest.mark.parametrize(("status", "index"), MERCHANT_CASES)
def test_tenancy_other_shop_user_gets_not_found(shop, clerk, other_clerk, status, index):
    case = walk_to(status, shop, clerk)
    before = snapshot(case)

    with pytest.raises(ObjectNotFoundError):
        MERCHANT_CALLS[status][index](case, other_clerk)

    assert snapshot(case) == before


@pytest.mark.parametrize(("status", "index"), MERCHANT_CASES)
def test_tenancy_viewer_is_not_allowed(shop, clerk, viewer, status, index):
    case = walk_to(status, shop, clerk)
    before = snapshot(case)

    with pytest.raises(ActorNotAllowedError):
        MERCHANT_CALLS[status][index](case, viewer)

    assert snapshot(case) == before


def test_tenancy_platform_staff_cannot_answer_for_the_merchant_but_superuser_can(shop, operator, superuser):
    case = open_pending(shop)

    with pytest.raises(ActorNotAllowedError, match="平台人员"):
        services.approve(case, actor=operator)
    services.approve(case, actor=superuser)

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING


def test_tenancy_owner_of_two_shops_acts_in_both(shop, other_shop):
    user = UserFactory(username="chain-owner")
    MembershipFactory(user=user, merchant=shop, role=Role.OWNER)
    MembershipFactory(user=user, merchant=other_shop, role=Role.AGENT)

    services.approve(open_pending(shop), actor=user)
    services.approve(open_pending(other_shop), actor=user)

    assert AfterSaleCase.objects.filter(status=CaseStatus.REFUNDING).count() == 2


def test_tenancy_other_shop_cannot_retry_refund_or_decide_reports(shop, clerk, other_clerk):
    case = open_pending(shop)
    report = services.file_delay_report(
        case, actor=clerk, reason="原因", delay_until=timezone.now() + timedelta(days=1)
    )

    with pytest.raises(ObjectNotFoundError):
        services.retry_refund(case, actor=other_clerk)
    with pytest.raises(ActorNotAllowedError):  # not platform staff: refused before any lookup
        services.decide_delay_report(report.pk, actor=other_clerk, approve=True)

    report.refresh_from_db()
    assert report.status == DelayReportStatus.PENDING


# --------------------------------------------------------------------------------------------
# A-10 bulk approval


def test_A10_bulk_approve_reports_per_case_and_keeps_the_good_ones(shop, other_shop, clerk, refund_queue):
    good = [open_pending(shop), open_pending(shop, type=CaseType.RETURN_REFUND)]
    rejected = walk_to(CaseStatus.REJECTED, shop, clerk)
    foreign = open_pending(other_shop)

    results = services.bulk_approve([good[0], rejected, foreign.pk, good[1]], actor=clerk)

    assert [(r.case_id, r.ok) for r in results] == [
        (good[0].pk, True),
        (rejected.pk, False),
        (foreign.pk, False),
        (good[1].pk, True),
    ]
    assert "当前状态" in results[1].message
    assert results[2].case_no == ""  # another shop's case number is not revealed
    assert "不存在" in results[2].message
    statuses = dict(AfterSaleCase.objects.values_list("pk", "status"))
    assert statuses[good[0].pk] == CaseStatus.REFUNDING
    assert statuses[good[1].pk] == CaseStatus.AWAITING_RETURN
    assert statuses[rejected.pk] == CaseStatus.REJECTED
    assert statuses[foreign.pk] == CaseStatus.PENDING
    assert services.bulk_results_summary(results) == "成功 2 单，失败 2 单。"


def test_A10_bulk_approve_by_viewer_approves_nothing(shop, viewer):
    cases = [open_pending(shop), open_pending(shop)]

    results = services.bulk_approve(cases, actor=viewer)

    assert not any(r.ok for r in results)
    assert not AfterSaleCase.objects.exclude(status=CaseStatus.PENDING).exists()


# --------------------------------------------------------------------------------------------
# Selectors


def test_A10_cases_for_scopes_to_the_actors_shops(shop, other_shop, clerk, operator):
    mine, theirs = open_pending(shop), open_pending(other_shop)

    assert list(selectors.cases_for(clerk)) == [mine]
    assert set(selectors.cases_for(operator)) == {mine, theirs}
    with pytest.raises(ObjectNotFoundError):
        selectors.case_for_update(theirs.pk, actor=clerk)


def test_A10_queue_counts_in_one_query(shop, other_shop, clerk, django_assert_num_queries):
    for status in (
        CaseStatus.PENDING,
        CaseStatus.PENDING,
        CaseStatus.NEGOTIATING,
        CaseStatus.AWAITING_RETURN,
        CaseStatus.RETURN_IN_TRANSIT,
        CaseStatus.ARBITRATION,
        CaseStatus.REFUNDED,
    ):
        CaseFactory(merchant=shop, status=status, type=CaseType.RETURN_REFUND)
    CaseFactory(merchant=other_shop)
    now = timezone.now()
    # Due soon (< 12 h): one pending case about to time out, one already past its deadline.
    ids = list(
        AfterSaleCase.objects.filter(merchant=shop, status=CaseStatus.PENDING).values_list("pk", flat=True)
    )
    AfterSaleCase.objects.filter(pk=ids[0]).update(deadline_at=now + timedelta(hours=11, minutes=59))
    AfterSaleCase.objects.filter(pk=ids[1]).update(deadline_at=now - timedelta(minutes=1))

    roles_for(clerk)  # a request has the user's shops cached by the time the tabs are counted

    with django_assert_num_queries(1):
        counts = selectors.queue_counts(clerk, now=now, due_soon_hours=12)

    assert counts == {
        "pending": 2,
        "negotiating": 1,
        "awaiting_return": 1,
        "return_in_transit": 1,
        "arbitration": 1,
        "due_soon": 2,
    }


def test_A10_due_soon_boundary(shop, clerk):
    now = timezone.now()
    soon = CaseFactory(merchant=shop, deadline_at=now + timedelta(hours=11, minutes=59))
    CaseFactory(merchant=shop, deadline_at=now + timedelta(hours=12, minutes=1))

    assert list(selectors.due_soon(clerk, now=now)) == [soon]
    assert soon.is_due_soon(now) is True


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (CaseStatus.PENDING, ["approve", "reject", "propose", "file_delay_report", "add_message"]),
        (
            CaseStatus.RETURN_IN_TRANSIT,
            ["confirm_return", "refuse_return", "file_delay_report", "add_message"],
        ),
        (CaseStatus.RESHIPPING, ["reship", "file_delay_report", "add_message"]),
        (CaseStatus.AWAITING_VOUCHER, ["upload_voucher", "file_delay_report", "add_message"]),
        (CaseStatus.REFUNDING, ["add_message"]),
        (CaseStatus.CLOSED, ["add_message"]),
    ],
)
def test_A4_available_actions_for_merchant_follow_state(shop, clerk, status, expected):
    case = walk_to(
        status,
        shop,
        clerk,
        payment_method=PaymentMethod.COD if status == CaseStatus.AWAITING_VOUCHER else PaymentMethod.ONLINE,
    )

    assert selectors.available_actions(case, clerk) == expected


def test_A4_available_actions_by_role(shop, clerk, viewer, other_clerk, operator, superuser):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk)

    assert selectors.available_actions(case, viewer) == []
    assert selectors.available_actions(case, other_clerk) == []
    assert selectors.available_actions(case, None) == []
    assert selectors.available_actions(case, operator) == ["arbitrate", "add_message"]
    assert selectors.available_actions(case, clerk) == ["file_delay_report", "add_message"]
    assert selectors.available_actions(case, superuser) == ["file_delay_report", "arbitrate", "add_message"]


def test_A9_available_actions_hide_delay_report_while_one_is_pending(shop, clerk):
    case = open_pending(shop)
    services.file_delay_report(
        case, actor=clerk, reason="原因", delay_until=timezone.now() + timedelta(days=1)
    )

    assert "file_delay_report" not in selectors.available_actions(case, clerk)
    annotated = selectors.with_pending_delay_report(selectors.cases_for(clerk)).get(pk=case.pk)
    assert annotated.has_pending_delay_report is True


def test_A6_available_actions_offer_retry_only_for_flagged_refunds(shop, clerk, operator):
    case = walk_to(CaseStatus.REFUNDING, shop, clerk)
    assert "retry_refund" not in selectors.available_actions(case, operator)

    AfterSaleCase.objects.filter(pk=case.pk).update(refund_failed=True)
    case.refresh_from_db()

    assert "retry_refund" in selectors.available_actions(case, operator)
    assert "retry_refund" not in selectors.available_actions(case, clerk)


def test_A1_open_case_draws_a_new_case_number_when_the_random_one_clashes(db, monkeypatch):
    from aftersales import models as aftersales_models

    today = timezone.localdate()
    existing = CaseFactory(case_no=f"AS{today:%y%m%d}00000007")
    draws = iter([7, 8])
    monkeypatch.setattr(aftersales_models.secrets, "randbelow", lambda n: next(draws))
    order = make_order(merchant=existing.merchant)
    item = order.items.first()

    case = services.open_case(item, type=CaseType.REFUND_ONLY, reason=Reason.QUALITY, amount=Decimal("1.00"))

    assert case.case_no == f"AS{today:%y%m%d}00000008"
    assert AfterSaleCase.objects.filter(item=item).count() == 1


# ---- the skeleton's save step: each move writes only MOVE_FIELDS, so those must hold all it changes

MOVE_ARGUMENTS = {
    "reject": [{"reason": "商品完好"}],
    "propose": [{"type": CaseType.RETURN_REFUND, "amount": Decimal("20.00"), "text": "退一半"}],
    "revise_proposal": [{"type": CaseType.EXCHANGE, "amount": Decimal("10.00"), "text": "换货"}],
    "revise": [{"amount": Decimal("30.00"), "description": "改为部分退款"}],
    "buyer_ship_return": [{"carrier": "sf", "tracking_no": "SF1234567890"}],
    "reship": [{"carrier": "zto", "tracking_no": "75012345678901"}],
    "arbitrate": [
        {"outcome": outcome, "liability": "merchant"} for outcome in ("refund", "reship", "reject")
    ],
}


def test_A3_every_transition_saves_every_field_it_writes(shop):
    from aftersales.services._common import MOVE_FIELDS

    status_field = AfterSaleCase._meta.get_field("status")
    names = {t.name for t in status_field.get_all_transitions(AfterSaleCase)}
    limits = AftersalesSettings.load()
    assert set(MOVE_FIELDS) == names  # every transition says what it writes

    for name in sorted(names):
        for arguments in MOVE_ARGUMENTS.get(name, [{}]):
            case = CaseFactory(
                merchant=shop,
                type=CaseType.RETURN_REFUND,
                proposed_type=CaseType.REFUND_ONLY,
                proposed_amount=Decimal("40.00"),
            )
            body = getattr(AfterSaleCase, name).__wrapped__  # the body alone: which fields it sets
            if "limits" in inspect.signature(body).parameters:
                arguments = {**arguments, "limits": limits}
            before = {f.attname: getattr(case, f.attname) for f in AfterSaleCase._meta.concrete_fields}

            body(case, now=timezone.now() + timedelta(hours=1), **arguments)

            written = {field for field, value in before.items() if getattr(case, field) != value}
            assert written <= set(MOVE_FIELDS[name]), (name, written - set(MOVE_FIELDS[name]))
