"""The English order and case lists fit a 1440 px window, on both sites, and show product names whole
(issue 11 §15): English column labels and state badges are two to three times wider than the Chinese,
and the product column used to cut names to 8–14 characters.
"""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from aftersales.transitions import CaseStatus, CaseType
from merchants.transitions import OrderStatus, PaymentMethod
from tests.aftersales.factories import CaseFactory, make_order
from tests.e2e.support import login, make_owner
from tests.factories import PlatformUserFactory

# Twenty characters: the longest demo names are about this long.
LONG_NAME = "头戴式主动降噪蓝牙耳机超长续航版礼盒装款"

# Overflowing boxes of the page: what scrolls sideways besides the document itself.
OVERFLOW_JS = """() => [...document.querySelectorAll('*')]
    .filter(el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX) && el.scrollWidth > el.clientWidth + 1)
    .map(el => `${el.tagName}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`)"""


@pytest.fixture
def lists(live_server):
    """Two shops whose orders and cases carry the widest cells: long badges, tags, a 20-character name."""
    shop = make_owner("shop1", name="晨光数码旗舰店", code="shop1")
    other = make_owner("shop2", name="悦家家居生活馆", code="shop2")
    shop.express_refund_enabled = True
    shop.save(update_fields=["express_refund_enabled"])
    for merchant in (shop, other):
        for status, payment in (
            (OrderStatus.AWAITING_CONFIRMATION, PaymentMethod.COD),
            (OrderStatus.PARTIALLY_SHIPPED, PaymentMethod.ONLINE),
            (OrderStatus.TO_SHIP, PaymentMethod.ONLINE),
        ):
            order = make_order(merchant, status=status, payment_method=payment, items=2)
            first = order.items.order_by("pk").first().product
            first.name = LONG_NAME
            first.save(update_fields=["name"])
        for status, case_type in (
            (CaseStatus.PENDING, CaseType.REFUND_ONLY),
            (CaseStatus.AWAITING_RETURN, CaseType.RETURN_REFUND),
            (CaseStatus.ARBITRATION, CaseType.RETURN_REFUND),
            (CaseStatus.AWAITING_VOUCHER, CaseType.REFUND_ONLY),
        ):
            case = CaseFactory(merchant=merchant, status=status, type=case_type, amount=Decimal("1999.00"))
            case.product.name = LONG_NAME
            case.product.save(update_fields=["name"])
    return shop


def english(page: Page, base_url: str) -> None:
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base_url}])


def staff_login(page: Page, base_url: str) -> None:
    user = PlatformUserFactory(username="staff")
    user.set_password("staff")
    user.save()
    page.goto(f"{base_url}/admin/login/")
    page.locator("input[name=username]").fill("staff")
    page.locator("input[name=password]").fill("staff")
    page.locator("button[type=submit]:not([name=language])").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def assert_fits(page: Page, url: str, screenshot, step: str) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url)
    expect(page.locator("#result_list")).to_be_visible()
    screenshot(page, step)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    assert page.evaluate(OVERFLOW_JS) == []
    # The whole name is on the page and not cut (no "…" in the product cells).
    names = page.locator("#result_list .shouhou-product").all_inner_texts()
    assert names, "no product cell"
    assert all(re.sub(r"\s", "", name) == LONG_NAME for name in names), names
    assert page.locator("#result_list").get_by_text(LONG_NAME).first.is_visible()


def test_N4_english_order_and_case_lists_fit_1440_px_with_whole_product_names(
    page: Page, live_server, lists, screenshot
):
    english(page, live_server.url)
    page.goto(f"{live_server.url}/workbench/login/")
    page.locator("input[name=username]").fill("shop1")
    page.locator("input[name=password]").fill("shop1")
    page.locator("button[type=submit]:not([name=language])").click()
    expect(page).to_have_url(re.compile(r"/workbench/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")

    assert_fits(page, f"{live_server.url}/workbench/merchants/order/", screenshot, "merchant-orders")
    assert_fits(page, f"{live_server.url}/workbench/aftersales/aftersalecase/", screenshot, "merchant-cases")


def test_N4_english_staff_order_and_case_lists_fit_1440_px_with_whole_product_names(
    page: Page, live_server, lists, screenshot
):
    english(page, live_server.url)
    staff_login(page, live_server.url)

    assert_fits(page, f"{live_server.url}/admin/merchants/order/", screenshot, "staff-orders")
    assert_fits(page, f"{live_server.url}/admin/aftersales/aftersalecase/", screenshot, "staff-cases")


def test_N4_chinese_lists_fit_too(page: Page, live_server, lists, screenshot):
    login(page, live_server.url, "shop1")
    assert_fits(page, f"{live_server.url}/workbench/aftersales/aftersalecase/", screenshot, "cases-zh")
