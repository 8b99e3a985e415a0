"""Factories of the kernel's shop records the workbench shows: notices, violations, reply templates, the
jobs of the import center and the download center.

tests/merchants/test_tenancy_http.py finds `<Model>Factory` here for every merchant-owned workbench page.
"""

import datetime

import factory
from django.utils import timezone

from merchants.kernel.centers.models import ExportJob, ImportJob
from merchants.models import ImDailyStat, Notice, ReplyTemplate, Violation
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


class ReplyTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReplyTemplate

    merchant = factory.SubFactory(MerchantFactory)
    scene = ReplyTemplate.Scene.CASE_MESSAGE
    title = factory.Sequence(lambda n: f"本店话术 {n}")
    text = "亲，您的宝贝已由{carrier}发出，运单号{tracking_no}。[送您{coupon}优惠券。]"


class ImportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportJob

    merchant = factory.SubFactory(MerchantFactory)
    site = "workbench"
    resource = "merchants.product"
    original_name = factory.Sequence(lambda n: f"导入文件{n}.csv")
    file = factory.django.FileField(filename="import.csv", data=b"a,b\n1,2\n")


class ExportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportJob

    merchant = factory.SubFactory(MerchantFactory)
    site = "workbench"
    kind = "aftersales.cases"
    kind_label = factory.Sequence(lambda n: f"售后单导出{n}")


class ImDailyStatFactory(factory.django.DjangoModelFactory):
    """One shop's IM day (the platform's feed writes them; the workbench lists them read-only)."""

    class Meta:
        model = ImDailyStat

    merchant = factory.SubFactory(MerchantFactory)
    day = factory.Sequence(lambda n: timezone.localdate() - datetime.timedelta(days=n + 1))
    sessions = 10
    human_sessions = 4
    human_first_response_seconds = 480
