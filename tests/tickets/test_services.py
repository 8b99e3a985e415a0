"""T-1, T-2, T-5: raising, answering and reviewing tickets through the services."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from merchants.kernel.models import ActorKind, Notice
from merchants.kernel.workflow import ActorNotAllowedError, InvalidTransitionError, ObjectNotFoundError
from merchants.models import MerchantStatus
from tests.factories import OrderFactory
from tests.tickets.factories import TicketFactory, raise_ticket, settings_row, walk_to
from tickets import selectors, services
from tickets.models import Ticket, TicketAttachment, TicketEvent
from tickets.services import TicketOrderError
from tickets.transitions import Liability, TicketCategory, TicketStatus

Kind = TicketEvent.Kind


# ---- T-1 raising a ticket


def test_T1_staff_raise_a_ticket_due_48_hours_later_with_its_log_row_and_attachment(shop, operator, png):
    order = OrderFactory(merchant=shop)
    now = timezone.now()

    with time_machine.travel(now, tick=False):
        ticket = services.open_ticket(
            shop,
            actor=operator,
            category=TicketCategory.URGE_SHIPMENT,
            demand="  买家催促尽快发货  ",
            order=order,
            attachments=[png("chat.png")],
        )

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING
    assert (ticket.merchant_id, ticket.order_id, ticket.order_no) == (shop.pk, order.pk, order.order_no)
    assert ticket.demand == "买家催促尽快发货"
    assert ticket.due_at == now + timedelta(hours=48)
    assert ticket.ticket_no.startswith("TK") and len(ticket.ticket_no) == 16
    event = ticket.events.get()
    assert (event.kind, event.actor, event.actor_kind) == (Kind.OPENED, operator, ActorKind.PLATFORM)
    assert event.message == "买家催促尽快发货"
    assert "48 小时内处理" in event.sentence()
    attachment = TicketAttachment.objects.get(event=event)
    assert attachment.original_name == "chat.png"
    assert attachment.file.name.startswith("tickets/")
    assert Notice.objects.filter(merchant=shop, audience=Notice.Audience.MERCHANT).count() == 1


def test_T1_first_due_time_is_a_setting(shop, operator):
    settings_row(first_due_hours=72)
    now = timezone.now()

    with time_machine.travel(now, tick=False):
        ticket = services.open_ticket(shop, actor=operator, category=TicketCategory.OTHER, demand="其他诉求")

    assert ticket.due_at == now + timedelta(hours=72)


def test_T1_a_ticket_cannot_name_another_shops_order(shop, other_shop, operator):
    theirs = OrderFactory(merchant=other_shop)

    with pytest.raises(TicketOrderError, match="不属于店铺「一号店」"):
        services.open_ticket(
            shop, actor=operator, category=TicketCategory.URGE_SHIPMENT, demand="催发货", order=theirs
        )

    assert not Ticket.objects.exists()


def test_T1_an_order_id_that_does_not_exist_is_refused(shop, operator):
    with pytest.raises(TicketOrderError, match="订单不存在"):
        services.open_ticket(shop, actor=operator, category=TicketCategory.OTHER, demand="x", order=999999)


def test_T1_only_platform_staff_raise_tickets(shop, owner):
    with pytest.raises(ActorNotAllowedError):
        services.open_ticket(shop, actor=owner, category=TicketCategory.OTHER, demand="自己给自己开单")

    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "category, demand, message",
    [
        ("", "诉求", "服务单类型"),
        ("refund_everything", "诉求", "服务单类型"),
        ("other", "   ", "请填写买家诉求"),
    ],
)
def test_T1_bad_input_is_a_readable_error_and_writes_nothing(shop, operator, category, demand, message):
    with pytest.raises(Exception, match=message) as error:
        services.open_ticket(shop, actor=operator, category=category, demand=demand)

    assert error.type.__name__ != "IntegrityError"
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()


def test_T1_a_cleared_shop_gets_no_new_tickets(shop, operator):
    shop.status = MerchantStatus.CLEARED
    shop.save()

    with pytest.raises(Exception, match="已清退"):
        services.open_ticket(shop, actor=operator, category=TicketCategory.OTHER, demand="诉求")


def test_T1_the_system_may_raise_a_ticket(shop):
    ticket = services.open_ticket(shop, actor=None, category=TicketCategory.LOGISTICS, demand="物流停滞")

    assert ticket.events.get().actor_kind == ActorKind.SYSTEM


# ---- T-2 the loop: pending -> in_review -> closed, or rejected back to pending


def test_T2_merchant_submits_a_result_and_the_platforms_clock_starts(shop, clerk, operator, png):
    ticket = raise_ticket(shop, actor=operator)
    now = timezone.now() + timedelta(hours=3)

    with time_machine.travel(now, tick=False):
        services.submit_result(
            ticket, actor=clerk, text="已联系仓库，今天发货。", attachments=[png("proof.png")]
        )

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_REVIEW
    assert ticket.result_text == "已联系仓库，今天发货。"
    assert ticket.due_at is None  # the merchant's clock runs only while pending
    assert ticket.review_due_at == now + timedelta(hours=24)
    event = ticket.events.get(kind=Kind.RESULT_SUBMITTED)
    assert (event.source_status, event.target_status, event.actor) == ("pending", "in_review", clerk)
    assert event.attachments.count() == 1


def test_T2_staff_approve_closes_the_ticket(shop, clerk, operator):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)

    services.review_result(ticket, actor=operator, approve=True, reason="处理得当")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert ticket.closed_at is not None and ticket.review_due_at is None
    event = ticket.events.get(kind=Kind.APPROVED)
    assert (event.source_status, event.target_status, event.message) == ("in_review", "closed", "处理得当")


def test_T2_reject_sends_it_back_due_24_hours_later_with_the_reason(shop, clerk, operator):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)
    now = timezone.now() + timedelta(hours=5)

    with time_machine.travel(now, tick=False):
        services.review_result(ticket, actor=operator, approve=False, reason="未提供物流单号")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING
    assert ticket.due_at == now + timedelta(hours=24)
    assert (ticket.reject_reason, ticket.reject_count) == ("未提供物流单号", 1)
    assert ticket.review_due_at is None
    event = ticket.events.get(kind=Kind.REJECTED)
    assert event.message == "未提供物流单号"
    assert "24 小时内重新处理" in event.sentence()


def test_T2_the_reject_loop_twice_in_a_row_then_closed(shop, clerk, operator):
    settings_row(redo_due_hours=12)
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)

    for round_, reason in enumerate(("请补充物流截图", "截图不清晰"), start=1):
        services.review_result(ticket, actor=operator, approve=False, reason=reason)
        ticket.refresh_from_db()
        assert (ticket.status, ticket.reject_count, ticket.reject_reason) == ("pending", round_, reason)
        assert ticket.due_at is not None and ticket.due_at <= timezone.now() + timedelta(hours=12)
        services.submit_result(ticket, actor=clerk, text=f"第 {round_ + 1} 次提交")
    services.review_result(ticket, actor=operator, approve=True)

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == [
        Kind.OPENED,
        Kind.RESULT_SUBMITTED,
        Kind.REJECTED,
        Kind.RESULT_SUBMITTED,
        Kind.REJECTED,
        Kind.RESULT_SUBMITTED,
        Kind.APPROVED,
    ]


def test_T2_reject_needs_a_reason_and_changes_nothing_without_one(shop, clerk, operator):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)

    with pytest.raises(Exception, match="请填写驳回原因"):
        services.review_result(ticket, actor=operator, approve=False, reason="  ")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_REVIEW
    assert not ticket.events.filter(kind=Kind.REJECTED).exists()


def test_T2_a_result_needs_text(shop, clerk):
    ticket = TicketFactory(merchant=shop)

    with pytest.raises(Exception, match="请填写处理结果"):
        services.submit_result(ticket, actor=clerk, text="")


def test_T2_wrong_state_names_the_state(shop, clerk, operator):
    pending = TicketFactory(merchant=shop)
    closed = TicketFactory(merchant=shop, status=TicketStatus.CLOSED)

    with pytest.raises(InvalidTransitionError, match="待处理"):
        services.review_result(pending, actor=operator, approve=True)
    with pytest.raises(InvalidTransitionError, match="已关闭"):
        services.submit_result(closed, actor=clerk, text="再提交一次")


def test_T2_a_viewer_cannot_answer(shop, viewer):
    ticket = TicketFactory(merchant=shop)

    with pytest.raises(ActorNotAllowedError):
        services.submit_result(ticket, actor=viewer, text="只读成员")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING


def test_T2_platform_staff_cannot_answer_for_the_shop(shop, operator):
    ticket = TicketFactory(merchant=shop)

    with pytest.raises(ActorNotAllowedError):
        services.submit_result(ticket, actor=operator, text="代替商家")


def test_T2_merchants_cannot_review(shop, owner):
    ticket = TicketFactory(merchant=shop, status=TicketStatus.IN_REVIEW)

    with pytest.raises(ActorNotAllowedError):
        services.review_result(ticket, actor=owner, approve=True)

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_REVIEW


def test_T2_another_shops_member_gets_not_found(shop, other_clerk):
    ticket = TicketFactory(merchant=shop)

    with pytest.raises(ObjectNotFoundError):
        services.submit_result(ticket, actor=other_clerk, text="别人的单")

    assert not ticket.events.exists()


def test_T2_a_rejection_notifies_the_shop(shop, clerk, operator):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)
    Notice.objects.all().delete()

    services.review_result(ticket, actor=operator, approve=False, reason="请重新处理")

    notice = Notice.objects.get()
    assert (notice.merchant_id, notice.audience) == (shop.pk, Notice.Audience.MERCHANT)
    assert ticket.ticket_no in notice.title and notice.body == "请重新处理"


# ---- T-5 liability when closing a complaint


def test_T5_closing_a_complaint_needs_a_liability(shop, clerk, operator):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk, category=TicketCategory.COMPLAINT)

    with pytest.raises(Exception, match="请判定责任方"):
        services.review_result(ticket, actor=operator, approve=True)

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_REVIEW


@pytest.mark.parametrize("liability", [choice.value for choice in Liability])
def test_T5_every_liability_is_stored_and_logged(shop, clerk, operator, liability):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk, category=TicketCategory.COMPLAINT)

    services.review_result(ticket, actor=operator, approve=True, liability=liability)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.liability) == (TicketStatus.CLOSED, liability)
    assert str(Liability(liability).label) in ticket.events.get(kind=Kind.APPROVED).sentence()


def test_T5_an_unknown_liability_is_refused(shop, clerk, operator):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk, category=TicketCategory.COMPLAINT)

    with pytest.raises(Exception, match="责任方「both」无效"):
        services.review_result(ticket, actor=operator, approve=True, liability="both")


def test_T5_merchant_liable_complaints_are_counted_and_malicious_ones_never(
    shop, other_shop, clerk, operator
):
    for liability in (Liability.MERCHANT, Liability.MERCHANT, Liability.MALICIOUS, Liability.BUYER):
        ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk, category=TicketCategory.COMPLAINT)
        services.review_result(ticket, actor=operator, approve=True, liability=liability)
    now = timezone.now()

    counts = selectors.merchant_liable_complaints(
        [shop.pk, other_shop.pk], start=now - timedelta(days=30), end=now + timedelta(seconds=1)
    )

    assert counts == {shop.pk: 2}
