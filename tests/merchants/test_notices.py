"""Notices in the workbench (A-5, A-7, A-9): stored as kind + params, read in the reader's language, counted
by the header bell, marked read one by one or all at once — and never seen by another shop (N-7).
Plus the shop's violation list (rule, source, points, counted or not)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from aftersales import services
from aftersales.registrations import ADVANCE_PAID, ARBITRATED
from aftersales.tasks import run_deadlines
from aftersales.transitions import ArbitrationOutcome, CaseStatus, Liability
from merchants.kernel import notices
from merchants.models import Notice, Violation
from tests.aftersales.factories import walk_to
from tests.factories import MembershipFactory, UserFactory
from tests.merchants.factories import NoticeFactory, ViolationFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
LIST = "workbench:merchants_notice_changelist"
READ = "workbench:merchants_notice_read"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def bell_count(client) -> int | None:
    """The unread count the header bell shows on the workbench home (None: a bell without a count)."""
    body = client.get(reverse("workbench:index")).content.decode()
    assert 'id="notice-bell"' in body
    found = re.search(r'data-unread-count="(\d+)"', body)
    return int(found.group(1)) if found else None


def advance_paid(shop, no="AS1", amount="88.00"):
    return notices.notify(
        ADVANCE_PAID,
        audience=Notice.Audience.MERCHANT,
        merchant_id=shop.pk,
        params={"case_id": 1, "no": no, "amount": Decimal(amount), "points": 2},
    )


# --------------------------------------------------------------------------------------------
# Read and unread


@pytest.mark.django_db
def test_A5_the_header_bell_counts_the_shops_unread_notices_only(client, shop, other_shop, clerk):
    advance_paid(shop)
    NoticeFactory(merchant=shop)
    NoticeFactory(merchant=shop, read_at=timezone.now())
    NoticeFactory(merchant=other_shop)
    NoticeFactory(merchant=shop, audience=Notice.Audience.PLATFORM)  # for senior staff, not the shop
    login(client, clerk)

    assert bell_count(client) == 2


@pytest.mark.django_db
def test_A5_marking_one_notice_read_and_then_all(client, shop, other_shop, clerk):
    first, second, third = NoticeFactory(merchant=shop), NoticeFactory(merchant=shop), advance_paid(shop)
    theirs = NoticeFactory(merchant=other_shop)
    login(client, clerk)

    one = client.post(reverse(READ), {"ids": [first.pk]}, HTTP_REFERER="http://testserver" + reverse(LIST))
    after_one = bell_count(client)
    unread_list = client.get(reverse(LIST), {"status": "unread"})
    everything = client.post(reverse(READ), {"all": "1"})

    assert one.status_code == 302 and after_one == 2
    assert {n.pk for n in unread_list.context["cl"].result_list} == {second.pk, third.pk}
    assert everything.status_code == 302 and bell_count(client) is None
    for notice in (first, second, third, theirs):
        notice.refresh_from_db()
    assert first.is_read and second.is_read and third.is_read
    assert not theirs.is_read  # "all" is all of the user's shops', never another shop's


@pytest.mark.django_db
def test_A5_opening_a_notice_marks_it_read_and_goes_to_its_case(client, shop, clerk):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk)
    notice = notices.notify(
        ARBITRATED,
        audience=Notice.Audience.MERCHANT,
        merchant_id=shop.pk,
        params={"case_id": case.pk, "no": case.case_no, "outcome": "refund", "liability": "merchant"},
    )
    login(client, clerk)

    listing = client.get(reverse(LIST)).content.decode()
    opened = client.post(reverse(READ), {"open": notice.pk})

    assert f'name="open" value="{notice.pk}"' in listing and 'form="notice-read-form"' in listing
    assert opened.status_code == 302
    assert opened.url == reverse("workbench:aftersales_aftersalecase_change", args=[case.pk])
    notice.refresh_from_db()
    assert notice.is_read


@pytest.mark.django_db
def test_A5_marking_read_is_a_post_and_a_viewer_only_reads(client, shop, viewer):
    notice = NoticeFactory(merchant=shop)
    login(client, viewer)

    listing = client.get(reverse(LIST))
    by_get = client.get(reverse(READ), {"all": "1"})
    by_viewer = client.post(reverse(READ), {"all": "1"})

    assert listing.status_code == 200 and notice.pk in {n.pk for n in listing.context["cl"].result_list}
    assert by_get.status_code == 405 and by_viewer.status_code == 302
    assert notices.mark_notices_read(viewer) == 0
    notice.refresh_from_db()
    assert not notice.is_read


@pytest.mark.django_db
def test_N7_another_shops_notices_are_never_visible_nor_markable(client, shop, other_shop, clerk):
    mine = NoticeFactory(merchant=shop, title="我的通知")
    theirs = NoticeFactory(merchant=other_shop, title="别家的通知")
    platform = NoticeFactory(merchant=shop, audience=Notice.Audience.PLATFORM, title="给平台的通知")
    login(client, clerk)

    listing = client.get(reverse(LIST))
    detail = client.get(reverse("workbench:merchants_notice_change", args=[theirs.pk]))
    platform_detail = client.get(reverse("workbench:merchants_notice_change", args=[platform.pk]))
    opened = client.post(reverse(READ), {"open": theirs.pk})
    marked = client.post(reverse(READ), {"ids": [theirs.pk, platform.pk, "x"]})

    assert {n.pk for n in listing.context["cl"].result_list} == {mine.pk}
    assert "别家的通知" not in listing.content.decode() and "给平台的通知" not in listing.content.decode()
    assert detail.status_code == 404 and platform_detail.status_code == 404 and opened.status_code == 404
    assert marked.status_code == 302
    assert notices.mark_notices_read(clerk, [theirs.pk]) == 0
    theirs.refresh_from_db()
    platform.refresh_from_db()
    assert not theirs.is_read and not platform.is_read


@pytest.mark.django_db
def test_N7_a_member_of_two_shops_sees_both_and_marks_only_where_they_serve(client, shop, other_shop):
    user = UserFactory(username="two-shops")
    MembershipFactory(user=user, merchant=shop, role="agent")
    MembershipFactory(user=user, merchant=other_shop, role="viewer")
    served, watched = NoticeFactory(merchant=shop), NoticeFactory(merchant=other_shop)

    assert notices.unread_count(user) == 2
    assert notices.mark_notices_read(user) == 1
    served.refresh_from_db()
    watched.refresh_from_db()
    assert served.is_read and not watched.is_read


# --------------------------------------------------------------------------------------------
# Kind + params, in the reader's language


@pytest.mark.django_db
def test_N4_an_english_user_reads_an_english_notice_written_while_chinese_was_active(client, shop, clerk):
    with translation.override("zh-hans"):
        notice = advance_paid(shop, no="AS20260601", amount="88.00")
    login(client, clerk)

    english = client.get(reverse(LIST), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(reverse(LIST)).content.decode()

    stored = Notice.objects.get(pk=notice.pk)
    assert stored.kind == ADVANCE_PAID and stored.params["amount"] == "88.00"
    assert "Case AS20260601: refund proof overdue, the platform paid in advance" in english
    assert "¥88.00" in english and "先行赔付" not in english
    assert "售后单 AS20260601 超时未上传退款凭证，平台已先行赔付" in chinese
    with translation.override("en"):
        assert stored.display_title == "Case AS20260601: refund proof overdue, the platform paid in advance"


@pytest.mark.django_db
def test_N4_the_stored_title_is_a_fallback_only(shop):
    with translation.override("en"):
        notice = advance_paid(shop, no="AS9")
    old = NoticeFactory(merchant=shop, title="旧通知：店铺资料待补充", body="请补充退货地址。")
    orphan = NoticeFactory(merchant=shop, kind="tickets.gone", params={"no": "T1"}, title="工单 T1 已超时")

    assert Notice.objects.get(pk=notice.pk).title == "售后单 AS9 超时未上传退款凭证，平台已先行赔付"
    with translation.override("en"):
        assert notices.render(old) == ("旧通知：店铺资料待补充", "请补充退货地址。")
        assert notices.render(orphan)[0] == "工单 T1 已超时"  # a kind no app registers: its stored text


@pytest.mark.django_db
def test_A7_the_platforms_decision_is_a_notice_for_the_shop_with_the_staff_note(shop, clerk, operator):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk)

    services.arbitrate(
        case,
        actor=operator,
        outcome=ArbitrationOutcome.REFUND,
        liability=Liability.MERCHANT,
        note="凭证显示商品破损",
    )

    notice = Notice.objects.get(kind=ARBITRATED)
    assert (notice.audience, notice.merchant_id) == (Notice.Audience.MERCHANT, shop.pk)
    with translation.override("en"):
        title, body = notices.render(notice)
    assert case.case_no in title and str(ArbitrationOutcome.REFUND.label) not in title  # label in English
    assert body.endswith("凭证显示商品破损")  # people's words as typed
    with translation.override("zh-hans"):
        assert (
            notices.render(notice)[0] == f"平台已判定售后单 {case.case_no}：{ArbitrationOutcome.REFUND.label}"
        )


@pytest.mark.django_db
def test_A5_the_sweeps_notices_carry_kind_and_params(shop, clerk):
    case = walk_to(CaseStatus.AWAITING_VOUCHER, shop, clerk)

    with time_machine.travel(timezone.now() + timedelta(days=3)):
        run_deadlines()

    notice = Notice.objects.get()
    assert notice.kind == ADVANCE_PAID
    assert notice.params == {"case_id": case.pk, "no": case.case_no, "amount": "50.00", "points": 2}
    with translation.override("en"):
        assert "¥50.00" in notice.display_body and "2 points" in notice.display_body


# --------------------------------------------------------------------------------------------
# The violation list


@pytest.mark.django_db
def test_L7_the_shop_reads_its_violations_with_rule_source_points_and_counting(
    client, shop, other_shop, clerk
):
    case = walk_to(CaseStatus.AWAITING_VOUCHER, shop, clerk)
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        run_deadlines()
    excluded = ViolationFactory(merchant=shop, excluded=True, points=5)
    ViolationFactory(merchant=other_shop, points=9)
    login(client, clerk)

    response = client.get(reverse("workbench:merchants_violation_changelist"))
    body = response.content.decode()

    rows = {v.pk for v in response.context["cl"].result_list}
    assert rows == {Violation.objects.get(source_id=case.pk).pk, excluded.pk}
    assert (
        "货到付款售后超时未上传退款凭证（平台先行赔付）" in body and "aftersales_voucher_timeout" not in body
    )
    case_url = reverse("workbench:aftersales_aftersalecase_change", args=[case.pk])
    assert f'href="{case_url}"' in body and case.case_no in body
    assert body.count(">不计入</span>") == 1 and body.count(">计入</span>") == 1
    assert client.get(reverse("workbench:merchants_violation_add")).status_code == 403
