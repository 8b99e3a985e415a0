"""N-9: values that are accepted but make no sense get a clear message instead (settings, rules, forms).

A rule of 下单后 99999999999 小时 was accepted, and from then on every case opening in its shop crashed
(timedelta overflow): the form now bounds it, and open_case survives a row that predates the bound.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from aftersales import services
from aftersales.exceptions import DelayReportError
from aftersales.forms import ArbitrateForm, DelayReportForm
from aftersales.models import MAX_DELAY_DAYS, AftersalesSettings, AutoRefundRule
from aftersales.transitions import ArbitrationOutcome, CaseStatus, CaseType, Liability, Reason
from merchants.forms import MerchantSettingsForm
from merchants.models import Merchant, PlatformSettings
from tests.aftersales.factories import AutoRefundRuleFactory, CaseFactory, make_order, open_pending, walk_to

BACKEND = "django.contrib.auth.backends.ModelBackend"


def errors_of(instance) -> dict:
    try:
        instance.full_clean()
    except ValidationError as exc:
        return exc.message_dict
    return {}


# --------------------------------------------------------------------------------------------
# Auto-refund rules


@pytest.mark.parametrize(
    "field,value",
    [
        ("max_amount", Decimal("-10")),
        ("max_amount", Decimal("0")),
        ("max_amount", Decimal("100000.01")),
        ("max_hours_since_order", 0),
        ("max_hours_since_order", 8761),
        ("max_hours_since_order", 99999999999),
        ("max_hours_since_delivery", 99999999999),
    ],
)
def test_N9_rule_limits_are_bounded(shop, field, value):
    rule = AutoRefundRule(merchant=shop, name="规则", **{field: value})

    assert field in errors_of(rule)


def test_N9_rule_limits_at_their_bounds_are_fine(shop):
    rule = AutoRefundRule(
        merchant=shop,
        name="规则",
        max_amount=Decimal("0.01"),
        max_hours_since_order=8760,
        max_hours_since_delivery=1,
    )

    assert not {"max_amount", "max_hours_since_order", "max_hours_since_delivery"} & set(errors_of(rule))


def test_N9_rule_form_refuses_99999999999_hours_and_saves_nothing(client, shop, owner):
    client.force_login(owner, backend=BACKEND)

    response = client.post(
        reverse("workbench:aftersales_autorefundrule_add"),
        {"merchant": shop.pk, "name": "下单即退", "priority": 1, "max_hours_since_order": "99999999999"},
    )

    assert response.status_code == 200
    assert "max_hours_since_order" in response.context["adminform"].form.errors
    assert not AutoRefundRule.objects.exists()


def test_N9_open_case_survives_a_rule_saved_before_the_bound(shop):
    # A row written before the validators existed (or straight into the database): the largest value a
    # PostgreSQL integer column holds, still far past what a timedelta from now can reach.
    AutoRefundRuleFactory(merchant=shop, name="旧规则", max_hours_since_order=2_147_483_647)
    AutoRefundRuleFactory(merchant=shop, name="旧规则2", max_hours_since_delivery=2_147_483_647)
    order = make_order(shop)

    case = services.open_case(
        order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.QUALITY, amount="10"
    )

    assert case.pk  # a too-large limit is no limit: the first rule matches
    assert case.auto_approved_by == "旧规则"


def test_N9_express_refund_survives_an_absurd_hours_setting(shop):
    AftersalesSettings.objects.filter(pk=AftersalesSettings.load().pk).update(express_max_hours=2_147_483_647)
    Merchant.objects.filter(pk=shop.pk).update(express_refund_enabled=True)
    order = make_order(shop, paid_amount=Decimal("50.00"))

    case = services.open_case(
        order.items.get(), type=CaseType.REFUND_ONLY, reason=Reason.QUALITY, amount="10"
    )

    assert case.status == CaseStatus.REFUNDING


# --------------------------------------------------------------------------------------------
# Platform settings


@pytest.mark.parametrize(
    "field,value",
    [
        ("merchant_response_hours", 0),
        ("merchant_response_hours", 721),
        ("negotiation_hours", 0),
        ("buyer_return_days", 0),
        ("arbitration_hours", 99999999999),
        ("express_max_amount", Decimal("-1")),
        ("express_max_amount", Decimal("0")),
        ("refund_max_attempts", 0),
        ("refund_max_attempts", 13),
        ("window_days", 0),
    ],
)
def test_N9_aftersales_settings_are_bounded(db, field, value):
    limits = AftersalesSettings.load()
    setattr(limits, field, value)

    assert field in errors_of(limits)


def test_N9_due_soon_warning_must_be_shorter_than_the_answer_window(db):
    limits = AftersalesSettings.load()
    limits.merchant_response_hours, limits.due_soon_hours = 24, 24

    errors = errors_of(limits)

    assert "due_soon_hours" in errors
    assert "须短于商家处理时限" in errors["due_soon_hours"][0]
    limits.due_soon_hours = 23
    assert errors_of(limits) == {}


def test_N9_staff_settings_page_refuses_zero_hours_to_answer(client, superuser):
    client.force_login(superuser, backend=BACKEND)
    limits = AftersalesSettings.load()
    fields = [f.name for f in AftersalesSettings._meta.fields if f.name not in ("id", "pk")]
    data = {name: getattr(limits, name) for name in fields if hasattr(limits, name)}
    data = {k: v for k, v in data.items() if v is not None}

    response = client.post(
        reverse("admin:aftersales_aftersalessettings_change", args=[limits.pk]),
        {**data, "merchant_response_hours": 0},
    )

    assert response.status_code == 200
    assert "merchant_response_hours" in response.context["adminform"].form.errors
    assert AftersalesSettings.load().merchant_response_hours == 48


@pytest.mark.parametrize(
    "field,value", [("unpaid_cancel_hours", 0), ("unpaid_cancel_hours", 721), ("auto_receive_days", 91)]
)
def test_N9_order_settings_are_bounded(db, field, value):
    platform = PlatformSettings.load()
    setattr(platform, field, value)

    assert field in errors_of(platform)


# --------------------------------------------------------------------------------------------
# Delay reports: not in the past, at most 30 days ahead


def test_N9_delay_report_until_2029_is_refused(shop, clerk):
    case = open_pending(shop)

    with pytest.raises(DelayReportError, match="30 天后"):
        services.file_delay_report(
            case, actor=clerk, reason="春节停运", delay_until=timezone.now().replace(year=2029)
        )

    assert not case.delay_reports.exists()


def test_N9_delay_report_form_bounds_the_delay(shop):
    case = CaseFactory(merchant=shop)
    later = timezone.localtime() + timedelta(days=MAX_DELAY_DAYS, hours=1)
    soon = timezone.localtime() + timedelta(days=MAX_DELAY_DAYS - 1)

    def form(moment):
        return DelayReportForm(
            {
                "reason": "春节停运",
                "delay_until_0": moment.date().isoformat(),
                "delay_until_1": moment.strftime("%H:%M"),
            },
            case=case,
        )

    too_far, fine = form(later), form(soon)
    too_far.is_valid()
    fine.is_valid()

    assert "delay_until" in too_far.errors
    assert "delay_until" not in fine.errors


def test_N9_delay_report_within_30_days_is_filed(shop, clerk):
    case = open_pending(shop)

    report = services.file_delay_report(
        case, actor=clerk, reason="春节停运", delay_until=timezone.now() + timedelta(days=MAX_DELAY_DAYS - 1)
    )

    assert report.pk


# --------------------------------------------------------------------------------------------
# Arbitration: rejecting the buyer cannot make the merchant liable


@pytest.mark.parametrize("liability", [Liability.MERCHANT, Liability.BOTH])
def test_N9_arbitration_that_rejects_the_buyer_cannot_blame_the_merchant(shop, clerk, operator, liability):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk)

    with pytest.raises(ValidationError, match="驳回买家申请时"):
        services.arbitrate(case, actor=operator, outcome=ArbitrationOutcome.REJECT, liability=liability)

    case.refresh_from_db()
    assert case.status == CaseStatus.ARBITRATION
    assert case.liability == ""


def test_N9_arbitration_form_refuses_the_contradiction(shop):
    case = CaseFactory(merchant=shop)

    contradiction = ArbitrateForm({"outcome": "reject", "liability": "merchant"}, case=case)
    fine = ArbitrateForm({"outcome": "reject", "liability": "buyer"}, case=case)

    assert not contradiction.is_valid() and "liability" in contradiction.errors
    assert fine.is_valid()


# --------------------------------------------------------------------------------------------
# The return-address phone


def test_N9_return_phone_refuses_script_and_stores_digits(shop):
    data = {
        "name": shop.name,
        "return_contact": "王店长",
        "return_address": "杭州",
        "settlement_cycle": shop.settlement_cycle,
    }

    bad = MerchantSettingsForm({**data, "return_phone": "abc<script>"}, instance=shop)
    good = MerchantSettingsForm({**data, "return_phone": "１３８ ００１３ ８０００"}, instance=shop)

    assert not bad.is_valid() and "return_phone" in bad.errors
    assert good.is_valid(), good.errors
    assert good.cleaned_data["return_phone"] == "13800138000"
