"""The background import's read-ahead (B-5): the next chunk read and parsed in a thread of its own while one
is written, and the service checks split so that a chunk's drafts are checked before its turn (M-2).

What must hold: the chunks arrive in file order; a file error is raised where it happened; the thread stops
when the import does; it reads in the job's language and time zone; a query it makes sees the import's own
transaction; and the orders import names the same rows as before, a shop first named in a later chunk
included."""

from __future__ import annotations

import csv
import io
import threading
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from merchants import services
from merchants.kernel.centers import runner
from merchants.kernel.centers.models import ImportJob, JobStatus
from merchants.kernel.centers.streaming import ReadAhead
from merchants.models import Merchant, Order, OrderItem
from tests.factories import MerchantFactory, ProductFactory
from tests.test_imports_orders import HEADERS, row

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


# -- the thread


def test_B5_the_read_ahead_gives_every_item_in_order_from_a_thread_of_its_own():
    made_in = []

    def produce():
        for number in range(7):
            made_in.append(threading.current_thread())
            yield number

    assert list(ReadAhead(produce, depth=2)) == list(range(7))
    assert all(thread is not threading.main_thread() for thread in made_in)
    assert list(ReadAhead(produce, threaded=False)) == list(range(7))  # SHOUHOU_IMPORT_READ_AHEAD off


def test_B5_an_error_while_reading_ahead_is_raised_where_it_happened():
    def produce():
        yield 1
        yield 2
        raise ValueError("第 3 块读不出来")

    seen = []
    with pytest.raises(ValueError, match="第 3 块读不出来"):
        for item in ReadAhead(produce):
            seen.append(item)
    assert seen == [1, 2]


def test_B5_leaving_the_import_early_stops_the_reading_thread():
    made = []

    def produce():
        for number in range(10_000):
            made.append(number)
            yield number

    ahead = ReadAhead(produce, depth=2)
    with pytest.raises(RuntimeError):
        for item in ahead:
            if item == 3:
                raise RuntimeError("the import failed")
    assert not ahead.thread.is_alive()
    assert len(made) < 10  # it stopped a few items ahead, not at the end of the file


def test_B5_the_read_ahead_reads_in_the_jobs_language_and_time_zone():
    def produce():
        yield translation.get_language(), timezone.get_current_timezone_name(), gettext("该列必须填写。")

    with translation.override("en"), timezone.override(ZoneInfo("Europe/Berlin")):
        ((language, zone, message),) = list(ReadAhead(produce))
    assert (language, zone) == ("en", "Europe/Berlin")
    assert message != "该列必须填写。"  # the English message


def test_B5_a_query_made_ahead_sees_the_imports_own_transaction():
    with transaction.atomic():
        MerchantFactory(code="not-yet-committed")
        ahead = ReadAhead(
            lambda: iter([Merchant.objects.filter(code="not-yet-committed").exists()]),
            connection=connection,
        )
        assert list(ahead) == [True]
    assert connection.allow_thread_sharing is False  # shared only while the import runs


# -- the service's checks, made ahead


def _draft(shop, product, number, **over):
    kwargs = {
        "merchant": shop,
        "order_no": number,
        "buyer_id": "B1",
        "buyer_name": "张三",
        "lines": [services.ItemLine(product=product, quantity=1, paid_amount=Decimal("10.00"))],
        "placed_at": datetime(2026, 5, 1, 10, 0, tzinfo=SHANGHAI),
        "key": number,
    }
    kwargs.update(over)
    return services.OrderDraft(**kwargs)


def test_M2_checks_made_ahead_refuse_in_draft_order_with_the_numbers_taken_meanwhile(shop, clerk):
    product = ProductFactory(merchant=shop, spu_id="SPU-A")
    bad_address = services.ShippingAddress(
        consignee="", phone="13800000000", province="广东省", city="深圳市", address="1 号"
    )
    drafts = [
        _draft(shop, product, "R-1"),
        _draft(shop, product, "R-2", address=bad_address),
        _draft(shop, product, "R-3"),
        _draft(shop, product, "R-1"),  # twice in the batch
    ]
    checked = services.check_orders(drafts, actor=clerk)
    services.place_orders([_draft(shop, product, "R-3")], actor=clerk)  # taken after the checks

    with pytest.raises(services.OrdersRefused) as refused:
        services.place_orders(drafts, actor=clerk, checked=checked)

    assert [(key, error.code) for key, error in refused.value.refusals] == [
        ("R-2", "address"),
        ("R-3", "duplicate"),
        ("R-1", "duplicate"),
    ]
    assert set(Order.objects.values_list("order_no", flat=True)) == {"R-3"}


