"""The buyer feed of after-sales requests (B-1, B-3; A-1, A-2): staff only, each row a buyer move through
aftersales.services (open_case, revise, buyer_ship_return, cancel); a rule-breaking row refused with that
rule's message; all or nothing; a second import of the same file changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales import services as case_services
from aftersales.models import AfterSaleCase
from aftersales.resources import CaseRequestResource
from aftersales.transitions import CaseStatus
from merchants import services
from merchants.kernel.importing import read_table
from merchants.transitions import Carrier, OrderStatus
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, SkuFactory
from tests.test_bulk_import import BACKEND, _confirm, _upload, csv_bytes

pytestmark = pytest.mark.django_db

HEADERS = [
    "动作",
    "售后单号",
    "订单号",
    "商品SKU",
    "售后类型",
    "售后原因",
    "申请金额（元）",
    "数量",
    "退货快递",
    "退货运单号",
]


def feed(action, order_no="O-CASE-1", item="SKU-C1", type_="仅退款", reason="质量问题", amount="50", **over):
    values = dict(zip(HEADERS, [action, "", order_no, item, type_, reason, amount, "1", "", ""], strict=True))
    values.update(over)
    return [values[h] for h in HEADERS]


@pytest.fixture
def order(shop):
    made = OrderFactory(merchant=shop, order_no="O-CASE-1", items=0)
    for code in ("SKU-C1", "SKU-C2"):
        sku = SkuFactory(product=ProductFactory(merchant=shop), sku_code=code)
        OrderItemFactory(order=made, product=sku.product, sku=sku, paid_amount=Decimal("50.00"))
    return made


def import_feed(actor, rows, *, dry_run=False):
    resource = CaseRequestResource(actor=actor)
    data = csv_bytes(HEADERS, rows)
    return resource, resource.import_data(read_table(data), dry_run=dry_run, raise_errors=False)


def errors_of(resource, result):
    return [(e.row, e.column, e.message) for e in resource.row_errors(result)]


def test_B1_staff_open_and_withdraw_cases_from_the_buyer_feed(shop, operator, order):
    resource, result = import_feed(
        operator, [feed("申请"), feed("申请", item="SKU-C2", amount="¥20.00"), feed("撤销")]
    )

    assert errors_of(resource, result) == []
    first, second = (AfterSaleCase.objects.get(item__sku__sku_code=c) for c in ("SKU-C1", "SKU-C2"))
    assert first.status == CaseStatus.CANCELLED and second.status == CaseStatus.PENDING
    assert second.amount == Decimal("20.00") and second.reason == "quality"


def test_B3_the_same_feed_imported_twice_changes_nothing(shop, operator, order):
    rows = [feed("申请"), feed("申请", item="SKU-C2"), feed("撤销", item="SKU-C2")]
    import_feed(operator, rows)

    resource, result = import_feed(operator, rows)

    assert errors_of(resource, result) == [] and result.totals["skip"] == 3
    assert AfterSaleCase.objects.count() == 2


def test_A2_a_request_out_of_its_window_is_refused_with_the_rules_message(shop, operator):
    received = OrderFactory(
        merchant=shop, order_no="O-OLD", status=OrderStatus.RECEIVED, items=0, paid_amount=Decimal("50.00")
    )
    received.received_at = timezone.now() - timedelta(days=40)
    received.save(update_fields=["received_at"])
    sku = SkuFactory(product=ProductFactory(merchant=shop), sku_code="SKU-OLD")
    OrderItemFactory(order=received, product=sku.product, sku=sku, paid_amount=Decimal("50.00"))

    resource, result = import_feed(
        operator, [feed("申请", order_no="O-OLD", item="SKU-OLD", reason="七天无理由")]
    )

    ((row, column, message),) = errors_of(resource, result)
    assert (row, column) == (2, "订单号") and "已超过售后申请期限" in message
    assert not AfterSaleCase.objects.exists()


def test_A1_over_the_refundable_amount_or_a_second_open_case_is_refused_and_nothing_is_written(
    shop, operator, order
):
    rows = [
        feed("申请"),
        feed("申请", item="SKU-C2", amount="80"),  # more than the item's ¥50
        feed("申请", reason="发错货"),  # one open case per item (row 2 opened one)
        feed("申请", item="SKU-C9"),
        feed("飞走"),
    ]
    resource, result = import_feed(operator, rows)

    errors = errors_of(resource, result)
    assert [(r, c) for r, c, _m in errors] == [
        (3, "申请金额（元）"),
        (4, "商品SKU"),
        (5, "商品SKU"),
        (6, "动作"),
    ]
    assert "超过了该商品可退的金额" in errors[0][2] and "已有进行中的售后单" in errors[1][2]
    assert not AfterSaleCase.objects.exists()


def test_B1_revise_and_return_tracking_through_the_buyer_services(shop, operator, clerk, order):
    services.ship(
        order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )
    import_feed(operator, [feed("申请"), feed("申请", item="SKU-C2", type_="退货退款")])
    first, second = (AfterSaleCase.objects.get(item__sku__sku_code=c) for c in ("SKU-C1", "SKU-C2"))
    case_services.reject(first, actor=clerk, reason="商品无质量问题")
    case_services.approve(second, actor=clerk)

    rows = [
        feed("修改", amount="30"),
        feed("退货", item="SKU-C2", 退货快递="顺丰速运", 退货运单号="SF9876543210"),
    ]
    resource, result = import_feed(operator, rows)

    assert errors_of(resource, result) == []
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == CaseStatus.PENDING and first.amount == Decimal("30.00")
    assert second.status == CaseStatus.RETURN_IN_TRANSIT and second.return_tracking_no == "SF9876543210"
    resource, result = import_feed(operator, rows)
    assert errors_of(resource, result) == [] and result.totals["skip"] == 2


def test_B4_a_merchant_cannot_import_the_buyer_feed(client, shop, clerk, order):
    resource, result = import_feed(clerk, [feed("申请")])
    assert errors_of(resource, result) and not AfterSaleCase.objects.exists()
    client.force_login(clerk, backend=BACKEND)
    assert client.get(reverse("workbench:aftersales_aftersalecase_import")).status_code == 403


def test_B1_the_buyer_feed_at_the_standard_url_on_admin(client, shop, operator, order):
    client.force_login(operator, backend=BACKEND)
    url = reverse("admin:aftersales_aftersalecase_import")
    assert url in client.get(reverse("admin:aftersales_aftersalecase_changelist")).content.decode()
    preview = _upload(client, url, csv_bytes(HEADERS, [feed("申请")]))
    assert preview.status_code == 200 and not AfterSaleCase.objects.exists()

    assert _confirm(client, url, preview).status_code == 302
    assert AfterSaleCase.objects.get().status == CaseStatus.PENDING
