"""The import center's job page in Chromium (B-5, N-7): the progress bar's script runs under the CSP,
polls the status while the job runs and reloads the page with its result once it has finished."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from playwright.sync_api import Page, expect

from merchants.kernel.centers import runner
from merchants.kernel.centers.services import start_import
from tests.e2e.support import login
from tests.e2e.test_csp import violations, watched  # noqa: F401


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_B5_the_job_page_follows_the_job_to_its_result(watched: Page, live_server, shop1, media):  # noqa: F811
    owner = shop1.memberships.get().user
    data = "商品ID,商品名称,SKU编码,价格（元）\nE2E-1,浏览器商品,E2E-SKU-1,9.90\n".encode()
    job = start_import(
        SimpleUploadedFile("e2e.csv", data), actor=owner, site="workbench", resource="merchants.product"
    )
    login(watched, live_server.url, "shop1")

    watched.goto(live_server.url + reverse("workbench:merchants_importjob_change", args=[job.pk]))
    expect(watched.locator("#job-progress")).to_be_visible()
    runner.run_import(job.pk)  # the worker's part, in the test's process

    expect(watched.locator("#job-summary")).to_be_visible(timeout=15_000)  # polled, then reloaded
    assert violations(watched) == []
    assert watched.locator("#job-progress").count() == 0
