"""The import center and the download center (B-5, B-6): jobs, thresholds, tenancy, expiry, the case
export's presets, columns and cell types, and the streaming reader."""

from __future__ import annotations

import csv
import datetime
import io
import json
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from aftersales import services as case_services
from aftersales.admin.cases.export import presets
from aftersales.filters import add_months
from aftersales.models import AfterSaleCase
from aftersales.transitions import CaseStatus
from merchants.kernel.centers import runner
from merchants.kernel.centers.models import ExportJob, ImportJob, JobStatus
from merchants.kernel.centers.services import start_import
from merchants.kernel.centers.streaming import iter_chunks
from merchants.kernel.centers.tasks import cleanup_expired_exports, run_export_job, run_import_job
from merchants.kernel.importing import ImportFileError
from merchants.models import Product, Sku
from merchants.transitions import Carrier
from tests.aftersales.factories import open_pending

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"
HEADERS = ["店铺编码", "商品ID", "商品名称", "在售", "SKU编码", "规格", "价格（元）"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def csv_bytes(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def good_rows(n=6, shop_code=""):
    return [[shop_code, f"SPU-{i}", f"商品{i}", "是", f"SKU-{i}", "默认", "10.00"] for i in range(n)]


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def upload(client, data, site="workbench", name="products.csv"):
    return client.post(
        reverse(f"{site}:merchants_product_import"),
        {"format": "0", "import_file": SimpleUploadedFile(name, data)},
    )


# --------------------------------------------------------------------------------------------
# B-5 the import center


def test_B5_a_file_above_the_threshold_becomes_a_job_and_imports_in_the_background(
    client, shop, clerk, settings, django_capture_on_commit_callbacks
):
    settings.SHOUHOU_IMPORT_SYNC_MAX_BYTES = 100
    settings.SHOUHOU_IMPORT_CHUNK_ROWS = 4  # six rows: two chunks
    login(client, clerk)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, csv_bytes(good_rows(6), encoding="gbk"))

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:merchants_importjob_change", args=[job.pk])
    assert (job.status, job.user, job.merchant, job.site) == (JobStatus.QUEUED, clerk, shop, "workbench")
    assert job.resource == "merchants.product" and job.original_name == "products.csv"
    assert len(callbacks) == 1 and not Product.objects.exists()  # the task is queued after the commit

    assert run_import_job(job.pk) == JobStatus.DONE
    job.refresh_from_db()
    assert (job.status, job.progress, job.rows, job.error_count) == (JobStatus.DONE, 100, 6, 0)
    assert job.summary == {"new": 6}
    assert Product.objects.filter(merchant=shop).count() == 6 and Sku.objects.count() == 6

    status = client.get(reverse("workbench:merchants_importjob_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["finished"] is True and status["progress"] == 100
    page = client.get(reverse("workbench:merchants_importjob_change", args=[job.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="job-summary"' in html and "job-progress.js" in html
    assert "<script>" not in html  # CSP: the progress bar's script is a file
    listing = client.get(reverse("workbench:merchants_importjob_changelist"))
    assert listing.status_code == 200 and "products.csv" in listing.content.decode()


def test_B5_a_file_below_the_threshold_is_previewed_at_once(client, shop, clerk, settings):
    settings.SHOUHOU_IMPORT_SYNC_MAX_BYTES = 10_000
    login(client, clerk)

    response = upload(client, csv_bytes(good_rows(2)))

    assert response.status_code == 200 and response.context["confirm_form"] is not None
    assert not ImportJob.objects.exists()


def test_B5_a_file_above_the_hard_limit_is_refused_and_no_job_is_made(client, shop, clerk, settings):
    settings.SHOUHOU_IMPORT_SYNC_MAX_BYTES = 100
    settings.SHOUHOU_IMPORT_MAX_BYTES = 300
    login(client, clerk)

    response = upload(client, csv_bytes(good_rows(20)))

    assert response.status_code == 200
    assert any("文件过大" in e for e in response.context["form"].errors["import_file"])
    assert not ImportJob.objects.exists()


def _job(user, data: bytes, *, site="workbench", name="products.csv") -> ImportJob:
    return start_import(
        SimpleUploadedFile(name, data), actor=user, site=site, resource="merchants.product", label="商品"
    )


def test_B3_B5_a_job_with_bad_rows_in_several_chunks_writes_nothing_and_names_every_row(
    client, shop, clerk, settings
):
    settings.SHOUHOU_IMPORT_CHUNK_ROWS = 2
    rows = good_rows(6)
    rows[1][6] = "十块"  # file row 3, first chunk
    rows[4][2] = ""  # file row 6, third chunk
    job = _job(clerk, csv_bytes(rows))

    assert runner.run_import(job.pk) == JobStatus.FAILED

    job.refresh_from_db()
    assert not Product.objects.exists() and not Sku.objects.exists()
    assert job.error_count == 2 and [e["row"] for e in job.errors] == [3, 6]
    assert {e["column"] for e in job.errors} == {"价格（元）", "商品名称"}
    assert "没有写入任何数据" in job.message
    login(client, clerk)
    error_file = client.get(reverse("workbench:merchants_importjob_errors", args=[job.pk]))
    body = b"".join(error_file.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0][-1] == "错误信息" and len(table) == 7  # the header and every uploaded row
    assert table[2][-1] and table[5][-1] and not table[1][-1]
    page = client.get(reverse("workbench:merchants_importjob_change", args=[job.pk])).content.decode()
    assert page.count("import-error-row") == 2 and 'id="import-error-file"' in page

    # fixed in the error file itself (the error column is ignored), it imports as a new job
    table[2][6], table[5][2] = "10.00", "商品4"
    out = io.StringIO()
    csv.writer(out).writerows(table)
    fixed = _job(clerk, out.getvalue().encode("utf-8-sig"))
    assert runner.run_import(fixed.pk) == JobStatus.DONE
    assert Product.objects.count() == 6


def test_B5_a_job_runs_once_however_often_its_task_is_delivered(shop, clerk):
    job = _job(clerk, csv_bytes(good_rows(3)))

    assert runner.run_import(job.pk) == JobStatus.DONE
    assert runner.run_import(job.pk) == JobStatus.DONE  # the second delivery finds it claimed

    assert Product.objects.count() == 3
    assert ImportJob.objects.get(pk=job.pk).summary == {"new": 3}


def test_B5_a_second_import_of_the_same_file_changes_nothing(shop, clerk):
    data = csv_bytes(good_rows(3))
    runner.run_import(_job(clerk, data).pk)
    second = _job(clerk, data)

    assert runner.run_import(second.pk) == JobStatus.DONE
    assert ImportJob.objects.get(pk=second.pk).summary == {"skip": 3}
    assert Product.objects.count() == 3


def test_B5_a_file_that_cannot_be_read_fails_the_job_with_its_message(shop, clerk):
    job = _job(clerk, b"\x00\x01\x02binary" * 50, name="junk.csv")

    assert runner.run_import(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert "不是 CSV" in job.message and not Product.objects.exists()


def test_B5_an_unexpected_error_fails_the_job_never_hangs_it(shop, clerk):
    job = _job(clerk, csv_bytes(good_rows(1)))
    ImportJob.objects.filter(pk=job.pk).update(resource="merchants.merchantnotthere")

    assert runner.run_import(job.pk) == JobStatus.FAILED
    job.refresh_from_db()
    assert job.finished_at is not None and "意外错误" in job.message


def test_B4_B5_jobs_and_their_files_are_the_own_shops_only(client, shop, clerk, other_clerk, operator):
    job = _job(clerk, csv_bytes([good_rows(1)[0][:6] + ["x"]]))
    runner.run_import(job.pk)
    mine = [
        reverse("workbench:merchants_importjob_change", args=[job.pk]),
        reverse("workbench:merchants_importjob_status", args=[job.pk]),
        reverse("workbench:merchants_importjob_errors", args=[job.pk]),
        job.url,  # the uploaded file, through the protected file view
    ]

    login(client, other_clerk)
    assert [client.get(url).status_code for url in mine] == [404, 404, 404, 404]
    assert (
        "products.csv" not in client.get(reverse("workbench:merchants_importjob_changelist")).content.decode()
    )
    login(client, clerk)
    assert [client.get(url).status_code for url in mine] == [200, 200, 200, 200]
    login(client, operator)
    assert client.get(reverse("admin:merchants_importjob_change", args=[job.pk])).status_code == 200


def test_B5_staff_import_in_the_background_naming_the_shop_per_row(client, shop, operator, settings):
    settings.SHOUHOU_IMPORT_SYNC_MAX_BYTES = 100
    login(client, operator)

    response = upload(client, csv_bytes(good_rows(4, shop_code="shop1")), site="admin")

    job = ImportJob.objects.get()
    assert response["Location"] == reverse("admin:merchants_importjob_change", args=[job.pk])
    assert job.merchant is None and job.site == "admin"
    assert runner.run_import(job.pk) == JobStatus.DONE
    assert Product.objects.filter(merchant=shop).count() == 4


def test_B5_the_reader_reads_each_row_as_read_table_does():
    """The stream strips a plain row in one step and restores the others cell by cell: same cells."""
    from merchants.kernel.importing import read_table

    rows = [
        ["  SPU-1 ", " 名1"],
        ["SPU-2", "'=1+1"],  # a neutralised cell (our own export's), read back
        ["  ", " "],  # blank: skipped
        ["SPU-3", "a=b"],
        ["SPU-4", "=1+1"],  # a formula: refused by name
        ["SPU-5", "'007"],
    ]
    data = csv_bytes(rows, headers=["商品ID", "商品名称"])

    (chunk,) = list(iter_chunks(io.BytesIO(data), size=100))
    whole = read_table(data)

    assert list(chunk) == list(whole)
    assert chunk.row_numbers == whole.row_numbers == [2, 3, 5, 6, 7]
    assert chunk.formula_cells == whole.formula_cells == {(3, 1)}
    assert chunk[0] == ("SPU-1", "名1")


def test_B5_the_reader_streams_chunks_with_the_files_row_numbers(settings):
    rows = [[f"SPU-{i}", "=1+1" if i == 2 else f"名{i}"] for i in range(5)]
    data = csv_bytes(rows, headers=["商品ID", "商品名称"], encoding="gb18030")
    data = data.replace(b"\r\nSPU-3", b"\r\n,\r\nSPU-3")  # a blank row between: skipped, still counted

    chunks = list(iter_chunks(io.BytesIO(data), size=2))

    assert [len(c) for c in chunks] == [2, 2, 1]
    assert [c.row_numbers for c in chunks] == [[2, 3], [4, 6], [7]]
    assert chunks[0].encoding_label == "GBK / GB18030" and chunks[1].headers == ["商品ID", "商品名称"]
    assert chunks[1].formula_cells == {(0, 1)} and chunks[0][1] == ("SPU-1", "名1")
    settings.SHOUHOU_IMPORT_JOB_MAX_ROWS = 3
    with pytest.raises(ImportFileError):
        list(iter_chunks(io.BytesIO(data), size=2))


def test_B5_the_reader_streams_xlsx_rows_too():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["商品ID", "商品名称"])
    for i in range(3):
        sheet.append([f"SPU-{i}", f"名{i}"])
    buffer = io.BytesIO()
    book.save(buffer)

    chunks = list(iter_chunks(io.BytesIO(buffer.getvalue()), size=2))

    assert [len(c) for c in chunks] == [2, 1] and chunks[0].encoding_label == "XLSX"
    assert chunks[1].row_numbers == [4]


# --------------------------------------------------------------------------------------------
# B-6 the download center


def _day(case) -> str:
    return timezone.localtime(case.created_at).date().isoformat()


def _export(client, case, fmt="0", site="workbench", **extra):
    url = (
        reverse(f"{site}:aftersales_aftersalecase_export")
        + f"?created_at_from={_day(case)}&created_at_to={_day(case)}"
    )
    return client.post(url, {"format": fmt, "resource": "0", **extra})


def test_B6_a_large_export_becomes_a_job_with_the_lists_filters(
    client, shop, clerk, settings, django_capture_on_commit_callbacks
):
    settings.SHOUHOU_EXPORT_SYNC_MAX_ROWS = 1
    first, second = open_pending(shop), open_pending(shop)
    login(client, clerk)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _export(client, first)

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:merchants_exportjob_change", args=[job.pk])
    assert (job.status, job.kind, job.format, job.merchant) == (
        JobStatus.QUEUED,
        "aftersales.cases",
        "csv",
        shop,
    )
    assert job.filters["created_at_from"] == [_day(first)] and len(callbacks) == 1

    assert run_export_job(job.pk) == JobStatus.DONE
    job.refresh_from_db()
    assert job.rows == 2 and job.progress == 100 and job.file
    assert job.expires_at - job.finished_at == timedelta(days=django_settings.SHOUHOU_EXPORT_KEEP_DAYS)
    download = client.get(job.url)
    body = b"".join(download.streaming_content)
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {row["售后单号"] for row in table} == {first.case_no, second.case_no}
    assert run_export_job(job.pk) == JobStatus.DONE  # delivered twice: written once
    listing = client.get(reverse("workbench:merchants_exportjob_changelist")).content.decode()
    assert job.url in listing


def test_B6_a_small_export_downloads_at_once(client, shop, clerk, settings):
    settings.SHOUHOU_EXPORT_SYNC_MAX_ROWS = 10
    case = open_pending(shop)
    login(client, clerk)

    response = _export(client, case)

    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    assert case.case_no in response.content.decode("utf-8-sig") and not ExportJob.objects.exists()


def test_B6_an_export_job_and_its_file_are_the_own_shops_only(client, shop, clerk, other_clerk, settings):
    settings.SHOUHOU_EXPORT_SYNC_MAX_ROWS = 0
    case = open_pending(shop)
    login(client, clerk)
    _export(client, case)
    job = ExportJob.objects.get()
    runner.run_export(job.pk)
    job.refresh_from_db()

    login(client, other_clerk)
    page = client.get(reverse("workbench:merchants_exportjob_change", args=[job.pk]))
    status = client.get(reverse("workbench:merchants_exportjob_status", args=[job.pk]))
    assert (page.status_code, status.status_code, client.get(job.url).status_code) == (404, 404, 404)
    login(client, clerk)
    assert client.get(reverse("workbench:merchants_exportjob_change", args=[job.pk])).status_code == 200


def test_B6_an_export_job_reads_only_the_shops_the_user_may_see(shop, other_shop, clerk, settings):
    mine, theirs = open_pending(shop), open_pending(other_shop)
    job = ExportJob.objects.create(
        user=clerk,
        merchant=shop,
        site="workbench",
        kind="aftersales.cases",
        filters={"created_at_from": [_day(mine)], "created_at_to": [_day(theirs)]},
    )

    runner.run_export(job.pk)

    job.refresh_from_db()
    with job.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    assert mine.case_no in text and theirs.case_no not in text and job.rows == 1


def test_B6_expired_files_are_deleted_by_the_daily_cleanup(client, shop, clerk):
    now = timezone.now()
    expired = ExportJob.objects.create(
        user=clerk, merchant=shop, site="workbench", kind="aftersales.cases", status=JobStatus.DONE,
        expires_at=now - timedelta(minutes=1),
    )  # fmt: skip
    kept = ExportJob.objects.create(
        user=clerk, merchant=shop, site="workbench", kind="aftersales.cases", status=JobStatus.DONE,
        expires_at=now + timedelta(days=1),
    )  # fmt: skip
    for job in (expired, kept):
        job.file.save("export.csv", ContentFile(b"x"), save=True)
    expired_path = expired.file.path

    assert cleanup_expired_exports() == 1

    expired.refresh_from_db()
    kept.refresh_from_db()
    assert not expired.file and kept.file
    import os

    assert not os.path.exists(expired_path)
    login(client, clerk)
    page = client.get(reverse("workbench:merchants_exportjob_change", args=[expired.pk])).content.decode()
    assert 'id="export-expired"' in page
    assert django_settings.SHOUHOU_BEAT_SCHEDULE["merchants.cleanup_expired_exports"]["task"] == (
        "merchants.kernel.centers.tasks.cleanup_expired_exports"
    )


def test_B6_an_export_without_a_range_gets_the_30_day_preset_and_every_preset_is_offered(client, shop, clerk):
    login(client, clerk)
    export = reverse("workbench:aftersales_aftersalecase_export")
    today = timezone.localdate()

    first = client.get(export, {"status": "pending"})
    page = client.get(first["Location"])

    assert first.status_code == 302
    assert f"created_at_from={(today - timedelta(days=29)).isoformat()}" in first["Location"]
    assert "status=pending" in first["Location"]
    offered = page.context["export_presets"]
    assert [p["label"] for p in offered] == ["近7天", "近30天", "近6个月"]
    assert [p["active"] for p in offered] == [False, True, False]
    assert f"created_at_from={add_months(today, -6).isoformat()}" in offered[2]["url"]
    assert presets(datetime.date(2026, 8, 31))[2][1:] == (
        datetime.date(2026, 2, 28),
        datetime.date(2026, 8, 31),
    )
    assert presets(datetime.date(2026, 8, 31))[0][1] == datetime.date(2026, 8, 25)


def test_B6_xlsx_export_has_numbers_dates_a_named_sheet_and_wide_columns(client, shop, clerk):
    case = open_pending(shop, amount=Decimal("1234.50"), order_amount=Decimal("2000.00"))
    AfterSaleCase.objects.filter(pk=case.pk).update(description="=SUM(A1:A9)")
    login(client, clerk)

    response = _export(client, case, fmt="1")

    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["售后单"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["申请金额（元）"] == pytest.approx(1234.5) and isinstance(row["申请金额（元）"], float | int)
    cell = sheet.cell(row=2, column=header.index("申请金额（元）") + 1)
    assert cell.data_type == "n" and cell.number_format == "#,##0.00"
    assert isinstance(row["申请时间"], datetime.datetime)
    assert row["申请时间"] == timezone.localtime(case.created_at).replace(
        tzinfo=None, microsecond=row["申请时间"].microsecond
    )
    assert row["买家说明"] == "'=SUM(A1:A9)"  # neutralised, never a formula
    assert all(c.data_type != "f" for c in sheet[2])
    width = sheet.column_dimensions["K"].width  # 申请金额（元）: 7 wide characters
    assert header[10] == "申请金额（元）" and width >= 16


def test_B6_case_export_has_reject_reason_handler_refund_time_return_tracking_and_timeline(
    client, shop, clerk, settings
):
    rejected = open_pending(shop)
    case_services.reject(rejected, actor=clerk, reason="商品已拆封使用")
    refunded = open_pending(shop)
    AfterSaleCase.objects.filter(pk=refunded.pk).update(
        status=CaseStatus.REFUNDED,
        refunded_amount=Decimal("50.00"),
        refunded_at=timezone.now(),
        return_carrier=Carrier.SF,
        return_tracking_no="SF1234567890",
    )
    login(client, clerk)

    response = _export(client, rejected, timeline="on")

    rows = {r["售后单号"]: r for r in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))}
    row = rows[rejected.case_no]
    assert row["拒绝原因"] == "商品已拆封使用" and row["处理人"] == "clerk1"
    assert row["售后状态"] == "已拒绝" or row["处理结果"]
    assert "拒绝申请" in row["协商记录"] and "买家发起售后" in row["协商记录"]
    other = rows[refunded.case_no]
    assert other["退款金额（元）"] == "50.00" and other["退款时间"].startswith(_day(refunded)[:4])
    assert other["退货快递"] == "顺丰速运" and other["退货运单号"] == "SF1234567890"
    assert other["处理结果"] == "已退款"


def test_B6_job_page_polls_a_json_status(client, shop, clerk):
    job = ExportJob.objects.create(user=clerk, merchant=shop, site="workbench", kind="aftersales.cases")
    login(client, clerk)

    page = client.get(reverse("workbench:merchants_exportjob_change", args=[job.pk])).content.decode()
    status = json.loads(client.get(reverse("workbench:merchants_exportjob_status", args=[job.pk])).content)

    assert reverse("workbench:merchants_exportjob_status", args=[job.pk]) in page
    assert 'data-finished="0"' in page
    assert status == {
        "id": job.pk, "status": "queued", "status_label": "排队中", "progress": 0, "rows": 0,
        "finished": False, "message": "",
    }  # fmt: skip


@pytest.mark.postgres
def test_B6_the_copy_path_writes_the_same_csv_as_the_python_path(shop, clerk):
    from django.db import connection

    from aftersales.admin.cases.export import case_export_spec
    from merchants.kernel.centers import exports

    if connection.vendor != "postgresql":
        pytest.skip("COPY … TO STDOUT is PostgreSQL's (export DATABASE_URL=$(scripts/pg.sh start))")
    rejected = open_pending(shop)
    case_services.reject(rejected, actor=clerk, reason="-1 不同意")
    odd = open_pending(shop)
    AfterSaleCase.objects.filter(pk=odd.pk).update(
        description='=HYPERLINK("x")\n第二行, "引号"', buyer_name="@SUM(A1)", buyer_id="+8613800000000",
        refunded_amount=Decimal("12.30"), refunded_at=timezone.now(), return_carrier=Carrier.SF,
    )  # fmt: skip
    queryset = AfterSaleCase.objects.all()

    by_copy, by_python = io.BytesIO(), io.BytesIO()
    spec = case_export_spec(queryset)
    assert spec.copy_queryset is not None
    assert exports.write_csv(spec, by_copy) == 2
    spec = case_export_spec(queryset)
    spec.copy_queryset = None
    exports.write_csv(spec, by_python)

    assert by_copy.getvalue() and by_copy.getvalue().startswith(b"\xef\xbb\xbf")
    copied = list(csv.reader(io.StringIO(by_copy.getvalue().decode("utf-8-sig"))))
    assert copied == list(csv.reader(io.StringIO(by_python.getvalue().decode("utf-8-sig"))))
    rows = {row[0]: row for row in copied[1:]}
    header = copied[0]
    assert rows[odd.case_no][header.index("买家昵称")] == "'@SUM(A1)"
    assert rows[odd.case_no][header.index("买家说明")].startswith("'=HYPERLINK")
    assert rows[rejected.case_no][header.index("拒绝原因")] == "'-1 不同意"
    assert rows[rejected.case_no][header.index("处理人")] == "clerk1"


def _one_pass_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the one-pass import is PostgreSQL's (export DATABASE_URL=$(scripts/pg.sh start))")


def _record_imports(monkeypatch):
    from django.db import connection

    from merchants.resources import ProductResource

    calls = []
    original = ProductResource.import_prepared

    def recording(self, dataset, *args, dry_run=False, **kwargs):
        calls.append((dry_run, len(connection.savepoint_ids)))
        return original(self, dataset, *args, dry_run=dry_run, **kwargs)

    monkeypatch.setattr(ProductResource, "import_prepared", recording)
    return calls, len(connection.savepoint_ids)  # the test's own transaction


@pytest.mark.postgres
def test_B5_on_postgresql_each_chunk_is_validated_and_written_once_in_the_one_transaction(
    shop, clerk, monkeypatch, settings
):
    _one_pass_only()
    calls, base = _record_imports(monkeypatch)
    settings.SHOUHOU_IMPORT_CHUNK_ROWS = 2
    job = _job(clerk, csv_bytes(good_rows(5)))

    assert runner.run_import(job.pk) == JobStatus.DONE

    assert [dry_run for dry_run, _depth in calls] == [False, False, False]  # three chunks, no dry run
    assert min(depth for _dry_run, depth in calls) > base  # inside the one transaction
    assert Sku.objects.filter(merchant=shop).count() == 5
    job.refresh_from_db()
    assert (job.rows, job.progress) == (5, 100)


@pytest.mark.postgres
def test_B3_on_postgresql_after_a_bad_chunk_the_rest_is_only_validated_and_nothing_stays(
    shop, clerk, monkeypatch, settings
):
    _one_pass_only()
    calls, _base = _record_imports(monkeypatch)
    settings.SHOUHOU_IMPORT_CHUNK_ROWS = 2
    rows = good_rows(6)
    rows[2][6] = "十块"  # file row 4, second chunk (the first chunk is written before it is read)
    rows[5][2] = ""  # file row 7, third chunk: still validated and named
    job = _job(clerk, csv_bytes(rows))

    assert runner.run_import(job.pk) == JobStatus.FAILED

    assert [dry_run for dry_run, _depth in calls] == [False, False, True]
    job.refresh_from_db()
    assert sorted({error["row"] for error in job.errors}) == [4, 7]
    assert not Sku.objects.filter(merchant=shop).exists()  # the first chunk's rows were rolled back
    assert not Product.objects.filter(merchant=shop).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_B5_on_postgresql_the_progress_shows_to_others_while_the_one_transaction_is_open(
    shop, clerk, monkeypatch, settings
):
    """The page polls the job row from another connection: it must see the rows and progress move."""
    from django.db import DEFAULT_DB_ALIAS, connections

    from merchants.resources import ProductResource

    _one_pass_only()
    settings.SHOUHOU_IMPORT_CHUNK_ROWS = 2
    job = _job(clerk, csv_bytes(good_rows(6)))
    seen = []
    original = ProductResource.import_prepared
    other = connections.create_connection(DEFAULT_DB_ALIAS)

    def looking(self, dataset, *args, **kwargs):
        with other.cursor() as cursor:
            cursor.execute("SELECT status, rows FROM merchants_importjob WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone())
        return original(self, dataset, *args, **kwargs)

    monkeypatch.setattr(ProductResource, "import_prepared", looking)
    try:
        assert runner.run_import(job.pk) == JobStatus.DONE
    finally:
        other.close()
    assert seen == [("importing", 0), ("importing", 2), ("importing", 4)]


def test_B5_a_set_based_import_validates_outside_any_transaction_and_writes_in_one(
    shop, clerk, monkeypatch, settings
):
    """SQLite's write lock is taken only by the one final write, not while the chunks are validated."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's two-phase background import (PostgreSQL imports in one pass)")

    from merchants.resources import ProductResource, ShippingResource

    depths = []
    original = ProductResource.import_prepared

    def recording(self, dataset, *args, dry_run=False, **kwargs):
        depths.append((dry_run, len(connection.savepoint_ids)))
        return original(self, dataset, *args, dry_run=dry_run, **kwargs)

    monkeypatch.setattr(ProductResource, "import_prepared", recording)
    base = len(connection.savepoint_ids)  # the test's own transaction
    job = _job(clerk, csv_bytes(good_rows(5)))
    settings.SHOUHOU_IMPORT_CHUNK_ROWS = 2

    assert runner.run_import(job.pk) == JobStatus.DONE

    validating = [depth for dry_run, depth in depths if dry_run]
    writing = [depth for dry_run, depth in depths if not dry_run]
    assert len(validating) == 3 and set(validating) == {base}  # three chunks, no transaction opened
    assert len(writing) == 3 and min(writing) > base  # inside the one write transaction
    assert runner.validates_read_only(ProductResource(actor=clerk))
    assert runner.validates_read_only(
        ShippingResource(actor=clerk)
    )  # ship_many(check_only=True) writes nothing
    from aftersales.resources import CaseRequestResource
    from reviews.resources import ReviewFeedResource

    for feed in (CaseRequestResource, ReviewFeedResource):  # their previews run the services, rolled back
        assert not runner.validates_read_only(feed(actor=clerk))


# --------------------------------------------------------------------------------------------
# A member of several shops


def test_B5_a_member_of_two_shops_sees_their_own_jobs_and_nobody_else_does(client, shop, other_shop, clerk):
    from merchants.kernel.vocabulary import Role
    from tests.factories import MembershipFactory, UserFactory

    both = UserFactory(username="both_shops")
    MembershipFactory(merchant=shop, role=Role.AGENT, user=both)
    MembershipFactory(merchant=other_shop, role=Role.AGENT, user=both)
    mine = _job(both, csv_bytes(good_rows(2)))
    assert mine.merchant_id is None  # for no one shop: the file may hold rows of each
    theirs = _job(clerk, csv_bytes(good_rows(2)))  # clerk1: shop1 only, so the job is shop1's
    assert theirs.merchant_id == shop.pk

    login(client, both)
    listing = client.get(reverse("workbench:merchants_importjob_changelist"))
    assert listing.status_code == 200
    shown = {job.pk for job in listing.context["cl"].result_list}
    assert shown == {mine.pk, theirs.pk}  # their own, and their shop1's
    assert client.get(reverse("workbench:merchants_importjob_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("workbench:merchants_importjob_status", args=[mine.pk])).json()["id"] == mine.pk

    login(client, clerk)  # a member of shop1 only never sees the two-shop member's job
    shown = {
        job.pk
        for job in client.get(reverse("workbench:merchants_importjob_changelist")).context["cl"].result_list
    }
    assert shown == {theirs.pk}
    assert client.get(reverse("workbench:merchants_importjob_change", args=[mine.pk])).status_code == 404
    assert client.get(reverse("workbench:merchants_importjob_status", args=[mine.pk])).status_code == 404
