"""The order and case lists (M-2, A-10) stay cheap per row, and still look exactly as before.

What keeps them cheap: the column headers are built once a page (merchants/templatetags/shouhou_list.py,
unfold 0.91 built them for every row), the row checkbox, badges and the buyer cell are written without a
template per row (merchants/admin/display.py, merchants/admin/changelist.py), dates go through strftime,
and an unfiltered list of a large table on PostgreSQL shows the planner's row estimate instead of counting
(merchants/paginator.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.db.models import Count, F
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from unfold.admin import checkbox
from unfold.templatetags import unfold_list
from unfold.utils import display_for_header, display_for_label

from aftersales.transitions import CaseStatus
from merchants.admin.display import STATUS_VARIANTS
from merchants.kernel import paginator as paginator_module
from merchants.kernel.admin.changelist import FastListMixin
from merchants.kernel.admin.display import BADGE_COLOURS, badge, header_cell, label_cell, local_time
from merchants.kernel.paginator import (
    ESTIMATE_FROM,
    EstimatedCountPaginator,
    filtered_estimate,
    is_unfiltered,
    planner_estimate,
)
from merchants.models import Order
from merchants.templatetags import shouhou_list
from merchants.transitions import OrderStatus, PaymentMethod
from tests.aftersales.factories import CaseFactory
from tests.factories import OrderFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
ROWS = 30  # more than one default page (25), all of them with ?all=

LISTS = {
    "workbench-orders": ("workbench", "merchants_order_changelist"),
    "admin-orders": ("admin", "merchants_order_changelist"),
    "workbench-cases": ("workbench", "aftersales_aftersalecase_changelist"),
    "admin-cases": ("admin", "aftersales_aftersalecase_changelist"),
}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def filled_list(request, client, shop, clerk, superuser):
    """(url, client logged in) for one of LISTS, with ROWS rows in it."""
    site, name = LISTS[request.param]
    if "orders" in request.param:
        for _ in range(ROWS):
            OrderFactory(merchant=shop, items=0)
    else:
        for _ in range(ROWS):
            CaseFactory(merchant=shop)
    client.force_login(clerk if site == "workbench" else superuser, backend=BACKEND)
    return reverse(f"{site}:{name}"), client


def count_header_builds(monkeypatch) -> list:
    """Wrap unfold's result_headers (where the per-row cost was) and record every build."""
    calls = []
    original = unfold_list.result_headers

    def counting(cl):
        calls.append(cl)
        return original(cl)

    monkeypatch.setattr(unfold_list, "result_headers", counting)
    return calls


def normalised(html: str) -> str:
    """Markup with insignificant whitespace removed (between tags, around text, inside class lists)."""
    html = re.sub(r"\s+", " ", str(html)).strip()
    html = re.sub(r"\s*(<|>)\s*", r"\1", html)
    return re.sub(r'class="([^"]*)"', lambda m: 'class="{}"'.format(" ".join(m.group(1).split())), html)


def rows_of(body: str) -> list[dict[str, tuple[str, str]]]:
    """The data rows of the change list: {cell class "field-x" or "action-checkbox": (data-label, html)}."""
    rows = []
    for chunk in body.split('<tr class="data-row')[1:]:
        chunk = chunk.split("</tr>")[0]
        cells = {}
        for _tag, classes, label, inner in re.findall(
            r'<(td|th) class="([^"]*)" data-label="([^"]*)">(.*?)</\1>', chunk, flags=re.S
        ):
            key = next((c for c in classes.split() if c.startswith("field-")), classes.split()[0])
            cells[key] = (label, inner)
        rows.append(cells)
    return rows


# --------------------------------------------------------------------------------------------
# Headers once a page, SQL constant


@pytest.mark.parametrize("filled_list", list(LISTS), indirect=True)
def test_M2_A10_lists_build_their_column_headers_once_per_page(filled_list, monkeypatch):
    url, client = filled_list
    builds = count_header_builds(monkeypatch)

    response = client.get(url, {"all": ""})

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == ROWS
    assert len(builds) == 1


