"""N-9: odd input gets a message in the user's language, changes nothing and is never a 500.

The parser (merchants.kernel.checks) on its own, then the pages that use it: a refused filter value is
said on the page, naming the filter, and the filter is neither applied nor shown as active.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse

from aftersales import services as case_services
from aftersales.exceptions import CaseAmountError
from aftersales.services import _common
from aftersales.transitions import CaseStatus, CaseType
from merchants import services as order_services
from merchants.kernel import checks
from merchants.kernel.checks import BadInputError
from merchants.models import Package
from merchants.transitions import Carrier, OrderStatus
from tests.aftersales.factories import CaseFactory, make_order

BACKEND = "django.contrib.auth.backends.ModelBackend"
ORDERS = reverse("workbench:merchants_order_changelist")
CASES = reverse("workbench:aftersales_aftersalecase_changelist")


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --------------------------------------------------------------------------------------------
# The parser


@pytest.mark.parametrize(
    "value", ["²", "٣", "-1", "0", "+5", "1.0", "9223372036854775808", "9" * 30, "a\x00"]
)
def test_N9_parse_id_refuses_what_is_not_a_bounded_ascii_id(value):
    with pytest.raises(BadInputError):
        checks.parse_id(value, label="商品")


def test_N9_parse_id_reads_full_width_digits_and_the_largest_bigint():
    assert checks.parse_id("１２３", label="商品") == 123
    assert checks.parse_id(str(2**63 - 1), label="商品") == 2**63 - 1
    assert checks.parse_id(" ", label="商品") is None


@pytest.mark.parametrize(
    "value", ["0001-01-01", "9999-12-31", "1999-12-31", "2026-02-30", "yesterday", "２０２６"]
)
def test_N9_parse_date_refuses_dates_out_of_range_or_form(value):
    with pytest.raises(BadInputError) as exc:
        checks.parse_date(value, label="申请时间")

    assert "申请时间" in exc.value.messages[0]


def test_N9_parse_date_bounds_are_2000_to_five_years_ahead_and_full_width_is_read():
    today = datetime.date(2026, 12, 1)

    assert checks.parse_date("２０２６－１１－３０", label="x", today=today) == datetime.date(2026, 11, 30)
    assert checks.parse_date("2000-01-01", label="x", today=today) == checks.MIN_DATE
    assert checks.parse_date("2031-12-01", label="x", today=today) == datetime.date(2031, 12, 1)
    with pytest.raises(BadInputError):
        checks.parse_date("2031-12-02", label="x", today=today)
    assert checks.max_date(datetime.date(2028, 2, 29)) == datetime.date(2033, 2, 28)


@pytest.mark.parametrize("value", ["a\x00b", "x\U0010ffff", "\ufffe", "a\x07b", "x" * 101])
def test_N9_query_text_refuses_nul_noncharacters_controls_and_length(value):
    with pytest.raises(BadInputError):
        checks.clean_query_text(value, label="搜索")


def test_N9_query_text_strips_bidi_and_zero_width_and_folds_width():
    assert checks.clean_query_text("\u202eＯ２０２６\u200b ", label="搜索") == "O2026"


def test_N9_next_prefix_never_leaves_unicode():
    assert checks.next_prefix("AB") == "AC"
    assert checks.next_prefix("A\U0010ffff") == "B"
    assert checks.next_prefix("\U0010ffff") is None
    assert checks.next_prefix("a\ud7ff") == "a\ue000"


def test_N9_clean_text_counts_zero_width_only_as_empty_and_strips_bidi_controls():
    with pytest.raises(ValidationError, match="请填写拒绝原因"):
        checks.clean_text("\u200b\u200b\ufeff \u2060", label="拒绝原因")

    assert checks.clean_text("\u202e商品已使用\u202c", label="拒绝原因") == "商品已使用"
    assert checks.clean_text("第一行\n第二行", label="x") == "第一行\n第二行"
    with pytest.raises(BadInputError):
        checks.clean_text("a\x00b", label="x")
    with pytest.raises(BadInputError):
        checks.clean_text("a\ud800b", label="x")


def test_N9_aftersales_keeps_its_names_for_the_kernel_cleaning():
    assert _common.clean_text is checks.clean_text
    assert _common.clean_choice is checks.clean_choice
    assert _common.pk_of is checks.pk_of
    with pytest.raises(CaseAmountError):
        _common.clean_amount("-10")
    with pytest.raises(CaseAmountError):
        _common.clean_amount("99999999999.00")
    assert _common.clean_amount("１２.５０") == Decimal("12.50")


@pytest.mark.parametrize(
    "phone", ["13800138000", "138 0013 8000", "0571-88886666", "021-12345678-123", "400-123-4567"]
)
def test_N9_phone_validator_accepts_phones_people_write(phone):
    checks.phone_validator(phone)


@pytest.mark.parametrize("phone", ["abc<script>", "12345", "1380013800a", "23800138000", "+"])
def test_N9_phone_validator_refuses_what_is_no_phone(phone):
    with pytest.raises(ValidationError):
        checks.phone_validator(phone)


# --------------------------------------------------------------------------------------------
# The pages


@pytest.fixture
def logged_in(client, owner):
    client.force_login(owner, backend=BACKEND)
    return client


def test_N9_case_list_says_a_bad_date_and_does_not_apply_or_light_up_the_filter(logged_in, shop):
    CaseFactory(merchant=shop)

    response = logged_in.get(CASES, {"created_at_from": "0001-01-01"})

    assert response.status_code == 200
    assert any("申请时间应在 2000-01-01" in text for text in page_messages(response))
    assert response.context["cl"].has_active_filters is False
    assert response.context["cl"].result_count == 1


def test_N9_case_list_bad_date_format_names_the_filter(logged_in, shop):
    CaseFactory(merchant=shop)

    response = logged_in.get(CASES, {"created_at_to": "2026-13-45"})

    assert response.status_code == 200
    assert any(text.startswith("申请时间格式不正确") for text in page_messages(response))
    assert response.context["cl"].has_active_filters is False


def test_N9_a_good_filter_beside_a_bad_one_still_applies_and_counts(logged_in, shop):
    mine = CaseFactory(merchant=shop, type=CaseType.REFUND_ONLY)
    CaseFactory(merchant=shop, type=CaseType.RETURN_REFUND, status=CaseStatus.AWAITING_RETURN)

    response = logged_in.get(CASES, {"type__exact": "refund_only", "amount_from": "9" * 30})

    assert response.context["cl"].has_active_filters is True
    assert [case.pk for case in response.context["cl"].result_list] == [mine.pk]
    assert any("申请金额" in text for text in page_messages(response))


def test_N9_order_list_refuses_a_superscript_product_id(logged_in, shop):
    make_order(shop)

    response = logged_in.get(ORDERS, {"product": "²"})

    assert response.status_code == 200
    assert any("不是有效的编号" in text for text in page_messages(response))
    assert response.context["cl"].has_active_filters is False
    assert response.context["cl"].result_count == 1


def test_N9_order_list_refuses_an_unknown_choice(logged_in, shop):
    make_order(shop)

    response = logged_in.get(ORDERS, {"status__exact": "nonsense", "late": "maybe"})

    assert response.context["cl"].has_active_filters is False
    assert response.context["cl"].result_count == 1
    assert len([text for text in page_messages(response) if "没有「" in text]) == 2


def test_N9_order_search_ending_in_the_last_code_point_is_a_message(logged_in, shop):
    make_order(shop)

    response = logged_in.get(ORDERS, {"q": "O2026\U0010ffff"})

    assert response.status_code == 200
    assert any("搜索内容含有无法识别的字符" in text for text in page_messages(response))
    assert response.context["cl"].result_count == 0


def test_N9_order_search_in_full_width_finds_the_order(logged_in, shop):
    order = make_order(shop)
    typed = "".join(chr(ord(ch) + 0xFEE0) for ch in order.order_no)

    response = logged_in.get(ORDERS, {"q": typed})

    assert [o.pk for o in response.context["cl"].result_list] == [order.pk]


def test_N9_nul_in_any_query_parameter_is_dropped_with_a_message(client, superuser):
    client.force_login(superuser, backend=BACKEND)

    response = client.get(reverse("admin:auth_user_changelist"), {"q": "ro\x00ot"})

    assert response.status_code == 200
    assert any("「q」" in text for text in page_messages(response))
    assert "q" not in response.wsgi_request.GET


def test_N9_case_export_in_year_one_is_a_message_not_a_500(logged_in, shop):
    response = logged_in.get(
        reverse("workbench:aftersales_aftersalecase_export"),
        {"created_at_from": "0001-01-01", "created_at_to": "0001-03-01"},
    )

    assert response.status_code == 302
    assert any("申请时间应在" in text for text in page_messages(response))


def test_N9_tracking_page_ignores_a_superscript_package_id(logged_in, shop):
    order = make_order(shop, status=OrderStatus.SHIPPED)
    url = reverse("workbench:merchants_order_change_tracking", args=[order.pk])

    for value in ("²", "9" * 25, "-1"):
        response = logged_in.get(url, {"package": value})
        assert response.status_code == 200


def test_N9_ship_form_refuses_an_absurd_item_id_and_ships_nothing(logged_in, shop):
    order = make_order(shop, items=2)
    url = reverse("workbench:merchants_order_ship", args=[order.pk])

    response = logged_in.post(
        url, {"items": ["99999999999999999999999", "²"], "carrier": Carrier.SF, "tracking_no": "SF1234567890"}
    )

    assert response.status_code == 200
    assert "所选商品不属于这个订单" in response.content.decode()
    assert not Package.objects.filter(order=order).exists()


def test_N9_ship_service_refuses_an_absurd_item_id(shop, owner):
    order = make_order(shop)

    with pytest.raises(ValidationError, match="所选商品无效"):
        order_services.ship(
            order, items=["99999999999999999999999"], carrier="sf", tracking_no="SF1234567890", actor=owner
        )


def test_N9_case_services_refuse_absurd_ids_with_a_message(owner):
    with pytest.raises(ValidationError, match="无效的编号"):
        case_services.approve("99999999999999999999999", actor=owner)
    with pytest.raises(ValidationError, match="无效的编号"):
        case_services.approve("²", actor=owner)


def test_N9_reject_reason_of_zero_width_spaces_is_empty(shop, owner):
    case = CaseFactory(merchant=shop)

    with pytest.raises(ValidationError, match="请填写拒绝原因"):
        case_services.reject(case, actor=owner, reason="\u200b\u200b\u200b")

    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING


def test_N9_stored_text_loses_its_bidi_overrides(shop, owner):
    case = CaseFactory(merchant=shop)

    case_services.reject(case, actor=owner, reason="\u202e用使已品商\u202c")

    case.refresh_from_db()
    assert case.reject_reason == "用使已品商"
    assert case.status == CaseStatus.REJECTED
