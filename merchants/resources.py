"""Imports and exports of the catalogue and of shipping (B-1..B-4).

- `ProductResource` — products with their SKUs, a row per SKU (the product's columns repeated; a
  product without SKUs is one row with the SKU columns empty). Natural keys: (shop, 商品ID) and
  (shop, SKU编码), so the same file imported twice changes nothing the second time.
- `ShippingResource` — batch shipping 批量发货: order no, the items' SKU codes (empty: every item not
  yet shipped), carrier, tracking no. Each row goes through `merchants.services.ship`, the service the
  ship button calls, so S-1..S-4 apply and a refused row names the rule; a row whose items already
  went out under that same tracking number is skipped (a second import of the same file changes
  nothing).

The shop is named by its code (店铺编码): platform staff name it on every row; a member of one shop may
leave it empty. A row naming another shop, or another shop's order or product, is an error (B-4).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, widgets

from merchants import services
from merchants.kernel.importing import SpreadsheetResource
from merchants.kernel.scoping import WRITE_ROLES, is_platform, roles_for, scope_to_actor, sees_all
from merchants.kernel.workflow import ApplicationError
from merchants.models import Merchant, Order, Package, Product, Sku
from merchants.transitions import AftersaleLock, Carrier

TRUE_WORDS = frozenset({"是", "1", "true", "yes", "y", "在售", "上架", "√", "t"})
FALSE_WORDS = frozenset({"否", "0", "false", "no", "n", "下架", "已下架", "×", "f"})
LIST_SEPARATORS = re.compile(r"[,，、;；|\s]+")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an Excel number cell holding an id: 100001.0 -> "100001"
    return unicodedata.normalize("NFKC", force_str(value)).strip()


class YesNoWidget(widgets.Widget):
    """是 / 否 (and yes/no, 1/0, 在售/下架); blank is "not given"."""

    def clean(self, value, row=None, **kwargs):
        text = _text(value).casefold()
        if not text:
            return None
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise ValueError(gettext("「%(value)s」不是有效的是/否值，请填写“是”或“否”。") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return gettext("是") if value else gettext("否")


class MoneyWidget(widgets.Widget):
    """An amount in yuan: ¥, commas, full-width digits and spaces accepted; two places; never negative."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, int | Decimal):
            text = str(value)
        elif isinstance(value, float):
            text = repr(value)
        else:
            text = _text(value)
        text = text.replace("¥", "").replace("￥", "").replace(",", "").replace("元", "").replace(" ", "")
        if not text:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(gettext("「%(value)s」不是有效的金额。") % {"value": value}) from None
        if not amount.is_finite() or amount < 0:
            raise ValueError(gettext("金额不能为负数：%(value)s") % {"value": value})
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(gettext("金额最多两位小数：%(value)s") % {"value": value})
        return amount.quantize(Decimal("0.01"))

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else f"{value:.2f}"


class TextWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return _text(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else force_str(value)


class ShopRowsMixin:
    """Which shop a row is for: its 店铺编码, or the importing member's one shop (B-4)."""

    shop_field = "shop"

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._shops: dict[str, Merchant | None] = {}

    def _shop_column(self) -> str:
        return force_str(self.fields[self.shop_field].column_name)

    def row_merchant(self, row) -> Merchant:
        column = self._shop_column()
        code = _text(row.get(column))
        if not code:
            shops = sorted(roles_for(self.actor)) if not sees_all(self.actor) else []
            if len(shops) == 1:
                code_or_id = shops[0]
                key = f"#{code_or_id}"
                if key not in getattr(self, "_shops", {}):
                    self._shops = getattr(self, "_shops", {})
                    self._shops[key] = Merchant.objects.get(pk=code_or_id)
                return self._shops[key]
            message = (
                gettext("请填写店铺编码。")
                if sees_all(self.actor)
                else gettext("您是多个店铺的成员，请填写店铺编码。")
            )
            raise ValidationError({column: [message]})
        cache = getattr(self, "_shops", None)
        if cache is None:
            cache = self._shops = {}
        if code not in cache:
            cache[code] = Merchant.objects.filter(code=code).first()
        merchant = cache[code]
        if merchant is None:
            raise ValidationError({column: [gettext("店铺编码「%(code)s」不存在。") % {"code": code}]})
        if not sees_all(self.actor) and roles_for(self.actor).get(merchant.pk) not in WRITE_ROLES:
            raise ValidationError(
                {
                    column: [
                        gettext("不能导入其他店铺（%(code)s）的数据：您只能导入自己店铺的数据。")
                        % {"code": code}
                    ]
                }
            )
        return merchant

    def get_example_row(self):
        """The template's example row names the member's own shop."""
        row = super().get_example_row()
        shops = sorted(roles_for(self.actor)) if not sees_all(self.actor) else []
        if shops:
            row[self.shop_field] = Merchant.objects.get(pk=shops[0]).code
        return row


# --------------------------------------------------------------------------------------------
# Products with SKUs


class ProductResource(ShopRowsMixin, SpreadsheetResource):
    shop = fields.Field(attribute="merchant", column_name=_("店铺编码"), widget=TextWidget())
    spu_id = fields.Field(attribute="spu_id", column_name=_("商品ID"), widget=TextWidget())
    name = fields.Field(attribute="name", column_name=_("商品名称"), widget=TextWidget())
    on_shelf = fields.Field(attribute="on_shelf", column_name=_("在售"), widget=YesNoWidget(), default=True)
    three_guarantee = fields.Field(
        attribute="three_guarantee", column_name=_("三包商品"), widget=YesNoWidget(), default=False
    )
    durable = fields.Field(attribute="durable", column_name=_("耐用品"), widget=YesNoWidget(), default=False)
    sku_code = fields.Field(column_name=_("SKU编码"), widget=TextWidget())
    spec = fields.Field(column_name=_("规格"), widget=TextWidget())
    price = fields.Field(column_name=_("价格（元）"), widget=MoneyWidget())

    required_columns = ("spu_id", "name")
    example_row = {
        "shop": "shop1",
        "spu_id": "SPU100001",
        "name": _("纯棉短袖T恤"),
        "on_shelf": _("是"),
        "three_guarantee": _("否"),
        "durable": _("否"),
        "sku_code": "SKU100001-WL",
        "spec": _("白色 / L"),
        "price": "59.00",
    }

    class Meta:
        model = Product
        fields = (
            "shop",
            "spu_id",
            "name",
            "on_shelf",
            "three_guarantee",
            "durable",
            "sku_code",
            "spec",
            "price",
        )
        import_order = fields
        export_order = fields
        import_id_fields = ("spu_id",)
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    @classmethod
    def get_display_name(cls) -> str:
        return str(_("商品及SKU"))

    # -- import

    def get_instance(self, instance_loader, row):
        merchant = self.row_merchant(row)
        spu_id = _text(row.get(force_str(self.fields["spu_id"].column_name)))
        if not spu_id:
            return None
        return (
            scope_to_actor(Product.objects.all(), self.actor).filter(merchant=merchant, spu_id=spu_id).first()
        )

    def after_init_instance(self, instance, new, row, **kwargs):
        super().after_init_instance(instance, new, row, **kwargs)
        if new:
            instance.merchant = self.row_merchant(row)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        if field is self.fields["shop"]:
            return  # the shop was settled by get_instance / after_init_instance (row_merchant)
        if (
            field.attribute
            and field.column_name in row
            and _text(row[field.column_name]) == ""
            and instance.pk
        ):
            return  # a blank cell on an existing product leaves the value as it is
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        instance._sku = None
        code_col = force_str(self.fields["sku_code"].column_name)
        code = _text(row.get(code_col))
        if code:
            price_col = force_str(self.fields["price"].column_name)
            price = None
            try:
                price = self.fields["price"].widget.clean(row.get(price_col))
            except ValueError as exc:
                errors[price_col] = [str(exc)]
            spec = _text(row.get(force_str(self.fields["spec"].column_name)))
            if len(code) > 40:
                errors[code_col] = [gettext("SKU编码最多 40 个字符。")]
            if len(spec) > 100:
                errors[force_str(self.fields["spec"].column_name)] = [gettext("规格最多 100 个字符。")]
            instance._sku = (code, spec, price)
        if errors:
            raise ValidationError(errors)

    def _existing_sku(self, instance):
        code = instance._sku[0]
        return Sku.objects.filter(merchant_id=instance.merchant_id, sku_code=code).first()

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        if original is None or original.pk is None:
            return False
        if instance._sku is None:
            return True
        code, spec, price = instance._sku
        sku = self._existing_sku(instance)
        return (
            sku is not None
            and sku.product_id == instance.pk
            and sku.spec == spec
            and (price is None or sku.price == price)
        )

    def after_save_instance(self, instance, row, **kwargs):
        super().after_save_instance(instance, row, **kwargs)
        if instance._sku is None:
            return
        code, spec, price = instance._sku
        sku = self._existing_sku(instance)
        column = force_str(self.fields["sku_code"].column_name)
        if sku is None:
            Sku.objects.create(
                merchant_id=instance.merchant_id,
                product=instance,
                sku_code=code,
                spec=spec,
                price=price if price is not None else Decimal("0.00"),
            )
            return
        if sku.product_id != instance.pk:
            other = Product.objects.filter(pk=sku.product_id).values_list("spu_id", flat=True).first()
            raise ValidationError(
                {column: [gettext("SKU编码「%(code)s」已属于商品 %(spu)s。") % {"code": code, "spu": other}]}
            )
        sku.spec = spec
        if price is not None:
            sku.price = price
        sku.save(update_fields=["spec", "price"])

    # -- export: a row per SKU

    def iter_queryset(self, queryset):
        queryset = queryset.select_related("merchant").prefetch_related("skus").order_by("pk")
        for product in super().iter_queryset(queryset):
            skus = sorted(product.skus.all(), key=lambda s: s.pk) or [None]
            for sku in skus:
                product._export_sku = sku
                yield product

    def dehydrate_shop(self, product):
        return product.merchant.code

    def dehydrate_sku_code(self, product):
        sku = getattr(product, "_export_sku", None)
        return sku.sku_code if sku else ""

    def dehydrate_spec(self, product):
        sku = getattr(product, "_export_sku", None)
        return sku.spec if sku else ""

    def dehydrate_price(self, product):
        sku = getattr(product, "_export_sku", None)
        return f"{sku.price:.2f}" if sku else ""


# --------------------------------------------------------------------------------------------
# Batch shipping (批量发货)

# The service's error codes -> the column a refused row is marked in.
SHIP_ERROR_COLUMNS = {
    "carrier": "carrier",
    "tracking_no": "tracking_no",
    "duplicate_tracking": "tracking_no",
    "items": "skus",
    "already_shipped": "skus",
    "aftersale_open": "skus",
    "aftersale_refunded": "skus",
}


def carrier_code(value: str) -> str:
    """A carrier by its code (sf), its Chinese name (顺丰速运) or its English name; else the text as given."""
    text = _text(value)
    key = text.casefold()
    from django.utils import translation  # noqa: PLC0415

    for choice in Carrier:
        names = {choice.value, force_str(choice.label)}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names.add(force_str(choice.label))
        if key in {name.casefold() for name in names}:
            return choice.value
    return text


class ShippingResource(ShopRowsMixin, SpreadsheetResource):
    shop = fields.Field(column_name=_("店铺编码"), widget=TextWidget())
    order_no = fields.Field(column_name=_("订单号"), widget=TextWidget())
    skus = fields.Field(column_name=_("商品SKU"), widget=TextWidget())
    carrier = fields.Field(column_name=_("快递公司"), widget=TextWidget())
    tracking_no = fields.Field(column_name=_("运单号"), widget=TextWidget())

    required_columns = ("order_no", "carrier", "tracking_no")
    example_row = {
        "shop": "shop1",
        "order_no": "O20261100000001",
        "skus": "SKU100001-WL,SKU100001-BM",
        "carrier": _("顺丰速运"),
        "tracking_no": "SF1234567890",
    }

    class Meta:
        model = Package
        fields = ("shop", "order_no", "skus", "carrier", "tracking_no")
        import_order = fields
        export_order = fields
        import_id_fields = ()
        force_init_instance = True
        report_skipped = True

    @classmethod
    def get_display_name(cls) -> str:
        return str(_("批量发货"))

    def _col(self, name) -> str:
        return force_str(self.fields[name].column_name)

    @property
    def service_actor(self):
        # /admin/: the platform's feed ships for the shop (SPEC §9: actor=None is the platform's feeds);
        # the workbench: the member, with their role checked by the service.
        return None if self.actor is None or is_platform(self.actor) else self.actor

    # -- import

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        return  # nothing is written field by field: the row goes through services.ship

    def import_instance(self, instance, row, **kwargs):
        errors: dict[str, list[str]] = {}
        instance._plan = instance._already = None
        order_no = _text(row.get(self._col("order_no")))
        shop = None
        if sees_all(self.actor) or _text(row.get(self._col("shop"))):
            try:
                shop = self.row_merchant(row)
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if not order_no:
            errors[self._col("order_no")] = [gettext("请填写订单号。")]
        if errors:
            raise ValidationError(errors)
        orders = scope_to_actor(Order.objects.select_related("merchant"), self.actor).filter(
            order_no=order_no
        )
        if shop is not None:
            orders = orders.filter(merchant=shop)
        order = orders.first()
        if order is None:
            raise ValidationError(
                {
                    self._col("order_no"): [
                        gettext("订单号「%(no)s」不存在，或不属于您的店铺。") % {"no": order_no}
                    ]
                }
            )
        items = list(order.items.select_related("sku", "product"))
        codes = [code for code in LIST_SEPARATORS.split(_text(row.get(self._col("skus")))) if code]
        if codes:
            chosen, missing = [], []
            for code in dict.fromkeys(codes):
                matched = [
                    item
                    for item in items
                    if (item.sku_id and item.sku.sku_code == code)
                    or (not item.sku_id and item.product.spu_id == code)
                ]
                if matched:
                    chosen.extend(matched)
                else:
                    missing.append(code)
            if missing:
                raise ValidationError(
                    {
                        self._col("skus"): [
                            gettext("订单 %(no)s 中没有商品 %(codes)s。")
                            % {"no": order_no, "codes": "、".join(missing)}
                        ]
                    }
                )
        else:
            chosen = [
                item
                for item in items
                if item.package_id is None and item.aftersale_lock != AftersaleLock.REFUNDED
            ]
        carrier = carrier_code(row.get(self._col("carrier")))
        tracking_no = _text(row.get(self._col("tracking_no")))
        try:  # the same checks the service makes, to recognise a row that already went out
            carrier, tracking_no = services.clean_tracking(carrier, tracking_no)
        except ApplicationError:
            pass
        already = order.packages.filter(carrier=carrier, tracking_no=tracking_no).first()
        if already is not None and all(item.package_id == already.pk for item in chosen):
            instance._already = already  # this package is in the database already: a repeated import
            self._copy(instance, already)
        instance._plan = (order, [item.pk for item in chosen], carrier, tracking_no)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return not import_validation_errors and getattr(instance, "_already", None) is not None

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        if import_validation_errors:
            raise ValidationError(import_validation_errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        order, item_ids, carrier, tracking_no = instance._plan
        if not item_ids:
            raise ValidationError(
                {self._col("skus"): [gettext("订单 %(no)s 没有待发货的商品。") % {"no": order.order_no}]}
            )
        try:
            package = services.ship(
                order, items=item_ids, carrier=carrier, tracking_no=tracking_no, actor=self.service_actor
            )
        except ApplicationError as exc:
            column = SHIP_ERROR_COLUMNS.get(exc.code or "")
            raise ValidationError({self._col(column) if column else "__all__": exc.messages}) from exc
        self._copy(instance, package)

    @staticmethod
    def _copy(instance, package):
        for name in ("pk", "id", "merchant_id", "order_id", "carrier", "tracking_no", "shipped_at"):
            setattr(instance, name, getattr(package, name))
        instance._state.adding = False

    def save_m2m(self, instance, row, **kwargs):
        return

    # -- export (and the preview's columns): one row per package

    def iter_queryset(self, queryset):
        queryset = queryset.select_related("order", "merchant").prefetch_related(
            "items__sku", "items__product"
        )
        yield from super().iter_queryset(queryset.order_by("pk"))

    def dehydrate_shop(self, package):
        return package.merchant.code if package.merchant_id else ""

    def dehydrate_order_no(self, package):
        return package.order.order_no if package.order_id else ""

    def dehydrate_skus(self, package):
        if not package.pk:
            return ""
        return ",".join(
            item.sku.sku_code if item.sku_id else item.product.spu_id for item in package.items.all()
        )

    def dehydrate_carrier(self, package):
        return force_str(package.get_carrier_display()) if package.carrier else ""

    def dehydrate_tracking_no(self, package):
        return package.tracking_no
