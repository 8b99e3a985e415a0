"""Issue 11 §4-§5: the shop's single return address becomes the default of its address library; cases
already waiting for the goods keep that address as the one the buyer was given; every shop gets the
default reject reasons (the same list as aftersales.models.DEFAULT_REJECT_REASONS)."""

from django.db import migrations

DEFAULT_REJECT_REASONS = (
    ("商品已使用或影响二次销售，不符合退换条件", True),
    ("买家未提供有效凭证，无法核实商品问题", False),
    ("商品经检验无质量问题", True),
    ("定制商品，不支持七天无理由退货", False),
    ("已超过售后申请期限", False),
    ("已与买家协商一致，请买家撤销申请", False),
)
WAITING_FOR_GOODS = ("awaiting_return", "return_in_transit")


def forwards(apps, schema_editor):
    Merchant = apps.get_model("merchants", "Merchant")
    ReturnAddress = apps.get_model("aftersales", "ReturnAddress")
    RejectReason = apps.get_model("aftersales", "RejectReason")
    AfterSaleCase = apps.get_model("aftersales", "AfterSaleCase")
    for shop in Merchant.objects.all().iterator():
        address = (shop.return_address or "").strip()
        if address and not ReturnAddress.objects.filter(merchant=shop).exists():
            ReturnAddress.objects.create(
                merchant=shop,
                contact=shop.return_contact.strip(),
                phone=shop.return_phone.strip(),
                address=address,
                is_default=True,
            )
            AfterSaleCase.objects.filter(
                merchant=shop, status__in=WAITING_FOR_GOODS, return_to_address=""
            ).update(
                return_to_contact=shop.return_contact.strip(),
                return_to_phone=shop.return_phone.strip(),
                return_to_address=address,
            )
        if not RejectReason.objects.filter(merchant=shop).exists():
            RejectReason.objects.bulk_create(
                RejectReason(merchant=shop, text=text, evidence_required=evidence, position=10 * (index + 1))
                for index, (text, evidence) in enumerate(DEFAULT_REJECT_REASONS)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0014_return_address_library_and_reject_reasons"),
        ("merchants", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
