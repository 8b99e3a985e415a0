"""A real Celery worker runs an import job and an export job end to end (B-5, B-6, N-3).

The worker process gets this test's database and broker (tests/test_celery_integration.py fixtures: Redis
and PostgreSQL in CI, a filesystem broker and a file copy of the SQLite database otherwise) and the same
MEDIA_ROOT, so the file one process stores the other reads.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from merchants.kernel.centers.models import ExportJob, ImportJob, JobStatus
from merchants.kernel.centers.services import start_export, start_import
from merchants.models import Product
from tests.aftersales.factories import open_pending
from tests.test_celery_integration import broker_env, celery_worker, worker_database_url  # noqa: F401

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_media(settings, tmp_path, monkeypatch):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = str(media)
    monkeypatch.setenv("MEDIA_ROOT", str(media))  # the worker's environment is this process's
    return media


def test_B5_B6_a_real_worker_runs_an_import_job_and_an_export_job(shared_media, shop, clerk, celery_worker):  # noqa: F811
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["商品ID", "商品名称", "SKU编码", "价格（元）"])
    writer.writerows([[f"SPU-{i}", f"商品{i}", f"SKU-{i}", "9.90"] for i in range(30)])
    upload = SimpleUploadedFile("products.csv", out.getvalue().encode("gbk"))

    job = start_import(upload, actor=clerk, site="workbench", resource="merchants.product", label="商品")

    celery_worker.wait_for(
        lambda: ImportJob.objects.get(pk=job.pk).finished, timeout=90, what="the import job to finish"
    )
    job.refresh_from_db()
    assert (job.status, job.rows, job.summary) == (JobStatus.DONE, 30, {"new": 30}), job.message
    assert Product.objects.filter(merchant=shop).count() == 30

    case = open_pending(shop)
    day = timezone.localtime(case.created_at).date().isoformat()
    export = start_export(
        actor=clerk, site="workbench", kind="aftersales.cases", label="售后单", fmt="xlsx",
        filters={"created_at_from": [day], "created_at_to": [day]},
    )  # fmt: skip

    celery_worker.wait_for(
        lambda: ExportJob.objects.get(pk=export.pk).finished, timeout=90, what="the export job to finish"
    )
    export.refresh_from_db()
    assert export.status == JobStatus.DONE and export.rows == 1 and export.expires_at, export.message
    import openpyxl

    with export.file.open("rb") as handle:
        sheet = openpyxl.load_workbook(handle)["售后单"]
    assert sheet.cell(row=2, column=1).value == case.case_no
    assert "run_export_job" in celery_worker.output()
