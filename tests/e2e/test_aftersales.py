"""After-sales in the browser (issue 3): a return-and-refund case from 待处理 to 退款成功 (A-3, A-4, A-6, A-10).

The merchant acts only through the pages. The buyer is not a user of the panel: the buyer's step (sending the
return tracking) and the refund worker run in the test, between page actions, as they would elsewhere.
"""

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from aftersales import services
from aftersales.models import AfterSaleCase
from aftersales.tasks import refund_task
from aftersales.transitions import CaseStatus, CaseType, Reason
from merchants.transitions import Carrier
from tests.aftersales.factories import open_pending, walk_to
from tests.e2e.support import login, open_menu


def case_row(page: Page, case_no: str):
    return page.locator("#result_list tbody tr").filter(has_text=case_no)


def case_status(page: Page):
    return page.locator("#case-status")


def act(page: Page, label: str, submit: str, screenshot=None, step: str = "action") -> None:
    """Click an action button of the case page, then confirm on the action's own page."""
    page.locator("#case-actions").get_by_role("link", name=re.compile(rf"(^|\s){re.escape(label)}$")).click()
    expect(page).to_have_url(re.compile(r"/action/"))
    if screenshot:
        screenshot(page, step)
    page.get_by_role("button", name=re.compile(re.escape(submit))).click()
    expect(page).not_to_have_url(re.compile(r"/action/"))


def test_A3_merchant_takes_a_return_refund_case_from_pending_to_refunded(
    page: Page, live_server, shop1, shop2, screenshot
):
    case = open_pending(
        shop1,
        type=CaseType.RETURN_REFUND,
        reason=Reason.QUALITY,
        amount=Decimal("80.00"),
        order_amount=Decimal("120.00"),
    )
    assert case.status == CaseStatus.PENDING  # no automation rule approved it
    owner = shop1.memberships.get().user
    waiting_for_goods = walk_to(CaseStatus.AWAITING_RETURN, shop1, owner)
    other_shops_case = open_pending(shop2, type=CaseType.RETURN_REFUND, amount=Decimal("30.00"))

    login(page, live_server.url, "shop1")
    open_menu(page, "售后单")
    tab = page.locator("#case-quick-tabs").get_by_role("link", name=re.compile("待处理"))
    expect(tab).to_contain_text("1")
    tab.click()
    expect(case_row(page, case.case_no)).to_contain_text("待商家处理")
    expect(case_row(page, waiting_for_goods.case_no)).to_have_count(0)
    expect(page.locator("#result_list")).not_to_contain_text(other_shops_case.case_no)
    screenshot(page, "pending-tab")

    case_row(page, case.case_no).get_by_role("link", name="处理退款").click()
    expect(case_status(page)).to_contain_text(case.case_no)
    expect(case_status(page)).to_contain_text("待商家处理")
    expect(case_status(page)).to_contain_text("¥80.00")
    screenshot(page, "case-pending")

    act(page, "同意", "确认同意", screenshot, "approve-form")
    expect(page.get_by_text(f"已同意售后单 {case.case_no}。")).to_be_visible()
    expect(case_status(page)).to_contain_text("待买家退货")
    expect(page.locator("#case-return-logistics")).to_have_count(0)
    screenshot(page, "case-approved")

    # The buyer sends the goods back (through the buyer feed, not the panel).
    services.buyer_ship_return(
        AfterSaleCase.objects.get(pk=case.pk), carrier=Carrier.ZTO, tracking_no="ZTO7700112233"
    )
    page.reload()
    expect(case_status(page)).to_contain_text("待商家收货")
    logistics = page.locator("#case-return-logistics")
    expect(logistics).to_contain_text("中通快递")
    expect(logistics).to_contain_text("ZTO7700112233")
    screenshot(page, "case-return-in-transit")

    act(page, "确认收货", "确认收货", screenshot, "confirm-return-form")
    expect(page.get_by_text(f"已确认收到退货（售后单 {case.case_no}）。")).to_be_visible()
    expect(case_status(page)).to_contain_text("退款中")
    expect(page.locator("#case-refunded")).to_have_count(0)
    screenshot(page, "case-refunding")

    # The Celery worker's turn: the refund goes through the (simulated) payment gateway.
    refund_task(case.pk)
    page.reload()
    expect(case_status(page)).to_contain_text("退款成功")
    expect(page.locator("#case-refunded")).to_contain_text("已退款 ¥80.00")
    screenshot(page, "case-refunded")
    # A final state offers no moves any more (a message can still be left).
    for label in ("同意", "拒绝", "确认收货", "拒绝收货"):
        expect(
            page.locator("#case-actions").get_by_role("link", name=re.compile(rf"(^|\s){label}$"))
        ).to_have_count(0)

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDED
    assert case.refunded_amount == Decimal("80.00")
