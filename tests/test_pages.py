"""What the workbench pages say around the data: error pages, form messages, breadcrumbs, the return
address, the filter button, empty lists, who acted in a timeline, the login page and case numbers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error

from aftersales.models import AfterSaleCase, _case_no
from aftersales.transitions import CaseStatus, CaseType
from merchants import services as order_services
from merchants.kernel.vocabulary import Role
from merchants.models import ActorKind
from merchants.transitions import Carrier, OrderStatus, PaymentMethod
from tests.aftersales.factories import open_pending, walk_to
from tests.factories import MembershipFactory, OrderFactory, UserFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def order_url(order, name="change", site="workbench"):
    return reverse(f"{site}:merchants_order_{name}", args=[order.pk])


def case_url(case, site="workbench"):
    return reverse(f"{site}:aftersales_aftersalecase_change", args=[case.pk])


def case_action_url(case, action, site="workbench"):
    return reverse(f"{site}:aftersales_aftersalecase_action", args=[case.pk, action])


ORDERS = reverse("workbench:merchants_order_changelist")
CASES = reverse("workbench:aftersales_aftersalecase_changelist")


def html(response) -> str:
    return response.content.decode()


# --------------------------------------------------------------------------------------------
# Error pages (N-9): Chinese, in the workbench's colours, with a way back


def test_N9_404_is_the_chinese_page_with_a_link_back_to_the_workbench(client, db):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "404.html" in [t.name for t in response.templates]
    page = html(response)
    assert "页面不存在" in page
    assert 'href="/workbench/"' in page
    assert 'href="/admin/"' not in page  # only staff get the platform link
    assert "Not Found" not in page


def test_N7_another_shops_order_is_the_same_404_page(client, shop, other_shop, clerk):
    theirs = OrderFactory(merchant=other_shop)
    login(client, clerk)

    response = client.get(order_url(theirs))

    assert response.status_code == 404
    assert "页面不存在" in html(response)
    assert theirs.order_no not in html(response)


def test_N9_404_offers_staff_the_platform_admin_too(client, operator):
    login(client, operator)

    response = client.get(reverse("admin:merchants_order_change", args=[987654]))

    assert response.status_code == 404
    page = html(response)
    assert 'href="/admin/"' in page and 'href="/workbench/"' in page


def test_N9_403_is_the_chinese_page_for_a_viewer_opening_an_action(client, shop, viewer):
    order = OrderFactory(merchant=shop)
    login(client, viewer)

    response = client.get(order_url(order, "ship"))

    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    page = html(response)
    assert "没有权限" in page and 'href="/workbench/"' in page
    assert "Forbidden" not in page


def test_N9_500_renders_without_any_context(db):
    response = server_error(RequestFactory().get("/workbench/"))

    assert response.status_code == 500
    page = response.content.decode()
    assert "服务器出错了" in page and 'href="/workbench/"' in page


# --------------------------------------------------------------------------------------------
# Order action pages (S-1, S-4, M-3)


def test_S1_blank_ship_form_names_the_missing_carrier_and_tracking_number(client, shop, clerk):
    order = OrderFactory(merchant=shop)
    login(client, clerk)

    response = client.post(
        order_url(order, "ship"), {"items": [order.items.get().pk], "carrier": "", "tracking_no": "  "}
    )

    assert response.status_code == 200
    page = html(response)
    assert "请填写运单号。" in page
    assert "请选择快递公司。" in page
    assert "这个字段是必填项" not in page
    order.refresh_from_db()
    assert order.status == OrderStatus.TO_SHIP


def _breadcrumbs(page: str) -> str:
    header = page.split('id="header-inner"', 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", header.split("</h1>", 1)[0]))


@pytest.mark.parametrize(
    ("action", "label", "setup"),
    [
        ("ship", "发货", {}),
        ("change_tracking", "修改物流", {"shipped": True}),
        ("cancel", "取消订单", {"payment_method": PaymentMethod.COD}),
    ],
)
def test_M2_action_page_breadcrumbs_end_with_the_action(client, shop, clerk, action, label, setup):
    order = OrderFactory(merchant=shop, payment_method=setup.get("payment_method", PaymentMethod.ONLINE))
    if setup.get("shipped"):
        order_services.ship(
            order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
        )
    login(client, clerk)

    response = client.get(order_url(order, action))

    assert response.status_code == 200
    crumbs = _breadcrumbs(html(response))
    assert re.search(rf"订单 .*{order.order_no} .*{label}\s*$", crumbs.strip()), crumbs


def test_A4_case_action_page_breadcrumbs_end_with_the_action(client, shop, clerk):
    case = open_pending(shop)
    login(client, clerk)

    crumbs = _breadcrumbs(html(client.get(case_action_url(case, "reject"))))

    assert re.search(rf"{case.case_no} .*拒绝\s*$", crumbs.strip()), crumbs


# --------------------------------------------------------------------------------------------
# The return address given to the buyer


@pytest.mark.parametrize("status", [CaseStatus.AWAITING_RETURN, CaseStatus.RETURN_IN_TRANSIT])
def test_A3_case_waiting_for_the_goods_shows_the_shops_return_address(client, shop, clerk, status):
    case = walk_to(status, shop, clerk, type=CaseType.RETURN_REFUND)
    login(client, clerk)

    page = html(client.get(case_url(case)))

    assert 'id="case-return-address"' in page
    assert shop.return_contact in page and shop.return_phone in page and shop.return_address in page
    assert 'id="case-return-address-missing"' not in page


def test_A3_pending_case_shows_no_return_address_yet(client, shop, clerk):
    case = open_pending(shop, type=CaseType.RETURN_REFUND)
    login(client, clerk)

    page = html(client.get(case_url(case)))

    assert 'id="case-return-address"' not in page


def test_A3_approving_a_return_without_an_address_warns_with_a_library_link_and_asks_to_confirm(
    client, shop, clerk, owner
):
    shop.return_address = ""
    shop.return_phone = ""
    shop.save()
    case = open_pending(shop, type=CaseType.RETURN_REFUND)
    library_url = reverse("workbench:aftersales_returnaddress_changelist")

    as_clerk = html(login(client, clerk).get(case_action_url(case, "approve")))
    as_owner = html(login(client, owner).get(case_action_url(case, "approve")))
    response = client.post(case_action_url(case, "approve"), {"confirm_no_address": "on"})

    assert 'id="case-return-address-missing"' in as_clerk
    assert f'href="{library_url}"' in as_clerk and "由店主添加地址" in as_clerk
    assert "去退货地址库添加地址" in as_owner
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RETURN


def test_A3_approve_page_of_a_refund_only_case_says_nothing_about_addresses(client, shop, clerk):
    shop.return_address = ""
    shop.save()
    case = open_pending(shop, type=CaseType.REFUND_ONLY)
    login(client, clerk)

    page = html(client.get(case_action_url(case, "approve")))

    assert "case-return-address" not in page


# --------------------------------------------------------------------------------------------
# The filter button and empty lists (A-10, M-2)

FILTER_ON = "bg-primary-600 border-primary-600 text-white"


def test_M2_status_tab_alone_does_not_light_the_filter_button(client, shop, clerk):
    OrderFactory(merchant=shop)
    login(client, clerk)

    tab = client.get(ORDERS, {"status__exact": OrderStatus.TO_SHIP})
    late_tab = client.get(ORDERS, {"late": "yes"})
    tab_and_filter = client.get(
        ORDERS, {"status__exact": OrderStatus.TO_SHIP, "payment_method__exact": "cod"}
    )
    empty_form_fields = client.get(ORDERS, {"status__exact": OrderStatus.TO_SHIP, "buyer": "", "product": ""})

    assert tab.context["cl"].has_active_filters is False and FILTER_ON not in html(tab)
    assert late_tab.context["cl"].has_active_filters is False
    assert tab_and_filter.context["cl"].has_active_filters is True and FILTER_ON in html(tab_and_filter)
    assert empty_form_fields.context["cl"].has_active_filters is False


def test_A10_quick_tab_alone_does_not_light_the_filter_button(client, shop, clerk):
    open_pending(shop)
    login(client, clerk)

    tab = client.get(CASES, {"tab": "pending"})
    tab_and_filter = client.get(CASES, {"tab": "pending", "type__exact": CaseType.REFUND_ONLY})

    assert tab.context["cl"].has_active_filters is False and FILTER_ON not in html(tab)
    assert tab_and_filter.context["cl"].has_active_filters is True and FILTER_ON in html(tab_and_filter)


def test_M2_empty_search_says_no_matching_orders_and_offers_to_clear(client, shop, clerk):
    OrderFactory(merchant=shop)
    login(client, clerk)

    page = html(client.get(ORDERS, {"q": "ZZZZ9999"}))

    assert "没有符合条件的订单" in page
    assert 'id="empty-results-clear" ' in page and "清除筛选和搜索" in page
    assert "新建" not in page and "Create a new item" not in page


def test_A10_empty_quick_tab_names_the_tab_and_links_to_all_cases(client, shop, clerk):
    open_pending(shop)
    login(client, clerk)

    page = html(client.get(CASES, {"tab": "arbitration"}))

    assert "「平台介入」下暂时没有售后单" in page
    assert "查看全部售后单" in page
    assert "新建" not in page


def test_A10_empty_search_says_no_matching_cases(client, shop, clerk):
    open_pending(shop)
    login(client, clerk)

    page = html(client.get(CASES, {"q": "AS00000000000000"}))

    assert "没有符合条件的售后单" in page and "清除筛选和搜索" in page


# --------------------------------------------------------------------------------------------
# Who acted: full name or the login as typed, and the member's role in the shop


def test_A4_timeline_shows_full_name_or_login_as_typed_with_the_shop_role(client, shop, clerk):
    named_owner = MembershipFactory(
        merchant=shop, role=Role.OWNER, user=UserFactory(username="Boss_Li", first_name="李店长")
    ).user
    typed_agent = MembershipFactory(
        merchant=shop, role=Role.AGENT, user=UserFactory(username="Shop1_Agent")
    ).user
    first = walk_to(CaseStatus.AWAITING_RETURN, shop, named_owner)
    second = walk_to(CaseStatus.AWAITING_RETURN, shop, typed_agent)
    login(client, clerk)

    first_rows = client.get(case_url(first)).context["case_timeline"]
    second_rows = client.get(case_url(second)).context["case_timeline"]

    approved = [row for row in first_rows if row["party"] == ActorKind.MERCHANT][-1]
    assert (approved["username"], approved["role"]) == ("李店长", "店主")
    approved = [row for row in second_rows if row["party"] == ActorKind.MERCHANT][-1]
    assert (approved["username"], approved["role"]) == ("Shop1_Agent", "售后客服")
    assert "Shop1_Agent" in html(client.get(case_url(second)))


def test_A4_order_history_names_the_member_and_role(client, shop, clerk):
    order = OrderFactory(merchant=shop)
    order_services.ship(
        order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )
    login(client, clerk)

    page = html(client.get(order_url(order)))

    assert re.search(r"商家 · clerk1\s*<span[^>]*>（售后客服）</span>", page)


# --------------------------------------------------------------------------------------------
# The login page (N-4): switch language before logging in, no "return to site" loop


def test_N4_login_page_offers_a_language_switch_back_to_the_login(client, db):
    login_url = reverse("workbench:login") + "?next=/workbench/"

    page = html(client.get(login_url))
    switched = client.post(reverse("set_language"), {"language": "en", "next": login_url})
    english = html(client.get(login_url))

    form = re.search(
        r'<form action="/i18n/setlang/" method="post" id="language-switch".*?</form>', page, re.S
    )
    assert form, "no language switch on the login page"
    assert 'value="/workbench/login/?next=/workbench/"' in form.group(0)
    assert 'value="zh-hans"' in form.group(0) and 'value="en"' in form.group(0)
    assert "返回网站" not in page and "Return to site" not in page
    assert 'name="next" value="/workbench/" form="login-form"' in page  # the login's own next field stays
    assert switched.status_code == 302 and switched["Location"] == login_url
    assert re.search(r'value="zh-hans"[^>]*aria-current="true"', page)
    assert "Log in" in english and re.search(r'value="en"[^>]*aria-current="true"', english)


# --------------------------------------------------------------------------------------------
# Case numbers: short, dated, unique


def test_A1_case_numbers_are_16_characters_dated_and_distinct(shop):
    today = timezone.localdate().strftime("%y%m%d")

    numbers = {_case_no() for _ in range(100)}
    case = open_pending(shop)

    assert len(numbers) > 90  # random within the day: 100 draws from 10^8 practically never repeat
    assert all(re.fullmatch(rf"AS{today}\d{{8}}", number) for number in numbers)
    assert re.fullmatch(rf"AS{today}\d{{8}}", case.case_no)
    assert AfterSaleCase._meta.get_field("case_no").default is _case_no


def test_A1_case_number_follows_the_local_date(db, time_machine):
    time_machine.move_to(timezone.make_aware(datetime(2026, 3, 31, 23, 30)) + timedelta(hours=1))

    assert _case_no().startswith("AS260401")


def test_N4_platform_login_points_merchants_to_the_workbench_login(client, db):
    admin_page = html(client.get(reverse("admin:login")))
    workbench_page = html(client.get(reverse("workbench:login")))

    assert 'id="admin-login-hint"' in admin_page and f'href="{reverse("workbench:login")}"' in admin_page
    assert 'id="admin-login-hint"' not in workbench_page
