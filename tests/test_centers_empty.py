"""The import center and the download center when they hold nothing (B-5, B-6), on both sites.

Nothing is created on these lists and an unfiltered list filters nothing: an empty center says what comes
to it and from where, never unfold's "请新建一项，或重置筛选条件"; a filter or search that matched no job
says so and links back to the whole list.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from merchants.kernel.centers.models import JobStatus
from tests.merchants.factories import ExportJobFactory, ImportJobFactory

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"
UNFOLD_EMPTY = ("请新建一项", "重置筛选", "No results found", "Create a new item")

CENTERS = {
    "importjob": ("还没有导入任务", "No import jobs yet", ImportJobFactory),
    "exportjob": ("还没有导出文件", "No exported files yet", ExportJobFactory),
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(params=["workbench", "admin"])
def site_user(request, client):
    """shop1's member on /workbench/, platform staff on /admin/."""
    user = request.getfixturevalue("clerk" if request.param == "workbench" else "operator")
    client.force_login(user, backend=BACKEND)
    return request.param, user


def page(client, site, model, params=None, **headers) -> str:
    response = client.get(reverse(f"{site}:merchants_{model}_changelist"), params or {}, **headers)
    assert response.status_code == 200
    return response.content.decode()


def assert_no_unfold_empty(body: str) -> None:
    for text in UNFOLD_EMPTY:
        assert text not in body


def test_B5_an_empty_import_center_says_where_its_jobs_come_from(client, site_user):
    site, _user = site_user

    body = page(client, site, "importjob")

    assert "还没有导入任务" in body and "「导入」页上传的大文件" in body and "错误文件" in body
    assert "没有符合条件的任务" not in body and 'id="empty-results-clear"' not in body
    assert_no_unfold_empty(body)


def test_B6_an_empty_download_center_says_where_its_files_come_from_and_how_long_they_stay(
    client, site_user, settings
):
    site, _user = site_user
    settings.SHOUHOU_EXPORT_KEEP_DAYS = 3

    body = page(client, site, "exportjob")

    assert (
        "还没有导出文件" in body
        and "「导出」" in body
        and "3 天内都可以下载" in body
        and "过期后自动删除" in body
    )
    assert "没有符合条件的任务" not in body and 'id="empty-results-clear"' not in body
    assert_no_unfold_empty(body)


@pytest.mark.parametrize("model", ["importjob", "exportjob"])
def test_B5_B6_a_filter_that_matches_no_job_says_so_and_links_to_the_whole_center(
    client, site_user, shop, model
):
    site, user = site_user
    empty_title, _english, factory = CENTERS[model]
    factory(merchant=shop, user=user, site=site, status=JobStatus.QUEUED)  # the center holds a job

    listed = page(client, site, model)
    narrowed = page(client, site, model, {"status__exact": JobStatus.FAILED})

    assert empty_title not in listed and 'id="empty-results"' not in listed
    assert "没有符合条件的任务" in narrowed and "查看全部任务" in narrowed
    assert 'href="?" id="empty-results-clear"' in narrowed
    assert empty_title not in narrowed
    assert_no_unfold_empty(narrowed)


@pytest.mark.parametrize("model", ["importjob", "exportjob"])
def test_B5_B6_a_search_or_filter_with_no_value_is_not_narrowing(client, site_user, model):
    """The filter form submits its empty fields: an empty status is the whole (empty) center."""
    site, _user = site_user

    body = page(client, site, model, {"status__exact": "", "o": "1"})

    assert CENTERS[model][0] in body and "没有符合条件的任务" not in body


@pytest.mark.parametrize("model", ["importjob", "exportjob"])
def test_B5_B6_the_empty_centers_speak_english_by_accept_language(client, site_user, model):
    site, _user = site_user

    body = page(client, site, model, HTTP_ACCEPT_LANGUAGE="en")

    assert CENTERS[model][1] in body and CENTERS[model][0] not in body
    assert_no_unfold_empty(body)


@pytest.mark.parametrize("model", ["importjob", "exportjob"])
def test_B5_B6_the_narrowed_center_speaks_english_after_the_language_switch(client, site_user, model):
    site, _user = site_user
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

    body = page(client, site, model, {"status__exact": JobStatus.DONE})

    assert "No jobs match" in body and "Show all jobs" in body
    assert "没有符合条件的任务" not in body and "查看全部任务" not in body


# --------------------------------------------------------------------------------------------
# The centers once they hold jobs: whose job, in the reader's language


def results(body: str) -> str:
    """The change list's table (the sidebar and the filters also say 店铺 / Shop)."""
    return body[body.index("<table") : body.index("</table>")]


def header(table: str, text: str) -> bool:
    return re.search(rf"<th[^>]*>(?:(?!</th>).)*>\s*{text}\s*<", table, re.S) is not None


def test_B5_B6_staff_centers_name_each_jobs_shop_and_a_platform_job(client, shop, clerk, operator):
    ImportJobFactory(merchant=shop, user=clerk, original_name="一号店商品.csv", resource_label="商品")
    ImportJobFactory(merchant=None, user=operator, site="admin", original_name="平台商品.csv")
    ExportJobFactory(merchant=shop, user=clerk, status=JobStatus.DONE)
    client.force_login(operator, backend=BACKEND)

    imports = results(page(client, "admin", "importjob"))
    exports = results(page(client, "admin", "exportjob", HTTP_ACCEPT_LANGUAGE="en"))

    assert header(imports, "店铺") and shop.name in imports and "平台" in imports
    assert header(exports, "Shop") and shop.name in exports
    assert "Case" in exports and "售后单" not in exports  # the export's label in the reader's language


def test_B5_a_shop_members_center_has_no_shop_column_and_a_failed_job_no_progress(client, shop, clerk):
    ImportJobFactory(merchant=shop, user=clerk, status=JobStatus.FAILED, progress=49, resource_label="商品")
    client.force_login(clerk, backend=BACKEND)

    table = results(page(client, "workbench", "importjob", HTTP_ACCEPT_LANGUAGE="en"))

    assert not header(table, "Shop") and header(table, "File") and shop.name not in table
    assert "49%" not in table and "Product" in table and "商品" not in table


def test_B5_B6_a_jobs_own_page_names_its_type_in_the_readers_language(client, shop, clerk):
    imported = ImportJobFactory(merchant=shop, user=clerk, resource_label="商品")
    exported = ExportJobFactory(merchant=shop, user=clerk, status=JobStatus.DONE)
    client.force_login(clerk, backend=BACKEND)

    for job, model, english, chinese in (
        (imported, "importjob", "Product", "商品"),
        (exported, "exportjob", "Case", "售后单"),
    ):
        url = reverse(f"workbench:merchants_{model}_change", args=[job.pk])
        body = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        cell = re.search(r"<th[^>]*>\s*(?:Import|Export)\s*</th>\s*<td[^>]*>([^<]*)<", body)
        assert cell is not None
        assert english in cell.group(1) and chinese not in cell.group(1)
        assert chinese in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
