"""Issue 11 §11-§12: the workbench home's links (notices with the unread count, violations), the platform's
decisions reaching the shop as notices, and the staff home of /admin/ (its queues, counts and ages)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aftersales.transitions import CaseStatus
from merchants.kernel import notices
from merchants.models import Notice
from tests.aftersales.factories import CaseFactory, DelayReportFactory
from tests.reviews.factories import AppealFactory, ReplyFactory
from tests.tickets.factories import TicketFactory, walk_to
from tickets import services as ticket_services
from tickets.transitions import TicketStatus

BACKEND = "django.contrib.auth.backends.ModelBackend"
HOME = reverse("workbench:index")
ADMIN_HOME = reverse("admin:index")


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def test_N1_home_links_the_notices_with_the_unread_count_and_the_violations(client, shop, clerk):
    for _ in range(3):
        Notice.objects.create(merchant=shop, audience=Notice.Audience.MERCHANT, title="通知")
    Notice.objects.create(
        merchant=shop, audience=Notice.Audience.MERCHANT, title="已读", read_at=timezone.now()
    )
    login(client, clerk)

    page = client.get(HOME).content.decode()

    assert 'id="home-link-notices"' in page
    assert reverse("workbench:merchants_notice_changelist") + "?status=unread" in page
    assert 'id="home-link-notices-count">3<' in page
    assert reverse("workbench:merchants_violation_changelist") in page
    assert 'id="workbench-dashboard"' in page  # the card sections are still there


def test_N1_home_shows_no_count_when_everything_is_read(client, shop, clerk, other_shop):
    Notice.objects.create(merchant=other_shop, audience=Notice.Audience.MERCHANT, title="别人的")
    login(client, clerk)

    page = client.get(HOME).content.decode()

    assert 'id="home-link-notices"' in page
    assert "home-link-notices-count" not in page


def test_T2_an_approved_ticket_result_reaches_the_shop_as_a_notice(shop, clerk, operator):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)

    ticket_services.review_result(ticket, actor=operator, approve=True, reason="处理得当")

    notice = notices.notices_for(clerk).get(kind="tickets.approved")
    assert ticket.ticket_no in notice.display_title
    assert "处理得当" in notice.display_body
    assert reverse("workbench:tickets_ticket_change", args=[ticket.pk]) == notices.link_of(
        notice, "workbench"
    )


def test_staff_home_lists_the_queues_with_counts_and_oldest_age(client, shop, operator):
    now = timezone.now()
    CaseFactory(merchant=shop, status=CaseStatus.ARBITRATION, arbitration_started_at=now - timedelta(days=2))
    CaseFactory(
        merchant=shop,
        status=CaseStatus.ARBITRATION,
        arbitration_started_at=now - timedelta(days=3),
        escalated=True,
    )
    DelayReportFactory(merchant=shop)
    ReplyFactory(merchant=shop)
    AppealFactory(merchant=shop)
    TicketFactory(merchant=shop, status=TicketStatus.IN_REVIEW, submitted_at=now - timedelta(hours=5))
    login(client, operator)

    response = client.get(ADMIN_HOME)

    assert response.status_code == 200
    rows = {str(row["queue"].title): row for row in response.context["staff_queues"]}
    titles = [str(row["queue"].title) for row in response.context["staff_queues"]]
    assert titles[0] == "已升级的平台介入"  # escalated first
    assert rows["已升级的平台介入"]["queue"].count == 1
    assert rows["平台介入待判定"]["queue"].count == 2
    assert rows["平台介入待判定"]["age"] >= timedelta(days=3)
    assert rows["延迟报备待审核"]["queue"].count == 1
    assert rows["评价回复待审核"]["queue"].count == 1
    assert rows["评价申诉待处理"]["queue"].count == 1
    assert rows["服务单结果待审核"]["queue"].count == 1
    assert timedelta(hours=5) <= rows["服务单结果待审核"]["age"] < timedelta(hours=6)
    assert rows["退款失败"]["queue"].count == 0 and rows["退款失败"]["age"] is None
    page = response.content.decode()
    assert 'id="staff-queues"' in page
    assert reverse("admin:aftersales_aftersalecase_changelist") + "?tab=arbitration" in page
    assert 'id="workbench-dashboard"' not in page  # not the merchant cards


def test_staff_home_costs_the_same_queries_however_many_items_wait(client, shop, operator):
    login(client, operator)
    client.get(ADMIN_HOME)
    with CaptureQueriesContext(connection) as empty:
        client.get(ADMIN_HOME)
    for _ in range(3):
        CaseFactory(merchant=shop, status=CaseStatus.ARBITRATION, arbitration_started_at=timezone.now())
        DelayReportFactory(merchant=shop)
        TicketFactory(merchant=shop, status=TicketStatus.IN_REVIEW, submitted_at=timezone.now())

    with CaptureQueriesContext(connection) as full:
        client.get(ADMIN_HOME)

    assert len(full.captured_queries) == len(empty.captured_queries)


def test_staff_home_of_a_staff_user_outside_the_platform_group_says_so(client, db):
    from tests.factories import UserFactory

    user = UserFactory(username="helpdesk", is_staff=True)
    login(client, user)

    page = client.get(ADMIN_HOME).content.decode()

    assert 'id="staff-home-empty"' in page
