"""The kernel's admin kits through real pages (A-4, A-6, A-10, M-2): the bulk kit asks first (how many, how
much), answers per object (a refused one among accepted ones, undoing nothing), and the action-page kit
shows a refusal on its own page with nothing changed. Also the quick tabs' rule of which tab is on."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import RequestFactory
from django.urls import reverse

from aftersales.models import AfterSaleCase
from aftersales.transitions import CaseStatus
from merchants.kernel.admin.tabs import QuickTab, active_tab, tab_links
from merchants.models import Order
from merchants.transitions import OrderStatus, PaymentMethod
from tests.aftersales.factories import make_order, open_pending, walk_to

BACKEND = "django.contrib.auth.backends.ModelBackend"
ORDERS = reverse("workbench:merchants_order_changelist")


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def cod(shop, amount="100.00"):
    return make_order(
        shop,
        status=OrderStatus.AWAITING_CONFIRMATION,
        payment_method=PaymentMethod.COD,
        paid_amount=Decimal(amount),
    )


def test_M2_bulk_confirmation_says_how_many_orders_and_how_much_and_changes_nothing(client, shop, clerk):
    first, second = cod(shop, "120.00"), cod(shop, "30.50")
    login(client, clerk)

    page = client.post(
        ORDERS, {"action": "confirm_cod_selected", ACTION_CHECKBOX_NAME: [first.pk, second.pk]}
    )

    body = page.content.decode()
    assert page.status_code == 200
    assert (page.context["count"], page.context["total"]) == (2, "¥150.50")
    assert "将对 <strong>2</strong> 个订单执行「确认所选货到付款订单」" in body
    assert first.order_no in body and second.order_no in body
    # The confirmation posts the same selection back, answered.
    assert 'name="post" value="yes"' in body and f'value="{first.pk}"' in body
    assert set(Order.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        OrderStatus.AWAITING_CONFIRMATION
    }


def test_M2_bulk_result_per_order_with_a_refused_one_among_accepted_ones(client, shop, clerk):
    first, online, last = cod(shop), make_order(shop, status=OrderStatus.TO_SHIP), cod(shop)
    login(client, clerk)

    response = client.post(
        ORDERS,
        {
            "action": "confirm_cod_selected",
            ACTION_CHECKBOX_NAME: [first.pk, online.pk, last.pk],
            "post": "yes",
        },
    )

    rows = {row.label: row for row in response.context["rows"]}
    assert response.status_code == 200
    # In the order selected, the refused ones first (issue 11 §7).
    assert [row.label for row in response.context["rows"]] == [online.order_no, first.order_no, last.order_no]
    assert rows[first.order_no].ok and rows[last.order_no].ok
    assert not rows[online.order_no].ok and "不能执行「确认订单」" in rows[online.order_no].message
    assert (response.context["succeeded"], response.context["failed"]) == (2, 1)
    assert rows[first.order_no].url == reverse("workbench:merchants_order_change", args=[first.pk])
    statuses = dict(Order.objects.filter(pk__in=[first.pk, online.pk, last.pk]).values_list("pk", "status"))
    assert statuses == {
        first.pk: OrderStatus.TO_SHIP,
        online.pk: OrderStatus.TO_SHIP,
        last.pk: OrderStatus.TO_SHIP,
    }
    assert not online.events.exists()  # the refused order: no event, nothing written


def test_A10_select_all_across_pages_asks_about_every_row_of_the_tab(client, shop, clerk):
    pending = [open_pending(shop, amount=Decimal("10.00")) for _ in range(3)]
    walk_to(CaseStatus.REJECTED, shop, clerk)  # not in the tab
    login(client, clerk)
    changelist = reverse("workbench:aftersales_aftersalecase_changelist") + "?tab=pending"

    asked = client.post(
        changelist,
        {"action": "bulk_approve_selected", ACTION_CHECKBOX_NAME: [pending[0].pk], "select_across": "1"},
    )
    done = client.post(
        changelist,
        {
            "action": "bulk_approve_selected",
            ACTION_CHECKBOX_NAME: [pending[0].pk],
            "select_across": "1",
            "post": "yes",
        },
    )

    assert (asked.context["count"], asked.context["total"]) == (3, "¥30.00")
    assert 'name="select_across" value="1"' in asked.content.decode()
    assert done.context["succeeded"] == 3
    assert not AfterSaleCase.objects.filter(
        pk__in=[c.pk for c in pending], status=CaseStatus.PENDING
    ).exists()


def test_A6_staff_retry_refunds_in_bulk_one_result_each(client, shop, clerk, operator):
    flagged, fine = walk_to(CaseStatus.REFUNDING, shop, clerk), walk_to(CaseStatus.REFUNDING, shop, clerk)
    AfterSaleCase.objects.filter(pk=flagged.pk).update(refund_failed=True)
    login(client, operator)
    changelist = reverse("admin:aftersales_aftersalecase_changelist")
    selection = {"action": "retry_refund_selected", ACTION_CHECKBOX_NAME: [flagged.pk, fine.pk]}

    asked = client.post(changelist, selection)
    response = client.post(changelist, {**selection, "post": "yes"})

    assert asked.context["count"] == 2
    rows = {row.label: row for row in response.context["rows"]}
    assert rows[flagged.case_no].ok and rows[flagged.case_no].message == "已重新发起退款"
    assert not rows[fine.case_no].ok and rows[fine.case_no].message == "该售后单没有失败待处理的退款。"
    flagged.refresh_from_db()
    assert not flagged.refund_failed


def test_A10_a_viewer_cannot_confirm_a_bulk_move_by_posting_the_answer(client, shop, viewer):
    case = open_pending(shop)
    login(client, viewer)

    response = client.post(
        reverse("workbench:aftersales_aftersalecase_changelist"),
        {"action": "bulk_approve_selected", ACTION_CHECKBOX_NAME: [case.pk], "post": "yes"},
    )

    assert response.status_code in (200, 302)
    assert "rows" not in (response.context or {})
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING


def test_A4_a_refused_move_stays_on_its_page_with_the_reason_and_changes_nothing(client, shop, clerk):
    case = walk_to(CaseStatus.REJECTED, shop, clerk)
    events = case.events.count()
    login(client, clerk)
    url = reverse("workbench:aftersales_aftersalecase_action", args=[case.pk, "reject"])

    response = client.post(url, {"reason": "再次拒绝"})

    assert response.status_code == 200
    assert response.templates[0].name == "aftersales/case_action.html"
    assert "当前状态「商家已拒绝」不能执行「拒绝申请」。" in response.content.decode()
    assert response.context["form"]["reason"].value() == "再次拒绝"  # what was typed is kept
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED and case.events.count() == events


def test_A4_a_move_succeeds_with_its_message_and_goes_back_to_the_object(client, shop, clerk):
    order = cod(shop)
    login(client, clerk)

    response = client.post(reverse("workbench:merchants_order_confirm_cod", args=[order.pk]), follow=True)

    assert response.redirect_chain == [(reverse("workbench:merchants_order_change", args=[order.pk]), 302)]
    assert f"订单 {order.order_no} 已确认，可以发货了。" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.TO_SHIP


# --------------------------------------------------------------------------------------------
# Quick tabs: which one is on


TABS = (
    QuickTab("pending", "待处理", "warning"),
    QuickTab("to_ship", "待发货", params={"status__exact": "to_ship"}),
)


def on(path: str, *, exact: bool = True) -> list[str]:
    request = RequestFactory().get(path)
    return [
        str(link["title"]) for link in tab_links(request, TABS, {"pending": 4}, exact=exact) if link["active"]
    ]


def test_A10_the_tab_the_list_is_on_is_highlighted_and_other_filters_switch_it_off():
    assert on("/?") == ["全部"]
    assert on("/?o=1&p=2") == ["全部"]  # ordering and paging do not narrow the list
    assert on("/?tab=pending") == ["待处理"]
    assert on("/?tab=pending&type=exchange") == []  # a filter beyond the tab: no tab is what is shown
    assert on("/?tab=pending&type=") == ["待处理"]  # an empty filter field is no filter
    assert on("/?status__exact=to_ship&payment_method__exact=cod", exact=False) == ["待发货"]
    assert active_tab(RequestFactory().get("/?tab=nope"), TABS) is None


# ---- the review and ticket lists share the kit's tabs and time columns (issue 9/10 fold)


def test_R6_T4_the_clear_filters_link_shows_only_when_something_narrows_beyond_the_tab():
    from merchants.kernel.admin.tabs import narrowed_beyond_tab

    factory = RequestFactory()

    assert not narrowed_beyond_tab(factory.get("/", {"tab": "pending"}))
    assert not narrowed_beyond_tab(factory.get("/", {"tab": "pending", "o": "1", "p": "2", "q": " "}))
    assert narrowed_beyond_tab(factory.get("/", {"tab": "pending", "q": "TK26"}))
    assert narrowed_beyond_tab(factory.get("/", {"rating": "1"}))


def test_R6_T4_review_and_ticket_lists_draw_the_kits_tabs_with_counts_and_the_clear_link(client, shop, clerk):
    from merchants.kernel.admin.tabs import QuickTabsMixin
    from reviews.admin.reviews import ReviewAdmin
    from tests.tickets.factories import TicketFactory
    from tickets.admin.tickets import TicketAdmin

    assert issubclass(ReviewAdmin, QuickTabsMixin) and issubclass(TicketAdmin, QuickTabsMixin)
    TicketFactory(merchant=shop)
    client.force_login(clerk)

    tickets = client.get("/workbench/tickets/ticket/", {"tab": "pending"})
    searched = client.get("/workbench/tickets/ticket/", {"tab": "pending", "q": "TK0"})
    reviews = client.get("/workbench/reviews/review/")

    pending = next(tab for tab in tickets.context["ticket_tabs"] if tab.get("key") == "pending")
    assert (pending["count"], pending["active"]) == (1, True)
    assert tickets.context["ticket_filtered"] is False and searched.context["ticket_filtered"] is True
    assert b'data-tab="pending"' in tickets.content and b"ticket-clear-filters" in searched.content
    assert [tab.get("key") for tab in reviews.context["review_tabs"]][1:] == [
        "to_reply",
        "reply_pending",
        "reply_rejected",
        "appealing",
        "bad",
    ]


def test_T4_R3_the_time_columns_stack_the_countdown_and_the_time_and_redden_when_due():
    from merchants.kernel.admin.display import shown_countdown, stacked_cell

    cell = str(stacked_cell("3 小时", "12-01 10:00"))

    assert "3 小时" in cell and "12-01 10:00" in cell and "<br>" in cell
    assert shown_countdown({"text": ""}) == "-"
    assert shown_countdown({"text": "5 小时", "variant": "default"}) == "5 小时"
    assert "bg-red-100" in shown_countdown({"text": "已超时", "variant": "danger"})
    assert "&lt;b&gt;" in str(stacked_cell("<b>", ""))  # escaped
