"""The ticket pages (T-1, T-2, T-4, T-5, T-7) over HTTP on both sites, and their tenancy."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from merchants.kernel.models import Violation
from merchants.transitions import OrderStatus
from tests.factories import OrderFactory
from tests.tickets.conftest import make_png
from tests.tickets.factories import TicketFactory, raise_ticket, walk_to
from tickets.models import Ticket
from tickets.tasks import escalate_overdue
from tickets.transitions import Liability, TicketCategory, TicketStatus

BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def wb(name, *args):
    return reverse(f"workbench:tickets_ticket_{name}", args=args)


def staff_url(name, *args):
    return reverse(f"admin:tickets_ticket_{name}", args=args)


def text_of(response) -> str:
    return response.content.decode()


# ---- tenancy: another shop's ticket id is a 404 on every page


# (not named `page`: that is pytest-playwright's fixture, and would make these browser tests)
@pytest.mark.parametrize("view", ["change", "history", "submit_result", "urge"])
def test_tenancy_another_shops_ticket_is_404_on_every_workbench_page(client, shop, other_shop, clerk, view):
    theirs = TicketFactory(merchant=other_shop, category=TicketCategory.URGE_SHIPMENT, with_order=True)
    login(client, clerk)

    action = view in ("submit_result", "urge")
    url = wb("action", theirs.pk, view) if action else wb(view, theirs.pk)
    get = client.get(url)
    post = client.post(url, {"text": "越权提交", "path": "tracking"}) if action else None

    assert get.status_code == 404
    assert post is None or post.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == TicketStatus.PENDING and not theirs.events.exists()


def test_tenancy_the_list_and_its_counts_show_only_the_shops_tickets(client, shop, other_shop, clerk):
    mine = TicketFactory(merchant=shop)
    TicketFactory(merchant=other_shop)
    TicketFactory(merchant=other_shop, status=TicketStatus.IN_REVIEW)
    login(client, clerk)

    response = client.get(wb("changelist"))

    assert [t.pk for t in response.context["cl"].result_list] == [mine.pk]
    counts = {tab["key"]: tab["count"] for tab in response.context["ticket_tabs"] if tab.get("key")}
    assert counts == {"pending": 1, "in_review": 0, "closed": 0, "overdue": 0}


def test_tenancy_searching_another_shops_ticket_number_finds_nothing(client, shop, other_shop, clerk):
    theirs = TicketFactory(merchant=other_shop)
    login(client, clerk)

    response = client.get(wb("changelist"), {"q": theirs.ticket_no})

    assert list(response.context["cl"].result_list) == []


def test_T1_staff_cannot_name_another_shops_order_in_the_raise_form(client, shop, other_shop, operator):
    theirs = OrderFactory(merchant=other_shop)
    login(client, operator)

    response = client.post(
        staff_url("add"),
        {"merchant": shop.pk, "order_no": theirs.order_no, "category": "urge_shipment", "demand": "催发货"},
        follow=True,
    )

    assert response.status_code == 200
    assert "不属于店铺「一号店」" in text_of(response)
    assert not Ticket.objects.exists()


# ---- stage tabs, countdown, overdue badge (T-4)


def test_T4_stage_tabs_count_each_stage_and_filter_the_list(client, shop, clerk):
    pending = TicketFactory(merchant=shop)
    TicketFactory(merchant=shop, status=TicketStatus.IN_REVIEW)
    TicketFactory(merchant=shop, status=TicketStatus.CLOSED)
    TicketFactory(merchant=shop, status=TicketStatus.CLOSED)
    overdue = TicketFactory(merchant=shop, overdue=True, due_at=timezone.now() - timedelta(hours=1))
    login(client, clerk)

    listing = client.get(wb("changelist"))
    overdue_tab = client.get(wb("changelist"), {"tab": "overdue"})
    pending_tab = client.get(wb("changelist"), {"tab": "pending"})

    counts = {tab["key"]: tab["count"] for tab in listing.context["ticket_tabs"] if tab.get("key")}
    assert counts == {"pending": 2, "in_review": 1, "closed": 2, "overdue": 1}
    assert [t.pk for t in overdue_tab.context["cl"].result_list] == [overdue.pk]
    assert {t.pk for t in pending_tab.context["cl"].result_list} == {pending.pk, overdue.pk}
    html = text_of(listing)
    for label in ("待处理", "审核中", "已关闭", "已超时"):
        assert label in html
    assert "审核超时" not in html  # the platform's own queue is not the shop's


def test_T4_the_list_shows_the_countdown_and_the_overdue_badge(client, shop, clerk):
    now = timezone.now()
    TicketFactory(merchant=shop, due_at=now + timedelta(hours=30, minutes=5))
    TicketFactory(merchant=shop, overdue=True, due_at=now - timedelta(hours=1))
    login(client, clerk)

    with time_machine.travel(now, tick=False):
        html = text_of(client.get(wb("changelist")))

    assert "剩 1 天 6 小时" in html
    assert "已超时" in html


def test_T4_the_ticket_page_shows_the_whole_log_with_attachments_and_links_the_order(
    client, shop, clerk, operator
):
    order = OrderFactory(merchant=shop)
    ticket = raise_ticket(shop, category=TicketCategory.QUALITY, order=order, actor=operator)
    from tickets import services

    services.submit_result(ticket, actor=clerk, text="已补发配件", attachments=[make_png("fix.png")])
    services.review_result(ticket, actor=operator, approve=False, reason="请附物流截图")
    login(client, clerk)

    response = client.get(wb("change", ticket.pk))

    html = text_of(response)
    assert response.status_code == 200
    for text in (
        "平台发起服务单",
        "商家提交处理结果",
        "审核驳回",
        "已补发配件",
        "请附物流截图",
        "买家催发货",
    ):
        assert text in html
    assert [row["event"].kind for row in response.context["ticket_log"]] == [
        "opened",
        "result_submitted",
        "rejected",
    ]
    assert response.context["ticket_log"][1]["attachments"][0]["name"] == "fix.png"
    assert reverse("workbench:merchants_order_change", args=[order.pk]) in html
    assert "平台已驳回（第 1 次）" in html


def test_T4_the_order_page_lists_its_tickets_and_staff_may_raise_one_from_it(client, shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    ticket = raise_ticket(shop, order=order, actor=operator)
    other = raise_ticket(shop, order=OrderFactory(merchant=shop), actor=operator)

    login(client, clerk)
    shop_page = text_of(client.get(reverse("workbench:merchants_order_change", args=[order.pk])))
    login(client, operator)
    staff_page = text_of(client.get(reverse("admin:merchants_order_change", args=[order.pk])))
    raise_page = client.get(staff_url("add"), {"order": order.pk})

    assert ticket.ticket_no in shop_page and other.ticket_no not in shop_page
    assert "为该订单发起服务单" not in shop_page
    assert ticket.ticket_no in staff_page
    assert f"{staff_url('add')}?order={order.pk}" in staff_page
    assert raise_page.context["form"].initial == {"merchant": shop.pk, "order_no": order.order_no}


# ---- the shop answers (T-2, T-7)


def test_T2_the_shop_submits_its_result_from_the_ticket_page(client, shop, clerk, operator):
    ticket = raise_ticket(shop, category=TicketCategory.LOGISTICS, actor=operator)
    login(client, clerk)

    page = client.get(wb("change", ticket.pk))
    response = client.post(wb("action", ticket.pk, "submit_result"), {"text": "已催促快递派送"}, follow=True)

    assert [a["name"] for a in page.context["ticket_actions"]] == ["submit_result"]
    assert "处理结果已提交，等待平台审核" in text_of(response)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.result_text) == (TicketStatus.IN_REVIEW, "已催促快递派送")


def test_T2_a_blank_result_is_a_message_on_the_form_and_changes_nothing(client, shop, clerk, operator):
    ticket = raise_ticket(shop, actor=operator)
    login(client, clerk)

    response = client.post(wb("action", ticket.pk, "submit_result"), {"text": "   "})

    assert response.status_code == 200
    assert "请填写处理结果" in text_of(response)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING


def test_T2_a_viewer_reads_the_ticket_but_gets_403_on_its_actions(client, shop, viewer, operator):
    ticket = raise_ticket(shop, actor=operator)
    login(client, viewer)

    page = client.get(wb("change", ticket.pk))
    action = client.post(wb("action", ticket.pk, "submit_result"), {"text": "只读"})

    assert page.status_code == 200 and page.context["ticket_actions"] == []
    assert "只读成员" in text_of(page)
    assert action.status_code == 403


def test_T7_the_guided_page_ships_the_order_from_the_tracking_form(client, shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    ticket = raise_ticket(shop, order=order, actor=operator)
    login(client, clerk)

    page = client.get(wb("action", ticket.pk, "urge"))
    response = client.post(
        wb("action", ticket.pk, "urge"),
        {"path": "tracking", "tracking-carrier": "sf", "tracking-tracking_no": "SF1122334455"},
        follow=True,
    )

    assert [o["option"].path for o in page.context["urge_options"]] == [
        "tracking",
        "ship_time",
        "out_of_stock",
    ]
    assert "已补录运单号并发货" in text_of(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and order.packages.get().tracking_no == "SF1122334455"


def test_T7_the_guided_page_commits_a_ship_time(client, shop, clerk, operator):
    ticket = raise_ticket(shop, order=OrderFactory(merchant=shop), actor=operator)
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    login(client, clerk)

    client.post(
        wb("action", ticket.pk, "urge"),
        {"path": "ship_time", "ship_time-ship_date": day, "ship_time-ship_hour": "15"},
    )

    ticket.refresh_from_db()
    local = timezone.localtime(ticket.ship_commit_at)
    assert (local.date().isoformat(), local.hour, local.minute) == (day, 15, 0)
    assert ticket.status == TicketStatus.IN_REVIEW


def test_T7_a_bad_tracking_number_re_shows_the_form_with_the_message(client, shop, clerk, operator):
    order = OrderFactory(merchant=shop)
    ticket = raise_ticket(shop, order=order, actor=operator)
    login(client, clerk)

    response = client.post(
        wb("action", ticket.pk, "urge"),
        {"path": "tracking", "tracking-carrier": "sf", "tracking-tracking_no": "x"},
    )

    assert response.status_code == 200
    assert "运单号应为" in text_of(response)
    assert not order.packages.exists()


def test_T7_once_shipped_the_answer_is_plain_and_starts_from_the_shipped_notice(
    client, shop, clerk, operator
):
    from merchants import services as merchant_services

    order = OrderFactory(merchant=shop)
    ticket = raise_ticket(shop, order=order, actor=operator)
    merchant_services.ship(
        order, items=list(order.items.all()), carrier="jd", tracking_no="JD0001112223", actor=clerk
    )
    login(client, clerk)

    page = client.get(wb("change", ticket.pk))
    form = client.get(wb("action", ticket.pk, "submit_result"))

    assert [a["name"] for a in page.context["ticket_actions"]] == ["submit_result"]
    assert (
        "京东物流" in form.context["form"]["text"].value()
        and "JD0001112223" in form.context["form"]["text"].value()
    )


# ---- staff: raise, review queue, approve / reject with liability, overdue queues


def test_T1_staff_raise_a_ticket_from_the_form(client, shop, operator):
    order = OrderFactory(merchant=shop)
    login(client, operator)

    response = client.post(
        staff_url("add"),
        {
            "merchant": shop.pk,
            "order_no": order.order_no,
            "category": "urge_shipment",
            "demand": "买家催发货",
            "attachments": [make_png("chat.png")],
        },
        follow=True,
    )

    ticket = Ticket.objects.get()
    assert (ticket.merchant_id, ticket.order_id, ticket.category) == (shop.pk, order.pk, "urge_shipment")
    assert ticket.events.get().attachments.count() == 1
    assert f"已发起服务单 {ticket.ticket_no}" in text_of(response)


def test_T1_an_unknown_order_number_is_a_form_error(client, shop, operator):
    login(client, operator)

    response = client.post(
        staff_url("add"), {"merchant": shop.pk, "order_no": "NOPE123", "category": "other", "demand": "x"}
    )

    assert "订单号 NOPE123 不存在" in text_of(response)
    assert not Ticket.objects.exists()


def test_T1_shop_members_have_no_raise_page(client, shop, owner):
    login(client, owner)

    assert client.get(reverse("workbench:tickets_ticket_add")).status_code in (403, 404)


def test_T2_staff_review_queue_lists_results_oldest_first_and_rejects_with_a_reason(
    client, shop, clerk, operator
):
    first = walk_to(TicketStatus.IN_REVIEW, shop, clerk)
    second = walk_to(TicketStatus.IN_REVIEW, shop, clerk)
    Ticket.objects.filter(pk=first.pk).update(review_due_at=timezone.now() + timedelta(hours=1))
    login(client, operator)

    queue = client.get(staff_url("changelist"), {"tab": "in_review"})
    page = client.get(staff_url("change", second.pk))
    client.post(staff_url("action", second.pk, "reject"), {"reason": "请补充凭证"})

    assert [t.pk for t in queue.context["cl"].result_list] == [first.pk, second.pk]
    assert [a["name"] for a in page.context["ticket_actions"]] == ["approve", "reject"]
    second.refresh_from_db()
    assert (second.status, second.reject_reason) == (TicketStatus.PENDING, "请补充凭证")


def test_T5_closing_a_complaint_from_the_review_page_needs_and_stores_the_liability(
    client, shop, clerk, operator
):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk, category=TicketCategory.COMPLAINT)
    login(client, operator)

    missing = client.post(staff_url("action", ticket.pk, "approve"), {"reason": "ok"})
    client.post(staff_url("action", ticket.pk, "approve"), {"liability": "malicious"})

    assert "关闭投诉类服务单时请判定责任方" in text_of(missing)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.liability) == (TicketStatus.CLOSED, Liability.MALICIOUS)


def test_T3_staff_see_overdue_and_late_review_queues(client, shop, clerk, operator):
    late = raise_ticket(shop, actor=operator)
    reviewing = walk_to(TicketStatus.IN_REVIEW, shop, clerk)
    with time_machine.travel(late.due_at + timedelta(seconds=1), tick=False):
        escalate_overdue()
    login(client, operator)

    overdue = client.get(staff_url("changelist"), {"tab": "overdue"})
    review_late = client.get(staff_url("changelist"), {"tab": "review_late"})

    assert [t.pk for t in overdue.context["cl"].result_list] == [late.pk]
    assert [t.pk for t in review_late.context["cl"].result_list] == [reviewing.pk]
    assert Violation.objects.filter(merchant=shop).count() == 1


def test_T2_the_shop_cannot_reach_the_review_actions(client, shop, owner):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, owner)
    login(client, owner)

    response = client.post(wb("action", ticket.pk, "approve"), {"liability": "none"})

    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_REVIEW


def test_N4_the_ticket_page_reads_in_english(client, shop, clerk, operator):
    ticket = raise_ticket(shop, actor=operator)
    login(client, clerk)

    html = text_of(client.get(wb("change", ticket.pk), HTTP_ACCEPT_LANGUAGE="en"))

    assert "Ticket raised by the platform" in html
    assert "please handle it within 48 hours" in html


def test_T4_the_workbench_home_counts_the_shops_open_tickets(client, shop, other_shop, clerk):
    TicketFactory(merchant=shop)
    TicketFactory(merchant=shop, overdue=True, due_at=timezone.now() - timedelta(hours=1))
    TicketFactory(merchant=other_shop)
    login(client, clerk)

    response = client.get(reverse("workbench:index"))

    section = next(s for s in response.context["dashboard_sections"] if str(s.title) == "服务单")
    values = {str(card.title): card.value for card in section.cards}
    assert values == {"待处理服务单": 2, "已超时服务单": 1, "审核中服务单": 0}


def test_T6_the_result_form_offers_the_reply_templates(client, shop, clerk, operator):
    # The platform defaults come from a data migration; a transactional test run before this one flushes
    # them, so put them back the way the migration does.
    import importlib

    from django.apps import apps

    importlib.import_module("merchants.migrations.0008_reply_template_defaults").add_defaults(apps, None)
    ticket = raise_ticket(shop, order=OrderFactory(merchant=shop), actor=operator)
    login(client, clerk)

    html = text_of(client.get(wb("action", ticket.pk, "submit_result")))

    assert "延迟发货致歉" in html and "发货通知" in html  # the platform's defaults (scene 发货沟通)


def test_N4_ticket_notices_read_in_the_readers_language(shop, operator):
    from django.utils import translation

    from merchants.kernel import notices
    from merchants.kernel.models import Notice

    ticket = raise_ticket(shop, actor=operator)
    notice = Notice.objects.get(kind="tickets.opened")

    with translation.override("en"):
        title, _body = notices.render(notice)

    assert title == f"New ticket {ticket.ticket_no}: please handle it in time"
    assert notices.link_of(notice, "workbench") == reverse(
        "workbench:tickets_ticket_change", args=[ticket.pk]
    )


def test_T2_the_shop_sees_a_late_review_as_waiting_for_the_platform_not_as_its_own_overdue(
    client, shop, clerk, operator
):
    late = TicketFactory(merchant=shop, status=TicketStatus.IN_REVIEW)
    Ticket.objects.filter(pk=late.pk).update(
        review_late=True, review_due_at=timezone.now() - timedelta(hours=1)
    )

    login(client, clerk)
    shop_page = client.get(wb("changelist")).content.decode()
    client.force_login(operator)
    staff_page = client.get(reverse("admin:tickets_ticket_changelist")).content.decode()

    assert "等待平台审核" in shop_page and "审核超时" not in shop_page.split('id="result_list"')[1]
    assert "已超时" not in shop_page.split('id="result_list"')[1]
    assert "审核超时" in staff_page.split('id="result_list"')[1] and "已超时" in staff_page
