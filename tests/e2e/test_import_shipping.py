"""Batch shipping in the browser (B-1, B-3, S-2): shop1 uploads a CSV with one bad row, sees the error list
(row, column, value, the rule's message) and that nothing shipped, fixes the file, previews, confirms, and
the orders are shipped."""

import csv
import io
import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from merchants.models import Order, Package
from merchants.transitions import AftersaleLock, OrderStatus
from tests.e2e.support import login
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, SkuFactory


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["订单号", "商品SKU", "快递公司", "运单号"])
    writer.writerows(rows)
    return out.getvalue().encode("gbk")  # what Excel writes in China


def _upload(page: Page, data: bytes) -> None:
    page.set_input_files(
        "input[name=import_file]", files=[{"name": "发货.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.locator("form:has(input[name=import_file]) [type=submit]").first.click()


def test_B3_shop1_fixes_a_bad_row_and_ships_the_orders(page: Page, live_server, shop1, screenshot):
    orders = []
    for n in range(3):
        order = OrderFactory(merchant=shop1, order_no=f"O-E2E-{n}", items=0)
        sku = SkuFactory(product=ProductFactory(merchant=shop1), sku_code=f"SKU-E2E-{n}")
        OrderItemFactory(order=order, product=sku.product, sku=sku, paid_amount=Decimal("50.00"))
        orders.append(order)
    busy = orders[1].items.get()
    busy.aftersale_lock = AftersaleLock.OPEN  # S-2: an open after-sales case
    busy.save(update_fields=["aftersale_lock"])
    rows = [
        ["O-E2E-0", "", "顺丰速运", "SF1000000001"],
        ["O-E2E-1", "", "顺丰速运", "SF1000000002"],
        ["O-E2E-2", "SKU-E2E-2", "中通快递", "ZTO1000000003"],
    ]

    login(page, live_server.url, "shop1")
    page.goto(f"{live_server.url}/workbench/merchants/package/")
    page.locator("a[href$='/workbench/merchants/package/import/']").first.click()
    expect(page).to_have_url(re.compile(r"/package/import/$"))
    _upload(page, _csv(rows))

    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("本次没有导入任何数据")
    bad = page.locator(".import-error-row")
    expect(bad).to_have_count(1)
    expect(bad).to_contain_text("3")  # the file's row 3 (the header is row 1)
    expect(bad).to_contain_text("有进行中的售后")
    expect(page.locator("#import-error-file")).to_be_visible()
    screenshot(page, "errors")
    assert not Package.objects.exists()

    _upload(page, _csv([rows[0], rows[2]]))  # the row left out: that item waits for its case

    confirm = page.locator("form[action$='/process_import/'] [type=submit]")
    expect(confirm).to_be_visible()
    screenshot(page, "preview")
    assert not Package.objects.exists()  # the preview wrote nothing
    confirm.click()

    expect(page).to_have_url(re.compile(r"/workbench/merchants/package/$"))
    expect(page.locator("body")).to_contain_text("导入完成")
    screenshot(page, "done")
    statuses = dict(Order.objects.values_list("order_no", "status"))
    assert statuses == {
        "O-E2E-0": OrderStatus.SHIPPED,
        "O-E2E-1": OrderStatus.TO_SHIP,
        "O-E2E-2": OrderStatus.SHIPPED,
    }


def test_B1_the_order_list_links_its_import_in_both_languages(
    page: Page, new_context, live_server, shop1, screenshot
):
    login(page, live_server.url, "shop1")
    page.goto(f"{live_server.url}/workbench/merchants/order/")
    page.locator("a[href$='/workbench/merchants/order/import/']").first.click()
    expect(page.locator("#import-help")).to_contain_text("商品实付金额（元）")
    expect(page.locator("#import-template-link")).to_be_visible()
    screenshot(page, "order-import-zh")

    page.get_by_text("shop1", exact=True).click()  # the user menu: switch the language
    page.get_by_role("button", name=re.compile("English")).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{live_server.url}/workbench/merchants/order/import/")
    expect(page.locator("#import-help")).to_contain_text("Item amount paid (CNY)")
    screenshot(page, "order-import-en")