def test_M2_checks_made_for_other_drafts_or_another_actor_are_refused(shop, clerk, owner):
    product = ProductFactory(merchant=shop, spu_id="SPU-A")
    drafts = [_draft(shop, product, "X-1"), _draft(shop, product, "X-2")]
    checked = services.check_orders(drafts, actor=clerk)

    for other_drafts, actor in ((drafts[:1], clerk), ([*drafts], owner), (list(reversed(drafts)), clerk)):
        with pytest.raises(ValueError):
            services.place_orders(other_drafts, actor=actor, checked=checked)
    part = checked.only(drafts[1:])
    assert services.place_orders(drafts[1:], actor=clerk, checked=part)
    assert list(Order.objects.values_list("order_no", flat=True)) == ["X-2"]


# -- the orders import on the one-pass path (PostgreSQL)


def _orders_file(rows, headers) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _job(user, data: bytes, *, site) -> ImportJob:
    job = ImportJob.objects.create(
        user=user, site=site, resource="merchants.order", original_name="orders.csv"
    )
    job.file.save("orders.csv", ContentFile(data), save=True)
    return job


@pytest.mark.postgres
def test_B4_B5_a_shop_first_named_in_a_later_chunk_is_read_ahead_on_the_imports_connection(
    shop, other_shop, operator, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("the one-pass import is PostgreSQL's (export DATABASE_URL=$(scripts/pg.sh start))")
    settings.SHOUHOU_IMPORT_CHUNK_ROWS = 2
    for merchant in (shop, other_shop):
        ProductFactory(merchant=merchant, spu_id="SPU-A")
    rows = [
        ["shop1", *row(f"S1-{i}", sku="")] for i in range(4)
    ] + [  # shop2 first appears in the third chunk; "nope" in the fourth
        ["shop2", *row("S2-1", sku="")],
        ["shop2", *row("S2-2", sku="")],
        ["nope", *row("S3-1", sku="")],
    ]
    job = _job(operator, _orders_file(rows, ["店铺编码", *HEADERS]), site="admin")

    assert runner.run_import(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert [(error["row"], error["column"]) for error in job.errors] == [(8, "店铺编码")]
    assert not Order.objects.exists()  # all or nothing

    rows.pop()
    job = _job(operator, _orders_file(rows, ["店铺编码", *HEADERS]), site="admin")
    assert runner.run_import(job.pk) == JobStatus.DONE
    assert sorted(Order.objects.values_list("merchant__code", "order_no")) == [
        *(("shop1", f"S1-{i}") for i in range(4)),
        ("shop2", "S2-1"),
        ("shop2", "S2-2"),
    ]
    assert OrderItem.objects.count() == 6


@pytest.mark.postgres
@pytest.mark.parametrize("read_ahead", [True, False])
def test_B3_B5_with_or_without_read_ahead_a_job_names_the_same_bad_rows(shop, clerk, settings, read_ahead):
    if connection.vendor != "postgresql":
        pytest.skip("the one-pass import is PostgreSQL's (export DATABASE_URL=$(scripts/pg.sh start))")
    settings.SHOUHOU_IMPORT_CHUNK_ROWS = 2
    settings.SHOUHOU_IMPORT_READ_AHEAD = read_ahead
    ProductFactory(merchant=shop, spu_id="SPU-A")
    rows = [row(f"G-{i}", sku="") for i in range(6)]
    rows[2] = row("G-2", spu="SPU-NONE", sku="")  # second chunk: a product the shop does not have
    rows[4] = row("G-4", sku="", **{"收货人手机号": "12345"})  # third chunk: the service's address check
    rows.append(row("G-0", sku="", **{"买家ID": "B-OTHER"}))  # fourth chunk: G-0 exists (chunk 1), changed
    job = _job(clerk, _orders_file(rows, HEADERS), site="workbench")

    assert runner.run_import(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert [(error["row"], error["column"]) for error in job.errors] == [
        (4, "商品ID"),
        (6, "收货人"),
        (8, "订单号"),
    ]
    assert not Order.objects.exists()
