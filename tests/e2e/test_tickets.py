"""Service tickets in the browser (issue 10): staff raise an urge-shipment ticket on a shop1 order, shop1
answers from the guided form by entering the tracking (the order gets its package), staff reject once, shop1
answers again, staff close it (T-1, T-2, T-4, T-7). Both people act only through the pages."""

import re

from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from merchants.models import Order
from tests.e2e.support import login, open_menu
from tests.factories import OrderFactory, PlatformUserFactory
from tickets.models import Ticket
from tickets.transitions import TicketStatus


def staff_login(page: Page, base_url: str) -> None:
    user = PlatformUserFactory(username="staff")
    user.set_password("staff")
    user.save()
    page.goto(f"{base_url}/admin/login/")
    page.get_by_label(re.compile("用户名")).fill("staff")
    page.get_by_label(re.compile("密码")).fill("staff")
    page.get_by_role("button", name=re.compile("登录")).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def click_action(page: Page, label: str) -> None:
    page.locator("#ticket-actions").get_by_role(
        "link", name=re.compile(rf"(^|\s){re.escape(label)}$")
    ).click()
    expect(page).to_have_url(re.compile(r"/action/"))


def status(page: Page):
    return page.locator("#ticket-status")


def test_T7_staff_raise_shop1_answers_with_tracking_staff_reject_shop1_answers_again_staff_close(
    page: Page, new_page, live_server, shop1, shop2, screenshot
):
    order = OrderFactory(merchant=shop1, order_no="O20261201000001")
    OrderFactory(merchant=shop2, order_no="O20261201000002")
    base = live_server.url

    # Staff raise the ticket from the order's page.
    staff_login(page, base)
    page.goto(f"{base}/admin/merchants/order/{order.pk}/change/")
    page.get_by_role("link", name=re.compile("为该订单发起服务单")).click()
    expect(page.get_by_label("订单号")).to_have_value(order.order_no)
    page.get_by_label("催发货").check()
    page.get_by_label("买家诉求").fill("买家反映下单两天仍未发货，要求尽快发出。")
    screenshot(page, "staff-raise-form")
    page.get_by_role("button", name=re.compile("发起服务单")).click()
    expect(page.get_by_text(re.compile(r"已发起服务单 TK\d+"))).to_be_visible()
    ticket = Ticket.objects.get()
    staff_url = page.url
    expect(status(page)).to_contain_text("待处理")
    expect(page.locator("#ticket-countdown")).to_contain_text("剩 1 天 23 小时")
    screenshot(page, "staff-ticket-raised")

    # shop1 finds it in the 待处理 tab and answers from the guided form by entering the tracking.
    shop = new_page()
    login(shop, base, "shop1")
    open_menu(shop, "服务单")
    tab = shop.locator("#ticket-stage-tabs").get_by_role("link", name=re.compile("待处理"))
    expect(tab).to_contain_text("1")
    tab.click()
    row = shop.locator("#result_list tbody tr").filter(has_text=ticket.ticket_no)
    expect(row).to_contain_text("催发货")
    screenshot(shop, "shop-pending-tab")
    row.get_by_role("link", name="去处理").click()
    expect(status(shop)).to_contain_text(ticket.ticket_no)
    click_action(shop, "催发货处理")
    expect(shop.locator("#urge-situation")).to_contain_text("待发货")
    tracking = shop.locator("#urge-tracking")
    tracking.get_by_label("快递公司").select_option(label="顺丰速运")
    tracking.get_by_label("运单号").fill("SF1234567890")
    screenshot(shop, "shop-guided-form")
    tracking.get_by_role("button", name=re.compile("补录运单并提交")).click()
    expect(shop.get_by_text(re.compile("已补录运单号并发货"))).to_be_visible()
    expect(status(shop)).to_contain_text("审核中")
    expect(shop.locator("#ticket-result")).to_contain_text("顺丰速运 SF1234567890")
    screenshot(shop, "shop-answered")
    order = Order.objects.get(pk=order.pk)
    assert order.status == "shipped"
    assert order.packages.get().tracking_no == "SF1234567890"

    # Staff reject once, with a reason.
    page.goto(staff_url)
    expect(page.locator("#ticket-result")).to_contain_text("SF1234567890")
    click_action(page, "驳回")
    page.get_by_label("驳回原因").fill("请说明预计送达时间")
    page.get_by_role("button", name=re.compile("确认驳回")).click()
    expect(status(page)).to_contain_text("待处理")
    screenshot(page, "staff-rejected")

    # shop1 sees the reason and answers again (shipped now: a plain answer, the shipped notice prefilled).
    shop.reload()
    expect(shop.locator("#ticket-rejected")).to_contain_text("请说明预计送达时间")
    expect(shop.locator("#ticket-actions").get_by_role("link", name=re.compile("催发货处理"))).to_have_count(
        0
    )
    click_action(shop, "提交处理结果")
    text = shop.get_by_label("处理结果")
    expect(text).to_have_value(re.compile("SF1234567890"))
    text.fill(text.input_value() + "预计明天送达。")
    shop.get_by_role("button", name=re.compile("提交处理结果")).click()
    expect(status(shop)).to_contain_text("审核中")
    screenshot(shop, "shop-answered-again")

    # Staff close it.
    page.goto(staff_url)
    expect(page.locator("#ticket-result")).to_contain_text("预计明天送达")
    click_action(page, "审核通过")
    page.get_by_role("button", name=re.compile("确认通过并关闭")).click()
    expect(status(page)).to_contain_text("已关闭")
    expect(page.locator("#ticket-log")).to_contain_text("审核驳回")
    screenshot(page, "staff-closed")

    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert ticket.reject_count == 1
    assert list(ticket.events.values_list("kind", flat=True)) == [
        "opened",
        "result_submitted",
        "rejected",
        "result_submitted",
        "approved",
    ]
    assert not get_user_model().objects.get(username="shop2").memberships.filter(merchant=shop1).exists()
