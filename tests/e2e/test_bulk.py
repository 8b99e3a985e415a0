"""A bulk move in the browser (A-10): select cases, see how many and how much before confirming, then one result
per case; a case the move refuses says why and the others go through."""

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from aftersales.models import AfterSaleCase
from aftersales.transitions import CaseStatus
from tests.aftersales.factories import open_pending, walk_to
from tests.e2e.support import login, open_menu


def test_A10_owner_bulk_approves_sees_the_total_first_and_a_result_per_case(
    page: Page, live_server, shop1, screenshot
):
    owner = shop1.memberships.get().user
    first = open_pending(shop1, amount=Decimal("30.00"))
    second = open_pending(shop1, amount=Decimal("20.00"))
    refused = walk_to(CaseStatus.REJECTED, shop1, owner, amount=Decimal("10.00"))

    login(page, live_server.url, "shop1")
    open_menu(page, "售后单")
    for case in (first, second, refused):
        page.locator(f"#result_list input.action-select[value='{case.pk}']").check()
    page.locator("select[name=action]").select_option("bulk_approve_selected")
    page.locator("#changelist-actions button[type=submit]").first.click()

    expect(page.locator("#bulk-count")).to_contain_text(
        "将对 3 个售后单执行「批量同意（退款 / 退货 / 换货）」"
    )
    expect(page.locator("#bulk-count")).to_contain_text("¥60.00")
    expect(page.locator("#bulk-preview")).to_contain_text(refused.case_no)
    expect(page.locator("#bulk-preview")).to_contain_text("商家已拒绝")
    screenshot(page, "bulk-confirmation")
    assert AfterSaleCase.objects.filter(status=CaseStatus.PENDING).count() == 2  # asking changed nothing

    page.get_by_role("button", name=re.compile("确认同意")).click()

    expect(page.locator("#bulk-summary")).to_contain_text("成功 2 个，未成功 1 个")
    refused_row = page.locator("#bulk-results tr[data-ok='0']")
    expect(refused_row).to_have_count(1)
    expect(refused_row).to_contain_text(refused.case_no)
    expect(refused_row).to_contain_text("不能执行")
    expect(page.locator("#bulk-results tr[data-ok='1']")).to_have_count(2)
    screenshot(page, "bulk-result")
    statuses = dict(AfterSaleCase.objects.values_list("pk", "status"))
    assert statuses[first.pk] == statuses[second.pk] == CaseStatus.REFUNDING
    assert statuses[refused.pk] == CaseStatus.REJECTED

    page.get_by_role("link", name=re.compile("返回售后单列表")).click()
    expect(page).to_have_url(re.compile(r"/aftersales/aftersalecase/"))
