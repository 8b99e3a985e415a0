"""Issue 11 §13: every cross-shop list on /admin/ filters by shop through an autocomplete (not a select of
every shop), and the product filter follows the chosen shop."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from merchants.kernel.admin.base import MerchantScopedAdmin
from merchants.kernel.admin.filters import ShopAutocompleteFilter
from tests.factories import MerchantFactory, OrderFactory, ProductFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
ORDERS = reverse("admin:merchants_order_changelist")


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def _cross_shop_admins():
    return [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, MerchantScopedAdmin) and getattr(model, "merchant_path", "")
    ]


@pytest.mark.parametrize("model_admin", _cross_shop_admins(), ids=lambda a: a.model._meta.label)
def test_every_cross_shop_list_on_admin_has_the_shop_autocomplete(rf, operator, model_admin):
    request = rf.get("/admin/")
    request.user = operator

    filters = model_admin.get_list_filter(request)

    assert (model_admin.model.merchant_path, ShopAutocompleteFilter) in list(filters) or any(
        isinstance(item, (list, tuple)) and item[0] == model_admin.model.merchant_path for item in filters
    )


def test_the_workbench_lists_have_no_shop_filter_added(rf, clerk):
    from merchants.kernel.admin.sites import workbench_site

    request = rf.get("/workbench/")
    request.user = clerk
    for model_admin in workbench_site._registry.values():
        if isinstance(model_admin, MerchantScopedAdmin):
            assert not any(
                isinstance(item, (list, tuple)) and item[1] is ShopAutocompleteFilter
                for item in model_admin.get_list_filter(request)
            )


def test_the_shop_filter_is_a_search_box_and_filters_the_list(client, shop, other_shop, operator):
    many = [MerchantFactory(name=f"远方小店{i}") for i in range(5)]
    mine = OrderFactory(merchant=shop)
    theirs = OrderFactory(merchant=other_shop)
    login(client, operator)

    page = client.get(ORDERS).content.decode()
    assert "unfold-filter-autocomplete" in page
    assert all(far.name not in page for far in many)  # no option per shop

    filtered = client.get(ORDERS, {"merchant__id__exact": shop.pk}).content.decode()
    assert mine.order_no in filtered and theirs.order_no not in filtered
    assert shop.name in filtered  # the chosen shop is shown in the box


def test_the_shop_autocomplete_answers_shops_by_name(client, shop, other_shop, operator):
    login(client, operator)

    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "二号", "app_label": "merchants", "model_name": "order", "field_name": "merchant"},
    )

    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == [str(other_shop)]


def test_a_bad_shop_id_is_said_and_not_applied(client, shop, operator):
    order = OrderFactory(merchant=shop)
    login(client, operator)

    response = client.get(ORDERS, {"merchant__id__exact": "１２x"})

    assert response.status_code == 200
    page = response.content.decode()
    assert order.order_no in page
    assert "店铺" in page


def test_the_product_filter_follows_the_chosen_shop(client, shop, other_shop, operator):
    ours = ProductFactory(merchant=shop, name="龙井绿茶")
    theirs = ProductFactory(merchant=other_shop, name="羊毛围巾")
    login(client, operator)

    everything = client.get(ORDERS).content.decode()
    one_shop = client.get(ORDERS, {"merchant__id__exact": shop.pk}).content.decode()

    assert ours.name in everything and theirs.name in everything
    assert ours.name in one_shop and theirs.name not in one_shop


@pytest.mark.parametrize("model_admin", _cross_shop_admins(), ids=lambda a: a.model._meta.label)
def test_every_cross_shop_list_opens_with_the_shop_filter(client, shop, operator, superuser, model_admin):
    opts = model_admin.model._meta
    login(client, superuser)

    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), follow=True)

    assert response.status_code == 200
    assert "unfold-filter-autocomplete" in response.content.decode()
