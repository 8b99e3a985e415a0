"""Tenancy over HTTP (SPEC §1, N-7): every workbench page, URL, filter, autocomplete and action stays in the shop."""

import importlib
import re
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from merchants.kernel.admin.sites import workbench_site
from merchants.kernel.scoping import merchant_id_of
from merchants.models import Merchant, Order
from merchants.transitions import Carrier, OrderStatus, PaymentMethod
from tests.factories import OrderFactory, ProductFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
RAW_PHONE = "13912345678"


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def _factory_for(model):
    """`<Model>Factory` from tests/<app>/factories.py or tests/factories.py (the project's convention)."""
    for module_name in (f"tests.{model._meta.app_label}.factories", "tests.factories"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        factory = getattr(module, f"{model.__name__}Factory", None)
        if factory is not None:
            return factory
    return None


def make_for_shop(model, shop):
    """One row of `model` belonging to `shop`."""
    if model is Merchant:
        return shop
    factory = _factory_for(model)
    if factory is None:
        pytest.fail(
            f"No {model.__name__}Factory in tests/{model._meta.app_label}/factories.py: "
            f"the workbench registers {model.__name__}, so its tenancy must be tested here."
        )
    obj = factory(merchant=shop)
    if merchant_id_of(obj) != shop.pk:
        pytest.fail(f"{model.__name__}Factory(merchant=shop) made a row of another shop")
    return obj


def merchant_owned_models():
    return sorted(
        (model for model in workbench_site._registry if getattr(model, "merchant_path", None) is not None),
        key=lambda model: model._meta.label,
    )


def test_tenancy_registry_walk_covers_the_shop_pages():
    assert {Order, Merchant} <= set(merchant_owned_models())


@pytest.mark.parametrize("model", merchant_owned_models(), ids=lambda model: model._meta.label)
def test_tenancy_every_workbench_admin_hides_the_other_shops_rows(client, shop, other_shop, owner, model):
    mine, theirs = make_for_shop(model, shop), make_for_shop(model, other_shop)
    login(client, owner)
    prefix = f"{workbench_site.name}:{model._meta.app_label}_{model._meta.model_name}"

    response = client.get(reverse(f"{prefix}_changelist"))
    change_mine = client.get(reverse(f"{prefix}_change", args=[mine.pk]))
    change_theirs = client.get(reverse(f"{prefix}_change", args=[theirs.pk]))
    history_theirs = client.get(reverse(f"{prefix}_history", args=[theirs.pk]))

    assert response.status_code == 200
    listed = {obj.pk for obj in response.context["cl"].result_list}
    assert mine.pk in listed
    assert theirs.pk not in listed
    assert change_mine.status_code == 200
    assert change_theirs.status_code == 404
    assert history_theirs.status_code in (403, 404)


def test_tenancy_order_action_urls_answer_404_for_another_shops_order(client, shop, other_shop, clerk):
    theirs = OrderFactory(
        merchant=other_shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION
    )
    login(client, clerk)

    for name in ("ship", "change_tracking", "confirm_cod", "cancel"):
        url = reverse(f"workbench:merchants_order_{name}", args=[theirs.pk])
        assert client.get(url).status_code == 404, name
        assert (
            client.post(
                url, {"reason": "x", "carrier": Carrier.SF, "tracking_no": "SF1234567890"}
            ).status_code
            == 404
        )

    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.AWAITING_CONFIRMATION
    assert not theirs.events.exists()


def test_tenancy_autocomplete_never_returns_another_shops_rows(client, shop, other_shop, clerk):
    mine = ProductFactory(merchant=shop, name="保温杯 甲")
    ProductFactory(merchant=other_shop, name="保温杯 乙")
    my_order = OrderFactory(merchant=shop, order_no="O20261100009001")
    OrderFactory(merchant=other_shop, order_no="O20261100009002")
    login(client, clerk)

    products = client.get(
        "/workbench/autocomplete/",
        {"app_label": "merchants", "model_name": "orderitem", "field_name": "product", "term": "保温杯"},
    )
    orders = client.get(
        "/workbench/autocomplete/",
        {"app_label": "merchants", "model_name": "package", "field_name": "order", "term": "O2026110000900"},
    )

    assert products.status_code == 200
    assert [row["id"] for row in products.json()["results"]] == [str(mine.pk)]
    assert orders.status_code == 200
    assert [row["id"] for row in orders.json()["results"]] == [str(my_order.pk)]


def test_tenancy_product_filter_lists_only_the_users_products(client, shop, other_shop, clerk):
    mine = ProductFactory(merchant=shop, name="本店商品")
    theirs = ProductFactory(merchant=other_shop, name="别家商品")
    login(client, clerk)

    response = client.get(reverse("workbench:merchants_order_changelist"))

    product_filter = next(
        spec
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "parameter_name", None) == "product"
    )
    choices = dict(product_filter.lookup_choices)
    assert str(mine.pk) in choices
    assert str(theirs.pk) not in choices
    assert "别家商品" not in response.content.decode()


