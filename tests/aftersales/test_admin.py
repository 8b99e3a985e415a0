"""The after-sales workbench and admin pages (A-4, A-7, A-9, A-10, A-11, A-12, B-6) through the test client."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from aftersales import services
from aftersales.admin.display import countdown
from aftersales.dashboard import case_cards
from aftersales.filters import QUICK_TABS, add_months, export_range_error
from aftersales.models import AfterSaleCase, AftersalesSettings, AutoRefundRule, CaseEvent, DelayReport
from aftersales.selectors import QUEUE_STATES
from aftersales.transitions import (
    ArbitrationOutcome,
    CaseStatus,
    CaseType,
    DelayReportStatus,
    Liability,
    Reason,
)
from merchants.kernel.resources import neutralise
from merchants.transitions import Carrier, PaymentMethod
from tests.aftersales.factories import AutoRefundRuleFactory, open_pending, walk_to

BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def _fast_hashing_and_media(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def wb(name, *args):
    return reverse(f"workbench:aftersales_{name}", args=args)


def adm(name, *args):
    return reverse(f"admin:aftersales_{name}", args=args)


def action_url(case, action, site="workbench"):
    return reverse(f"{site}:aftersales_aftersalecase_action", args=[case.pk, action])


def png(name="evidence.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), "red").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def action_names(response):
    return {item["name"] for item in response.context["case_actions"]}


def set_deadline(case, when):
    AfterSaleCase.objects.filter(pk=case.pk).update(deadline_at=when)


# --------------------------------------------------------------------------------------------
# The list


def test_A10_quick_tabs_are_the_selectors_queues_plus_due_soon():
    assert {tab.key: tab.status for tab in QUICK_TABS if tab.status} == dict(QUEUE_STATES)


def test_A10_quick_tab_counts_are_right_and_one_query(client, shop, other_shop, clerk, other_clerk):
    now = timezone.now()
    soon = open_pending(shop)
    open_pending(shop)
    walk_to(CaseStatus.NEGOTIATING, shop, clerk)
    walk_to(CaseStatus.AWAITING_RETURN, shop, clerk)
    walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    overdue = walk_to(CaseStatus.ARBITRATION, shop, clerk)
    walk_to(CaseStatus.REFUNDED, shop, clerk)
    open_pending(other_shop)  # another shop's pending case counts nowhere here
    set_deadline(soon, now + timedelta(hours=3))
    set_deadline(overdue, now - timedelta(minutes=5))  # passed, not yet swept: still "due soon"
    login(client, clerk)

    response = client.get(wb("aftersalecase_changelist"))
    due_soon = client.get(wb("aftersalecase_changelist"), {"tab": "due_soon"})

    counts = {tab["key"]: tab["count"] for tab in response.context["case_tabs"] if tab.get("key")}
    assert counts == {
        "pending": 2,
        "negotiating": 1,
        "awaiting_return": 1,
        "return_in_transit": 1,
        "arbitration": 1,
        "due_soon": 2,
    }
    assert {case.pk for case in due_soon.context["cl"].result_list} == {soon.pk, overdue.pk}
    aggregate_queries = [
        q["sql"] for q in _queries_of(client, wb("aftersalecase_changelist")) if "COUNT(" in q["sql"].upper()
    ]
    assert len(aggregate_queries) == 2  # the tab counts (one aggregate) and the paginator's count


def _queries_of(client, path, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params or {})
    assert response.status_code == 200
    return ctx.captured_queries


def test_A10_tab_lists_only_its_state_and_offers_a_way_to_clear_filters(client, shop, clerk):
    pending = open_pending(shop)
    walk_to(CaseStatus.AWAITING_RETURN, shop, clerk)
    login(client, clerk)

    response = client.get(wb("aftersalecase_changelist"), {"tab": "pending", "reason": Reason.QUALITY})

    assert [case.pk for case in response.context["cl"].result_list] == [pending.pk]
    assert 'id="case-clear-filters"' in response.content.decode()
    unfiltered = client.get(wb("aftersalecase_changelist"))
    assert 'id="case-clear-filters"' not in unfiltered.content.decode()


def test_A10_row_action_is_handle_for_pending_and_view_for_others(client, shop, clerk, viewer):
    pending = open_pending(shop)
    other = walk_to(CaseStatus.AWAITING_RETURN, shop, clerk)

    page = login(client, clerk).get(wb("aftersalecase_changelist")).content.decode()
    viewer_page = login(client, viewer).get(wb("aftersalecase_changelist")).content.decode()

    assert f'href="{wb("aftersalecase_change", pending.pk)}">处理退款</a>' in page
    assert f'href="{wb("aftersalecase_change", other.pk)}">查看详情</a>' in page
    assert "处理退款" not in viewer_page  # a viewer cannot handle it: the row only offers the details


def test_A10_countdown_text_and_due_soon_colour():
    now = timezone.now()

    soon = countdown(now + timedelta(hours=5, minutes=12, seconds=30), now=now, due_soon_hours=12)
    later = countdown(now + timedelta(hours=30, minutes=5), now=now, due_soon_hours=12)
    late = countdown(now - timedelta(seconds=1), now=now, due_soon_hours=12)

    assert (soon["text"], soon["variant"]) == ("剩 5 小时 12 分", "danger")
    assert (later["text"], later["variant"]) == ("剩 1 天 6 小时", "default")
    assert (late["text"], late["variant"]) == ("已超时", "danger")


def test_A10_list_shows_countdown_amount_and_express_tag(client, shop, clerk):
    case = open_pending(shop, amount=Decimal("88.50"))
    AfterSaleCase.objects.filter(pk=case.pk).update(auto_approved_by="极速退款")
    login(client, clerk)

    with time_machine.travel(timezone.now(), tick=False):
        set_deadline(case, timezone.now() + timedelta(hours=5, minutes=12, seconds=30))
        page = client.get(wb("aftersalecase_changelist")).content.decode()

    assert "剩 5 小时 12 分" in page
    assert "¥88.50" in page
    assert "极速退款" in page


def test_A10_search_by_case_no_prefix_and_order_no(client, shop, clerk):
    first, second = open_pending(shop), open_pending(shop)
    login(client, clerk)

    by_case = client.get(wb("aftersalecase_changelist"), {"q": first.case_no})
    by_order = client.get(wb("aftersalecase_changelist"), {"q": second.order_no})
    too_short = client.get(wb("aftersalecase_changelist"), {"q": "AS"})

    assert [c.pk for c in by_case.context["cl"].result_list] == [first.pk]
    assert [c.pk for c in by_order.context["cl"].result_list] == [second.pk]
    assert list(too_short.context["cl"].result_list) == []  # 2 characters: exact only, no scan


def test_A10_constant_query_count_whatever_the_page_size(client, shop, clerk):
    for _ in range(100):
        open_pending(shop)
    login(client, clerk)
    client.get(wb("aftersalecase_changelist"))  # warm the session and settings rows

    page_of_25 = _queries_of(client, wb("aftersalecase_changelist"))
    page_of_100 = _queries_of(client, wb("aftersalecase_changelist"), {"all": ""})

    assert len(page_of_25) == len(page_of_100) <= 10


def test_A10_platform_list_has_the_shop_column_and_every_shop(client, shop, other_shop, operator):
    mine, theirs = open_pending(shop), open_pending(other_shop)

    response = login(client, operator).get(adm("aftersalecase_changelist"))

    assert {c.pk for c in response.context["cl"].result_list} == {mine.pk, theirs.pk}
    assert "shop" in response.context["cl"].list_display
    page = response.content.decode()
    assert "一号店" in page and "二号店" in page
    assert "处理退款" not in page  # platform staff do not answer for the shop
    assert "bulk_approve_selected" not in page


# --------------------------------------------------------------------------------------------
# Bulk approve


def test_A10_bulk_approve_asks_first_then_shows_a_result_per_case_and_one_failure_undoes_nothing(
    client, shop, clerk
):
    first, second = open_pending(shop, amount=Decimal("30.00")), open_pending(shop, amount=Decimal("20.00"))
    refused = walk_to(CaseStatus.REJECTED, shop, clerk, amount=Decimal("10.00"))
    login(client, clerk)
    selection = {"action": "bulk_approve_selected", ACTION_CHECKBOX_NAME: [first.pk, second.pk, refused.pk]}

    asked = client.post(wb("aftersalecase_changelist"), selection)
    untouched = set(AfterSaleCase.objects.values_list("status", flat=True))
    response = client.post(wb("aftersalecase_changelist"), {**selection, "post": "yes"})

    assert asked.status_code == 200 and asked.context["count"] == 3
    assert asked.context["total"] == "¥60.00"
    assert "将对 <strong>3</strong> 个售后单执行「批量同意（退款 / 退货 / 换货）」" in asked.content.decode()
    assert "确认同意 3 个售后单，共 ¥60.00？" in asked.content.decode()
    assert untouched == {CaseStatus.PENDING, CaseStatus.REJECTED}  # asking changed nothing
    assert response.status_code == 200
    rows = {row["label"]: row for row in response.context["rows"]}
    assert rows[first.case_no]["ok"] and rows[second.case_no]["ok"]
    assert not rows[refused.case_no]["ok"] and "不能执行" in rows[refused.case_no]["message"]
    assert (response.context["succeeded"], response.context["failed"]) == (2, 1)
    statuses = dict(
        AfterSaleCase.objects.filter(pk__in=[first.pk, second.pk, refused.pk]).values_list("pk", "status")
    )
    assert statuses == {
        first.pk: CaseStatus.REFUNDING,
        second.pk: CaseStatus.REFUNDING,
        refused.pk: CaseStatus.REJECTED,
    }


def test_A10_a_viewer_gets_no_bulk_action(client, shop, viewer):
    case = open_pending(shop)
    login(client, viewer)

    page = client.get(wb("aftersalecase_changelist"))
    post = client.post(
        wb("aftersalecase_changelist"),
        {"action": "bulk_approve_selected", ACTION_CHECKBOX_NAME: [case.pk], "post": "yes"},
    )

    assert "bulk_approve_selected" not in page.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING
    assert post.status_code in (200, 302)


# --------------------------------------------------------------------------------------------
# Export (A-10, B-6)


def test_B6_export_refuses_more_than_six_months(client, shop, clerk):
    open_pending(shop)
    login(client, clerk)
    export = wb("aftersalecase_export")

    too_wide = client.get(export, {"created_at_from": "2026-01-01", "created_at_to": "2026-08-02"})
    no_range = client.get(export)
    six_months = client.get(export, {"created_at_from": "2026-02-02", "created_at_to": "2026-08-02"})
    too_wide_post = client.post(
        f"{export}?created_at_from=2025-01-01&created_at_to=2026-01-01", {"format": "0", "resource": "0"}
    )

    assert too_wide.status_code == 302
    assert too_wide["Location"].startswith(wb("aftersalecase_changelist"))
    assert any("最多导出 6 个月" in text for text in texts(too_wide))
    assert no_range.status_code == 302
    assert any("申请时间范围" in text for text in texts(no_range))
    assert six_months.status_code == 200
    assert too_wide_post.status_code == 302
    assert "attachment" not in too_wide_post.get("Content-Disposition", "")


def test_B6_export_range_edges():
    assert add_months(timezone.datetime(2026, 8, 31).date(), -6) == timezone.datetime(2026, 2, 28).date()
    assert export_range_error({"created_at_from": "2026-02-28", "created_at_to": "2026-08-31"}) is None
    assert export_range_error({"created_at_from": "2026-02-27", "created_at_to": "2026-08-31"})
    assert export_range_error({"created_at_from": "2026-03-02", "created_at_to": "2026-03-01"})


def test_B6_export_neutralises_formula_cells(client, shop, clerk):
    case = open_pending(shop)
    AfterSaleCase.objects.filter(pk=case.pk).update(
        description='=HYPERLINK("http://x")', buyer_name="@SUM(A1)"
    )
    login(client, clerk)
    day = timezone.localtime(case.created_at).date().isoformat()

    response = client.post(
        wb("aftersalecase_export") + f"?created_at_from={day}&created_at_to={day}",
        {"format": "0", "resource": "0"},
    )

    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel expects
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["买家说明"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["买家昵称"] == "'@SUM(A1)"
    assert rows[0]["售后单号"] == case.case_no
    assert neutralise("-1+2") == "'-1+2" and neutralise("+86") == "'+86" and neutralise("正常") == "正常"


def test_B6_xlsx_export_neutralises_formula_cells_too(client, shop, clerk):
    from openpyxl import load_workbook

    case = open_pending(shop)
    AfterSaleCase.objects.filter(pk=case.pk).update(description="+1 查看 =cmd")
    login(client, clerk)
    day = timezone.localtime(case.created_at).date().isoformat()
    export = wb("aftersalecase_export") + f"?created_at_from={day}&created_at_to={day}"

    offered = client.get(export).context["form"].fields["format"].choices
    response = client.post(export, {"format": "1", "resource": "0"})

    assert [label for _value, label in offered if _value != ""] == ["csv", "xlsx"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert row["售后单号"] == case.case_no
    assert row["买家说明"] == "'+1 查看 =cmd"


# --------------------------------------------------------------------------------------------
# The case page


@pytest.mark.parametrize(
    ("status", "expected", "absent"),
    [
        (
            CaseStatus.PENDING,
            {"approve", "reject", "propose", "file_delay_report", "add_message"},
            {"confirm_return"},
        ),
        (
            CaseStatus.RETURN_IN_TRANSIT,
            {"confirm_return", "refuse_return", "file_delay_report", "add_message"},
            {"approve", "reject"},
        ),
        (CaseStatus.RESHIPPING, {"reship"}, {"approve", "confirm_return"}),
        (CaseStatus.REFUNDED, {"add_message"}, {"approve", "reject", "file_delay_report"}),
    ],
)
def test_A4_buttons_shown_match_the_state(client, shop, clerk, status, expected, absent):
    case = open_pending(shop) if status == CaseStatus.PENDING else walk_to(status, shop, clerk)
    login(client, clerk)

    response = client.get(wb("aftersalecase_change", case.pk))

    shown = action_names(response)
    assert expected <= shown
    assert not (absent & shown)
    page = response.content.decode()
    for name in shown:
        assert action_url(case, name) in page
    for name in absent:
        assert action_url(case, name) not in page


def test_A4_case_page_shows_countdown_info_blocks_and_timeline(client, shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    login(client, clerk)

    page = client.get(wb("aftersalecase_change", case.pk)).content.decode()

    assert 'id="case-countdown"' in page and "剩 6 天" in page
    assert 'id="case-return-logistics"' in page and case.return_tracking_no in page
    assert "138****5678" in page and "13812345678" not in page  # N-7: masked phone only
    assert page.count("data-event-kind=") == case.events.count() == 3
    assert "商品信息" in page and "售后信息" in page and "购买信息" in page


def test_A4_refunded_case_shows_the_refunded_amount(client, shop, clerk):
    case = walk_to(CaseStatus.REFUNDED, shop, clerk, amount=Decimal("42.00"))
    login(client, clerk)

    page = client.get(wb("aftersalecase_change", case.pk)).content.decode()

    assert 'id="case-refunded"' in page and "已退款 ¥42.00" in page


def test_A4_viewer_sees_everything_but_no_buttons_and_posts_get_403(client, shop, viewer):
    case = open_pending(shop)
    login(client, viewer)

    page = client.get(wb("aftersalecase_change", case.pk))
    get_form = client.get(action_url(case, "approve"))
    post = client.post(action_url(case, "approve"))
    reject = client.post(action_url(case, "reject"), {"reason": "不同意"})

    assert page.status_code == 200
    assert page.context["case_actions"] == []
    assert 'id="case-readonly-note"' in page.content.decode()
    assert case.case_no in page.content.decode()
    assert (get_form.status_code, post.status_code, reject.status_code) == (403, 403, 403)
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING
    assert case.events.count() == 1


def test_A4_get_of_an_action_the_state_does_not_allow_goes_back_with_a_message(client, shop, clerk):
    case = walk_to(CaseStatus.AWAITING_RETURN, shop, clerk)
    login(client, clerk)

    response = client.get(action_url(case, "approve"))

    assert response.status_code == 302
    assert response["Location"] == wb("aftersalecase_change", case.pk)
    assert any("不能执行" in text for text in texts(response))


# -- each action: happy path


def _post_ok(client, case, action, data=None):
    response = client.post(action_url(case, action), data or {})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == wb("aftersalecase_change", case.pk)
    case.refresh_from_db()
    return response


def test_A4_approve_form_approves(client, shop, clerk):
    case = open_pending(shop)
    login(client, clerk)

    form = client.get(action_url(case, "approve"))
    response = _post_ok(client, case, "approve")

    assert form.status_code == 200 and "确认同意" in form.content.decode()
    assert case.status == CaseStatus.REFUNDING
    assert any(case.case_no in text for text in texts(response))
    assert case.events.filter(kind=CaseEvent.Kind.APPROVED, actor=clerk).exists()


def test_A4_reject_form_with_reason_and_evidence(client, shop, clerk):
    case = open_pending(shop)
    login(client, clerk)

    _post_ok(client, case, "reject", {"reason": "商品已使用，影响二次销售", "attachments": [png()]})

    assert case.status == CaseStatus.REJECTED
    event = case.events.get(kind=CaseEvent.Kind.REJECTED)
    assert event.message == "商品已使用，影响二次销售"
    assert event.attachments.count() == 1


def test_A8_propose_form_sends_the_proposal(client, shop, clerk):
    case = open_pending(shop, amount=Decimal("50.00"))
    login(client, clerk)

    _post_ok(client, case, "propose", {"type": CaseType.REFUND_ONLY, "amount": "30.00", "text": "补偿 30 元"})

    assert case.status == CaseStatus.NEGOTIATING
    assert (case.proposed_amount, case.proposal_text) == (Decimal("30.00"), "补偿 30 元")
    page = client.get(wb("aftersalecase_change", case.pk)).content.decode()
    assert 'id="case-proposal"' in page and "补偿 30 元" in page


def test_A4_confirm_return_form(client, shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    login(client, clerk)

    _post_ok(client, case, "confirm_return")

    assert case.status == CaseStatus.REFUNDING
    assert case.return_received_at is not None


def test_A4_refuse_return_form_sends_the_case_to_arbitration(client, shop, clerk):
    case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, clerk)
    login(client, clerk)

    _post_ok(
        client, case, "refuse_return", {"reason": "退回的是另一件商品", "attachments": [png("back.png")]}
    )

    assert case.status == CaseStatus.ARBITRATION
    assert case.events.get(kind=CaseEvent.Kind.RETURN_REFUSED).attachments.count() == 1


def test_A4_reship_form(client, shop, clerk):
    case = walk_to(CaseStatus.RESHIPPING, shop, clerk)
    login(client, clerk)

    _post_ok(client, case, "reship", {"carrier": Carrier.SF, "tracking_no": "SF9876543210"})

    assert case.status == CaseStatus.EXCHANGE_SHIPPED
    assert (case.reship_carrier, case.reship_tracking_no) == (Carrier.SF, "SF9876543210")


def test_A4_upload_voucher_form_for_cod(client, shop, clerk):
    case = walk_to(CaseStatus.AWAITING_VOUCHER, shop, clerk)
    login(client, clerk)

    _post_ok(client, case, "upload_voucher", {"file": png("voucher.png")})

    assert case.status == CaseStatus.REFUNDED
    assert case.refunded_amount == case.amount


def test_A9_delay_report_form_files_a_report(client, shop, clerk):
    case = open_pending(shop)
    login(client, clerk)
    until = timezone.localtime() + timedelta(days=3)

    _post_ok(
        client,
        case,
        "file_delay_report",
        {
            "reason": "春节物流停运",
            "delay_until_0": until.strftime("%Y-%m-%d"),
            "delay_until_1": until.strftime("%H:%M"),
            "images": [png("proof.png")],
        },
    )

    report = DelayReport.objects.get(case=case)
    assert (report.status, report.reason, report.images.count()) == (
        DelayReportStatus.PENDING,
        "春节物流停运",
        1,
    )
    page = client.get(wb("aftersalecase_change", case.pk))
    assert "file_delay_report" not in action_names(page)  # one pending report per case
    assert 'id="case-delay-reports"' in page.content.decode()


def test_A4_message_form_adds_a_timeline_entry(client, shop, clerk):
    case = open_pending(shop)
    login(client, clerk)

    _post_ok(client, case, "add_message", {"text": "已联系买家，今天内处理"})

    assert case.status == CaseStatus.PENDING
    assert case.events.get(kind=CaseEvent.Kind.MESSAGE).message == "已联系买家，今天内处理"


# -- refusals: shown as messages, nothing changes


def test_A4_service_refusal_is_a_message_and_changes_nothing(client, shop, clerk):
    case = walk_to(CaseStatus.REJECTED, shop, clerk)
    events = case.events.count()
    login(client, clerk)

    response = client.post(action_url(case, "approve"), follow=True)

    assert response.status_code == 200
    assert texts(response) == ["当前状态「商家已拒绝」不能执行「同意申请」。"]
    assert (
        "当前状态「商家已拒绝」不能执行「同意申请」。" in response.content.decode()
    )  # shown on the case page
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED
    assert case.events.count() == events


def test_A4_refusal_of_a_form_action_keeps_the_form_and_changes_nothing(client, shop, clerk):
    case = open_pending(shop)
    login(client, clerk)

    wrong_state = client.post(action_url(case, "refuse_return"), {"reason": "x", "attachments": [png()]})
    missing = client.post(action_url(case, "reject"), {"reason": ""})
    too_much = client.post(
        action_url(case, "propose"), {"type": CaseType.REFUND_ONLY, "amount": "999.00", "text": "多退点"}
    )
    not_an_image = client.post(
        action_url(case, "reject"),
        {"reason": "看图", "attachments": [SimpleUploadedFile("x.png", b"not an image", "image/png")]},
    )

    assert wrong_state.status_code == 200
    assert any("不能" in text for text in texts(wrong_state))
    assert missing.status_code == 200 and "reason" in missing.context["form"].errors
    assert too_much.status_code == 200 and "amount" in too_much.context["form"].errors
    assert not_an_image.status_code == 200 and "attachments" in not_an_image.context["form"].errors
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING
    assert case.events.count() == 1


# --------------------------------------------------------------------------------------------
# Platform staff


def _arbitration_case(shop, clerk):
    case = open_pending(shop, type=CaseType.RETURN_REFUND)
    services.reject(case, actor=clerk, reason="商品已使用", attachments=[png("merchant.png")])
    return services.escalate(case, reason="商品确有质量问题", attachments=[png("buyer.png")])


def test_A7_arbitration_queue_is_oldest_first_with_escalated_flagged(
    client, shop, other_shop, clerk, other_clerk, operator
):
    old = _arbitration_case(shop, clerk)
    new = _arbitration_case(other_shop, other_clerk)
    escalated = walk_to(CaseStatus.ARBITRATION, shop, clerk)
    AfterSaleCase.objects.filter(pk=old.pk).update(
        arbitration_started_at=timezone.now() - timedelta(hours=30)
    )
    AfterSaleCase.objects.filter(pk=escalated.pk).update(escalated=True)
    open_pending(shop)
    login(client, operator)

    response = client.get(adm("aftersalecase_changelist"), {"tab": "arbitration"})

    assert [c.pk for c in response.context["cl"].result_list] == [escalated.pk, old.pk, new.pk]
    assert "已升级" in response.content.decode()


def test_A7_staff_decide_an_arbitration_seeing_both_sides_evidence(client, shop, clerk, operator):
    case = _arbitration_case(shop, clerk)
    login(client, operator)

    page = client.get(action_url(case, "arbitrate", site="admin"))
    response = client.post(
        action_url(case, "arbitrate", site="admin"),
        {"outcome": ArbitrationOutcome.REFUND, "liability": Liability.MERCHANT, "note": "商家未能举证"},
    )

    evidence = {group["party"]: len(group["items"]) for group in page.context["case_evidence"]}
    assert evidence["buyer"] == 1 and evidence["merchant"] == 1
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert (case.arbitration_outcome, case.liability) == (ArbitrationOutcome.REFUND, Liability.MERCHANT)
    assert case.events.filter(kind=CaseEvent.Kind.ARBITRATED, actor=operator).exists()


def test_A7_merchants_see_the_decision_on_the_case_page(client, shop, clerk, operator):
    case = _arbitration_case(shop, clerk)
    services.arbitrate(case, actor=operator, outcome=ArbitrationOutcome.REJECT, liability=Liability.BUYER)
    login(client, clerk)

    page = client.get(wb("aftersalecase_change", case.pk)).content.decode()

    assert 'id="case-arbitration"' in page and "驳回买家申请" in page and "买家责任" in page


def test_A9_staff_approve_a_delay_report(client, shop, clerk, operator):
    case = open_pending(shop)
    report = services.file_delay_report(
        case, actor=clerk, reason="仓库停电", delay_until=timezone.now() + timedelta(days=2), images=[png()]
    )
    login(client, operator)

    queue = client.get(adm("delayreport_changelist"))
    page = client.get(adm("delayreport_change", report.pk))
    response = client.post(adm("delayreport_decide", report.pk), {"decision": "approve", "note": "情况属实"})

    assert queue.context["cl"].result_list[0].pk == report.pk
    assert 'id="delay-decision"' in page.content.decode()
    assert response.status_code == 302
    report.refresh_from_db()
    case.refresh_from_db()
    assert (report.status, report.decision_note, report.decided_by) == (
        DelayReportStatus.APPROVED,
        "情况属实",
        operator,
    )
    assert case.excluded_from_assessment


def test_A9_rejecting_a_delay_report_without_a_note_is_refused(client, shop, clerk, operator):
    case = open_pending(shop)
    report = services.file_delay_report(
        case, actor=clerk, reason="仓库停电", delay_until=timezone.now() + timedelta(days=2)
    )
    login(client, operator)

    response = client.post(
        adm("delayreport_decide", report.pk), {"decision": "reject", "note": ""}, follow=True
    )

    assert response.status_code == 200
    assert "请填写审核意见。" in texts(response)
    report.refresh_from_db()
    assert report.status == DelayReportStatus.PENDING


def test_A9_delay_queue_lists_pending_reports_first(client, shop, clerk, operator):
    older, newer = open_pending(shop), open_pending(shop)
    until = timezone.now() + timedelta(days=2)
    decided = services.file_delay_report(older, actor=clerk, reason="旧报备", delay_until=until)
    services.decide_delay_report(decided, actor=operator, approve=True)
    pending = services.file_delay_report(newer, actor=clerk, reason="新报备", delay_until=until)
    DelayReport.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=1))
    login(client, operator)

    response = client.get(adm("delayreport_changelist"))

    assert [r.pk for r in response.context["cl"].result_list] == [pending.pk, decided.pk]


def test_A6_staff_retry_a_failed_refund(client, shop, clerk, operator):
    case = walk_to(CaseStatus.REFUNDING, shop, clerk)
    AfterSaleCase.objects.filter(pk=case.pk).update(refund_failed=True)
    login(client, operator)

    tab = client.get(adm("aftersalecase_changelist"), {"tab": "refund_failed"})
    page = client.get(adm("aftersalecase_change", case.pk))
    response = client.post(action_url(case, "retry_refund", site="admin"))

    assert [c.pk for c in tab.context["cl"].result_list] == [case.pk]
    assert "retry_refund" in action_names(page)
    assert response.status_code == 302
    case.refresh_from_db()
    assert not case.refund_failed
    assert case.events.filter(kind=CaseEvent.Kind.REFUND_RETRIED).exists()


def test_A5_staff_edit_the_aftersales_settings(client, superuser):
    login(client, superuser)

    listing = client.get(adm("aftersalessettings_changelist"))
    settings_row = AftersalesSettings.load()
    form = client.get(adm("aftersalessettings_change", settings_row.pk))
    data = {
        field: getattr(settings_row, field)
        for field in (
            "merchant_response_hours",
            "negotiation_hours",
            "buyer_return_days",
            "merchant_receipt_days",
            "voucher_hours",
            "rejected_idle_days",
            "exchange_delivery_days",
            "arbitration_hours",
            "window_days",
            "three_guarantee_days",
            "durable_days",
            "express_max_amount",
            "express_max_hours",
            "refund_max_attempts",
        )
    }
    saved = client.post(adm("aftersalessettings_change", settings_row.pk), {**data, "due_soon_hours": 6})

    assert listing.status_code == 302 and listing["Location"] == adm(
        "aftersalessettings_change", settings_row.pk
    )
    assert form.status_code == 200
    assert saved.status_code == 302
    assert AftersalesSettings.load().due_soon_hours == 6


# --------------------------------------------------------------------------------------------
# Automation rules


def test_A12_owner_adds_a_rule_with_checkboxes(client, shop, owner):
    login(client, owner)

    response = client.post(
        wb("autorefundrule_add"),
        {
            "merchant": shop.pk,
            "name": "未发货小额仅退款",
            "enabled": "on",
            "priority": 5,
            "case_types": [CaseType.REFUND_ONLY],
            "shipping_stages": ["not_shipped"],
            "reasons": [Reason.NO_REASON, Reason.OUT_OF_STOCK],
            "max_amount": "50.00",
        },
    )

    assert response.status_code == 302
    rule = AutoRefundRule.objects.get(merchant=shop)
    assert rule.case_types == [CaseType.REFUND_ONLY]
    assert rule.shipping_stages == ["not_shipped"]
    assert sorted(rule.reasons) == sorted([Reason.NO_REASON, Reason.OUT_OF_STOCK])
    assert rule.max_amount == Decimal("50.00")


def test_A12_a_rule_without_any_condition_is_refused(client, shop, owner):
    login(client, owner)

    response = client.post(wb("autorefundrule_add"), {"merchant": shop.pk, "name": "全部同意", "priority": 1})

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert not AutoRefundRule.objects.exists()


@pytest.mark.parametrize("who", ["clerk", "viewer"])
def test_A12_agents_and_viewers_read_rules_but_cannot_change_them(client, shop, who, request):
    user = request.getfixturevalue(who)
    rule = AutoRefundRuleFactory(merchant=shop, max_amount="20.00")
    login(client, user)

    listing = client.get(wb("autorefundrule_changelist"))
    page = client.get(wb("autorefundrule_change", rule.pk))
    add = client.get(wb("autorefundrule_add"))
    post = client.post(
        wb("autorefundrule_change", rule.pk), {"merchant": shop.pk, "name": "改名", "priority": 1}
    )
    delete = client.post(wb("autorefundrule_delete", rule.pk), {"post": "yes"})

    assert listing.status_code == 200 and page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert (add.status_code, post.status_code, delete.status_code) == (403, 403, 403)
    rule.refresh_from_db()
    assert rule.name != "改名"


def test_A11_rule_page_links_to_the_shop_settings_for_express_refund(client, shop, owner):
    login(client, owner)

    page = client.get(wb("autorefundrule_add")).content.decode()

    assert reverse("workbench:merchants_merchant_change", args=[shop.pk]) in page


# --------------------------------------------------------------------------------------------
# Home page cards


def test_A10_dashboard_cards_count_the_users_queues(rf, shop, other_shop, clerk, operator):
    open_pending(shop)
    open_pending(other_shop)
    walk_to(CaseStatus.REFUNDING, other_shop, _other_agent(other_shop))
    AfterSaleCase.objects.filter(status=CaseStatus.REFUNDING).update(refund_failed=True)
    merchant_request = rf.get("/workbench/")
    merchant_request.user, merchant_request.current_app = clerk, "workbench"
    staff_request = rf.get("/admin/")
    staff_request.user, staff_request.current_app = operator, "admin"

    merchant = {card.title: card.value for card in case_cards(merchant_request)}
    staff = {card.title: card.value for card in case_cards(staff_request)}

    assert merchant["待处理"] == 1 and "退款失败" not in merchant
    assert staff["待处理"] == 2 and staff["退款失败"] == 1


def _other_agent(shop):
    from merchants.kernel.vocabulary import Role
    from tests.factories import MembershipFactory

    return MembershipFactory(merchant=shop, role=Role.AGENT).user


def test_A10_workbench_home_shows_the_aftersales_section(client, shop, clerk):
    open_pending(shop)
    login(client, clerk)

    page = client.get(reverse("workbench:index")).content.decode()

    assert "售后" in page and wb("aftersalecase_changelist") + "?tab=pending" in page


def test_A4_cod_pending_case_page_renders(client, shop, clerk):
    case = open_pending(shop, payment_method=PaymentMethod.COD)
    login(client, clerk)

    assert client.get(wb("aftersalecase_change", case.pk)).status_code == 200


def test_A10_staff_share_the_all_shops_tab_counts_for_a_few_seconds_members_never(
    client, settings, shop, clerk, superuser
):
    from django.core.cache import cache

    settings.SHOUHOU_STAFF_COUNTS_CACHE_SECONDS = 30
    cache.clear()
    open_pending(shop)
    staff_list = reverse("admin:aftersales_aftersalecase_changelist")

    def pending_count(path):
        tabs = client.get(path).context["case_tabs"]
        return next(tab["count"] for tab in tabs if tab.get("key") == "pending")

    client.force_login(superuser)
    assert pending_count(staff_list) == 1
    open_pending(shop)
    assert pending_count(staff_list) == 1  # shared for SHOUHOU_STAFF_COUNTS_CACHE_SECONDS
    cache.clear()
    assert pending_count(staff_list) == 2

    login(client, clerk)
    assert pending_count(wb("aftersalecase_changelist")) == 2
    open_pending(shop)
    assert pending_count(wb("aftersalecase_changelist")) == 3  # a shop's own counts are always exact
    cache.clear()