def test_M2_another_unfold_release_renders_unfolds_own_table(client, shop, clerk, monkeypatch):
    # The copied row code is refused for any release but the one it came from; unfold 0.91's own code
    # then builds the headers again for every row (which is also what the test above would catch).
    for _ in range(ROWS):
        OrderFactory(merchant=shop, items=0)
    client.force_login(clerk, backend=BACKEND)
    monkeypatch.setattr(shouhou_list, "UNFOLD_VERSION", "0.92.0")
    builds = count_header_builds(monkeypatch)

    response = client.get(reverse("workbench:merchants_order_changelist"), {"all": ""})

    assert response.status_code == 200
    assert len(rows_of(response.content.decode())) == ROWS
    assert len(builds) == 1 + ROWS


def test_M2_unfold_is_the_release_the_row_code_was_copied_from():
    # Upgrading unfold? Its later releases build the headers once themselves (PRs #2171/#2172): drop
    # merchants/templatetags/shouhou_list.py and templates/admin/shouhou/change_list(_results).html.
    assert shouhou_list.UNFOLD_VERSION == shouhou_list.COPIED_FROM_UNFOLD
    assert shouhou_list.headers_reusable()


@pytest.mark.parametrize("filled_list", list(LISTS), indirect=True)
def test_M2_A10_list_sql_does_not_grow_with_the_page(filled_list):
    url, client = filled_list
    client.get(url)  # settings rows and the session, loaded once

    with CaptureQueriesContext(connection) as page_of_25:
        first = client.get(url)
    with CaptureQueriesContext(connection) as page_of_30:
        everything = client.get(url, {"all": ""})

    assert len(first.context["cl"].result_list) == 25
    assert len(everything.context["cl"].result_list) == ROWS
    assert len(page_of_30.captured_queries) == len(page_of_25.captured_queries)


# --------------------------------------------------------------------------------------------
# The paginator: the planner's estimate only for an unfiltered large table on PostgreSQL


def test_M2_only_an_unfiltered_queryset_may_use_the_estimate():
    base = Order.objects.all()

    assert is_unfiltered(base)
    assert is_unfiltered(base.select_related("merchant").order_by("-placed_at", "-pk"))
    assert is_unfiltered(base.annotate(amount=F("paid_amount")))  # a column of the row itself
    assert not is_unfiltered(base.filter(merchant_id=1))
    assert not is_unfiltered(base.filter(merchant__name="一号店"))
    assert not is_unfiltered(base.exclude(status=OrderStatus.CANCELLED))
    assert not is_unfiltered(base.distinct())
    assert not is_unfiltered(base.annotate(items_count=Count("items")))  # GROUP BY
    assert not is_unfiltered(base.annotate(item=F("items__pk")))  # one row per item
    assert not is_unfiltered(base.extra(tables=["merchants_merchant"]))  # noqa: S610  (a cross join)
    assert not is_unfiltered(base[:10])
    assert not is_unfiltered(base.union(base))
    assert not is_unfiltered([Order(), Order()])  # a list is counted with len()


def test_M2_paginator_uses_a_large_estimate_and_counts_everything_else(db, shop, monkeypatch):
    for _ in range(3):
        OrderFactory(merchant=shop, items=0)
    asked = []

    def estimate(queryset, value):
        asked.append(queryset)
        return value

    def count(queryset, value):
        monkeypatch.setattr(paginator_module, "planner_estimate", lambda qs: estimate(qs, value))
        return EstimatedCountPaginator(queryset, 25).count

    assert count(Order.objects.all(), 1_000_000) == 1_000_000
    assert count(Order.objects.all(), ESTIMATE_FROM) == 3  # not above the threshold: exact
    assert count(Order.objects.all(), None) == 3  # not PostgreSQL, or never analysed
    asked.clear()
    assert count(Order.objects.filter(merchant=shop), 1_000_000) == 3
    assert asked == []  # a filtered list never asks


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the other databases' half")
def test_M2_no_estimate_off_postgresql(db, shop):
    OrderFactory(merchant=shop, items=0)

    assert planner_estimate(Order.objects.all()) is None
    assert EstimatedCountPaginator(Order.objects.all(), 25).count == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_class.reltuples is PostgreSQL's")
