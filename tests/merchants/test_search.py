"""The order list's product column and its search (M-2), and the case list's buyer search (A-10).

Every search branch is answered from an index: on PostgreSQL the plans are checked with sequential scans
disabled, which leaves a Seq Scan only where no index could serve the query.
"""

import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.admin.cases import CaseAdmin
from aftersales.models import AfterSaleCase
from merchants import services
from merchants.admin.orders import OrderAdmin
from merchants.kernel.admin.sites import workbench_site
from merchants.models import Order
from merchants.transitions import Carrier
from tests.aftersales.factories import CaseFactory
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, SkuFactory
from tests.test_changelist_perf import rows_of

BACKEND = "django.contrib.auth.backends.ModelBackend"
ORDERS = reverse("workbench:merchants_order_changelist")
CASES = reverse("workbench:aftersales_aftersalecase_changelist")


def search(client, term, url=ORDERS):
    response = client.get(url, {"q": term})
    assert response.status_code == 200
    return sorted(obj.pk for obj in response.context["cl"].result_list)


@pytest.fixture
def logged_in(client, clerk):
    client.force_login(clerk, backend=BACKEND)
    return client


# --------------------------------------------------------------------------------------------
# Search


def test_M2_search_by_product_name_finds_orders_with_it_once(logged_in, shop, other_shop):
    earbuds = ProductFactory(merchant=shop, name="半入耳式无线蓝牙耳机 降噪")
    theirs = ProductFactory(merchant=other_shop, name="头戴式蓝牙耳机")
    one = OrderFactory(merchant=shop, items=0)
    OrderItemFactory(order=one, product=earbuds, paid_amount=Decimal("99.00"))
    two = OrderFactory(merchant=shop, items=0)
    OrderItemFactory(order=two, product=earbuds, paid_amount=Decimal("99.00"))
    OrderItemFactory(order=two, product=earbuds, paid_amount=Decimal("99.00"))  # twice: listed once
    OrderFactory(merchant=shop)  # another product
    their_order = OrderFactory(merchant=other_shop, items=0)
    OrderItemFactory(order=their_order, product=theirs, paid_amount=Decimal("99.00"))

    found = logged_in.get(ORDERS, {"q": "蓝牙耳机"})

    assert sorted(o.pk for o in found.context["cl"].result_list) == sorted([one.pk, two.pk])
    assert found.context["cl"].result_count == 2
    assert search(logged_in, "降噪") == sorted([one.pk, two.pk])
    assert search(logged_in, "头戴式") == []  # the other shop's product


def test_M2_search_by_the_last_4_digits_of_the_buyers_or_the_consignees_phone(logged_in, shop, other_shop):
    buyer = OrderFactory(merchant=shop, buyer_phone="13811114321")
    consignee = OrderFactory(merchant=shop, buyer_phone="13600000000", consignee_phone="13987654321")
    OrderFactory(merchant=shop, buyer_phone="13843210000")  # 4321 in the middle: not a tail
    OrderFactory(merchant=other_shop, buyer_phone="13822224321")

    assert search(logged_in, "4321") == sorted([buyer.pk, consignee.pk])
    assert search(logged_in, "139 8765 4321") == [consignee.pk]  # a whole number, through its tail
    assert search(logged_in, "13811114321") == [buyer.pk]
    assert search(logged_in, "13899994321") == []
    assert search(logged_in, "432") == []


def test_M2_search_by_tracking_number_as_pasted(logged_in, shop, clerk, other_shop, other_clerk):
    order = OrderFactory(merchant=shop, items=2)
    first, second = order.items.order_by("pk")
    services.ship(order, items=[first], carrier=Carrier.SF, tracking_no="SF1234567890123", actor=clerk)
    services.ship(order, items=[second], carrier=Carrier.SF, tracking_no="SF1234567890124", actor=clerk)
    theirs = OrderFactory(merchant=other_shop)
    services.ship(
        theirs,
        items=list(theirs.items.all()),
        carrier=Carrier.JT,
        tracking_no="JT1234567890123",
        actor=other_clerk,
    )

    assert search(logged_in, "SF1234567890124") == [order.pk]
    assert search(logged_in, "sf 1234 5678 9012 3") == [order.pk]
    assert search(logged_in, "JT1234567890123") == []
    assert search(logged_in, "SF12345678901") == []  # a tracking number matches in full


def test_A10_case_search_finds_buyer_nicknames_and_ids_as_the_order_search_does(
    client, shop, other_shop, clerk
):
    mine = CaseFactory(merchant=shop)
    mine.buyer_name, mine.buyer_id = "快乐的柚子", "U1234567890"
    mine.save(update_fields=["buyer_name", "buyer_id"])
    theirs = CaseFactory(merchant=other_shop)
    theirs.buyer_name = "快乐的柚子"
    theirs.save(update_fields=["buyer_name"])
    client.force_login(clerk, backend=BACKEND)

    assert search(client, "快乐的柚子", CASES) == [mine.pk]
    assert search(client, "U1234567890", CASES) == [mine.pk]
    assert search(client, "快乐的", CASES) == []  # nicknames match in full, as on the order list
    assert search(client, mine.case_no, CASES) == [mine.pk]  # the numbers still work


