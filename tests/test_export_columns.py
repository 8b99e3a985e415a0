"""The export form's column checkboxes are honoured (B-6): the immediate export and the download
center's job write exactly the columns chosen; nothing chosen writes every column."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants.kernel.centers import runner
from merchants.kernel.centers.models import ExportJob
from tests.aftersales.factories import open_pending

BACKEND = "django.contrib.auth.backends.ModelBackend"
CASE_COLUMNS = ["case_no", "order_no", "status"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _table(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _case_export_url(case) -> str:
    day = timezone.localtime(case.created_at).date().isoformat()
    return (
        reverse("workbench:aftersales_aftersalecase_export") + f"?created_at_from={day}&created_at_to={day}"
    )


def _case_export(client, case, **data):
    return client.post(_case_export_url(case), {"format": "0", "resource": "0", **data})


def test_B6_a_case_export_with_three_columns_chosen_has_exactly_those_three(client, shop, clerk, settings):
    settings.SHOUHOU_EXPORT_SYNC_MAX_ROWS = 10
    case = open_pending(shop)
    client.force_login(clerk, backend=BACKEND)

    form = client.get(_case_export_url(case))
    response = _case_export(client, case, columns=CASE_COLUMNS)

    assert 'name="columns"' in form.content.decode()
    table = _table(response.content)
    assert table[0] == ["售后单号", "订单号", "售后状态"]
    assert table[1][:2] == [case.case_no, case.order_no] and len(table[1]) == 3


def test_B6_a_case_export_with_no_column_chosen_has_every_column(client, shop, clerk, settings):
    settings.SHOUHOU_EXPORT_SYNC_MAX_ROWS = 10
    case = open_pending(shop)
    client.force_login(clerk, backend=BACKEND)

    table = _table(_case_export(client, case).content)

    assert len(table[0]) > 20 and table[0][0] == "售后单号"


def test_B6_an_export_job_stores_the_chosen_columns_and_writes_only_those(client, shop, clerk, settings):
    settings.SHOUHOU_EXPORT_SYNC_MAX_ROWS = 0
    case = open_pending(shop)
    client.force_login(clerk, backend=BACKEND)

    _case_export(client, case, columns=CASE_COLUMNS, timeline="on")
    job = ExportJob.objects.get()
    runner.run_export(job.pk)
    job.refresh_from_db()

    assert job.options == {"timeline": True, "columns": CASE_COLUMNS}
    table = _table(b"".join(client.get(job.url).streaming_content))
    assert table[0] == ["售后单号", "订单号", "售后状态", "协商记录"]
    assert table[1][0] == case.case_no and len(table[1]) == 4


def test_B6_an_order_export_with_three_columns_checked_has_exactly_those_three(client, shop, clerk):
    from merchants.models import Order, Product
    from merchants.services import ItemLine, place_order

    product = Product.objects.create(merchant=shop, spu_id="SPU-X", name="商品")
    place_order(
        shop,
        order_no="COL-1",
        buyer_id="B1",
        buyer_name="买家",
        lines=[ItemLine(product=product, quantity=1, paid_amount=Decimal("9.00"))],
        actor=clerk,
    )
    client.force_login(clerk, backend=BACKEND)
    url = reverse("workbench:merchants_order_export")
    page = client.get(url).content.decode()
    checked = {f"orderresource_{name}": "on" for name in ("order_no", "buyer_id", "quantity")}

    response = client.post(url, {"format": "0", "resource": "0", **checked})

    assert 'name="orderresource_order_no"' in page
    table = _table(response.content)
    assert table == [["订单号", "买家ID", "数量"], ["COL-1", "B1", "1"]]
    assert Order.objects.count() == 1
