"""Bulk imports (B-1..B-4): formats and encodings, headers in either language, every bad row named, the
error file, all or nothing, repeated imports, tenancy, and the standard URLs on both sites."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftersales.models import AfterSaleCase
from merchants.kernel.importing import ImportFileError, read_table
from merchants.models import Order, OrderEvent, Package, Product, Sku
from merchants.resources import ProductResource, ShippingResource
from merchants.transitions import AftersaleLock, OrderStatus
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, SkuFactory

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"

PRODUCT_HEADERS_ZH = ["店铺编码", "商品ID", "商品名称", "在售", "SKU编码", "规格", "价格（元）"]
PRODUCT_HEADERS_EN = [
    "Shop code",
    "Product ID",
    "Product name",
    "On sale",
    "SKU code",
    "Variant",
    "Price (CNY)",
]
SHIP_HEADERS = ["订单号", "商品SKU", "快递公司", "运单号"]


def csv_bytes(headers, rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(headers, rows, *, declared_range=None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if declared_range is None:
        return buffer.getvalue()
    # Rewrite the sheet's <dimension>: what Excel leaves behind after formatting whole columns.
    source, target = zipfile.ZipFile(io.BytesIO(buffer.getvalue())), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{declared_range}"'.encode(), data)
                assert declared_range.encode() in data
            out.writestr(item, data)
    return target.getvalue()


def import_products(actor, data: bytes, *, dry_run=False):
    resource = ProductResource(actor=actor)
    return resource, resource.import_data(read_table(data), dry_run=dry_run, raise_errors=False)


def import_shipping(actor, data: bytes, *, dry_run=False):
    resource = ShippingResource(actor=actor)
    return resource, resource.import_data(read_table(data), dry_run=dry_run, raise_errors=False)


def assert_clean(resource, result):
    assert not result.has_errors() and not result.has_validation_errors(), resource.row_errors(result)


def product_rows(shop_code=""):
    return [
        [shop_code, "SPU-1", "纯棉短袖T恤", "是", "SKU-1-W", "白色 / L", "59.00"],
        [shop_code, "SPU-1", "纯棉短袖T恤", "是", "SKU-1-B", "黑色 / L", "￥1,059.50"],
        [shop_code, "SPU-2", "保温杯", "否", "", "", ""],
    ]


def assert_products_imported(shop):
    assert set(Product.objects.filter(merchant=shop).values_list("spu_id", flat=True)) == {"SPU-1", "SPU-2"}
    skus = dict(Sku.objects.filter(merchant=shop).values_list("sku_code", "price"))
    assert skus == {"SKU-1-W": Decimal("59.00"), "SKU-1-B": Decimal("1059.50")}
    assert Product.objects.get(merchant=shop, spu_id="SPU-2").on_shelf is False


# --------------------------------------------------------------------------------------------
# B-2 formats


@pytest.mark.parametrize(
    ("encoding", "label"),
    [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8（BOM）"),
        ("gbk", "GBK / GB18030"),
        ("gb18030", "GBK / GB18030"),
    ],
)
def test_B2_csv_in_each_encoding_is_read_without_asking(shop, clerk, encoding, label):
    data = csv_bytes(PRODUCT_HEADERS_ZH, product_rows(), encoding)
    dataset = read_table(data)
    assert dataset.encoding_label == label

    resource, result = import_products(clerk, data)

    assert_clean(resource, result)
    assert_products_imported(shop)


def test_B2_gb18030_only_characters_are_read(shop, clerk):
    name = "𠀀螺蛳粉·㐀"  # outside GBK: only GB18030 (or UTF-8) can hold these
    data = csv_bytes(PRODUCT_HEADERS_ZH, [["", "SPU-9", name, "是", "", "", ""]], "gb18030")
    with pytest.raises(UnicodeEncodeError):
        name.encode("gbk")

    resource, result = import_products(clerk, data)

    assert_clean(resource, result)
    assert Product.objects.get(merchant=shop, spu_id="SPU-9").name == name


def test_B2_xlsx_with_a_huge_declared_used_range_reads_only_its_rows(shop, clerk):
    data = xlsx_bytes(PRODUCT_HEADERS_ZH, product_rows(), declared_range="A1:XFD1048576")
    dataset = read_table(data)
    assert len(dataset) == 3 and dataset.headers == PRODUCT_HEADERS_ZH and dataset.encoding_label == "XLSX"

    resource, result = import_products(clerk, data)

    assert_clean(resource, result)
    assert_products_imported(shop)


def test_B2_xlsx_numbers_and_trailing_blank_rows(shop, clerk):
    rows = [["", 100001, "数字商品ID", "是", "SKU-N", "", 19.9], ["", None, None, None, None, None, None]] + [
        [None] * 7
    ] * 50
    resource, result = import_products(clerk, xlsx_bytes(PRODUCT_HEADERS_ZH, rows))

    assert_clean(resource, result)
    assert Product.objects.get(merchant=shop, spu_id="100001")
    assert Sku.objects.get(sku_code="SKU-N").price == Decimal("19.90")


def test_B2_english_headers_and_field_names_are_accepted(shop, clerk):
    resource, result = import_products(clerk, csv_bytes(PRODUCT_HEADERS_EN, product_rows()))
    assert_clean(resource, result)
    assert_products_imported(shop)

    names = ["shop", "spu_id", "name", "on_shelf", "sku_code", "spec", "price"]
    rows = [[c, "SPU-3", "保温杯二代", "yes", "", "", ""] for c in [""]]
    resource, result = import_products(clerk, csv_bytes(names, rows))
    assert_clean(resource, result)
    assert Product.objects.filter(merchant=shop, spu_id="SPU-3").exists()


def test_B2_a_value_our_export_neutralised_reads_back_as_the_original(shop, clerk):
    product = ProductFactory(merchant=shop, spu_id="SPU-F", name="=HYPERLINK(1)")
    SkuFactory(product=product, sku_code="-SKU-MINUS", spec="+大号", price=Decimal("5.00"))
    exported = ProductResource(actor=clerk).export(queryset=Product.objects.all()).csv
    assert "'=HYPERLINK(1)" in exported and "'-SKU-MINUS" in exported and "'+大号" in exported
    Product.objects.all().delete()

    resource, result = import_products(clerk, exported.encode("utf-8"))

    assert_clean(resource, result)
    product = Product.objects.get(merchant=shop, spu_id="SPU-F")
    assert product.name == "=HYPERLINK(1)"
    assert product.skus.get().sku_code == "-SKU-MINUS" and product.skus.get().spec == "+大号"


def test_B2_a_formula_cell_is_an_error_naming_its_row_and_column(shop, clerk):
    rows = [["", "SPU-1", "好商品", "是", "", "", ""], ["", "SPU-2", "=1+1", "是", "", "", ""]]
    resource, result = import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, rows))

    errors = resource.row_errors(result)
    assert [(e.row, e.column, e.value) for e in errors] == [(3, "商品名称", "=1+1")]
    assert "公式" in errors[0].message
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件是空的"),
        (b"\n\n ,, \n", "文件是空的"),
        (b"\x00\x01\x02\x03binary\x00junk" * 50, "不是 CSV 或 Excel"),
        (b"PK\x03\x04not really a zip", "无法读取该 Excel 文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old xls", "旧版 Excel"),
        (b"\xff\xfe\x00\xd8\x00\xdc\xff", "无法识别文件编码"),
    ],
)
def test_B2_malformed_files_are_refused_with_a_message(data, message):
    with pytest.raises(ImportFileError) as caught:
        read_table(data)
    assert message in caught.value.messages[0]


def test_B2_unknown_or_missing_columns_are_refused_before_any_row(shop, clerk):
    resource, result = import_products(clerk, csv_bytes(["商品ID", "商品名称", "颜色"], [["S", "N", "红"]]))
    assert "无法识别的列：颜色" in result.file_error.messages[0]

    resource, result = import_products(clerk, csv_bytes(["商品ID", "在售"], [["S", "是"]]))
    assert "缺少必需的列：商品名称" in result.file_error.messages[0]
    assert not Product.objects.exists()


def test_B2_a_file_over_the_size_limit_is_refused(settings):
    settings.SHOUHOU_IMPORT_MAX_BYTES = 1024
    with pytest.raises(ImportFileError) as caught:
        read_table(csv_bytes(["商品ID", "商品名称"], [["S", "N" * 2000]]))
    assert "文件过大" in caught.value.messages[0]


# --------------------------------------------------------------------------------------------
# B-3 all or nothing, every bad row named


def test_B3_bad_rows_among_good_ones_write_nothing_and_each_is_named(shop, clerk):
    rows = [
        ["", "SPU-1", "好商品", "是", "SKU-A", "", "10.00"],
        ["", "SPU-2", "", "是", "", "", ""],  # no name
        ["", "SPU-3", "好商品三", "也许", "", "", ""],  # not a yes/no
        ["", "SPU-4", "好商品四", "是", "SKU-D", "", "十块"],  # not an amount
        ["", "SPU-5", "好商品五", "是", "", "", ""],
    ]
    resource, result = import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, rows))

    errors = resource.row_errors(result)
    assert [(e.row, e.column, e.value) for e in errors] == [
        (3, "商品名称", ""),
        (4, "在售", "也许"),
        (5, "价格（元）", "十块"),
    ]
    assert all(e.message for e in errors)
    assert not Product.objects.exists() and not Sku.objects.exists()


def test_B3_the_error_file_holds_every_uploaded_row_and_imports_once_fixed(shop, clerk):
    rows = [["", "SPU-1", "好商品", "是", "", "", ""], ["", "SPU-2", "好商品二", "也许", "", "", ""]]
    resource, result = import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, rows))

    data = resource.error_file(result)

    assert data.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == [*PRODUCT_HEADERS_ZH, "错误信息"]
    assert lines[1][-1] == "" and lines[2][1] == "SPU-2" and "在售" in lines[2][-1]
    lines[2][3] = "否"  # fixed in Excel; the error column stays in the file
    fixed = csv_bytes(lines[0], lines[1:], "utf-8-sig")

    resource, result = import_products(clerk, fixed)

    assert_clean(resource, result)
    assert Product.objects.filter(merchant=shop).count() == 2


def test_B3_importing_the_same_file_twice_changes_nothing_the_second_time(shop, clerk):
    data = csv_bytes(PRODUCT_HEADERS_ZH, product_rows())
    import_products(clerk, data)
    before = list(Product.objects.values_list("pk", "name")), list(Sku.objects.values_list("pk", "price"))

    resource, result = import_products(clerk, data)

    assert_clean(resource, result)
    assert result.totals["skip"] == 3 and result.totals["new"] == 0 and result.totals["update"] == 0
    assert (
        list(Product.objects.values_list("pk", "name")),
        list(Sku.objects.values_list("pk", "price")),
    ) == before


def test_B3_a_changed_row_updates_the_product_and_its_sku_in_place(shop, clerk):
    import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, product_rows()))
    rows = product_rows()
    rows[0][2], rows[0][6] = "纯棉短袖T恤（新款）", "69.00"

    resource, result = import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, rows))

    assert_clean(resource, result)
    assert Product.objects.filter(merchant=shop).count() == 2 and Sku.objects.count() == 2
    assert Sku.objects.get(sku_code="SKU-1-W").price == Decimal("69.00")


def test_B3_the_product_export_imports_back_unchanged(shop, clerk):
    import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, product_rows()))
    exported = ProductResource(actor=clerk).export(queryset=Product.objects.all())
    assert len(exported) == 3  # a row per SKU, and the product without SKUs

    resource, result = import_products(clerk, exported.csv.encode("utf-8-sig"))

    assert_clean(resource, result)
    assert result.totals["skip"] == 3


# --------------------------------------------------------------------------------------------
# B-4 tenancy


def test_B4_a_merchant_row_naming_another_shop_is_an_error(shop, other_shop, clerk):
    rows = [["shop1", "SPU-1", "自己的", "是", "", "", ""], ["shop2", "SPU-2", "别人的", "是", "", "", ""]]
    resource, result = import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, rows))

    errors = resource.row_errors(result)
    assert [(e.row, e.column, e.value) for e in errors] == [(3, "店铺编码", "shop2")]
    assert not Product.objects.exists()


def test_B4_staff_name_the_shop_on_every_row(shop, other_shop, operator):
    rows = [
        ["shop1", "SPU-1", "一号店的", "是", "", "", ""],
        ["shop2", "SPU-1", "二号店的", "是", "", "", ""],
    ]
    resource, result = import_products(operator, csv_bytes(PRODUCT_HEADERS_ZH, rows))
    assert_clean(resource, result)
    assert Product.objects.get(merchant=other_shop, spu_id="SPU-1").name == "二号店的"

    resource, result = import_products(
        operator, csv_bytes(PRODUCT_HEADERS_ZH, [["", "SPU-7", "无店铺", "", "", "", ""]])
    )
    assert [(e.row, e.column) for e in resource.row_errors(result)] == [(2, "店铺编码")]


# --------------------------------------------------------------------------------------------
# Batch shipping


@pytest.fixture
def orders(shop):
    """Two orders of shop1, each with two SKU items."""
    made = []
    for n in range(2):
        order = OrderFactory(merchant=shop, order_no=f"O-SHIP-{n}", items=0)
        for color in ("W", "B"):
            sku = SkuFactory(product=ProductFactory(merchant=shop), sku_code=f"SKU-{n}-{color}")
            OrderItemFactory(order=order, product=sku.product, sku=sku, paid_amount=Decimal("50.00"))
        made.append(order)
    return made


def test_B1_batch_shipping_ships_each_row_through_the_service(shop, clerk, orders):
    rows = [
        ["O-SHIP-0", "SKU-0-W,SKU-0-B", "顺丰速运", "SF1000000001"],
        ["O-SHIP-1", "SKU-1-W", "zto", "ZTO1000000001"],
    ]
    resource, result = import_shipping(clerk, csv_bytes(SHIP_HEADERS, rows))

    assert_clean(resource, result)
    first, second = (Order.objects.get(pk=o.pk) for o in orders)
    assert first.status == OrderStatus.SHIPPED and second.status == OrderStatus.PARTIALLY_SHIPPED
    assert Package.objects.get(order=first).tracking_no == "SF1000000001"
    shipped = OrderEvent.objects.get(order=first, kind=OrderEvent.Kind.SHIPPED)
    assert shipped.actor_id == clerk.pk  # the member shipped it, as with the button


def test_B3_shipping_a_file_twice_skips_every_row_the_second_time(shop, clerk, orders):
    data = csv_bytes(
        SHIP_HEADERS,
        [["O-SHIP-0", "", "sf", "SF1000000001"], ["O-SHIP-1", "SKU-1-W", "zto", "ZTO1000000002"]],
    )
    import_shipping(clerk, data)

    resource, result = import_shipping(clerk, data)

    assert_clean(resource, result)
    assert result.totals["skip"] == 2 and Package.objects.count() == 2
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.SHIPPED).count() == 2


def test_B3_a_shipping_row_breaking_S1_or_S2_is_named_and_nothing_ships(shop, clerk, orders):
    locked = orders[1].items.get(sku__sku_code="SKU-1-B")
    locked.aftersale_lock = AftersaleLock.OPEN
    locked.save(update_fields=["aftersale_lock"])
    rows = [
        ["O-SHIP-0", "SKU-0-W", "sf", "SF1000000001"],
        ["O-SHIP-0", "SKU-0-W", "sf", "SF1000000002"],  # S-1: the item went out in the row above
        ["O-SHIP-1", "SKU-1-B", "sf", "SF1000000003"],  # S-2: open after-sales case
        ["O-SHIP-1", "SKU-1-W", "火箭快递", "SF1000000004"],  # unknown carrier
        ["O-SHIP-1", "SKU-9-X", "sf", "SF1000000005"],  # not an item of the order
    ]
    resource, result = import_shipping(clerk, csv_bytes(SHIP_HEADERS, rows))

    errors = resource.row_errors(result)
    assert [(e.row, e.column, e.value) for e in errors] == [
        (3, "商品SKU", "SKU-0-W"),
        (4, "商品SKU", "SKU-1-B"),
        (5, "快递公司", "火箭快递"),
        (6, "商品SKU", "SKU-9-X"),
    ]
    assert "一个商品不能拆分到多个运单" in errors[0].message and "售后" in errors[1].message
    assert not Package.objects.exists()
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.TO_SHIP}


def test_B4_another_shops_order_number_in_a_merchants_shipping_import_is_an_error(
    shop, other_shop, clerk, orders
):
    theirs = OrderFactory(merchant=other_shop, order_no="O-THEIRS")
    rows = [["O-SHIP-0", "", "sf", "SF1000000001"], ["O-THEIRS", "", "sf", "SF1000000009"]]
    resource, result = import_shipping(clerk, csv_bytes(SHIP_HEADERS, rows))

    errors = resource.row_errors(result)
    assert [(e.row, e.column, e.value) for e in errors] == [(3, "订单号", "O-THEIRS")]
    assert "不存在" in errors[0].message
    assert not Package.objects.exists() and Order.objects.get(pk=theirs.pk).status == OrderStatus.TO_SHIP


def test_B1_staff_ship_for_the_shop_named_on_the_row(shop, operator, orders):
    rows = [["shop1", "O-SHIP-0", "", "sf", "SF1000000001"], ["shop2", "O-SHIP-1", "", "sf", "SF1000000002"]]
    resource, result = import_shipping(operator, csv_bytes(["店铺编码", *SHIP_HEADERS], rows))

    errors = resource.row_errors(result)
    assert [(e.row, e.column) for e in errors] == [(3, "店铺编码")]  # there is no shop2 here

    resource, result = import_shipping(operator, csv_bytes(["店铺编码", *SHIP_HEADERS], rows[:1]))
    assert_clean(resource, result)
    assert Order.objects.get(pk=orders[0].pk).status == OrderStatus.SHIPPED


def test_B1_the_package_export_imports_back(shop, clerk, orders):
    import_shipping(clerk, csv_bytes(SHIP_HEADERS, [["O-SHIP-0", "", "顺丰速运", "SF1000000001"]]))
    exported = ShippingResource(actor=clerk).export(queryset=Package.objects.all())
    assert exported.dict[0]["商品SKU"] == "SKU-0-W,SKU-0-B" and exported.dict[0]["快递公司"] == "顺丰速运"

    resource, result = import_shipping(clerk, exported.csv.encode("utf-8-sig"))

    assert_clean(resource, result)
    assert result.totals["skip"] == 1 and Package.objects.count() == 1


# --------------------------------------------------------------------------------------------
# Both sites, the standard URLs


def _upload(client, url, data, name="import.csv"):
    return client.post(url, {"format": "0", "import_file": SimpleUploadedFile(name, data)})


def _confirm(client, url, page):
    form = page.context["confirm_form"]
    return client.post(url.replace("/import/", "/process_import/"), {**form.initial})


@pytest.mark.parametrize("site", ["workbench", "admin"])
def test_B1_products_import_and_export_at_the_standard_urls(client, shop, clerk, operator, site):
    user, shop_code = (clerk, "") if site == "workbench" else (operator, "shop1")
    client.force_login(user, backend=BACKEND)
    url = reverse(f"{site}:merchants_product_import")

    page = client.get(url)
    assert (
        page.status_code == 200
        and reverse(f"{site}:merchants_product_import_template") in page.content.decode()
    )
    template = client.get(reverse(f"{site}:merchants_product_import_template"))
    assert template.content.startswith(b"\xef\xbb\xbf") and "商品ID" in template.content.decode("utf-8-sig")

    preview = _upload(client, url, csv_bytes(PRODUCT_HEADERS_ZH, product_rows(shop_code), "gbk"))
    assert preview.status_code == 200 and preview.context["confirm_form"] is not None
    assert "GBK / GB18030" in preview.content.decode()
    assert not Product.objects.exists()  # the preview is a dry run

    done = _confirm(client, url, preview)
    assert done.status_code == 302
    assert_products_imported(shop)

    export = client.post(reverse(f"{site}:merchants_product_export"), {"format": "0"})
    assert export.status_code == 200 and export.content.startswith(b"\xef\xbb\xbf")
    assert "SKU-1-B" in export.content.decode("utf-8-sig")


@pytest.mark.parametrize("site", ["workbench", "admin"])
def test_B3_bad_rows_are_listed_on_the_page_with_a_downloadable_error_file(
    client, shop, clerk, operator, site
):
    user, code = (clerk, "") if site == "workbench" else (operator, "shop1")
    client.force_login(user, backend=BACKEND)
    rows = [
        [code, "SPU-1", "好", "是", "", "", ""],
        [code, "SPU-2", "好二", "也许", "", "", ""],
        [code, "SPU-3", "", "", "", "", ""],
    ]

    page = _upload(client, reverse(f"{site}:merchants_product_import"), csv_bytes(PRODUCT_HEADERS_ZH, rows))

    assert page.status_code == 200 and page.context.get("confirm_form") is None
    listed = [(e.row, e.column) for e in page.context["import_errors"]]
    assert listed == [(3, "在售"), (4, "商品名称")]
    html = page.content.decode()
    assert "也许" in html and 'id="import-error-file"' in html
    error_file = client.get(page.context["import_error_file_url"])
    assert error_file.status_code == 200 and "错误信息" in error_file.content.decode("utf-8-sig")
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件是空的"),
        (b"\x00\x01binary\x00" * 100, "不是 CSV 或 Excel"),
        ("颜色,尺码\n红,L\n".encode(), "无法识别的列"),
    ],
)
def test_B2_malformed_uploads_get_a_message_on_the_form_not_a_500(client, shop, clerk, data, message):
    client.force_login(clerk, backend=BACKEND)
    page = _upload(client, reverse("workbench:merchants_product_import"), data)
    assert page.status_code == 200 and message in page.content.decode()


def test_B2_an_upload_over_the_limit_gets_a_message(client, shop, clerk, settings):
    settings.SHOUHOU_IMPORT_MAX_BYTES = 100
    client.force_login(clerk, backend=BACKEND)
    page = _upload(client, reverse("workbench:merchants_product_import"), b"x" * 500)
    assert page.status_code == 200 and "文件过大" in page.content.decode()


def test_B1_batch_shipping_on_the_workbench_package_list(client, shop, clerk, orders):
    client.force_login(clerk, backend=BACKEND)
    url = reverse("workbench:merchants_package_import")
    preview = _upload(client, url, csv_bytes(SHIP_HEADERS, [["O-SHIP-0", "", "顺丰速运", "SF1000000001"]]))
    assert preview.context["confirm_form"] is not None and not Package.objects.exists()

    assert _confirm(client, url, preview).status_code == 302

    assert Order.objects.get(pk=orders[0].pk).status == OrderStatus.SHIPPED
    export = client.post(reverse("workbench:merchants_package_export"), {"format": "0"})
    assert "SF1000000001" in export.content.decode("utf-8-sig")


def test_B4_a_viewer_cannot_import(client, shop, viewer):
    client.force_login(viewer, backend=BACKEND)
    assert client.get(reverse("workbench:merchants_product_import")).status_code == 403


def test_B4_the_workbench_package_list_does_not_let_a_shop_flag_fake_shipping(shop, clerk):
    from django.test import RequestFactory

    from merchants.kernel.admin.sites import workbench_site

    request = RequestFactory().get("/")
    request.user = clerk
    assert "fake_shipping" in workbench_site._registry[Package].get_readonly_fields(request)
    assert AfterSaleCase  # the case model is untouched by imports here


def test_B3_one_sku_code_on_two_products_in_a_file_is_an_error(shop, clerk):
    rows = [["", "SPU-1", "甲", "是", "SKU-X", "", "1"], ["", "SPU-2", "乙", "是", "SKU-X", "", "1"]]
    resource, result = import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, rows))

    errors = resource.row_errors(result)
    assert [(e.row, e.column, e.value) for e in errors] == [(3, "SKU编码", "SKU-X")]
    assert "第 2 行" in errors[0].message and not Product.objects.exists()


def test_B3_an_sku_code_of_another_product_in_the_shop_is_an_error(shop, clerk):
    SkuFactory(product=ProductFactory(merchant=shop, spu_id="SPU-OLD"), sku_code="SKU-TAKEN")
    rows = [["", "SPU-NEW", "新品", "是", "SKU-TAKEN", "", "1"]]
    resource, result = import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, rows))

    assert [(e.row, e.column) for e in resource.row_errors(result)] == [(2, "SKU编码")]
    assert not Product.objects.filter(spu_id="SPU-NEW").exists()


def test_B3_the_product_import_makes_the_same_queries_for_10_rows_as_for_300(shop, clerk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def rows(n, prefix):
        return [
            ["", f"{prefix}-{i // 2}", f"商品{i}", "是", f"{prefix}-SKU-{i}", "", "9.90"] for i in range(n)
        ]

    with CaptureQueriesContext(connection) as small:
        import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, rows(10, "A")))
    with CaptureQueriesContext(connection) as large:
        import_products(clerk, csv_bytes(PRODUCT_HEADERS_ZH, rows(300, "B")))

    assert Sku.objects.filter(sku_code__startswith="B-SKU-").count() == 300
    assert len(large.captured_queries) <= len(small.captured_queries) + 2  # no query per row
