"""The platform's feeds (B-1, L-3, L-5, L-7): daily IM statistics and the logistics feed, staff only.

Round trips with their exports, all or nothing with every bad row named (B-3), GBK / BOM files written
here, tenancy (a merchant cannot import; the workbench lists the shop's own IM days read-only), repeated
imports, the return parcel's signed-for time reaching the case, and the fake-shipping flag.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from aftersales.transitions import CaseStatus
from merchants.feeds import ImDailyStatResource, TrackingEventResource, parse_day, parse_moment
from merchants.kernel.importing import read_table
from merchants.models import FakeShippingSource, ImDailyStat, OrderEvent, TrackingEvent
from tests.aftersales.factories import make_order, walk_to

pytestmark = pytest.mark.django_db

BACKEND = "django.contrib.auth.backends.ModelBackend"
IM_HEADERS = [
    "店铺编码",
    "日期",
    "咨询会话数",
    "人工接待会话数",
    "人工首次响应总时长（秒）",
    "评价会话数",
    "1–3星会话数",
]
IM_HEADERS_EN = [
    "Shop code",
    "Day",
    "Sessions",
    "Human-handled sessions",
    "Total human first response (seconds)",
    "Rated sessions",
    "1–3-star sessions",
]
LOG_HEADERS = ["店铺编码", "包裹类型", "快递公司", "运单号", "物流节点", "发生时间", "轨迹描述", "虚假发货"]


def csv_bytes(headers, rows, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def run(resource_class, actor, data: bytes, *, dry_run=False):
    resource = resource_class(actor=actor)
    return resource, resource.import_data(read_table(data), dry_run=dry_run, raise_errors=False)


def errors_of(resource, result):
    return [(e.row, e.column, e.message) for e in resource.row_errors(result)]


def clean(resource, result):
    assert not result.has_errors() and not result.has_validation_errors(), errors_of(resource, result)


def days_ago(n):
    return (timezone.localdate() - timedelta(days=n)).isoformat()


# --------------------------------------------------------------------------------------------
# Parsing


def test_B2_feed_dates_and_times_in_the_three_ways_excel_users_type_them():
    assert {
        parse_day(v).isoformat() for v in ("2026-05-01", "2026/5/1", "2026年5月1日", "２０２６－０５－０１")
    } == {"2026-05-01"}
    moment = parse_moment("2026年5月1日 14:30")
    assert timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") == "2026-05-01 14:30:00"
    assert timezone.localtime(parse_moment("2026/5/1 14:30:05")).second == 5
    for bad in ("2026-13-01", "yesterday", "2026-05-01 25:00", "2026-05-01"):
        with pytest.raises(ValueError):
            parse_moment(bad)


# --------------------------------------------------------------------------------------------
# Daily IM statistics


def im_rows(day1, day2):
    return [
        ["shop1", day1, "120", "80", "9,600", "40", "3"],
        ["shop2", day1, "１０", "5", "300", "4", "4"],
        ["shop1", day2, "0", "0", "0", "0", "0"],
    ]


def test_B1_L3_im_import_sums_and_counts_and_round_trips_with_its_export(operator, shop, other_shop):
    d1, d2 = days_ago(2), days_ago(1)
    resource, result = run(ImDailyStatResource, operator, csv_bytes(IM_HEADERS, im_rows(d1, d2), "gbk"))
    clean(resource, result)
    assert result.totals["new"] == 3
    stat = ImDailyStat.objects.get(merchant=shop, day=d1)
    assert (stat.sessions, stat.human_sessions, stat.human_first_response_seconds) == (120, 80, 9600)
    assert (stat.rated_sessions, stat.low_rated_sessions) == (40, 3)
    assert ImDailyStat.objects.get(merchant=other_shop, day=d1).sessions == 10

    exported = ImDailyStatResource(actor=operator).export().csv.encode("utf-8-sig")
    resource, again = run(ImDailyStatResource, operator, exported)
    clean(resource, again)
    assert again.totals["skip"] == 3 and ImDailyStat.objects.count() == 3


def test_B1_L3_second_import_of_a_shop_day_replaces_it_with_the_feeds_latest_and_logs_it(
    operator, shop, caplog, django_capture_on_commit_callbacks
):
    day = days_ago(3)
    run(ImDailyStatResource, operator, csv_bytes(IM_HEADERS, [["shop1", day, "10", "5", "300", "2", "1"]]))
    with (
        caplog.at_level(logging.INFO, logger="shouhou.feeds"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        resource, result = run(
            ImDailyStatResource,
            operator,
            csv_bytes(IM_HEADERS_EN, [["shop1", day, "12", "6", "420", "3", "2"]]),
        )
    clean(resource, result)
    assert result.totals["update"] == 1
    stat = ImDailyStat.objects.get(merchant=shop, day=day)
    assert (stat.sessions, stat.human_first_response_seconds, stat.low_rated_sessions) == (12, 420, 2)
    assert "replaced" in caplog.text and "shop1" in caplog.text and "'sessions': 10" in caplog.text


def test_B3_im_import_all_or_nothing_with_every_bad_row_named(operator, shop):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    rows = [
        ["shop1", days_ago(1), "10", "5", "300", "2", "1"],  # good
        ["shop1", days_ago(2), "10", "11", "300", "2", "1"],  # human > sessions
        ["shop1", days_ago(3), "10", "5", "300", "2", "3"],  # low-rated > rated
        ["shop1", tomorrow, "1", "0", "0", "0", "0"],  # in the future
        ["shop1", "1999-12-31", "1", "0", "0", "0", "0"],  # before 2000
        ["nosuch", days_ago(4), "1", "0", "0", "0", "0"],  # unknown shop
        ["shop1", days_ago(5), "-1", "0", "0", "0", "0"],  # negative
        ["shop1", days_ago(1), "9", "5", "300", "2", "1"],  # the same shop/day twice
        ["shop1", days_ago(6), "3", "0", "60", "0", "0"],  # seconds with no human session
    ]
    resource, result = run(ImDailyStatResource, operator, csv_bytes(IM_HEADERS, rows, "utf-8-sig"))
    found = {(row, column) for row, column, _m in errors_of(resource, result)}
    assert found == {
        (3, "人工接待会话数"),
        (4, "1–3星会话数"),
        (5, "日期"),
        (6, "日期"),
        (7, "店铺编码"),
        (8, "咨询会话数"),
        (9, "日期"),
        (10, "人工首次响应总时长（秒）"),
    }
    assert not ImDailyStat.objects.exists()  # the good row was not written either


# --------------------------------------------------------------------------------------------
# Tenancy: staff only; the workbench lists the shop's own rows read-only


def test_B4_a_merchant_cannot_import_the_feeds(client, owner, shop, other_shop):
    client.force_login(owner, backend=BACKEND)
    for model in ("imdailystat", "trackingevent"):
        for url in (f"/workbench/merchants/{model}/import/", f"/admin/merchants/{model}/import/"):
            page = client.get(url, follow=True)  # the workbench has no …/import/ for these: 404
            assert page.status_code in (403, 404) or "login" in page.request["PATH_INFO"], url
            assert "import_file" not in page.content.decode(), url
    resource, result = run(
        ImDailyStatResource, owner, csv_bytes(IM_HEADERS, [["shop1", days_ago(1), "1", "0", "0", "0", "0"]])
    )
    assert errors_of(resource, result) and not ImDailyStat.objects.exists()


def test_B4_workbench_lists_the_shops_own_im_days_read_only(client, owner, shop, other_shop):
    mine = ImDailyStat.objects.create(merchant=shop, day=timezone.localdate(), sessions=7)
    theirs = ImDailyStat.objects.create(merchant=other_shop, day=timezone.localdate(), sessions=9)
    client.force_login(owner, backend=BACKEND)
    page = client.get(reverse("workbench:merchants_imdailystat_changelist"))
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [mine]
    assert client.get(reverse("workbench:merchants_imdailystat_change", args=[theirs.pk])).status_code in (
        302,
        404,
    )
    assert (
        client.post(
            reverse("workbench:merchants_imdailystat_change", args=[mine.pk]), {"sessions": 1}
        ).status_code
        == 403
    )
    assert reverse("admin:merchants_imdailystat_import") not in page.content.decode()


def test_B1_im_import_and_export_at_the_standard_admin_urls(client, operator, shop):
    client.force_login(operator, backend=BACKEND)
    url = reverse("admin:merchants_imdailystat_import")
    assert client.get(url).status_code == 200
    data = csv_bytes(IM_HEADERS, [["shop1", "2026/5/1", "5", "2", "100", "1", "0"]], "gbk")
    preview = client.post(url, {"format": "0", "import_file": SimpleUploadedFile("im.csv", data)})
    assert preview.status_code == 200 and preview.context["confirm_form"] is not None
    assert not ImDailyStat.objects.exists()
    form = preview.context["confirm_form"]
    done = client.post(url.replace("/import/", "/process_import/"), {**form.initial})
    assert done.status_code == 302 and ImDailyStat.objects.get().sessions == 5
    export = client.post(reverse("admin:merchants_imdailystat_export"), {"format": "0"})
    assert export.status_code == 200 and "2026-05-01" in export.content.decode("utf-8-sig")


# --------------------------------------------------------------------------------------------
# The logistics feed


def shipped(shop):
    order = make_order(shop, status="shipped")
    return order, order.packages.get()


def at(hours_ago):
    return timezone.localtime(timezone.now() - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S")


def test_B1_logistics_feed_records_scans_once_and_round_trips_with_its_export(operator, shop):
    order, package = shipped(shop)
    number = package.tracking_no
    spaced = f"{number[:2].lower()} {number[2:6]}-{number[6:]}"  # normalised as merchants.tracking does
    rows = [
        ["shop1", "发货包裹", "顺丰速运", spaced, "揽收", at(5), "已揽收", ""],
        ["shop1", "", "sf", number, "in transit", at(4), "运输中", ""],
        ["shop1", "", "SF Express", number, "已签收", at(1), "本人签收", ""],
        ["shop1", "", "sf", number, "已签收", at(1), "本人签收（重复）", ""],  # the same scan again
    ]
    resource, result = run(TrackingEventResource, operator, csv_bytes(LOG_HEADERS, rows, "gbk"))
    clean(resource, result)
    assert result.totals["new"] == 3 and result.totals["skip"] == 1
    events = TrackingEvent.objects.filter(merchant=shop, tracking_no=number)
    assert sorted(events.values_list("stage", flat=True)) == ["collected", "in_transit", "signed"]
    assert set(events.values_list("direction", flat=True)) == {TrackingEvent.Direction.OUTGOING}

    exported = TrackingEventResource(actor=operator).export().csv.encode("utf-8-sig")
    resource, again = run(TrackingEventResource, operator, exported)
    clean(resource, again)
    assert again.totals["skip"] == 3 and TrackingEvent.objects.count() == 3


def test_L5_return_parcels_signed_for_scan_sets_the_cases_return_signed_at(operator, shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    type(case).objects.filter(pk=case.pk).update(return_shipped_at=timezone.now() - timedelta(hours=10))
    case.refresh_from_db()
    carrier, number = case.return_carrier, case.return_tracking_no
    rows = [
        ["shop1", "退货包裹", carrier, number, "揽收", at(8), "", ""],
        ["shop1", "", carrier, number, "签收", at(2), "已签收", ""],
    ]
    resource, result = run(
        TrackingEventResource, operator, csv_bytes(LOG_HEADERS, rows, "utf-8-sig"), dry_run=True
    )
    clean(resource, result)
    case.refresh_from_db()
    assert case.return_signed_at is None and not TrackingEvent.objects.exists()  # the preview writes nothing

    resource, result = run(TrackingEventResource, operator, csv_bytes(LOG_HEADERS, rows, "utf-8-sig"))
    clean(resource, result)
    case.refresh_from_db()
    assert case.return_signed_at is not None
    assert timezone.localtime(case.return_signed_at).strftime("%Y-%m-%d %H:%M:%S") == rows[1][5]
    assert TrackingEvent.objects.filter(direction=TrackingEvent.Direction.RETURN).count() == 2
    assert case.events.filter(kind="return_signed").count() == 1

    resource, again = run(TrackingEventResource, operator, csv_bytes(LOG_HEADERS, rows))
    clean(resource, again)
    assert again.totals["skip"] == 2 and case.events.filter(kind="return_signed").count() == 1


def test_L7_logistics_feed_flags_fake_shipping_with_source_logistics_feed(operator, shop):
    order, package = shipped(shop)
    rows = [["shop1", "", "sf", package.tracking_no, "揽收", at(1), "", "是"]]
    resource, result = run(TrackingEventResource, operator, csv_bytes(LOG_HEADERS, rows))
    clean(resource, result)
    package.refresh_from_db()
    assert package.fake_shipping and package.fake_shipping_source == FakeShippingSource.LOGISTICS_FEED
    flagged = OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.FAKE_SHIPPING_FLAGGED)
    assert flagged.count() == 1
    run(TrackingEventResource, operator, csv_bytes(LOG_HEADERS, rows))  # the same file again
    run(TrackingEventResource, operator, csv_bytes(LOG_HEADERS, [[*rows[0][:7], "否"]]))  # never cleared
    package.refresh_from_db()
    assert package.fake_shipping and flagged.count() == 1


def test_B3_logistics_feed_all_or_nothing_every_bad_row_named(operator, shop, other_shop):
    order, package = shipped(shop)
    _other, theirs = shipped(other_shop)
    future = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    rows = [
        ["shop1", "", "sf", package.tracking_no, "揽收", at(3), "", ""],  # good
        ["shop1", "", "sf", "SF0000000000", "揽收", at(3), "", ""],  # unknown number
        ["shop1", "", "sf", theirs.tracking_no, "揽收", at(3), "", ""],  # another shop's parcel
        ["shop1", "", "sf", package.tracking_no, "丢了", at(3), "", ""],  # unknown stage
        ["shop1", "", "sf", package.tracking_no, "揽收", future, "", ""],  # in the future
        ["shop1", "", "飞鸽", package.tracking_no, "揽收", at(3), "", ""],  # unknown carrier
        ["shop1", "退货包裹", "sf", package.tracking_no, "揽收", at(3), "", ""],  # not a return parcel
        ["shop1", "", "sf", package.tracking_no, "揽收", at(2), "", "也许"],  # bad flag
    ]
    resource, result = run(TrackingEventResource, operator, csv_bytes(LOG_HEADERS, rows, "gb18030"))
    found = errors_of(resource, result)
    assert {(row, column) for row, column, _m in found} == {
        (3, "运单号"),
        (4, "运单号"),
        (5, "物流节点"),
        (6, "发生时间"),
        (7, "快递公司"),
        (8, "运单号"),
        (9, "虚假发货"),
    }
    assert any("SF0000000000" in message for _r, _c, message in found)
    assert not TrackingEvent.objects.exists()


def test_B3_a_refused_signed_for_time_is_a_row_error_and_nothing_is_written(operator, shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    shipped_at = timezone.now() - timedelta(hours=1)
    type(case).objects.filter(pk=case.pk).update(return_shipped_at=shipped_at)
    order, package = shipped(shop)
    rows = [
        ["shop1", "", "sf", package.tracking_no, "揽收", at(3), "", ""],
        ["shop1", "", case.return_carrier, case.return_tracking_no, "签收", at(5), "", ""],  # before sent
    ]
    resource, result = run(TrackingEventResource, operator, csv_bytes(LOG_HEADERS, rows))
    found = errors_of(resource, result)
    assert [(row, column) for row, column, _m in found] == [(3, "发生时间")]
    assert case.case_no in found[0][2]
    case.refresh_from_db()
    assert case.return_signed_at is None and not TrackingEvent.objects.exists()


# --------------------------------------------------------------------------------------------
# 物流轨迹 on the order and case pages


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_B1_order_and_case_pages_show_the_tracking_history_newest_first(
    client, operator, owner, shop, clerk, language
):
    order, package = shipped(shop)
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    type(case).objects.filter(pk=case.pk).update(return_shipped_at=timezone.now() - timedelta(hours=10))
    rows = [
        ["shop1", "", "sf", package.tracking_no, "揽收", at(5), "快件已由【深圳】揽收", ""],
        ["shop1", "", "sf", package.tracking_no, "派送中", at(2), "快件派送中", ""],
        ["shop1", "", case.return_carrier, case.return_tracking_no, "运输中", at(3), "退货运输中", ""],
    ]
    resource, result = run(TrackingEventResource, operator, csv_bytes(LOG_HEADERS, rows))
    clean(resource, result)
    client.force_login(owner, backend=BACKEND)
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    page = client.get(
        reverse("workbench:merchants_order_change", args=[order.pk]), **headers
    ).content.decode()
    title = "物流轨迹" if language == "zh-hans" else "Tracking history"
    assert title in page
    assert page.index("快件派送中") < page.index("快件已由【深圳】揽收")  # newest first
    assert package.tracking_no in page
    case_page = client.get(reverse("workbench:aftersales_aftersalecase_change", args=[case.pk]), **headers)
    text = case_page.content.decode()
    case_title = "退货物流轨迹" if language == "zh-hans" else "Return tracking history"
    assert case_title in text and "退货运输中" in text and case.return_tracking_no in text
