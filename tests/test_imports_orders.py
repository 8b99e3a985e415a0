"""The orders import (B-1..B-4, M-2): a row per item through merchants.services.place_orders, the batch form
of place_order; every encoding, Excel's date spellings, amounts with ¥ and commas; re-import; tenancy; the
export that imports back; the standard URLs on both sites."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from merchants import services
from merchants.kernel.importing import read_table
from merchants.models import Order, OrderEvent, OrderItem
from merchants.resources import OrderResource
from merchants.transitions import OrderStatus
from tests.factories import ProductFactory, SkuFactory
from tests.test_bulk_import import BACKEND, _confirm, _upload, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")

HEADERS = [
    "订单号",
    "买家ID",
    "买家昵称",
    "支付方式",
    "已付款",
    "下单时间",
    "承诺发货时间",
    "收货人",
    "收货人手机号",
    "省份",
    "城市",
    "区县",
    "详细地址",
    "商品ID",
    "SKU编码",
    "数量",
    "商品实付金额（元）",
]


def row(order_no="OFF-1", spu="SPU-A", sku="SKU-A1", qty="1", paid="59.00", **over):
    values = {
        "订单号": order_no,
        "买家ID": "B1",
        "买家昵称": "张三",
        "支付方式": "在线支付",
        "已付款": "是",
        "下单时间": "2026-05-01 10:00",
        "承诺发货时间": "2026-05-03 10:00",
        "收货人": "张三",
        "收货人手机号": "13800000000",
        "省份": "广东省",
        "城市": "深圳市",
        "区县": "南山区",
        "详细地址": "科技园路 1 号",
        "商品ID": spu,
        "SKU编码": sku,
        "数量": qty,
        "商品实付金额（元）": paid,
    }
    values.update(over)
    return [values[h] for h in HEADERS]


@pytest.fixture
def catalogue(shop):
    product = ProductFactory(merchant=shop, spu_id="SPU-A", name="T恤")
    SkuFactory(product=product, sku_code="SKU-A1")
    SkuFactory(product=product, sku_code="SKU-A2")
    return product


def import_orders(actor, data, *, dry_run=False):
    resource = OrderResource(actor=actor)
    return resource, resource.import_data(read_table(data), dry_run=dry_run, raise_errors=False)


def assert_clean(resource, result):
    assert not result.has_errors() and not result.has_validation_errors(), resource.row_errors(result)


def test_B1_orders_with_items_and_address_go_through_place_orders(shop, clerk, catalogue):
    rows = [
        row("OFF-1", sku="SKU-A1", qty="2", paid="¥1,059.00"),
        row("OFF-1", sku="SKU-A2", qty="１", paid="10"),
        row("OFF-2", 支付方式="货到付款", 下单时间="2026/5/1", 承诺发货时间="2026年5月3日"),
    ]
    resource, result = import_orders(clerk, csv_bytes(HEADERS, rows))

    assert_clean(resource, result)
    first, second = Order.objects.get(order_no="OFF-1"), Order.objects.get(order_no="OFF-2")
    assert first.status == OrderStatus.TO_SHIP and first.paid_amount == Decimal("1069.00")
    assert first.placed_at == datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI) == first.paid_at
    assert first.consignee_phone == "13800000000" and first.district == "南山区"
    assert sorted(first.items.values_list("quantity", flat=True)) == [1, 2]
    assert second.status == OrderStatus.AWAITING_CONFIRMATION
    assert second.placed_at == datetime(2026, 5, 1, tzinfo=SHANGHAI)
    assert second.ship_by == datetime(2026, 5, 3, tzinfo=SHANGHAI)
    placed = OrderEvent.objects.get(order=first, kind=OrderEvent.Kind.PLACED)
    assert placed.actor_id == clerk.pk and placed.created_at == first.placed_at


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_B2_orders_csv_in_each_encoding(shop, clerk, catalogue, encoding):
    resource, result = import_orders(clerk, csv_bytes(HEADERS, [row()], encoding=encoding))
    assert_clean(resource, result)
    assert Order.objects.get(order_no="OFF-1").buyer_name == "张三"


def test_B2_orders_from_xlsx_with_date_cells(shop, clerk, catalogue):
    values = row()
    values[HEADERS.index("下单时间")] = datetime(2026, 5, 1, 9, 30)
    values[HEADERS.index("数量")] = 3.0
    resource, result = import_orders(clerk, xlsx_bytes(HEADERS, [values]))
    assert_clean(resource, result)
    order = Order.objects.get(order_no="OFF-1")
    assert order.placed_at == datetime(2026, 5, 1, 9, 30, tzinfo=SHANGHAI) and order.items.get().quantity == 3


def test_B3_every_bad_order_row_is_named_and_nothing_is_written(shop, clerk, catalogue):
    rows = [
        row("OFF-1"),
        row("OFF-2", 下单时间="5月1日"),  # not a date
        row("OFF-3", paid="abc"),
        row("OFF-4", 支付方式="刷卡"),
        row("OFF-5", 收货人手机号="12345"),  # the service's address rule
        row("OFF-6", qty="0"),
        row("OFF-1", 买家ID="B2"),  # same order, another buyer
        row("OFF-7", spu="SPU-NONE"),
        row("OFF-8", sku="SKU-OTHER"),
        row("OFF-9", 下单时间="=NOW()"),
    ]
    resource, result = import_orders(clerk, csv_bytes(HEADERS, rows))

    errors = {(e.row, e.column) for e in resource.row_errors(result)}
    assert errors == {
        (3, "下单时间"),
        (4, "商品实付金额（元）"),
        (5, "支付方式"),
        (6, "收货人"),
        (7, "数量"),
        (8, "订单号"),
        (9, "商品ID"),
        (10, "SKU编码"),
        (11, "下单时间"),
    }
    assert not Order.objects.exists() and not OrderItem.objects.exists()


def test_B3_a_second_import_skips_the_orders_and_refuses_a_changed_one(shop, clerk, catalogue):
    data = csv_bytes(HEADERS, [row("OFF-1"), row("OFF-1", sku="SKU-A2"), row("OFF-2")])
    import_orders(clerk, data)

    resource, result = import_orders(clerk, data)
    assert_clean(resource, result)
    assert result.totals["skip"] == 3 and Order.objects.count() == 2 and OrderItem.objects.count() == 3

    changed = csv_bytes(HEADERS, [row("OFF-1"), row("OFF-1", sku="SKU-A2", qty="5"), row("OFF-3")])
    resource, result = import_orders(clerk, changed)
    errors = resource.row_errors(result)
    assert [(e.row, e.column) for e in errors] == [(2, "订单号")] and "不会修改已有订单" in errors[0].message
    assert not Order.objects.filter(order_no="OFF-3").exists()


def test_B3_the_order_export_imports_back_unchanged(shop, clerk, catalogue):
    import_orders(
        clerk, csv_bytes(HEADERS, [row("OFF-1"), row("OFF-1", sku="SKU-A2"), row("OFF-2", 区县="")])
    )
    exported = OrderResource(actor=clerk).export(queryset=Order.objects.all())
    assert len(exported) == 3 and exported.dict[0]["下单时间"] == "2026-05-01 10:00:00"

    resource, result = import_orders(clerk, exported.csv.encode("utf-8-sig"))

    assert_clean(resource, result)
    assert result.totals["skip"] == 3 and Order.objects.count() == 2


def test_B4_a_merchant_row_naming_another_shop_or_its_product_is_an_error(shop, other_shop, clerk, catalogue):
    ProductFactory(merchant=other_shop, spu_id="SPU-THEIRS")
    headers = ["店铺编码", *HEADERS]
    rows = [["shop1", *row("OFF-1")], ["shop2", *row("OFF-2")], ["", *row("OFF-3", spu="SPU-THEIRS", sku="")]]
    resource, result = import_orders(clerk, csv_bytes(headers, rows))

    assert [(e.row, e.column) for e in resource.row_errors(result)] == [(3, "店铺编码"), (4, "商品ID")]
    assert not Order.objects.exists()


def test_B4_an_order_number_of_another_shop_is_refused_without_touching_it(
    shop, other_shop, clerk, catalogue
):
    theirs = services.place_order(
        other_shop,
        order_no="OFF-1",
        buyer_id="X",
        buyer_name="李四",
        lines=[
            services.ItemLine(product=ProductFactory(merchant=other_shop), quantity=1, paid_amount=Decimal(1))
        ],
    )
    resource, result = import_orders(clerk, csv_bytes(HEADERS, [row("OFF-1")]))

    errors = resource.row_errors(result)
    assert [(e.row, e.column) for e in errors] == [(2, "订单号")] and "已存在" in errors[0].message
    assert Order.objects.get(order_no="OFF-1").merchant_id == theirs.merchant_id


def test_B1_staff_name_the_shop_on_every_order_row(shop, operator, catalogue):
    headers = ["店铺编码", *HEADERS]
    resource, result = import_orders(operator, csv_bytes(headers, [["", *row("OFF-1")]]))
    assert [(e.row, e.column) for e in resource.row_errors(result)] == [(2, "店铺编码")]

    resource, result = import_orders(operator, csv_bytes(headers, [["shop1", *row("OFF-1")]]))
    assert_clean(resource, result)
    assert Order.objects.get(order_no="OFF-1").merchant == shop


def test_M2_place_orders_and_place_order_leave_the_same_rows(shop, clerk, catalogue):
    sku = catalogue.skus.first() if hasattr(catalogue, "skus") else None
    kwargs = {
        "buyer_id": "B1",
        "buyer_name": "张三",
        "lines": [services.ItemLine(product=catalogue, quantity=2, paid_amount=Decimal("20.00"), sku=sku)],
        "paid": False,
        "placed_at": datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI),
    }
    single = services.place_order(shop, order_no="ONE", actor=clerk, **kwargs)
    (batch_id,) = services.place_orders(
        [services.OrderDraft(merchant=shop, order_no="TWO", **kwargs)], actor=clerk
    )
    batch = Order.objects.get(pk=batch_id)
    skip = {"id", "order_no", "updated_at"}
    for field in Order._meta.concrete_fields:
        if field.attname not in skip:
            assert getattr(batch, field.attname) == getattr(single, field.attname), field.attname

    def events(order):
        return list(
            order.events.values_list("kind", "source_status", "target_status", "actor_id", "created_at")
        )

    assert events(batch) == events(single)


def test_B3_place_orders_refused_while_writing_names_every_refusal_and_writes_nothing(shop, clerk, catalogue):
    """A refusal among good orders (the write path, not a preview): every refused draft is named, the later
    ones still checked, and nothing is written — the connection stays usable (on PostgreSQL a refusal
    raised inside a running COPY once left it waiting)."""
    from merchants.models import OrderEvent, OrderItem

    line = [services.ItemLine(product=catalogue, quantity=1, paid_amount=Decimal("10.00"))]
    bad_address = services.ShippingAddress(
        consignee="", phone="13800000000", province="广东省", city="深圳市", address="1 号"
    )
    drafts = [
        services.OrderDraft(
            merchant=shop, order_no=f"W-{i}", buyer_id="B1", buyer_name="张三", lines=line, key=i
        )
        for i in range(5)
    ]
    drafts[2] = services.OrderDraft(
        merchant=shop,
        order_no="W-2",
        buyer_id="B1",
        buyer_name="张三",
        lines=line,
        address=bad_address,
        key=2,
    )
    drafts.append(
        services.OrderDraft(
            merchant=shop, order_no="W-0", buyer_id="B1", buyer_name="张三", lines=line, key=5
        )
    )

    with pytest.raises(services.OrdersRefused) as refused:
        services.place_orders(drafts, actor=clerk)

    assert [(key, error.code) for key, error in refused.value.refusals] == [(2, "address"), (5, "duplicate")]
    assert not Order.objects.filter(order_no__startswith="W-").exists()
    assert not OrderItem.objects.filter(order__order_no__startswith="W-").exists()
    assert not OrderEvent.objects.filter(order__order_no__startswith="W-").exists()
    (order_id,) = services.place_orders(drafts[:1], actor=clerk)  # the transaction is usable afterwards
    assert Order.objects.get(pk=order_id).order_no == "W-0"


@pytest.mark.parametrize("site", ["workbench", "admin"])
def test_B1_orders_import_and_export_at_the_standard_urls(client, shop, clerk, operator, catalogue, site):
    user, headers, first = (
        (clerk, HEADERS, []) if site == "workbench" else (operator, ["店铺编码", *HEADERS], ["shop1"])
    )
    client.force_login(user, backend=BACKEND)
    url = reverse(f"{site}:merchants_order_import")
    assert client.get(url).status_code == 200
    assert url in client.get(reverse(f"{site}:merchants_order_changelist")).content.decode()

    preview = _upload(client, url, csv_bytes(headers, [[*first, *row("OFF-1")]]))
    assert preview.status_code == 200 and not Order.objects.exists()
    assert _confirm(client, url, preview).status_code == 302
    assert Order.objects.get(order_no="OFF-1").merchant == shop

    export = client.post(reverse(f"{site}:merchants_order_export"), {"format": "0"})
    assert export.status_code == 200 and "OFF-1" in export.content.decode("utf-8-sig")


def test_B5_the_background_orders_import_never_splits_an_order_over_two_chunks(
    shop, clerk, catalogue, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from merchants.kernel.centers.models import ImportJob, JobStatus
    from merchants.kernel.centers.runner import run_import
    from merchants.kernel.centers.services import start_import

    settings.SHOUHOU_IMPORT_CHUNK_ROWS = 2  # OFF-1 has three rows: a plain 2-row chunk would cut it
    settings.MEDIA_ROOT = str(tmp_path)
    rows = [
        row("OFF-1", sku="SKU-A1"),
        row("OFF-1", sku="SKU-A2"),
        row("OFF-1", sku="", paid="10.00"),
        row("OFF-2", sku="SKU-A1"),
        row("OFF-3", sku="SKU-A2"),
    ]
    job = start_import(
        SimpleUploadedFile("orders.csv", csv_bytes(HEADERS, rows)),
        actor=clerk,
        site="workbench",
        resource="merchants.order",
        label="订单",
    )

    assert run_import(job.pk) == JobStatus.DONE, ImportJob.objects.get(pk=job.pk).errors
    assert Order.objects.get(order_no="OFF-1").items.count() == 3
    assert sorted(Order.objects.values_list("order_no", flat=True)) == ["OFF-1", "OFF-2", "OFF-3"]
