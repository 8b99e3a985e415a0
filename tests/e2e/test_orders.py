"""Orders in the browser (issue 2): a shop owner finds an order to ship and ships it; another shop can't see it.

Data is made with the factories; every action after that goes through the pages, and the assertions are on
what the pages show (with one look at the database to prove that a refusal changed nothing).
"""

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from merchants.models import Order, Package
from merchants.transitions import OrderStatus
from tests.aftersales.factories import make_order
from tests.e2e.support import field, login, open_menu


def status_tabs(page: Page):
    return page.locator("#order-status-tabs")


def order_row(page: Page, order_no: str):
    return page.locator("#result_list tbody tr").filter(has_text=order_no)


def open_ship_page(page: Page, order_no: str) -> None:
    """From the order list: the 待发货 tab, the order, its 发货 button."""
    open_menu(page, "订单")
    status_tabs(page).get_by_role("link", name=re.compile("待发货")).click()
    expect(page).to_have_url(re.compile(r"status__exact=to_ship"))
    page.get_by_role("link", name=order_no, exact=True).click()
    expect(page.locator("h1, #content").first).to_contain_text(order_no)
    page.get_by_role("link", name=re.compile(r"(^|\s)发货$")).click()
    expect(page).to_have_url(re.compile(r"/ship/"))


def test_S1_owner_ships_a_to_ship_order_from_its_page_and_other_shop_cannot_see_it(
    page: Page, new_page, live_server, shop1, shop2, screenshot
):
    order = make_order(shop1, items=2, paid_amount=Decimal("199.00"))
    already_shipped = make_order(shop1, status=OrderStatus.SHIPPED)
    other_shops_order = make_order(shop2)

    login(page, live_server.url, "shop1")
    screenshot(page, "workbench-home")
    open_menu(page, "订单")
    expect(order_row(page, already_shipped.order_no)).to_be_visible()
    status_tabs(page).get_by_role("link", name=re.compile("待发货")).click()
    expect(order_row(page, order.order_no)).to_contain_text("待发货")
    expect(order_row(page, already_shipped.order_no)).to_have_count(0)  # the tab filters
    expect(page.locator("#result_list")).not_to_contain_text(other_shops_order.order_no)
    screenshot(page, "to-ship-tab")

    page.get_by_role("link", name=order.order_no, exact=True).click()
    expect(page.locator("#content")).to_contain_text("待发货")
    screenshot(page, "order-page")
    page.get_by_role("link", name=re.compile(r"(^|\s)发货$")).click()
    items = page.locator("#ship-items input[type=checkbox][name=items]")
    expect(items).to_have_count(2)
    for index in range(2):
        items.nth(index).check()
    page.get_by_label("快递公司").select_option(label="顺丰速运")
    page.get_by_label("运单号").fill("SF1234567890")
    screenshot(page, "ship-form-filled")
    page.get_by_role("button", name=re.compile("确认发货")).click()

    expect(page).to_have_url(re.compile(rf"/merchants/order/{order.pk}/change/$"))
    expect(page.get_by_text("已发货：顺丰速运 SF1234567890，共 2 件商品。")).to_be_visible()
    expect(field(page, "订单状态")).to_contain_text("已发货")
    expect(page.locator("#content")).to_contain_text("SF1234567890")
    screenshot(page, "order-shipped")

    open_menu(page, "订单")
    expect(order_row(page, order.order_no)).to_contain_text("已发货")
    status_tabs(page).get_by_role("link", name=re.compile("待发货")).click()
    expect(order_row(page, order.order_no)).to_have_count(0)
    screenshot(page, "list-after-shipping")

    # Another shop's owner, at another computer.
    other = new_page()
    login(other, live_server.url, "shop2")
    open_menu(other, "订单")
    expect(order_row(other, other_shops_order.order_no)).to_be_visible()
    for order_no in (order.order_no, already_shipped.order_no):
        expect(other.locator("#result_list")).not_to_contain_text(order_no)
    other.get_by_placeholder(re.compile("订单号")).fill(order.order_no)
    other.keyboard.press("Enter")
    screenshot(other, "shop2-searches-shop1-order")
    expect(other.locator("body")).to_contain_text("0 条结果")
    expect(other.locator("#result_list tbody tr")).to_have_count(0)

    response = other.goto(f"{live_server.url}/workbench/merchants/order/{order.pk}/change/")
    assert response is not None and response.status == 404
    expect(other.locator("body")).not_to_contain_text(order.order_no)
    screenshot(other, "shop2-opens-shop1-order-url")


def test_S1_shipping_without_tracking_number_is_refused_with_a_message_and_ships_nothing(
    page: Page, live_server, shop1, screenshot
):
    order = make_order(shop1, items=1)

    login(page, live_server.url, "shop1")
    open_ship_page(page, order.order_no)
    page.locator("#ship-items input[name=items]").first.check()
    page.get_by_label("快递公司").select_option(label="中通快递")
    page.get_by_label("运单号").fill("   ")
    page.get_by_role("button", name=re.compile("确认发货")).click()

    expect(page).to_have_url(re.compile(r"/ship/$"))
    error = page.locator(".errorlist, .errors").filter(has_text=re.compile("运单号|必填|这个字段"))
    expect(error.first).to_be_visible()
    screenshot(page, "empty-tracking-refused")
    expect(page.locator("#order-summary")).to_contain_text("待发货")

    page.get_by_role("link", name=re.compile("返回订单")).click()
    expect(field(page, "订单状态")).to_contain_text("待发货")
    expect(page.locator("#content")).not_to_contain_text("已发货：")
    order.refresh_from_db()
    assert order.status == OrderStatus.TO_SHIP
    assert not Package.objects.filter(order=order).exists()
    assert Order.objects.filter(pk=order.pk, items__package__isnull=False).count() == 0
