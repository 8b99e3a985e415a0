"""The buyer's shipping address on the order (M-2): cleaned by place_order, shown masked (N-7)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from merchants import services
from merchants.kernel.workflow import ApplicationError
from merchants.models import Order
from merchants.services import ItemLine, ShippingAddress
from tests.factories import OrderFactory, ProductFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
RAW_PHONE = "13987654321"


def address(**changes) -> ShippingAddress:
    parts = {
        "consignee": "李四",
        "phone": RAW_PHONE,
        "province": "广东省",
        "city": "深圳市",
        "district": "南山区",
        "address": "科苑路15号科兴科学园B栋1203室",
    }
    return ShippingAddress(**{**parts, **changes})


def place(shop, **kwargs) -> Order:
    product = ProductFactory(merchant=shop)
    return services.place_order(
        shop,
        order_no=kwargs.pop("order_no", "O2026120100001"),
        buyer_id="B1",
        buyer_name="小李",
        lines=[ItemLine(product=product, quantity=1, paid_amount=Decimal("59.00"))],
        **kwargs,
    )


def test_M2_place_order_stores_the_cleaned_address(shop):
    order = place(
        shop,
        address=address(
            consignee="  李四 ",
            phone="+86 139-8765-4321",
            district="南山区 ",
            address=" 科苑路15号  科兴科学园B栋1203室",
        ),
    )

    order.refresh_from_db()
    assert (order.consignee, order.consignee_phone) == ("李四", RAW_PHONE)
    assert (order.province, order.city, order.district) == ("广东省", "深圳市", "南山区")
    assert order.street_address == "科苑路15号 科兴科学园B栋1203室"
    assert order.consignee_phone_masked == "139****4321"
    assert order.consignee_phone_last4 == "4321"  # computed by the database, for the search


def test_M2_place_order_keeps_working_without_an_address(shop):
    order = place(shop)

    order.refresh_from_db()
    assert not order.has_address
    assert (order.consignee, order.consignee_phone, order.street_address) == ("", "", "")


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("13987654321", "13987654321"),
        ("139 8765 4321", "13987654321"),
        ("(+86) 139-8765-4321", "13987654321"),
        ("008613987654321", "13987654321"),
        ("１３９８７６５４３２１", "13987654321"),  # full-width digits
        ("0755-86351200", "075586351200"),  # a landline with its area code
        ("010 12345678", "01012345678"),
    ],
)
def test_M2_address_phone_is_normalised(shop, phone, stored):
    order = place(shop, address=address(phone=phone))

    assert Order.objects.get(pk=order.pk).consignee_phone == stored


def test_M2_a_city_without_districts_needs_none(shop):
    order = place(
        shop, address=address(province="广东省", city="东莞市", district="", address="长安镇长青路8号")
    )

    assert Order.objects.get(pk=order.pk).region == "广东省 东莞市"


def test_M2_a_municipality_is_named_once(shop):
    order = place(shop, address=address(province="北京市", city="北京市", district="朝阳区"))

    assert order.region == "北京市 朝阳区"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"consignee": "  "}, "缺少收货人"),
        ({"province": ""}, "缺少省份"),
        ({"city": ""}, "缺少城市"),
        ({"address": ""}, "缺少详细地址"),
        ({"phone": ""}, "缺少收货人手机号"),
        ({"phone": "12345"}, "手机号格式不正确"),
        ({"phone": "23987654321"}, "手机号格式不正确"),  # no mobile number starts with 2
        ({"phone": "139876543210"}, "手机号格式不正确"),  # one digit too many
        ({"phone": "1398765432a"}, "手机号格式不正确"),
        ({"consignee": "李" * 41}, "收货人最多 40 个字"),
        ({"district": "区" * 21}, "区县最多 20 个字"),
        ({"address": "路" * 121}, "详细地址最多 120 个字"),
    ],
)
def test_M2_a_bad_address_is_refused_and_nothing_is_created(shop, changes, words):
    with pytest.raises(ApplicationError) as exc:
        place(shop, address=address(**changes))

    assert words in exc.value.messages[0]
    assert not Order.objects.exists()


def test_M2_the_phone_refusal_never_repeats_the_number(shop):
    with pytest.raises(ApplicationError) as exc:
        place(shop, address=address(phone="139876543210"))

    assert "139876543210" not in exc.value.messages[0]


def test_M2_the_refusal_speaks_english(shop, settings):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ApplicationError) as exc:
        place(shop, address=address(city=""))

    assert exc.value.messages[0] == "Shipping address: City is missing."


# --------------------------------------------------------------------------------------------
# Shown on the order page and the ship form, the phone masked (N-7)


def _with_address(shop):
    order = OrderFactory(
        merchant=shop,
        consignee="李四",
        consignee_phone=RAW_PHONE,
        province="广东省",
        city="深圳市",
        district="南山区",
        street_address="科苑路15号科兴科学园B栋1203室",
    )
    return order


@pytest.mark.parametrize("page", ["change", "ship"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_M2_order_page_and_ship_form_show_where_to_ship(client, shop, clerk, page, language):
    order = _with_address(shop)
    client.force_login(clerk, backend=BACKEND)

    body = client.get(
        reverse(f"workbench:merchants_order_{page}", args=[order.pk]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()

    assert "李四" in body and "139****4321" in body
    assert "广东省 深圳市 南山区" in body and "科苑路15号科兴科学园B栋1203室" in body
    assert ("Shipping address" if language == "en" else "收货地址") in body
    assert RAW_PHONE not in body and not re.search(r"139\D{0,3}8765\D{0,3}4321", body)


def test_M2_an_order_without_address_says_so(client, shop, clerk):
    order = OrderFactory(merchant=shop)
    client.force_login(clerk, backend=BACKEND)

    body = client.get(reverse("workbench:merchants_order_ship", args=[order.pk])).content.decode()

    assert "买家未提供收货地址" in body


def test_N7_consignee_phone_never_appears_unmasked_on_any_order_or_case_page(client, shop, clerk, superuser):
    order = _with_address(shop)
    from tests.aftersales.factories import CaseFactory

    case = CaseFactory(merchant=shop, item=order.items.get())
    pages = [
        reverse("workbench:merchants_order_changelist"),
        reverse("workbench:merchants_order_changelist") + "?q=4321",
        reverse("workbench:merchants_order_change", args=[order.pk]),
        reverse("workbench:merchants_order_ship", args=[order.pk]),
        reverse("workbench:aftersales_aftersalecase_change", args=[case.pk]),
    ]

    for user, prefix in ((clerk, "workbench"), (superuser, "admin")):
        client.force_login(user, backend=BACKEND)
        for url in pages:
            body = client.get(url.replace("/workbench/", f"/{prefix}/")).content.decode()
            assert RAW_PHONE not in body, url
            assert not re.search(r"139\D{0,3}8765\D{0,3}4321", body), url
