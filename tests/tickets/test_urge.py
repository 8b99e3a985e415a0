"""T-7: the guided answers to an urge-shipment ticket do the real thing through the services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales import services as aftersales_services
from aftersales.models import AfterSaleCase
from aftersales.transitions import CaseStatus, CaseType, Reason
from merchants.kernel.workflow import ApplicationError, InvalidTransitionError
from merchants.models import Order
from merchants.transitions import OrderStatus
from tests.aftersales.factories import make_order
from tests.factories import OrderFactory
from tests.tickets.factories import raise_ticket
from tickets import services
from tickets.models import TicketEvent
from tickets.transitions import TicketCategory, TicketStatus, UrgePath

Kind = TicketEvent.Kind


@pytest.fixture
def refunds(monkeypatch):
    from aftersales.tasks import refund_task

    queued = []
    monkeypatch.setattr(refund_task, "delay", lambda case_id: queued.append(case_id))
    return queued


def urge(shop, operator, order):
    return raise_ticket(shop, category=TicketCategory.URGE_SHIPMENT, order=order, actor=operator)


def test_T7_situation_offers_the_three_paths_for_an_unshipped_order(shop, operator):
    on_time = urge(shop, operator, OrderFactory(merchant=shop))
    late = urge(shop, operator, OrderFactory(merchant=shop, ship_by=timezone.now() - timedelta(hours=1)))
    shipped = urge(shop, operator, make_order(shop, status=OrderStatus.SHIPPED))

    assert services.situation(on_time).key == "not_shipped"
    assert services.situation(on_time).paths == (UrgePath.TRACKING, UrgePath.SHIP_TIME, UrgePath.OUT_OF_STOCK)
    assert services.situation(late).key == "late"
    assert services.situation(shipped).key == "shipped" and services.situation(shipped).paths == ()


def test_T7_entering_the_tracking_ships_the_order_and_submits_the_prefilled_result(shop, clerk, operator):
    order = OrderFactory(merchant=shop, items=2)
    ticket = urge(shop, operator, order)

    services.answer_with_tracking(ticket, actor=clerk, carrier="zto", tracking_no="ZTO1234567890")

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    package = order.packages.get()
    assert (package.carrier, package.tracking_no) == ("zto", "ZTO1234567890")
    assert set(order.items.values_list("package_id", flat=True)) == {package.pk}
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_REVIEW
    assert "中通快递 ZTO1234567890" in ticket.result_text
    event = ticket.events.get(kind=Kind.RESULT_SUBMITTED)
    assert event.sentence() == "已补录发货物流：中通快递 ZTO1234567890。"
    assert order.events.filter(kind="shipped", actor=clerk).exists()


def test_T7_a_bad_tracking_number_ships_nothing_and_keeps_the_ticket_pending(shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    ticket = urge(shop, operator, order)

    with pytest.raises(ApplicationError, match="运单号"):
        services.answer_with_tracking(ticket, actor=clerk, carrier="zto", tracking_no="空")

    assert not order.packages.exists()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING


def test_T7_S2_an_open_refund_blocks_the_tracking_and_names_the_case(shop, clerk, operator, refunds):
    order = OrderFactory(merchant=shop)
    case = aftersales_services.open_case(
        order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.NO_REASON, amount=Decimal("100.00")
    )
    ticket = urge(shop, operator, order)

    assert services.situation(ticket).blocked_by_cases
    with pytest.raises(ApplicationError, match=case.case_no):
        services.answer_with_tracking(ticket, actor=clerk, carrier="sf", tracking_no="SF1234567890")

    assert not order.packages.exists()


def test_T7_the_refund_path_approves_the_buyers_pending_refund_instead(
    shop, clerk, operator, refunds, django_capture_on_commit_callbacks
):
    order = OrderFactory(merchant=shop)
    case = aftersales_services.open_case(
        order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.NO_REASON, amount=Decimal("100.00")
    )
    ticket = urge(shop, operator, order)

    with django_capture_on_commit_callbacks(execute=True):
        services.answer_with_refund(ticket, actor=clerk)

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert case.events.get(kind="approved").actor == clerk
    assert AfterSaleCase.objects.count() == 1
    assert refunds == [case.pk]


def test_T7_out_of_stock_opens_refund_only_cases_approved_by_the_merchant(
    shop, clerk, operator, refunds, django_capture_on_commit_callbacks
):
    order = OrderFactory(merchant=shop, items=2, paid_amount=Decimal("80.00"))
    ticket = urge(shop, operator, order)

    with django_capture_on_commit_callbacks(execute=True):
        services.answer_with_refund(ticket, actor=clerk, coupon="5 元无门槛优惠券")

    cases = list(AfterSaleCase.objects.filter(order=order).order_by("pk"))
    assert [(c.type, c.reason, c.status) for c in cases] == [
        (CaseType.REFUND_ONLY, Reason.OUT_OF_STOCK, CaseStatus.REFUNDING)
    ] * 2
    assert [c.amount for c in cases] == [Decimal("40.00"), Decimal("40.00")]
    assert all(c.events.get(kind="approved").actor == clerk for c in cases)
    assert sorted(refunds) == [c.pk for c in cases]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_REVIEW
    assert "缺货" in ticket.result_text and "5 元无门槛优惠券" in ticket.result_text
    assert all(c.case_no in ticket.events.get(kind=Kind.RESULT_SUBMITTED).sentence() for c in cases)


def test_T7_the_out_of_stock_case_is_recorded_as_the_merchants_move_not_the_buyers(
    shop, clerk, operator, refunds, django_capture_on_commit_callbacks
):
    order = OrderFactory(merchant=shop)
    ticket = urge(shop, operator, order)

    with django_capture_on_commit_callbacks(execute=True):
        services.answer_with_refund(ticket, actor=clerk)

    case = AfterSaleCase.objects.get(order=order)
    opened, approved = case.events.order_by("created_at", "pk")[:2]
    assert (opened.kind, opened.actor, opened.actor_kind) == ("opened", clerk, "merchant")
    assert opened.kind_label == "商家主动发起售后"
    assert "买家" not in opened.kind_label
    assert ticket.ticket_no in opened.message
    assert (approved.kind, approved.actor) == ("approved", clerk)
    assert case.status == CaseStatus.REFUNDING


def test_T7_a_merchant_opened_case_skips_the_automation_and_waits_for_the_merchant(shop, clerk):
    from tests.aftersales.factories import AutoRefundRuleFactory

    AutoRefundRuleFactory(merchant=shop)  # a rule that matches every case
    order = make_order(shop)
    item = order.items.get()

    case = aftersales_services.open_case(
        item,
        type=CaseType.REFUND_ONLY,
        reason=Reason.OUT_OF_STOCK,
        amount=item.paid_amount,
        actor=clerk,
        initiator=clerk,
    )

    assert case.status == CaseStatus.PENDING
    assert [e.actor for e in case.events.all()] == [clerk]


def test_T7_a_merchant_initiated_case_must_be_opened_by_the_acting_member(shop, clerk, viewer, operator):
    item = make_order(shop).items.get()
    kwargs = {"type": CaseType.REFUND_ONLY, "reason": Reason.OUT_OF_STOCK, "amount": item.paid_amount}

    with pytest.raises(ApplicationError):
        aftersales_services.open_case(item, **kwargs, actor=None, initiator=clerk)
    with pytest.raises(ApplicationError):
        aftersales_services.open_case(item, **kwargs, actor=viewer, initiator=viewer)
    with pytest.raises(ApplicationError):
        aftersales_services.open_case(item, **kwargs, actor=operator, initiator=operator)

    assert not AfterSaleCase.objects.filter(item=item).exists()


def test_T7_committing_a_ship_time_stores_it_to_the_hour_and_prefills_the_notice(shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    ticket = urge(shop, operator, order)
    ship_at = timezone.localtime() + timedelta(days=1)

    services.answer_with_ship_time(ticket, actor=clerk, ship_at=ship_at.replace(minute=37))

    ticket.refresh_from_db()
    expected = ship_at.replace(minute=0, second=0, microsecond=0)
    assert ticket.ship_commit_at == expected and ticket.ship_commit_due_at == expected
    assert ticket.status == TicketStatus.IN_REVIEW
    assert expected.strftime("%Y-%m-%d %H:00") in ticket.result_text
    assert "核对收货地址" in ticket.result_text
    assert "非常抱歉" not in ticket.result_text


def test_T7_a_late_order_gets_the_apology_with_the_optional_coupon(shop, clerk, operator):
    late = OrderFactory(merchant=shop, ship_by=timezone.now() - timedelta(hours=2))
    plain = OrderFactory(merchant=shop, ship_by=timezone.now() - timedelta(hours=2))
    with_coupon, without = urge(shop, operator, late), urge(shop, operator, plain)
    ship_at = timezone.localtime() + timedelta(hours=6)

    services.answer_with_ship_time(with_coupon, actor=clerk, ship_at=ship_at, coupon="10 元优惠券")
    services.answer_with_ship_time(without, actor=clerk, ship_at=ship_at)

    with_coupon.refresh_from_db()
    without.refresh_from_db()
    assert with_coupon.result_text.startswith("非常抱歉") and "10 元优惠券" in with_coupon.result_text
    assert without.result_text.startswith("非常抱歉") and "优惠券" not in without.result_text
    assert "{" not in without.result_text and "%(" not in without.result_text


def test_T7_a_ship_time_in_the_past_is_refused(shop, clerk, operator):
    ticket = urge(shop, operator, OrderFactory(merchant=shop))

    with pytest.raises(ApplicationError, match="必须晚于现在"):
        services.answer_with_ship_time(ticket, actor=clerk, ship_at=timezone.now() - timedelta(hours=1))

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING and ticket.ship_commit_at is None


def test_T7_the_guided_answers_need_an_urge_shipment_ticket_with_an_unshipped_order(shop, clerk, operator):
    other = raise_ticket(
        shop, category=TicketCategory.QUALITY, order=OrderFactory(merchant=shop), actor=operator
    )
    shipped = urge(shop, operator, make_order(shop, status=OrderStatus.SHIPPED))

    with pytest.raises(ApplicationError, match="催发货"):
        services.answer_with_refund(other, actor=clerk)
    with pytest.raises(ApplicationError, match="已全部发货"):
        services.answer_with_ship_time(shipped, actor=clerk, ship_at=timezone.now() + timedelta(hours=3))


def test_T7_a_ticket_in_review_takes_no_second_answer(shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    ticket = urge(shop, operator, order)
    services.answer_with_ship_time(ticket, actor=clerk, ship_at=timezone.now() + timedelta(hours=3))

    with pytest.raises(InvalidTransitionError, match="审核中"):
        services.answer_with_tracking(ticket, actor=clerk, carrier="sf", tracking_no="SF1234567890")

    assert not Order.objects.get(pk=order.pk).packages.exists()


def test_T7_a_viewer_cannot_use_the_guided_answers(shop, viewer, operator):
    order = OrderFactory(merchant=shop)
    ticket = urge(shop, operator, order)

    with pytest.raises(ApplicationError):
        services.answer_with_tracking(ticket, actor=viewer, carrier="sf", tracking_no="SF1234567890")

    assert not order.packages.exists()