def test_M2_estimate_is_pg_class_reltuples_of_the_table(db, shop):
    for _ in range(5):
        OrderFactory(merchant=shop, items=0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE merchants_order")
    for _ in range(3):  # written after ANALYZE: the estimate does not see them yet
        OrderFactory(merchant=shop, items=0)
    paginator = EstimatedCountPaginator(Order.objects.all(), 25)
    paginator.estimate_from = 0

    assert planner_estimate(Order.objects.all()) == 5
    assert paginator.count == 5
    assert EstimatedCountPaginator(Order.objects.filter(merchant=shop), 25).count == 8
    assert EstimatedCountPaginator(Order.objects.all(), 25).count == 8  # 5 is below ESTIMATE_FROM


@pytest.mark.parametrize("kind", ["orders", "cases"])
def test_M2_A10_unfiltered_staff_list_pages_by_the_estimate_through_unfolds_pagination(
    client, shop, clerk, superuser, monkeypatch, kind
):
    for _ in range(ROWS):
        OrderFactory(merchant=shop, items=0) if kind == "orders" else CaseFactory(merchant=shop)
    monkeypatch.setattr(paginator_module, "planner_estimate", lambda queryset: 1_000_000)
    name = "merchants_order_changelist" if kind == "orders" else "aftersales_aftersalecase_changelist"
    client.force_login(superuser, backend=BACKEND)

    everything = client.get(reverse(f"admin:{name}"))
    second_page = client.get(reverse(f"admin:{name}"), {"p": 2})
    filtered = client.get(
        reverse(f"admin:{name}"),
        {"status__exact": OrderStatus.TO_SHIP} if kind == "orders" else {"tab": "pending"},
    )
    client.force_login(clerk, backend=BACKEND)
    own_shop = client.get(reverse(f"workbench:{name}"))

    cl = everything.context["cl"]
    assert cl.result_count == 1_000_000 and cl.paginator.num_pages == 40_000
    body = everything.content.decode()
    assert "1000000" in body  # unfold's pagination footer: the total
    assert "?p=40000" in body and "?p=2" in body  # and its page links (elided range)
    assert len(rows_of(body)) == 25
    assert len(rows_of(second_page.content.decode())) == ROWS - 25
    assert filtered.context["cl"].result_count == ROWS  # WHERE status / tab: counted
    assert own_shop.context["cl"].result_count == ROWS  # the shop's rows: counted


def test_M2_A10_a_large_filtered_result_is_the_planners_estimate_a_small_one_is_counted(
    db, shop, monkeypatch
):
    for _ in range(3):
        OrderFactory(merchant=shop, items=0)
    filtered = Order.objects.filter(merchant=shop)
    unfiltered = []
    monkeypatch.setattr(paginator_module, "planner_estimate", lambda qs: unfiltered.append(qs))

    monkeypatch.setattr(paginator_module, "filtered_estimate", lambda qs: 400_000)
    assert EstimatedCountPaginator(filtered, 25).count == 400_000
    monkeypatch.setattr(paginator_module, "filtered_estimate", lambda qs: ESTIMATE_FROM)
    assert EstimatedCountPaginator(filtered, 25).count == 3  # not above the threshold: exact
    monkeypatch.setattr(paginator_module, "filtered_estimate", lambda qs: None)
    assert EstimatedCountPaginator(filtered, 25).count == 3  # not PostgreSQL
    assert unfiltered == []  # the table's estimate is never asked for a filtered list


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the other databases' half")
def test_M2_no_filtered_estimate_off_postgresql(db, shop):
    OrderFactory(merchant=shop, items=0)

    assert filtered_estimate(Order.objects.filter(merchant=shop)) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN's row estimate is PostgreSQL's")
def test_M2_filtered_estimate_is_the_planners_rows_for_the_where_clause(db, shop, superuser):
    for status in [OrderStatus.TO_SHIP] * 6 + [OrderStatus.SHIPPED] * 2:
        OrderFactory(merchant=shop, items=0, status=status)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE merchants_order")

    to_ship = filtered_estimate(Order.objects.filter(status=OrderStatus.TO_SHIP))
    shipped = filtered_estimate(Order.objects.filter(status=OrderStatus.SHIPPED).order_by("-placed_at"))

    assert to_ship > shipped >= 1 and to_ship <= 8
    assert filtered_estimate(Order.objects.none()) is None  # nothing to plan: counted (0) instead
    assert EstimatedCountPaginator(Order.objects.none(), 25).count == 0


def test_M2_A10_staff_case_list_filtered_by_type_pages_by_the_estimate_a_shops_list_counts(
    client, shop, clerk, superuser, monkeypatch
):
    for _ in range(ROWS):
        CaseFactory(merchant=shop)
    monkeypatch.setattr(paginator_module, "filtered_estimate", lambda queryset: 400_000)
    by_type = {"type__exact": "refund_only"}
    client.force_login(superuser, backend=BACKEND)
    staff = client.get(reverse("admin:aftersales_aftersalecase_changelist"), by_type)
    client.force_login(clerk, backend=BACKEND)
    own_shop = client.get(reverse("workbench:aftersales_aftersalecase_changelist"), by_type)

    cl = staff.context["cl"]
    assert cl.result_count == 400_000 and cl.paginator.num_pages == 16_000
    assert len(rows_of(staff.content.decode())) == 25  # the rows of the page are the real ones
    assert own_shop.context["cl"].result_count == ROWS  # a shop's list: always the exact count


# --------------------------------------------------------------------------------------------
# Same look: the hand-written markup is unfold's


@pytest.mark.parametrize("variant", [*BADGE_COLOURS, "no-such-variant"])
def test_M2_badge_is_unfolds_label_component(variant):
    ours = badge("待发货 <b>", variant)

    theirs = render_to_string("unfold/helpers/label.html", {"type": variant, "text": "待发货 <b>"})

    assert normalised(ours) == normalised(theirs)
    assert "&lt;b&gt;" in ours  # escaped


@pytest.mark.parametrize("status", [*OrderStatus.values, "legacy"])
def test_M2_status_cell_is_what_display_label_showed(status):
    label = OrderStatus(status).label if status in OrderStatus.values else status

    ours = label_cell(str(label), STATUS_VARIANTS.get(status, "default"))

    assert normalised(ours) == normalised(display_for_label((status, label), "-", STATUS_VARIANTS))


@pytest.mark.parametrize("value", [["张三", "138****5678 · B000001"], ["张三", ""], ["", "B1"], ["<i>", "&"]])
def test_M2_buyer_cell_is_what_display_header_showed(value):
    theirs = display_for_header(value, "-")

    # unfold 0.91's template closes its outer <span> with a stray </div>, which browsers drop (and then
    # close the span at the end of the cell); ours closes the span itself: the same element tree.
    assert normalised(header_cell(*value)) == normalised(theirs).replace("</span></div>", "</span></span>")


def test_M2_row_checkbox_is_unfolds_checkbox_widget(db, shop):
    order = OrderFactory(merchant=shop, items=0)

    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert FastListMixin().action_checkbox(order) == checkbox.render(
                ACTION_CHECKBOX_NAME, str(order.pk)
            )


@pytest.mark.parametrize(
    "utc",
    [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 12, 31, 16, 0, 9, tzinfo=UTC)],
)
@pytest.mark.parametrize("fmt", ["Y-m-d H:i", "Y-m-d H:i:s", "m-d H:i", "Y-m-d", "N j, Y", r"Y\年"])
def test_M2_local_time_reads_like_date_format(utc, fmt):
    # Numeric formats take the strftime path; anything else (month names, escapes) still date_format.
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert local_time(utc, fmt) == date_format(timezone.localtime(utc), fmt)
    assert local_time(None) == "-"
    assert local_time(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == "2027-01-01 00:00"  # Asia/Shanghai


@pytest.mark.parametrize("site", ["workbench", "admin"])
def test_M2_order_list_still_shows_its_columns_badges_and_links(client, shop, clerk, superuser, site):
    shop.express_refund_enabled = True
    shop.save()
    order = OrderFactory(
        merchant=shop,
        buyer_name="李<四>",
        buyer_id="B42",
        buyer_phone="13812345678",
        payment_method=PaymentMethod.COD,
        paid_amount=Decimal("88.00"),
        placed_at=datetime(2026, 3, 4, 1, 2, tzinfo=UTC),
        ship_by=timezone.now() - timedelta(hours=1),
        status=OrderStatus.TO_SHIP,
    )
    client.force_login(clerk if site == "workbench" else superuser, backend=BACKEND)

    response = client.get(reverse(f"{site}:merchants_order_changelist"))

    (row,) = rows_of(response.content.decode())
    columns = ["订单号", "商品", "买家", "实付金额", "订单状态", "下单时间", "承诺发货时间", "标签"]
    assert [label for label, _ in row.values()] == [
        "选择记录",
        *columns,
        *(["店铺"] if site == "admin" else []),
    ]
    assert f'name="_selected_action" value="{order.pk}"' in row["action-checkbox"][1]
    change = reverse(f"{site}:merchants_order_change", args=[order.pk])
    assert f'href="{change}' in row["field-order_no"][1] and order.order_no in row["field-order_no"][1]
    assert normalised(row["field-buyer"][1]) == normalised(header_cell("李<四>", "138****5678 · B42"))
    assert "&lt;四&gt;" in row["field-buyer"][1]
    assert normalised(row["field-status_badge"][1]) == normalised(badge("待发货", "warning"))
    assert "2026-03-04 09:02" in row["field-placed"][1]
    assert normalised(badge("超时未发货", "danger")) in normalised(row["field-ship_by_display"][1])
    tags = normalised(row["field-tags"][1])
    assert normalised(badge("极速退款", "info")) in tags and normalised(badge("货到付款", "default")) in tags
    if site == "admin":
        assert "一号店" in row["field-shop"][1]


def test_M2_order_list_speaks_english_with_the_same_markup(client, shop, clerk):
    OrderFactory(merchant=shop, items=0, status=OrderStatus.SHIPPED)
    client.force_login(clerk, backend=BACKEND)

    response = client.get(reverse("workbench:merchants_order_changelist"), HTTP_ACCEPT_LANGUAGE="en")

    (row,) = rows_of(response.content.decode())
    assert row["action-checkbox"][0] == "Select record"
    assert 'aria-label="Select record"' in row["action-checkbox"][1]
    assert normalised(row["field-status_badge"][1]) == normalised(badge("Shipped", "info"))


@pytest.mark.parametrize("site", ["workbench", "admin"])
def test_A10_case_list_still_shows_its_columns_badges_and_row_action(client, shop, clerk, operator, site):
    pending = CaseFactory(merchant=shop, status=CaseStatus.PENDING)
    client.force_login(clerk if site == "workbench" else operator, backend=BACKEND)

    response = client.get(reverse(f"{site}:aftersales_aftersalecase_changelist"))

    (row,) = rows_of(response.content.decode())
    columns = [
        "售后单号 / 订单号",
        "商品",
        "买家",
        "类型 / 原因",
        "售后状态",
        "申请金额",
        "处理倒计时 / 申请时间",
        "操作",
    ]
    if site == "admin":
        columns.insert(1, "店铺")
    labels = [label for label, _ in row.values()]
    assert labels == (["选择记录"] if "action-checkbox" in row else []) + columns
    change = reverse(f"{site}:aftersales_aftersalecase_change", args=[pending.pk])
    assert f'href="{change}' in row["field-numbers"][1] and pending.case_no in row["field-numbers"][1]
    assert normalised(badge("待商家处理", "warning")) in normalised(row["field-status_and_tags"][1])
    assert "仅退款" in row["field-type_and_reason"][1] and "质量问题" in row["field-type_and_reason"][1]
    assert "¥50.00" in row["field-amount_display"][1]
    action = "处理退款" if site == "workbench" else "查看详情"
    assert action in row["field-row_action"][1] and f'href="{change}"' in row["field-row_action"][1]


# --------------------------------------------------------------------------------------------
# Row links built once a page, the product dropdown without a template per option


@pytest.mark.parametrize("filled_list", list(LISTS), indirect=True)
def test_M2_A10_row_links_are_djangos_with_the_filters_preserved(filled_list):
    from django.contrib.admin.templatetags.admin_urls import add_preserved_filters

    url, client = filled_list
    response = client.get(url, {"all": "", "o": "1"})  # a preserved query: the links carry it

    cl = response.context["cl"]
    body = response.content.decode()
    assert cl.preserved_filters
    for result in cl.result_list:
        expected = add_preserved_filters(
            {"preserved_filters": cl.preserved_filters, "opts": cl.opts}, cl.url_for_result(result)
        )
        assert shouhou_list.row_link(cl)(result) == expected
        assert f'href="{expected}"'.replace("&", "&amp;") in body


def test_M2_row_link_takes_the_long_way_for_a_changelist_with_its_own_urls(db, rf):
    from types import SimpleNamespace

    from django.contrib.admin.views.main import ChangeList

    class OwnLinks(ChangeList):
        def __init__(self):  # only what row_link reads
            self.pk_attname, self.preserved_filters, self.opts = "id", "", Order._meta

        def url_for_result(self, result):
            return f"/elsewhere/{result.id}/"

    assert shouhou_list.row_link(OwnLinks())(SimpleNamespace(id=7)) == "/elsewhere/7/"


def test_A10_pk_url_is_reverse_for_every_pk():
    from merchants.kernel.admin.changelist import pk_url

    for site in ("admin", "workbench"):
        name = f"{site}:aftersales_aftersalecase_change"
        for pk in (1, 42, 10**12):
            assert pk_url(name, pk) == reverse(name, args=[pk])
        assert pk_url(name, "a/b c") == reverse(name, args=["a/b c"])  # not an int: reversed as usual


@pytest.mark.parametrize("chosen", ["", "22"])
def test_M2_product_dropdown_is_unfolds_select_markup(chosen):
    from unfold.contrib.filters.forms import DropdownForm

    from merchants.kernel.admin.filters import CheckedIdFilter, FastDropdownForm

    choices = [["", "All"], ("1", "甲<b>&\"'"), ("22", "乙（店）")]
    ours = FastDropdownForm(name="product", label="商品", choices=choices, data={"product": chosen})
    unfolds = DropdownForm(name="product", label="商品", choices=choices, data={"product": chosen})

    assert CheckedIdFilter.form_class is FastDropdownForm
    assert normalised(ours["product"]) == normalised(unfolds["product"])
    assert "&lt;b&gt;" in str(ours["product"])


# --------------------------------------------------------------------------------------------
# The rows written in Python (shouhou_list.rows_html) instead of unfold's template loop


def _both_renderings(response) -> tuple[dict, str, str]:
    """(our context, the table as the page writes it, the table as unfold 0.91 itself writes it: its own
    result_list() with items_for_result() per row and cell, and its own change_list_results.html)."""
    context = {"request": response.wsgi_request, "actions_row": response.context.get("actions_row")}
    cl = response.context["cl"]
    ours = shouhou_list.result_list(context, cl)
    fast = render_to_string("admin/shouhou/change_list_results.html", ours)
    theirs = render_to_string("admin/change_list_results.html", unfold_list.result_list(context, cl))
    return ours, fast, theirs


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("filled_list", list(LISTS), indirect=True)
def test_M2_A10_rows_written_in_python_are_unfolds_table(filled_list, language):
    url, client = filled_list
    with translation.override(language):
        response = client.get(url, {"all": ""}, HTTP_ACCEPT_LANGUAGE=language)
        ours, fast, theirs = _both_renderings(response)

    assert ours["rows_html"] is not None  # the fast path was taken
    assert len(rows_of(fast)) == ROWS
    assert normalised(fast) == normalised(theirs)
    assert normalised(ours["rows_html"]) in normalised(response.content.decode())


@pytest.mark.parametrize(
    "which", ["workbench-reviews", "admin-reviews", "workbench-tickets", "admin-tickets"]
)
def test_R6_T1_review_and_ticket_rows_written_in_python_are_unfolds_table(
    client, shop, clerk, superuser, which
):
    from tests.reviews.factories import ReviewFactory
    from tests.tickets.factories import TicketFactory

    site, kind = which.split("-")
    for _ in range(3):
        if kind == "reviews":
            ReviewFactory(merchant=shop)
        else:
            TicketFactory(merchant=shop, with_order=True)
    client.force_login(clerk if site == "workbench" else superuser, backend=BACKEND)
    model = "reviews_review" if kind == "reviews" else "tickets_ticket"
    response = client.get(reverse(f"{site}:{model}_changelist"))
    ours, fast, theirs = _both_renderings(response)

    assert ours["rows_html"] is not None
    assert len(rows_of(fast)) == 3
    assert normalised(fast) == normalised(theirs)


@pytest.mark.parametrize("filled_list", ["workbench-cases"], indirect=True)
@pytest.mark.parametrize("extra", ["actions_row", "ordering_field", "list_sections"])
def test_M2_rows_with_row_actions_a_drag_handle_or_sections_keep_unfolds_loop(
    filled_list, extra, monkeypatch
):
    url, client = filled_list
    response = client.get(url, {"all": ""})
    cl = response.context["cl"]
    context = {"request": response.wsgi_request, "actions_row": None}
    if extra == "actions_row":
        context["actions_row"] = [{"title": "x"}]
    else:
        monkeypatch.setattr(cl.model_admin, extra, "created_at" if extra == "ordering_field" else ["s"])

    assert shouhou_list.result_list(context, cl)["rows_html"] is None
