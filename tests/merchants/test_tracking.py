"""Tracking numbers as pasted (S-1, S-4, A-8 reship): normalised in one place, checked against the carrier."""

import random

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from aftersales import services as case_services
from aftersales.forms import ReshipForm
from aftersales.transitions import CaseStatus, CaseType
from demo.shops import tracking_number
from merchants import services
from merchants.forms import ShipForm, TrackingForm
from merchants.kernel.workflow import ApplicationError
from merchants.tracking import FORMATS, MAX_INPUT_LENGTH, check_tracking, normalise_tracking
from merchants.transitions import Carrier
from tests.aftersales.factories import CaseFactory
from tests.factories import OrderFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.mark.parametrize(
    ("pasted", "stored"),
    [
        ("SF 1234 5678 901", "SF12345678901"),
        ("sf1234567890123", "SF1234567890123"),
        ("SF-1234-5678-901", "SF12345678901"),
        ("SF–1234—5678－901", "SF12345678901"),  # en dash, em dash, full-width hyphen-minus
        ("ＳＦ１２３４５６７８９０１", "SF12345678901"),  # full-width letters and digits
        ("\u3000SF\u00a01234\u200b5678\t901\n", "SF12345678901"),  # ideographic, no-break, zero-width spaces
        ("jt 0012 3456 7890 1", "JT0012345678901"),
        ("7312 3456 7890 12", "73123456789012"),
        ("", ""),
        (None, ""),
    ],
)
def test_S1_pasted_tracking_numbers_are_normalised(pasted, stored):
    assert normalise_tracking(pasted) == stored
    assert normalise_tracking(stored) == stored  # idempotent: forms and services both apply it


# Every number the existing tests ship with, under the carrier they use; and the demo's numbers.
EXISTING = [
    (Carrier.SF, "SF1234567890"),
    (Carrier.SF, "SF1234567890123"),
    (Carrier.SF, "SF9876543210"),
    (Carrier.ZTO, "ZT9000000001"),
    (Carrier.ZTO, "ZT3333333333"),
    (Carrier.ZTO, "ZTO7700112233"),
    (Carrier.ZTO, "75123456789012"),
    (Carrier.YTO, "YT1234567890"),
    (Carrier.JD, "JD1234567890"),
    (Carrier.JD, "JD0000000001"),
    (Carrier.EMS, "EM1234567890"),
]


@pytest.mark.parametrize(("carrier", "tracking_no"), EXISTING)
def test_S1_numbers_the_tests_use_fit_their_carrier(carrier, tracking_no):
    check_tracking(carrier, tracking_no)


@pytest.mark.parametrize("carrier", Carrier.values)
def test_S1_the_demos_numbers_fit_their_carrier(carrier):
    rng = random.Random(carrier)

    for _ in range(200):
        check_tracking(carrier, normalise_tracking(tracking_number(carrier, rng)))


@pytest.mark.parametrize(
    ("carrier", "tracking_no"),
    [
        (Carrier.SF, "123456789012"),  # SF's 12-digit numbers
        (Carrier.SF, "SF123456789012345"),
        (Carrier.JD, "JDVA12345678901"),
        (Carrier.JD, "JDX000123456789"),
        (Carrier.YTO, "YT1234567890123"),
        (Carrier.ZTO, "731234567890"),
        (Carrier.ZTO, "78123456789012"),
        (Carrier.JT, "JT1234567890123"),
        (Carrier.EMS, "1123456789012"),
        (Carrier.EMS, "EA123456789CN"),  # UPU S10
        (Carrier.YUNDA, "4312345678901"),  # no known format: the generic rule
        (Carrier.STO, "773012345678"),
        (Carrier.OTHER, "AB12CD34"),
    ],
)
def test_S1_real_numbers_are_accepted(carrier, tracking_no):
    check_tracking(carrier, tracking_no)


@pytest.mark.parametrize(
    ("carrier", "tracking_no", "words"),
    [
        (Carrier.SF, "SF12345678", ["顺丰速运的运单号应为", "SF 加 10–15 位数字", "SF12345678"]),  # cut short
        (Carrier.SF, "73123456789012", ["顺丰速运的运单号应为"]),  # a ZTO number under SF
        (Carrier.ZTO, "SF1234567890", ["看起来是顺丰速运的", "不是中通快递的"]),
        (Carrier.JT, "JT123456789012", ["极兔速递的运单号应为", "JT 加 13 位数字"]),  # one digit short
        (Carrier.JT, "YT1234567890123", ["看起来是圆通速递的", "不是极兔速递的"]),
        (Carrier.JD, "1234567890", ["京东物流的运单号应为", "JD 开头"]),
        (Carrier.YTO, "1234567890123", ["圆通速递的运单号应为", "YT 加数字"]),
        (Carrier.EMS, "EM12345", ["EMS的运单号应为"]),
        (Carrier.SF, "SF12", ["6–32 位"]),  # the generic rule comes first
        (Carrier.OTHER, "AB<12>CD", ["6–32 位"]),
    ],
)
def test_S1_a_number_that_does_not_fit_its_carrier_is_refused_naming_it(carrier, tracking_no, words):
    with pytest.raises(ValidationError) as exc:
        check_tracking(carrier, tracking_no)

    message = exc.value.messages[0]
    assert all(word in message for word in words), message


def test_S1_the_refusal_is_in_the_users_language():
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            check_tracking(Carrier.ZTO, "SF1234567890")
        message = exc.value.messages[0]

    assert "SF Express" in message and "ZTO Express" in message
    assert not any("\u4e00" <= char <= "\u9fff" for char in message), message


