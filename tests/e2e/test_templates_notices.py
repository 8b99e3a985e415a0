"""Reply templates and notices in the browser (T-6, A-7): the message box inserts a platform default filled
from the case, the optional coupon sentence only when a coupon is typed; the header bell counts the shop's
unread notices, and marking them read empties it. The control's script is a static file (CSP: no inline
code), so this is also the proof that the page works without inline scripts."""

import importlib
import re

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from aftersales import services
from aftersales.transitions import ArbitrationOutcome, CaseStatus, CaseType, Liability
from merchants.models import Package
from tests.aftersales.factories import CaseFactory, walk_to
from tests.e2e.support import login
from tests.factories import PlatformUserFactory


@pytest.fixture
def reply_defaults(live_server):
    """The platform's default templates: a data migration wrote them, but a live-server test before this one
    flushed the tables, so they are written again here (the migration's own function)."""
    migration = importlib.import_module("merchants.migrations.0008_reply_template_defaults")
    migration.add_defaults(apps, None)


def test_T6_the_message_box_inserts_a_template_filled_from_the_case(
    page: Page, live_server, shop1, reply_defaults, screenshot
):
    case = CaseFactory(merchant=shop1, type=CaseType.RETURN_REFUND, status=CaseStatus.PENDING)
    tracking = Package.objects.get(order=case.order).tracking_no
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    login(page, live_server.url, "shop1")
    page.goto(f"{live_server.url}/workbench/aftersales/aftersalecase/{case.pk}/action/add_message/")
    picker = page.locator("[data-reply-picker]")
    expect(picker).to_be_visible()

    picker.locator("select").select_option(label="发货通知")
    expect(picker.locator("[data-reply-error]")).to_contain_text("缺少「发货地」")
    expect(picker.get_by_label("运单号")).to_have_value(tracking)  # what the case knows, shown
    screenshot(page, "missing-ship-from")
    picker.get_by_label(re.compile("发货地")).fill("浙江杭州")
    picker.get_by_role("button", name="插入").click()
    message = page.locator("#id_text")
    expect(message).to_have_value(re.compile(rf"从浙江杭州由顺丰速运发出，运单号{tracking}"))
    expect(picker.locator("[data-reply-panel]")).to_be_hidden()

    message.fill("")
    picker.locator("select").select_option(label="延迟发货致歉")
    picker.get_by_label(re.compile("原因")).fill("仓库盘点")
    picker.get_by_label(re.compile("发货时间")).fill("2026-06-03 18:00")
    picker.get_by_role("button", name="插入").click()
    expect(message).to_have_value(re.compile("因为仓库盘点"))
    expect(message).not_to_have_value(re.compile("优惠券"))

    message.fill("")
    picker.locator("select").select_option(label="延迟发货致歉")
    picker.get_by_label(re.compile("原因")).fill("仓库盘点")
    picker.get_by_label(re.compile("发货时间")).fill("2026-06-03 18:00")
    picker.get_by_label(re.compile("优惠券")).fill("5元")
    picker.get_by_label(re.compile("优惠券")).press("Enter")  # inserts; never submits the message form
    expect(message).to_have_value(re.compile("送上一张5元优惠券"))
    expect(page).to_have_url(re.compile(r"/action/add_message/$"))
    screenshot(page, "inserted")

    page.get_by_role("button", name="发送留言").click()
    expect(page.get_by_text(f"留言已记录在协商记录中（售后单 {case.case_no}）。")).to_be_visible()
    assert not errors, errors


def test_A7_the_bell_counts_the_platforms_decision_and_empties_once_read(
    page: Page, live_server, shop1, screenshot
):
    owner = shop1.memberships.get().user
    case = walk_to(CaseStatus.ARBITRATION, shop1, owner)
    services.arbitrate(
        case, actor=PlatformUserFactory(), outcome=ArbitrationOutcome.REJECT, liability=Liability.BUYER
    )

    login(page, live_server.url, "shop1")
    bell = page.locator("#notice-bell")
    expect(bell.locator("[data-unread-count]")).to_have_text("1")
    bell.click()
    expect(page.locator("#result_list")).to_contain_text(f"平台已判定售后单 {case.case_no}")
    screenshot(page, "notices")

    page.get_by_role("button", name=re.compile("全部标为已读")).click()
    expect(page.get_by_text("1 条通知已标为已读。")).to_be_visible()
    expect(page.locator("#notice-bell [data-unread-count]")).to_have_count(0)
