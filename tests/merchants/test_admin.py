"""The order pages of both sites through the test client: list, filters, search, actions, roles, dashboard."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from merchants import services
from merchants.admin.orders import OrderAdmin
from merchants.kernel.admin.sites import workbench_site
from merchants.kernel.vocabulary import Role
from merchants.models import Merchant, Order, Package, PlatformSettings, Product
from merchants.transitions import AftersaleLock, Carrier, OrderStatus, PaymentMethod
from tests.factories import MembershipFactory, OrderFactory, ProductFactory, UserFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
ORDERS = reverse("workbench:merchants_order_changelist")


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def order_url(order, name="change"):
    return reverse(f"workbench:merchants_order_{name}", args=[order.pk])


def listed(response):
    return [order.order_no for order in response.context["cl"].result_list]


def texts(response):
    return [str(message) for message in response.context["messages"]]


def ship_post(client, order, items, tracking="SF1234567890", carrier=Carrier.SF):
    return client.post(
        order_url(order, "ship"),
        {"items": [item.pk for item in items], "carrier": carrier, "tracking_no": tracking},
    )


# --------------------------------------------------------------------------------------------
# The list (M-2, M-4, A-11)


def test_M4_list_shows_masked_buyer_amount_badges_late_flag_and_express_tag(client, shop, clerk):
    shop.express_refund_enabled = True
    shop.save()
    placed = timezone.now() - timedelta(days=3)
    late = OrderFactory(
        merchant=shop,
        buyer_name="张三",
        buyer_phone="13812345678",
        paid_amount=Decimal("1234.5"),
        placed_at=placed,
        ship_by=placed + timedelta(hours=48),
    )
    on_time = OrderFactory(merchant=shop, ship_by=timezone.now() + timedelta(hours=20))
    login(client, clerk)

    response = client.get(ORDERS)
    body = response.content.decode()

    assert set(listed(response)) == {late.order_no, on_time.order_no}
    assert "138****5678" in body and "13812345678" not in body
    assert "¥1,234.50" in body
    assert (
        len(re.findall(r"超时未发货\s*</span>", body)) == 1
    )  # the badge of the late row (the tab is a link)
    assert body.count("极速退款") >= 2
    assert "待发货" in body


def test_M4_late_filter_and_tab_count(client, shop, clerk):
    placed = timezone.now() - timedelta(days=3)
    late = OrderFactory(merchant=shop, placed_at=placed, ship_by=placed + timedelta(hours=48))
    OrderFactory(merchant=shop)  # promise still ahead
    OrderFactory(
        merchant=shop, status=OrderStatus.SHIPPED, placed_at=placed, ship_by=placed + timedelta(hours=1)
    )
    login(client, clerk)

    yes = client.get(ORDERS, {"late": "yes"})
    no = client.get(ORDERS, {"late": "no"})
    tabs = {str(tab["title"]): tab["count"] for tab in yes.context["order_tabs"]}

    assert listed(yes) == [late.order_no]
    assert late.order_no not in listed(no) and len(listed(no)) == 2
    assert tabs["超时未发货"] == 1
    assert tabs["待发货"] == 2


def test_M2_status_tab_filters_and_counts_only_own_shop(client, shop, other_shop, clerk):
    cod = OrderFactory(
        merchant=shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION
    )
    OrderFactory(merchant=shop)
    OrderFactory(
        merchant=other_shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION
    )
    login(client, clerk)

    response = client.get(ORDERS, {"status__exact": OrderStatus.AWAITING_CONFIRMATION})
    tabs = {str(tab["title"]): tab for tab in response.context["order_tabs"]}

    assert listed(response) == [cod.order_no]
    assert tabs["待确认"]["count"] == 1
    assert tabs["待确认"]["active"] and not tabs["全部"]["active"]


def test_M2_filters_payment_method_placed_range_buyer_and_product(client, shop, clerk):
    now = timezone.localtime()
    old = OrderFactory(merchant=shop, placed_at=now - timedelta(days=10), buyer_id="B-OLD")
    cod = OrderFactory(
        merchant=shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION
    )
    login(client, clerk)
    day = (now - timedelta(days=10)).date()

    by_method = client.get(ORDERS, {"payment_method__exact": PaymentMethod.COD})
    by_range = client.get(ORDERS, {"placed_at_from": day.isoformat(), "placed_at_to": day.isoformat()})
    by_buyer = client.get(ORDERS, {"buyer": "B-OLD"})
    by_product = client.get(ORDERS, {"product": old.items.get().product_id})

    assert listed(by_method) == [cod.order_no]
    assert listed(by_range) == [old.order_no]
    assert listed(by_buyer) == [old.order_no]
    assert listed(by_product) == [old.order_no]


def test_M2_search_order_no_exact_or_prefix_and_buyer_exact(client, shop, clerk):
    target = OrderFactory(merchant=shop, order_no="O20261122334455", buyer_id="B778899", buyer_name="王小二")
    OrderFactory(merchant=shop, order_no="O20261199999999", buyer_id="B000001", buyer_name="王小二的朋友")
    login(client, clerk)

    def search(term):
        return listed(client.get(ORDERS, {"q": term}))

    assert search("O20261122334455") == [target.order_no]
    assert search("O2026112233") == [target.order_no]
    assert search("B778899") == [target.order_no]
    assert search("王小二") == [target.order_no]
    assert search("22334455") == []  # not a substring scan
    assert search("B7788") == []  # buyer ids match exactly


def test_M2_search_uses_equality_and_ranges_only(rf, superuser):
    """The order-number search must be answerable from an index: no '%term%' pattern on an order column."""
    request = rf.get(ORDERS, {"q": "O2026112233"})
    request.user = superuser

    queryset, may_have_duplicates = OrderAdmin(Order, workbench_site).get_search_results(
        request, Order.objects.all(), "O2026112233"
    )

    sql = str(queryset.query)
    assert not may_have_duplicates
    # The one substring match is over product names (the catalogue), then items by product id.
    (column,) = re.findall(r"(\S+) LIKE \S*%O2026112233%", sql)
    assert '."name"' in column and f"FROM {Product._meta.db_table}" in sql.replace('"', "")
    assert '"order_no" >= O2026112233' in sql and '"order_no" < O2026112234' in sql


@pytest.mark.parametrize("site_prefix", ["workbench", "admin"])
def test_M2_list_query_count_does_not_grow_with_rows(client, shop, other_shop, clerk, superuser, site_prefix):
    for i in range(100):
        OrderFactory(merchant=shop if i % 2 else other_shop if site_prefix == "admin" else shop, items=0)
    user = clerk if site_prefix == "workbench" else superuser
    login(client, user)
    url = reverse(f"{site_prefix}:merchants_order_changelist")

    with CaptureQueriesContext(connection) as page_of_25:
        first = client.get(url)
    with CaptureQueriesContext(connection) as all_100:
        everything = client.get(url, {"all": ""})

    assert len(first.context["cl"].result_list) == 25
    assert len(everything.context["cl"].result_list) == 100
    assert len(all_100.captured_queries) == len(page_of_25.captured_queries)
    assert len(page_of_25.captured_queries) <= 15


# --------------------------------------------------------------------------------------------
# The order page and its actions (S-1..S-4, M-3), by role


def test_S1_viewer_sees_the_order_but_no_buttons_and_cannot_ship(client, shop, viewer):
    order = OrderFactory(merchant=shop, items=2)
    login(client, viewer)

    page = client.get(order_url(order))
    get_form = client.get(order_url(order, "ship"))
    post = ship_post(client, order, order.items.all())

    assert page.status_code == 200
    assert order_url(order, "ship") not in page.content.decode()
    assert get_form.status_code == 403
    assert post.status_code == 403
    assert not Package.objects.filter(order=order).exists()


def test_S1_agent_ships_from_the_order_page_and_sees_the_new_status(client, shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    login(client, clerk)

    page = client.get(order_url(order))
    form = client.get(order_url(order, "ship"))
    response = ship_post(client, order, order.items.all(), tracking="SF9876543210")

    assert order_url(order, "ship") in page.content.decode()
    assert form.status_code == 200 and 'name="items"' in form.content.decode()
    assert response.status_code == 302 and response["Location"] == order_url(order)
    after = client.get(response["Location"])
    body = after.content.decode()
    assert "已发货" in body and "SF9876543210" in body
    assert any("已发货" in text for text in texts(after))
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert order.events.filter(kind="shipped", actor=clerk).count() == 1


def test_S1_shipping_an_already_shipped_item_is_refused_with_the_message(client, shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = order.items.order_by("pk")
    services.ship(order, items=[first], carrier=Carrier.SF, tracking_no="SF1111111111", actor=clerk)
    login(client, clerk)

    response = ship_post(client, order, [first, second], tracking="SF2222222222")

    assert response.status_code == 200
    assert any("已在包裹 SF1111111111 中发出" in text for text in texts(response))
    order.refresh_from_db()
    second.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert second.package_id is None
    assert order.packages.count() == 1


def test_S2_item_with_open_aftersale_is_not_offered_and_is_refused(client, shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    locked, free = order.items.order_by("pk")
    locked.aftersale_lock = AftersaleLock.OPEN
    locked.save()
    login(client, clerk)

    form = client.get(order_url(order, "ship"))
    rows = {row["item"].pk: row for row in form.context["rows"]}
    response = ship_post(client, order, [locked])

    assert rows[locked.pk]["shippable"] is False and rows[free.pk]["shippable"] is True
    assert rows[free.pk]["checked"] and not rows[locked.pk]["checked"]
    assert any("有进行中的售后" in text for text in texts(response))
    assert not order.packages.exists()


def test_S3_change_tracking_while_partially_shipped_is_refused(client, shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    first = order.items.order_by("pk").first()
    package = services.ship(order, items=[first], carrier=Carrier.SF, tracking_no="SF1111111111", actor=clerk)
    login(client, clerk)

    page = client.get(order_url(order))
    response = client.post(
        order_url(order, "change_tracking"),
        {"package": package.pk, "carrier": Carrier.ZTO, "tracking_no": "ZT3333333333"},
    )

    assert order_url(order, "change_tracking") not in page.content.decode()  # no button while S-3 holds
    assert response.status_code == 200
    assert any("全部发货前不能修改" in text for text in texts(response))
    package.refresh_from_db()
    assert (package.carrier, package.tracking_no) == (Carrier.SF, "SF1111111111")


def test_S4_change_tracking_once_everything_shipped(client, shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    package = services.ship(
        order, items=order.items.all(), carrier=Carrier.SF, tracking_no="SF1111111111", actor=clerk
    )
    login(client, clerk)

    page = client.get(order_url(order))
    form = client.get(order_url(order, "change_tracking") + f"?package={package.pk}")
    response = client.post(
        order_url(order, "change_tracking"),
        {"package": package.pk, "carrier": Carrier.ZTO, "tracking_no": "ZT3333333333"},
    )

    assert order_url(order, "change_tracking") in page.content.decode()
    assert form.context["form"]["package"].value() == package.pk
    assert response.status_code == 302
    package.refresh_from_db()
    assert (package.carrier, package.tracking_no) == (Carrier.ZTO, "ZT3333333333")
    assert package.items.count() == 2
    assert order.events.filter(kind="tracking_changed").count() == 1


def test_M3_cod_order_is_confirmed_then_cancelled_with_a_reason(client, shop, clerk):
    cod = OrderFactory(
        merchant=shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION
    )
    login(client, clerk)

    page = client.get(order_url(cod)).content.decode()
    confirmed = client.post(order_url(cod, "confirm_cod"))
    no_reason = client.post(order_url(cod, "cancel"), {"reason": "  "})
    cancelled = client.post(order_url(cod, "cancel"), {"reason": "买家电话确认不要了"})

    assert order_url(cod, "confirm_cod") in page and order_url(cod, "cancel") in page
    assert confirmed.status_code == 302
    assert no_reason.status_code == 200 and no_reason.context["form"].errors
    assert cancelled.status_code == 302
    cod.refresh_from_db()
    assert cod.status == OrderStatus.CANCELLED
    assert cod.cancel_reason == "买家电话确认不要了"
    assert list(cod.events.values_list("kind", flat=True)) == ["cod_confirmed", "cancelled"]


def test_M3_merchant_cannot_cancel_an_online_order_and_sees_why(client, shop, clerk):
    order = OrderFactory(merchant=shop)
    login(client, clerk)

    page = client.get(order_url(order)).content.decode()
    response = client.post(order_url(order, "cancel"), {"reason": "不想卖了"})

    assert order_url(order, "cancel") not in page
    assert response.status_code == 200
    assert any("在线支付订单不能由商家取消" in text for text in texts(response))
    order.refresh_from_db()
    assert order.status == OrderStatus.TO_SHIP


def test_M2_confirm_cod_refusal_is_a_message_not_an_error(client, shop, clerk):
    order = OrderFactory(merchant=shop)  # online, already to ship
    login(client, clerk)

    response = client.post(order_url(order, "confirm_cod"), follow=True)

    assert response.status_code == 200
    assert any("不能执行「确认订单」" in text for text in texts(response))
    order.refresh_from_db()
    assert order.status == OrderStatus.TO_SHIP and not order.events.exists()


def test_N7_order_actions_are_csrf_protected_posts(shop, clerk):
    from django.test import Client

    order = OrderFactory(merchant=shop)
    client = login(Client(enforce_csrf_checks=True), clerk)

    form = client.get(order_url(order, "ship")).content.decode()
    forged = ship_post(client, order, order.items.all())

    assert 'name="csrfmiddlewaretoken"' in form and 'method="post"' in form
    assert forged.status_code == 403
    assert not order.packages.exists()


def test_S1_ship_form_needs_items_and_a_valid_tracking_number(client, shop, clerk):
    order = OrderFactory(merchant=shop)
    login(client, clerk)

    nothing = client.post(order_url(order, "ship"), {"carrier": Carrier.SF, "tracking_no": "SF1234567890"})
    bad_tracking = ship_post(client, order, order.items.all(), tracking="no spaces!")

    assert nothing.status_code == 200 and "items" in nothing.context["form"].errors
    assert bad_tracking.status_code == 200
    assert "运单号应为" in " ".join(bad_tracking.context["form"].errors["tracking_no"])  # on the field
    assert not order.packages.exists()


def test_S1_ship_page_of_a_shipped_order_sends_back_with_the_reason(client, shop, clerk):
    order = OrderFactory(merchant=shop)
    services.ship(order, items=order.items.all(), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk)
    login(client, clerk)

    response = client.get(order_url(order, "ship"), follow=True)

    assert response.redirect_chain[-1][0] == order_url(order)
    assert any("不能执行「发货」" in text for text in texts(response))


def test_S1_order_page_is_read_only_with_items_packages_and_history(client, shop, clerk):
    order = OrderFactory(merchant=shop, items=2)
    unshipped = OrderFactory(merchant=shop)
    services.ship(
        order, items=[order.items.first()], carrier=Carrier.SF, tracking_no="SF1111111111", actor=clerk
    )
    login(client, clerk)

    response = client.get(order_url(order))
    without_packages = client.get(order_url(unshipped))
    post = client.post(order_url(order), {"status": OrderStatus.CANCELLED})

    def inline_names(page):
        return {formset.formset.model.__name__ for formset in page.context["inline_admin_formsets"]}

    assert inline_names(response) == {"OrderEvent", "OrderItem", "Package"}
    assert inline_names(without_packages) == {"OrderEvent", "OrderItem"}
    assert all(not formset.has_change_permission for formset in response.context["inline_admin_formsets"])
    assert "SF1111111111" in response.content.decode() and "部分发货" in response.content.decode()
    assert post.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED


# --------------------------------------------------------------------------------------------
# Shop settings, members, products (M-1)


def test_M1_only_the_owner_edits_shop_settings_and_not_the_code_or_level(client, shop, owner, clerk):
    url = reverse("workbench:merchants_merchant_change", args=[shop.pk])
    data = {
        "name": "新店名",
        "express_refund_enabled": "on",
        "return_contact": "李",
        "return_phone": "13800000001",
        "return_address": "上海市",
        "settlement_cycle": Merchant.SettlementCycle.MONTHLY,
        "code": "hacked",
        "level": 7,
        "status": "cleared",
    }

    agent_post = login(client, clerk).post(url, data)
    shop.refresh_from_db()
    assert agent_post.status_code == 403 and shop.name == "一号店"

    owner_post = login(client, owner).post(url, data)
    shop.refresh_from_db()
    assert owner_post.status_code == 302
    assert (shop.name, shop.express_refund_enabled, shop.settlement_cycle) == ("新店名", True, 30)
    assert (shop.code, shop.level, shop.status) == ("shop1", 1, "active")


def test_M1_members_are_a_read_only_list_on_the_workbench(client, shop, owner, clerk):
    membership = clerk.memberships.get()
    login(client, owner)

    response = client.get(reverse("workbench:merchants_membership_changelist"))
    post = client.post(
        reverse("workbench:merchants_membership_change", args=[membership.pk]),
        {"user": owner.pk, "merchant": shop.pk, "role": Role.OWNER},
    )

    assert {m.user.username for m in response.context["cl"].result_list} == {"owner1", "clerk1"}
    assert post.status_code == 403
    membership.refresh_from_db()
    assert membership.role == Role.AGENT


def test_M1_agent_adds_a_product_only_to_a_shop_where_they_may_write(client, shop, other_shop, clerk):
    MembershipFactory(user=clerk, merchant=other_shop, role=Role.VIEWER)
    login(client, clerk)
    url = reverse("workbench:merchants_product_add")

    form = client.get(url).context["adminform"].form
    into_viewer_shop = client.post(url, {"merchant": other_shop.pk, "spu_id": "SPU-X", "name": "越权商品"})
    into_own_shop = client.post(
        url, {"merchant": shop.pk, "spu_id": "SPU-Y", "name": "新品", "on_shelf": "on"}
    )

    assert list(form.fields["merchant"].queryset) == [shop]
    assert into_viewer_shop.status_code == 200 and not other_shop.product_set.exists()
    assert into_own_shop.status_code == 302 and shop.product_set.get().name == "新品"


def test_M1_product_search_by_spu_or_name(client, shop, clerk):
    ProductFactory(merchant=shop, spu_id="SPU-1", name="高腰牛仔裤")
    ProductFactory(merchant=shop, spu_id="SPU-2", name="保温杯")
    login(client, clerk)
    url = reverse("workbench:merchants_product_changelist")

    assert [p.spu_id for p in client.get(url, {"q": "牛仔"}).context["cl"].result_list] == ["SPU-1"]
    assert [p.spu_id for p in client.get(url, {"q": "SPU-2"}).context["cl"].result_list] == ["SPU-2"]


# --------------------------------------------------------------------------------------------
# The home page (dashboard)


def test_M4_dashboard_counts_open_shipping_work_with_links(client, shop, other_shop, clerk):
    placed = timezone.now() - timedelta(days=3)
    OrderFactory(merchant=shop)
    OrderFactory(merchant=shop, placed_at=placed, ship_by=placed + timedelta(hours=1))
    partial = OrderFactory(merchant=shop, items=2)
    services.ship(
        partial, items=[partial.items.first()], carrier=Carrier.SF, tracking_no="SF1111111111", actor=clerk
    )
    shipped = OrderFactory(merchant=shop)
    services.ship(
        shipped, items=shipped.items.all(), carrier=Carrier.SF, tracking_no="SF2222222222", actor=clerk
    )
    OrderFactory(merchant=other_shop)  # not counted
    login(client, clerk)

    response = client.get(reverse("workbench:index"))

    cards = {
        str(card.title): card for section in response.context["dashboard_sections"] for card in section.cards
    }
    assert cards["待发货"].value == 2
    assert cards["超时未发货"].value == 1
    assert cards["部分发货"].value == 1
    assert cards["已发货待收货"].value == 1
    assert "待确认（货到付款）" not in cards
    late_list = client.get(cards["超时未发货"].link)
    assert len(late_list.context["cl"].result_list) == 1
    body = response.content.decode()
    assert "一号店" in body and cards["部分发货"].link.replace("&", "&amp;") in body


def test_dashboard_takes_cards_from_registered_providers(client, clerk):
    from merchants.kernel import registry as dashboard

    @dashboard.card_provider(order=99)
    def extra_cards(request):
        return dashboard.Section(
            title="售后", cards=[dashboard.Card(title="待处理售后", value=7, link="/x/")]
        )

    try:
        login(client, clerk)
        response = client.get(reverse("workbench:index"))
    finally:
        dashboard._providers.pop(f"{extra_cards.__module__}.{extra_cards.__qualname__}")

    titles = [str(section.title) for section in response.context["dashboard_sections"]]
    assert titles.index("订单与发货") < titles.index("售后")
    assert "待处理售后" in response.content.decode()


def test_workbench_sidebar_lists_the_pages_the_user_may_open(client, clerk):
    login(client, clerk)

    response = client.get(reverse("workbench:index"))

    links = [item["link"] for group in response.context["sidebar_navigation"] for item in group["items"]]
    assert reverse("workbench:index") in links
    assert ORDERS in links
    assert links.index(ORDERS) < links.index(reverse("workbench:merchants_product_changelist"))


# --------------------------------------------------------------------------------------------
# The two sites: who gets in, what the platform sees


def test_merchant_user_cannot_log_into_admin(client, clerk):
    response = client.post(reverse("admin:login"), {"username": "clerk1", "password": "pass-word-123"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(reverse("admin:merchants_order_changelist")).status_code == 302


def test_merchant_user_logs_into_the_workbench(client, clerk):
    response = client.post(reverse("workbench:login"), {"username": "clerk1", "password": "pass-word-123"})

    assert response.status_code == 302
    assert client.get(ORDERS).status_code == 200


def test_platform_user_sees_every_shop_in_admin_and_cannot_ship(client, shop, other_shop, operator):
    mine, theirs = OrderFactory(merchant=shop), OrderFactory(merchant=other_shop)
    login(client, operator)

    response = client.get(reverse("admin:merchants_order_changelist"))
    page = client.get(reverse("admin:merchants_order_change", args=[theirs.pk])).content.decode()
    ship = client.post(
        reverse("admin:merchants_order_ship", args=[theirs.pk]),
        {"items": [theirs.items.get().pk], "carrier": Carrier.SF, "tracking_no": "SF1234567890"},
    )

    assert {mine.order_no, theirs.order_no} <= set(listed(response))
    assert "二号店" in response.content.decode()
    assert "店铺" in [str(header["text"]) for header in response.context["result_headers"]]
    assert reverse("admin:merchants_order_ship", args=[theirs.pk]) not in page
    assert ship.status_code == 403
    assert client.get(reverse("workbench:index")).status_code == 302  # no membership: not a workbench user


def test_M3_platform_staff_may_cancel_an_unshipped_order(client, other_shop, operator):
    order = OrderFactory(merchant=other_shop)
    login(client, operator)

    response = client.post(
        reverse("admin:merchants_order_cancel", args=[order.pk]), {"reason": "平台判定欺诈订单"}
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.events.get(kind="cancelled").actor_kind == "platform"
    assert order.events.get(kind="cancel_refunded").actor_kind == "system"  # M-3: paid, so refunded


@pytest.mark.parametrize(
    "model", [User, Group, PeriodicTask, IntervalSchedule, CrontabSchedule, Merchant, Package]
)
def test_admin_pages_use_unfold_and_load(client, superuser, model):
    from django.contrib import admin
    from unfold.admin import ModelAdmin

    login(client, superuser)
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"

    assert isinstance(admin.site._registry[model], ModelAdmin)
    assert client.get(reverse(f"{prefix}_changelist")).status_code == 200
    assert client.get(reverse(f"{prefix}_add")).status_code in (200, 403)


def test_platform_settings_is_a_singleton_edited_in_place(client, superuser):
    login(client, superuser)

    listing = client.get(reverse("admin:merchants_platformsettings_changelist"))
    settings_row = PlatformSettings.load()
    saved = client.post(
        reverse("admin:merchants_platformsettings_change", args=[settings_row.pk]),
        {"unpaid_cancel_hours": 12, "auto_receive_days": 10},
    )

    assert listing.status_code == 302
    assert listing["Location"] == reverse("admin:merchants_platformsettings_change", args=[settings_row.pk])
    assert client.get(reverse("admin:merchants_platformsettings_add")).status_code == 403
    assert saved.status_code == 302
    assert PlatformSettings.load().unpaid_cancel_hours == 12
    assert PlatformSettings.objects.count() == 1


def test_superuser_ships_from_admin(client, shop, superuser):
    order = OrderFactory(merchant=shop)
    login(client, superuser)

    response = client.post(
        reverse("admin:merchants_order_ship", args=[order.pk]),
        {"items": [order.items.get().pk], "carrier": Carrier.JD, "tracking_no": "JD1234567890"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:merchants_order_change", args=[order.pk])
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


# --------------------------------------------------------------------------------------------
# N-4: both sites offer 简体中文 / English


@pytest.mark.parametrize("site", ["workbench", "admin"])
def test_N4_language_switch_changes_the_page_language(client, clerk, superuser, site):
    login(client, clerk if site == "workbench" else superuser)
    index = reverse(f"{site}:index")

    chinese = client.get(index).content.decode()
    switched = client.post(reverse("set_language"), {"language": "en", "next": index})
    english = client.get(index).content.decode()
    back = client.post(reverse("set_language"), {"language": "zh-hans", "next": index})

    assert 'lang="zh-hans"' in chinese and 'action="/i18n/setlang/"' in chinese
    assert switched.status_code == 302 and switched["Location"] == index
    assert 'lang="en"' in english
    assert back.status_code == 302
    assert 'lang="zh-hans"' in client.get(index).content.decode()


def test_workbench_user_without_membership_is_refused(client, db):
    stranger = UserFactory(username="stranger")

    response = client.post(reverse("workbench:login"), {"username": "stranger", "password": "pass-word-123"})

    assert response.status_code == 200
    assert "不是任何店铺的成员" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert stranger.is_authenticated


def test_M2_staff_share_the_all_shops_order_tab_counts_for_a_few_seconds_members_never(
    client, settings, shop, clerk, superuser
):
    """The staff order list counts its tabs over every shop's orders (two scans of the table): staff share
    one result for SHOUHOU_STAFF_COUNTS_CACHE_SECONDS, as on the case list; a shop's own counts stay exact."""
    from django.core.cache import cache

    settings.SHOUHOU_STAFF_COUNTS_CACHE_SECONDS = 30
    cache.clear()
    OrderFactory(merchant=shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION)

    def awaiting(path):
        tabs = {str(tab["title"]): tab for tab in client.get(path).context["order_tabs"]}
        return tabs["待确认"]["count"]

    staff_list = reverse("admin:merchants_order_changelist")
    client.force_login(superuser)
    assert awaiting(staff_list) == 1
    OrderFactory(merchant=shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION)
    assert awaiting(staff_list) == 1  # shared for a few seconds
    cache.clear()
    assert awaiting(staff_list) == 2

    login(client, clerk)
    assert awaiting(ORDERS) == 2
    OrderFactory(merchant=shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION)
    assert awaiting(ORDERS) == 3  # never cached for a member
    cache.clear()