def test_S1_every_known_format_has_an_example_that_fits_it():
    for carrier, known in FORMATS.items():
        check_tracking(carrier, known.example)


def test_S1_ship_stores_the_normalised_number(shop, clerk):
    order = OrderFactory(merchant=shop)

    package = services.ship(
        order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="sf 1234 5678 901", actor=clerk
    )

    package.refresh_from_db()
    assert package.tracking_no == "SF12345678901"
    assert order.events.get(kind="shipped").data["tracking_no"] == "SF12345678901"


def test_S4_a_wrong_carrier_is_refused_when_changing_tracking_and_nothing_changes(shop, clerk):
    order = OrderFactory(merchant=shop)
    package = services.ship(
        order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )

    with pytest.raises(ApplicationError) as exc:
        services.update_tracking(package, carrier=Carrier.JT, tracking_no="SF1234567891", actor=clerk)

    assert "看起来是顺丰速运的" in exc.value.messages[0]
    package.refresh_from_db()
    assert (package.carrier, package.tracking_no) == (Carrier.SF, "SF1234567890")


def test_A8_reship_normalises_and_checks_the_carrier(shop, clerk):
    case = CaseFactory(merchant=shop, type=CaseType.EXCHANGE, status=CaseStatus.RESHIPPING)

    with pytest.raises(ApplicationError):
        case_services.reship(case, actor=clerk, carrier=Carrier.JT, tracking_no="JT12345")
    case_services.reship(case, actor=clerk, carrier=Carrier.JT, tracking_no="jt 1234 5678 9012 3")

    case.refresh_from_db()
    assert (case.reship_carrier, case.reship_tracking_no) == (Carrier.JT, "JT1234567890123")


def test_A3_a_buyers_return_number_is_normalised_but_not_held_to_the_carrier(shop):
    # It arrives from the platform on the buyer's behalf: nobody here could correct it.
    case = CaseFactory(merchant=shop, type=CaseType.RETURN_REFUND, status=CaseStatus.AWAITING_RETURN)

    case_services.buyer_ship_return(case, carrier=Carrier.ZTO, tracking_no="sf-1234-5678-90")

    case.refresh_from_db()
    assert case.return_tracking_no == "SF1234567890"
    with pytest.raises(ApplicationError):
        case_services.buyer_ship_return(case, carrier=Carrier.ZTO, tracking_no="12")


# --------------------------------------------------------------------------------------------
# The forms: the paste is accepted, the normalised value validated


def _form_data(form_class, order, tracking_no, carrier=Carrier.SF):
    if form_class is ShipForm:
        return {"items": [order.items.get().pk], "carrier": carrier, "tracking_no": tracking_no}
    return {"package": order.packages.get().pk, "carrier": carrier, "tracking_no": tracking_no}


@pytest.mark.parametrize("form_class", [ShipForm, TrackingForm])
def test_S1_order_forms_accept_a_pasted_number_and_clean_it(shop, clerk, form_class):
    order = OrderFactory(merchant=shop)
    if form_class is TrackingForm:
        services.ship(
            order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1000000001", actor=clerk
        )
    pasted = "ｓｆ 1234－5678－9012－345  "  # 26 characters: normalised to 15

    form = form_class(_form_data(form_class, order, pasted), order=order)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["tracking_no"] == "SF123456789012345"


@pytest.mark.parametrize("form_class", [ShipForm, TrackingForm])
def test_S1_order_forms_refuse_a_number_of_another_carrier_on_the_field(shop, clerk, form_class):
    order = OrderFactory(merchant=shop)
    if form_class is TrackingForm:
        services.ship(
            order, items=list(order.items.all()), carrier=Carrier.SF, tracking_no="SF1000000001", actor=clerk
        )

    form = form_class(_form_data(form_class, order, "SF 1234 5678 90", carrier=Carrier.ZTO), order=order)

    assert not form.is_valid()
    assert "看起来是顺丰速运的" in form.errors["tracking_no"][0]


def test_A8_reship_form_accepts_a_paste_and_checks_the_carrier():
    good = ReshipForm({"carrier": Carrier.JT, "tracking_no": "JT 1234 5678 9012 3"}, case=None)
    short = ReshipForm({"carrier": Carrier.JT, "tracking_no": "JT 1234 5678"}, case=None)
    too_long = ReshipForm({"carrier": Carrier.OTHER, "tracking_no": "A" * 33}, case=None)

    assert good.is_valid(), good.errors
    assert good.service_kwargs() == {"carrier": Carrier.JT, "tracking_no": "JT1234567890123"}
    assert not short.is_valid() and "极兔速递的运单号应为" in short.errors["tracking_no"][0]
    assert not too_long.is_valid() and "最多 32 个字符" in too_long.errors["tracking_no"][0]


def test_S1_ship_page_takes_a_long_paste_and_ships_it(client, shop, clerk):
    order = OrderFactory(merchant=shop)
    client.force_login(clerk, backend=BACKEND)
    url = reverse("workbench:merchants_order_ship", args=[order.pk])

    page = client.get(url).content.decode()
    response = client.post(
        url, {"items": [order.items.get().pk], "carrier": Carrier.SF, "tracking_no": "SF 1234 5678 9012"}
    )

    # The browser must not cut a spaced paste at 32 characters before it is normalised.
    assert f'maxlength="{MAX_INPUT_LENGTH}"' in page
    assert response.status_code == 302
    assert order.packages.get().tracking_no == "SF123456789012"