TERMS = {
    "order number": "O2026112233",
    "buyer nickname": "快乐的柚子",
    "phone tail": "4321",
    "whole phone": "13987654321",
    "tracking number": "SF 1234 5678 901",
    "product name": "蓝牙耳机",
}


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
@pytest.mark.parametrize("term", list(TERMS.values()), ids=list(TERMS))
def test_M2_every_order_search_is_answered_from_indexes(rf, superuser, term):
    # Staff see every shop: no tenancy condition narrows the scan, the search terms alone must.
    request = rf.get(ORDERS, {"q": term})
    request.user = superuser
    admin = OrderAdmin(Order, workbench_site)

    queryset, _ = admin.get_search_results(request, admin.get_queryset(request), term)

    assert _unindexed_scans(queryset.order_by("-placed_at", "-pk")[:25], Order) == []
    assert _unindexed_scans(queryset, Order, count=True) == []


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
@pytest.mark.parametrize("term", ["快乐的柚子", "U1234567890", "A2026112233"])
def test_A10_every_case_search_is_answered_from_indexes(rf, superuser, term):
    request = rf.get(CASES, {"q": term})
    request.user = superuser
    admin = CaseAdmin(AfterSaleCase, workbench_site)

    queryset, _ = admin.get_search_results(request, admin.get_queryset(request), term)

    assert _unindexed_scans(queryset.order_by("-created_at", "-pk")[:25], AfterSaleCase) == []


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
def test_M2_the_plan_check_sees_a_substring_scan(db):
    assert _unindexed_scans(Order.objects.filter(buyer_name__icontains="柚子")[:25], Order) != []


def _unindexed_scans(queryset, model, *, count=False) -> list[str]:
    """Scans of `model`'s table that no index condition narrows (a Seq Scan, or a whole index walked)."""
    sql, params = queryset.query.sql_with_params()
    if count:
        sql = f"SELECT COUNT(*) FROM ({sql}) counted"
    with connection.cursor() as cursor:
        # On a near-empty table walking an ordered index (or the table) always wins; without them, only
        # bitmap scans remain, and those need a condition an index serves. What is left scans everything.
        for method in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found, nodes = [], [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", ()))
        if node.get("Relation Name") != model._meta.db_table:
            continue
        if node["Node Type"] == "Seq Scan" or (
            node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node
        ):
            found.append(f"{node['Node Type']} {node.get('Index Name', '')} {node.get('Filter', '')}")
    return found


# --------------------------------------------------------------------------------------------
# The product column


def test_M2_product_column_shows_name_sku_and_how_many_items(logged_in, shop):
    phone = ProductFactory(merchant=shop, name="5G 全网通智能手机 8+256G 曲面屏")
    black = SkuFactory(merchant=shop, product=phone, spec="黑色 / 256G")
    charger = ProductFactory(merchant=shop, name="氮化镓 65W 三口快充充电器")
    single = OrderFactory(merchant=shop, items=0)
    OrderItemFactory(order=single, product=phone, sku=black, quantity=2, paid_amount=Decimal("3998.00"))
    several = OrderFactory(merchant=shop, items=0)
    OrderItemFactory(order=several, product=charger, quantity=1, paid_amount=Decimal("119.00"))
    OrderItemFactory(order=several, product=phone, sku=black, quantity=2, paid_amount=Decimal("3998.00"))

    rows = rows_of(logged_in.get(ORDERS).content.decode())
    cells = {
        re.search(r'value="(\d+)"', row["action-checkbox"][1])[1]: row["field-products"][1] for row in rows
    }

    assert (
        "5G 全网通智能手机 8+256G 曲面屏" in cells[str(single.pk)]
        and "黑色 / 256G ×2" in cells[str(single.pk)]
    )
    assert "氮化镓 65W 三口快充充电器" in cells[str(several.pk)]
    assert "×1 等 2 种，共 3 件" in cells[str(several.pk)]


def test_M2_product_column_costs_the_same_queries_for_25_or_30_rows(logged_in, shop):
    product = ProductFactory(merchant=shop)
    sku = SkuFactory(merchant=shop, product=product)
    for _ in range(30):
        order = OrderFactory(merchant=shop, items=0)
        OrderItemFactory(order=order, product=product, sku=sku, paid_amount=Decimal("10.00"))
        OrderItemFactory(order=order, product=ProductFactory(merchant=shop), paid_amount=Decimal("10.00"))
    logged_in.get(ORDERS)

    with CaptureQueriesContext(connection) as page_of_25:
        logged_in.get(ORDERS)
    with CaptureQueriesContext(connection) as page_of_30:
        everything = logged_in.get(ORDERS, {"all": ""})

    assert len(everything.context["cl"].result_list) == 30
    assert len(page_of_30.captured_queries) == len(page_of_25.captured_queries)
