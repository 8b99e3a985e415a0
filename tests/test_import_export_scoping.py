"""Scoped import/export (STYLE §7, B-4): the actor reaches every resource on both sites, imports stay in
the actor's shop, no resource maps a state, and an admin that would lose the actor cannot be declared."""

import pytest
import tablib
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from import_export import fields
from import_export.admin import ExportMixin
from import_export.mixins import BaseExportMixin, BaseImportMixin

from aftersales.models import AfterSaleCase
from merchants.kernel.admin.base import MerchantScopedAdmin
from merchants.kernel.admin.importexport import MerchantScopedImportExportAdmin
from merchants.kernel.admin.sites import workbench_site
from merchants.kernel.resources import MerchantScopedResource
from merchants.models import Order, Product
from tests.aftersales.factories import open_pending
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


class ProductResource(MerchantScopedResource):
    class Meta:
        model = Product
        fields = ("id", "merchant", "spu_id", "name")
        import_id_fields = ("spu_id",)


def _import(resource, rows):
    data = tablib.Dataset(headers=["merchant", "spu_id", "name"])
    for row in rows:
        data.append(row)
    return resource.import_data(data, dry_run=False, raise_errors=False)


def test_B4_every_import_export_admin_on_both_sites_hands_the_actor_to_its_resources(clerk, operator):
    request = RequestFactory().get("/")
    checked = 0
    for site in (admin.site, workbench_site):
        for model_admin in site._registry.values():
            if not isinstance(model_admin, BaseExportMixin | BaseImportMixin):
                continue
            for user in (clerk, operator):
                request.user = user
                kwargs = model_admin.get_export_resource_kwargs(request)
                for resource_class in model_admin.get_export_resource_classes(request):
                    assert resource_class(**kwargs).actor is user
                checked += 1
    assert checked >= 4  # the case list exports on both sites, for both users


def test_B4_the_case_export_resource_scopes_to_the_actor_whatever_queryset_it_gets(shop, other_shop, clerk):
    mine, theirs = open_pending(shop), open_pending(other_shop)
    resource_class = workbench_site._registry[AfterSaleCase].resource_classes[0]

    exported = resource_class(actor=clerk).export(queryset=AfterSaleCase.objects.all())

    assert mine.case_no in exported.csv and theirs.case_no not in exported.csv


def test_B4_a_resource_without_an_actor_cannot_be_built():
    with pytest.raises(TypeError, match="actor="):
        ProductResource()


def test_B4_an_import_row_naming_another_shop_is_an_error_and_writes_nothing(shop, other_shop, clerk):
    result = _import(
        ProductResource(actor=clerk),
        [(shop.pk, "SPU-OK-1", "自己的商品"), (other_shop.pk, "SPU-X", "别人的")],
    )

    assert result.has_validation_errors() or result.has_errors()
    assert not Product.objects.filter(spu_id__in=["SPU-OK-1", "SPU-X"]).exists()  # B-3: all or nothing


def test_B4_a_member_of_one_shop_imports_into_it_and_cannot_update_another_shops_row(shop, other_shop, clerk):
    theirs = ProductFactory(merchant=other_shop, spu_id="SPU-SHARED", name="别人的名字")

    result = _import(ProductResource(actor=clerk), [("", "SPU-SHARED", "改名")])

    theirs.refresh_from_db()
    assert theirs.name == "别人的名字"  # the lookup saw only the actor's shop: a new row, not an update
    created = Product.objects.get(merchant=shop, spu_id="SPU-SHARED")
    assert created.name == "改名" and not result.has_errors()


def test_B4_a_resource_that_maps_a_state_is_refused():
    class OrderStateResource(MerchantScopedResource):
        status = fields.Field(attribute="status", column_name="status")

        class Meta:
            model = Order
            fields = ("order_no", "status")

    with pytest.raises(ImproperlyConfigured, match="status"):
        OrderStateResource(actor=None)


def test_B4_an_admin_listing_import_exports_mixin_before_the_kernel_base_is_refused():
    with pytest.raises(ImproperlyConfigured, match="is not the kernel.s"):

        class LeakyAdmin(ExportMixin, MerchantScopedAdmin):  # the order that turned the actor off
            resource_classes = [ProductResource]


def test_B4_an_admin_with_a_resource_that_is_not_scoped_is_refused():
    from import_export.resources import ModelResource

    class PlainResource(ModelResource):
        class Meta:
            model = Product

    with pytest.raises(ImproperlyConfigured, match="MerchantScopedResource"):

        class PlainAdmin(MerchantScopedImportExportAdmin):
            resource_classes = [PlainResource]
