"""Factories of the kernel's shop records the workbench shows: notices and violations.

tests/merchants/test_tenancy_http.py finds `<Model>Factory` here for every merchant-owned workbench page.
"""

import factory
from django.utils import timezone

from merchants.models import Notice, Violation
from tests.factories import MerchantFactory


class NoticeFactory(factory.django.DjangoModelFactory):
    """A shop notice as rows written before kinds existed read: a stored title (see test_notices for kinds)."""

    class Meta:
        model = Notice

    merchant = factory.SubFactory(MerchantFactory)
    audience = Notice.Audience.MERCHANT
    title = factory.Sequence(lambda n: f"店铺通知 {n}")
    created_at = factory.LazyFunction(timezone.now)


class ViolationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Violation

    merchant = factory.SubFactory(MerchantFactory)
    rule = "aftersales_voucher_timeout"
    points = 2
    source_type = "merchants.order"
    source_id = factory.Sequence(lambda n: 10_000 + n)
