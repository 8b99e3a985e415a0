"""The case list export (A-10, B-6): the columns of the list, as text a spreadsheet never runs."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import fields

from aftersales.models import AfterSaleCase
from merchants.kernel.resources import MerchantScopedResource


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


class CaseExportResource(MerchantScopedResource):
    """Export only: rows come from the admin's scoped, filtered queryset (never a wider one)."""

    case_no = fields.Field(attribute="case_no", column_name=_("售后单号"))
    shop = fields.Field(column_name=_("店铺"))
    order_no = fields.Field(attribute="order_no", column_name=_("订单号"))
    product = fields.Field(column_name=_("商品"))
    buyer_id = fields.Field(attribute="buyer_id", column_name=_("买家ID"))
    buyer_name = fields.Field(attribute="buyer_name", column_name=_("买家昵称"))
    type = fields.Field(column_name=_("售后类型"))
    status = fields.Field(column_name=_("售后状态"))
    amount = fields.Field(column_name=_("申请金额（元）"))
    reason = fields.Field(column_name=_("售后原因"))
    description = fields.Field(attribute="description", column_name=_("买家说明"))
    created_at = fields.Field(column_name=_("申请时间"))
    deadline_at = fields.Field(column_name=_("处理截止时间"))
    refunded_amount = fields.Field(column_name=_("退款金额（元）"))
    auto_approved_by = fields.Field(attribute="auto_approved_by", column_name=_("自动同意依据"))

    class Meta:
        model = AfterSaleCase
        fields = (
            "case_no",
            "shop",
            "order_no",
            "product",
            "buyer_id",
            "buyer_name",
            "type",
            "status",
            "amount",
            "reason",
            "description",
            "created_at",
            "deadline_at",
            "refunded_amount",
            "auto_approved_by",
        )
        export_order = fields
        import_id_fields = ("case_no",)

    @classmethod
    def get_display_name(cls) -> str:
        return str(_("售后单"))

    def filter_export(self, queryset, **kwargs):
        return super().filter_export(queryset, **kwargs).select_related("merchant", "product")

    def dehydrate_shop(self, case) -> str:
        return case.merchant.name

    def dehydrate_product(self, case) -> str:
        return case.product.name

    def dehydrate_type(self, case) -> str:
        return str(case.get_type_display())

    def dehydrate_status(self, case) -> str:
        return str(case.get_status_display())

    def dehydrate_reason(self, case) -> str:
        return str(case.get_reason_display())

    def dehydrate_amount(self, case) -> str:
        return f"{case.amount:.2f}"

    def dehydrate_refunded_amount(self, case) -> str:
        return f"{case.refunded_amount:.2f}" if case.refunded_amount is not None else ""

    def dehydrate_created_at(self, case) -> str:
        return _local(case.created_at)

    def dehydrate_deadline_at(self, case) -> str:
        return _local(case.deadline_at)
