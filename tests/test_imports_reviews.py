"""The feed of reviews and buyer deletions (B-1, B-3; R-1, R-5): staff only, each row through
reviews.services (submit_review, buyer_delete); a refused row named with the rule's message; all or
nothing; a second import of the same file, or of the export, changes nothing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from merchants.kernel.importing import read_table
from merchants.transitions import OrderStatus
from reviews.models import Review
from reviews.resources import ReviewFeedResource
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, SkuFactory
from tests.test_bulk_import import BACKEND, _confirm, _upload, csv_bytes

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADERS = ["动作", "订单号", "商品SKU", "商品评分", "服务评分", "物流评分", "评价内容", "评价时间"]


def feed(action="评价", order_no="O-REV-1", item="SKU-R1", ratings=("5", "4", "3"), content="很好", at=""):
    return [action, order_no, item, *ratings, content, at]


@pytest.fixture
def received(shop):
    order = OrderFactory(merchant=shop, order_no="O-REV-1", status=OrderStatus.RECEIVED, items=0)
    for code in ("SKU-R1", "SKU-R2"):
        sku = SkuFactory(product=ProductFactory(merchant=shop), sku_code=code)
        OrderItemFactory(order=order, product=sku.product, sku=sku, paid_amount=Decimal("50.00"))
    return order


def import_feed(actor, rows, *, dry_run=False):
    resource = ReviewFeedResource(actor=actor)
    data = csv_bytes(HEADERS, rows)
    return resource, resource.import_data(read_table(data), dry_run=dry_run, raise_errors=False)


def errors_of(resource, result):
    return [(e.row, e.column, e.message) for e in resource.row_errors(result)]


def test_B1_staff_import_reviews_and_buyer_deletions(shop, operator, received):
    rows = [
        feed(at="2026年5月8日"),
        feed(item="SKU-R2", ratings=("2", "2", "1")),
        feed("删除", item="SKU-R2"),
    ]
    resource, result = import_feed(operator, rows)

    assert errors_of(resource, result) == []
    first, second = (Review.objects.get(sku__sku_code=c) for c in ("SKU-R1", "SKU-R2"))
    assert (first.product_rating, first.service_rating, first.logistics_rating) == (5, 4, 3)
    assert first.created_at == datetime(2026, 5, 8, tzinfo=SHANGHAI) and first.deleted_at is None
    assert second.deleted_at is not None


def test_B3_a_second_import_and_the_export_change_nothing(shop, operator, received):
    rows = [feed(), feed("删除")]
    import_feed(operator, rows)
    resource, result = import_feed(operator, rows)
    assert errors_of(resource, result) == [] and result.totals["skip"] == 2

    exported = ReviewFeedResource(actor=operator).export(queryset=Review.objects.all())
    resource, result = import_feed(operator, [list(r) for r in exported])
    assert errors_of(resource, result) == [] and result.totals["skip"] == 1
    assert Review.objects.count() == 1


def test_R1_rule_breaking_rows_are_refused_with_the_rules_message_and_nothing_is_written(
    shop, operator, received
):
    OrderFactory(merchant=shop, order_no="O-NOT-YET")
    rows = [
        feed(),
        feed(content="又评一次"),  # once per item
        feed(order_no="O-NOT-YET", item=""),  # not received
        feed(item="SKU-R2", ratings=("6", "4", "3")),
        feed("删除", item="SKU-R2"),  # nothing to delete
    ]
    resource, result = import_feed(operator, rows)

    errors = errors_of(resource, result)
    assert [(r, c) for r, c, _m in errors] == [(3, "商品SKU"), (4, "订单号"), (5, "商品评分"), (6, "商品SKU")]
    assert "只能评价一次" in errors[0][2] and "收货后才能评价" in errors[1][2]
    assert not Review.objects.exists()


def test_B4_merchants_cannot_import_reviews(client, shop, clerk, received):
    resource, result = import_feed(clerk, [feed()])
    assert errors_of(resource, result) and not Review.objects.exists()
    client.force_login(clerk, backend=BACKEND)
    assert client.get(reverse("workbench:reviews_review_import")).status_code == 403


def test_B1_the_review_feed_at_the_standard_url_on_admin(client, shop, operator, received):
    client.force_login(operator, backend=BACKEND)
    url = reverse("admin:reviews_review_import")
    assert url in client.get(reverse("admin:reviews_review_changelist")).content.decode()
    preview = _upload(client, url, csv_bytes(HEADERS, [feed()]))
    assert preview.status_code == 200 and not Review.objects.exists()
    assert _confirm(client, url, preview).status_code == 302
    assert Review.objects.get().content == "很好"
