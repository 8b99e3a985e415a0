"""T-6 / T-7: the guided answers prefill the kernel's reply templates (platform defaults or the shop's own)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.models import AfterSaleCase
from merchants.kernel.templates import MissingValuesError, ReplyTemplate
from merchants.models import Order
from tests.factories import OrderFactory
from tests.tickets.factories import raise_ticket
from tickets import replies, services
from tickets.forms import RefundForm, ShipTimeForm, TrackingForm
from tickets.transitions import TicketCategory, TicketStatus

Scene = ReplyTemplate.Scene


def urge(shop, operator, **order_kwargs):
    order = OrderFactory(merchant=shop, **order_kwargs)
    return raise_ticket(shop, category=TicketCategory.URGE_SHIPMENT, order=order, actor=operator)


def platform_default(situation) -> ReplyTemplate:
    return ReplyTemplate.objects.get(
        merchant=None, scene=Scene.TICKET_RESULT, title=replies.TITLES[situation]
    )


def test_T6_the_migration_seeds_a_platform_default_for_every_guided_situation(db):
    for situation in replies.SITUATIONS:
        template = platform_default(situation)
        assert template.enabled and template.merchant_id is None


def test_T6_T7_the_ship_time_answer_sends_the_platform_template_text(shop, clerk, operator):
    template = platform_default(replies.SHIP_TIME_NOTICE)
    template.text = "平台新话术：{ship_time}前发货，请核对地址。"
    template.save()
    ticket = urge(shop, operator)
    ship_at = timezone.localtime() + timedelta(days=1)

    services.answer_with_ship_time(ticket, actor=clerk, ship_at=ship_at)

    ticket.refresh_from_db()
    hour = ship_at.replace(minute=0, second=0, microsecond=0)
    assert ticket.result_text == f"平台新话术：{hour:%Y-%m-%d %H:%M}前发货，请核对地址。"


def test_T6_a_shops_own_template_of_the_same_title_wins_over_the_platforms(shop, other_shop, clerk, operator):
    title = replies.TITLES[replies.OUT_OF_STOCK]
    ReplyTemplate.objects.create(merchant=shop, scene=Scene.TICKET_RESULT, title=title, text="本店缺货话术。")
    ReplyTemplate.objects.create(
        merchant=other_shop, scene=Scene.TICKET_RESULT, title=title, text="别家话术。"
    )
    ticket = urge(shop, operator)

    services.answer_with_refund(ticket, actor=clerk)

    ticket.refresh_from_db()
    assert ticket.result_text == "本店缺货话术。"


def test_T6_a_required_placeholder_without_a_value_is_refused_naming_it_and_nothing_changes(
    shop, clerk, operator
):
    template = platform_default(replies.OUT_OF_STOCK)
    template.text = "非常抱歉，因为{reason}缺货，已为您退款。"
    template.save()
    ticket = urge(shop, operator)

    with pytest.raises(MissingValuesError, match="原因") as refused:
        services.answer_with_refund(ticket, actor=clerk)

    assert refused.value.missing == ["reason"]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING and ticket.result_text == ""
    assert not AfterSaleCase.objects.filter(order=ticket.order).exists()


def test_T6_the_optional_coupon_sentence_is_left_out_cleanly(shop, clerk, operator):
    with_coupon, without = urge(shop, operator), urge(shop, operator)

    services.answer_with_refund(with_coupon, actor=clerk, coupon="5 元无门槛券")
    services.answer_with_refund(without, actor=clerk)

    with_coupon.refresh_from_db()
    without.refresh_from_db()
    assert "5 元无门槛券" in with_coupon.result_text
    assert "优惠券" not in without.result_text and "[" not in without.result_text
    assert "{" not in without.result_text
    assert without.result_text.endswith("款项将原路退回。")


def test_T6_a_disabled_template_without_a_shop_copy_is_a_clear_error(shop, clerk, operator):
    template = platform_default(replies.SHIPPED_OFFLINE)
    template.enabled = False
    template.save()
    ticket = urge(shop, operator)

    with pytest.raises(Exception, match="话术模板「催发货·线下已发货补录运单」不存在或已停用"):
        services.answer_with_tracking(ticket, actor=clerk, carrier="sf", tracking_no="SF1234567890")

    assert not Order.objects.get(pk=ticket.order_id).packages.exists()
    # a typed text needs no template
    services.answer_with_tracking(
        ticket, actor=clerk, carrier="sf", tracking_no="SF1234567890", text="已补录运单号。"
    )
    ticket.refresh_from_db()
    assert ticket.result_text == "已补录运单号。"


def test_T7_the_guided_forms_preview_the_template_the_path_will_send(shop, operator):
    ticket = urge(shop, operator)

    tracking = TrackingForm(ticket=ticket, prefix="t")
    refund = RefundForm(ticket=ticket, prefix="r")
    ship = ShipTimeForm(ticket=ticket, prefix="s")

    assert "（快递公司）" in tracking.fields["text"].widget.attrs["placeholder"]
    assert refund.fields["text"].widget.attrs["placeholder"].startswith("非常抱歉，您购买的商品暂时缺货")
    assert "（承诺的时间）" in ship.fields["text"].widget.attrs["placeholder"]
    assert "{" not in ship.fields["text"].widget.attrs["placeholder"]