def test_tenancy_filtering_by_another_shops_product_shows_nothing(client, shop, other_shop, clerk):
    theirs = OrderFactory(merchant=other_shop)
    their_product = theirs.items.get().product
    login(client, clerk)

    response = client.get(reverse("workbench:merchants_order_changelist"), {"product": their_product.pk})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_tenancy_bulk_action_with_another_shops_ids_changes_nothing(client, shop, other_shop, clerk):
    mine = OrderFactory(
        merchant=shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION
    )
    theirs = OrderFactory(
        merchant=other_shop, payment_method=PaymentMethod.COD, status=OrderStatus.AWAITING_CONFIRMATION
    )
    login(client, clerk)
    url = reverse("workbench:merchants_order_changelist")

    # "post": the confirmation page's answer (the bulk kit asks first)
    client.post(url, {"action": "confirm_cod_selected", ACTION_CHECKBOX_NAME: [theirs.pk], "post": "yes"})
    theirs.refresh_from_db()
    assert theirs.status == OrderStatus.AWAITING_CONFIRMATION
    assert not theirs.events.exists()

    client.post(
        url, {"action": "confirm_cod_selected", ACTION_CHECKBOX_NAME: [mine.pk, theirs.pk], "post": "yes"}
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == OrderStatus.TO_SHIP
    assert theirs.status == OrderStatus.AWAITING_CONFIRMATION


def test_tenancy_search_does_not_reach_another_shop(client, shop, other_shop, clerk):
    OrderFactory(merchant=other_shop, order_no="O20261100007777", buyer_id="B-THEIRS", buyer_name="别家买家")
    login(client, clerk)
    url = reverse("workbench:merchants_order_changelist")

    for term in ("O20261100007777", "O2026110000777", "B-THEIRS", "别家买家"):
        assert list(client.get(url, {"q": term}).context["cl"].result_list) == [], term


def test_N7_buyer_phone_never_appears_unmasked_in_the_workbench(client, shop, clerk):
    order = OrderFactory(merchant=shop, buyer_phone=RAW_PHONE, items=2, paid_amount=Decimal("80.00"))
    first = order.items.order_by("pk").first()
    from merchants import services

    services.ship(order, items=[first], carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk)
    login(client, clerk)
    pages = [
        reverse("workbench:index"),
        reverse("workbench:merchants_order_changelist"),
        reverse("workbench:merchants_order_changelist") + f"?q={order.order_no}",
        reverse("workbench:merchants_order_change", args=[order.pk]),
        reverse("workbench:merchants_order_ship", args=[order.pk]),
        reverse("workbench:merchants_order_history", args=[order.pk]),
        "/workbench/autocomplete/?app_label=merchants&model_name=package&field_name=order&term="
        + order.order_no,
    ]

    for url in pages:
        body = client.get(url).content.decode()
        assert RAW_PHONE not in body, url
        assert not re.search(r"139\D{0,3}1234\D{0,3}5678", body), url
    assert (
        "139****5678"
        in client.get(reverse("workbench:merchants_order_change", args=[order.pk])).content.decode()
    )
