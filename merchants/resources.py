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
from functools import partial

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, widgets

from merchants import services
from merchants.kernel.importing import BatchResult, SpreadsheetResource, any_of, insert_rows
from merchants.kernel.scoping import WRITE_ROLES, is_platform, roles_for, scope_to_actor, sees_all
from merchants.kernel.workflow import ApplicationError
from merchants.models import Merchant, Order, Package, Product, Sku
from merchants.transitions import AftersaleLock, Carrier

TRUE_WORDS = frozenset({"是", "1", "true", "yes", "y", "在售", "上架", "√", "t"})
FALSE_WORDS = frozenset({"否", "0", "false", "no", "n", "下架", "已下架", "×", "f"})
LIST_SEPARATORS = re.compile(r"[,，、;；|\s]+")


def _text(value) -> str:
    """A code or number cell as text: NFKC (full-width digits and letters to ASCII), stripped."""
    if value is None:
        return ""
    if value.__class__ is str and value.isascii():
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an Excel number cell holding an id: 100001.0 -> "100001"
    return unicodedata.normalize("NFKC", force_str(value)).strip()


def _plain(value) -> str:
    """A text cell (a name, a variant) as the user typed it: stripped, never normalised."""
    if value is None:
        return ""
    return value.strip() if value.__class__ is str else force_str(value).strip()


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start : start + size]


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

    # -- the set-based path (issue 12 §6): validate every row in Python, one lookup per batch, then
    # bulk writes in the one transaction. The row-by-row hooks above stay for import_export's own
    # callers; import_data (the admin, the benchmark, the tests) comes here.

    def import_prepared(self, dataset, *args, dry_run=False, **kwargs):
        from django.db import IntegrityError, transaction  # noqa: PLC0415

        batch = BatchResult(self, dataset)
        batch.formula_errors()
        col = {name: force_str(field.column_name) for name, field in self.fields.items()}
        headers = list(dataset.headers)
        index = {name: headers.index(column) for name, column in col.items() if column in headers}

        def cell(values, name):
            return values[index[name]] if name in index else None

        # 1. every shop the file names, in one query
        codes = {_text(cell(values, "shop")) for values in dataset} - {""}
        shops = {m.code: m for m in Merchant.objects.filter(code__in=codes)}
        default_shop = None
        if not sees_all(self.actor):
            mine = sorted(roles_for(self.actor))
            if len(mine) == 1:
                default_shop = Merchant.objects.get(pk=mine[0])
        roles = {} if sees_all(self.actor) else roles_for(self.actor)
        yes_no, money = YesNoWidget(), MoneyWidget()

        # 2. each row on its own: values, required cells, formats, the shop (B-4)
        parsed = {}
        for number, values in enumerate(dataset, start=1):
            err = partial(batch.error, number)
            code = _text(cell(values, "shop"))
            merchant = shops.get(code) if code else default_shop
            if code and merchant is None:
                err(col["shop"], gettext("店铺编码「%(code)s」不存在。") % {"code": code})
            elif merchant is None:
                err(
                    col["shop"],
                    gettext("请填写店铺编码。")
                    if sees_all(self.actor)
                    else gettext("您是多个店铺的成员，请填写店铺编码。"),
                )
            elif not sees_all(self.actor) and roles.get(merchant.pk) not in WRITE_ROLES:
                err(
                    col["shop"],
                    gettext("不能导入其他店铺（%(code)s）的数据：您只能导入自己店铺的数据。")
                    % {"code": code},
                )
            spu_id, name = _text(cell(values, "spu_id")), _plain(cell(values, "name"))
            for key, value, limit in (("spu_id", spu_id, 40), ("name", name, 200)):
                if not value:
                    err(col[key], gettext("该列必须填写。"))
                elif len(value) > limit:
                    err(col[key], gettext("最多 %(limit)d 个字符。") % {"limit": limit})
            flags = {}
            for key in ("on_shelf", "three_guarantee", "durable"):
                try:
                    flags[key] = yes_no.clean(cell(values, key))
                except ValueError as exc:
                    err(col[key], str(exc))
            sku_code, spec = _text(cell(values, "sku_code")), _plain(cell(values, "spec"))
            price = None
            if sku_code:
                try:
                    price = money.clean(cell(values, "price"))
                except ValueError as exc:
                    err(col["price"], str(exc))
                if len(sku_code) > 40:
                    err(col["sku_code"], gettext("SKU编码最多 40 个字符。"))
                if len(spec) > 100:
                    err(col["spec"], gettext("规格最多 100 个字符。"))
            if number not in batch.errors:
                parsed[number] = (merchant, spu_id, name, flags, sku_code, spec, price)

        # 3. what is in the database already: one query per chunk, inside the actor's shops
        products, skus = {}, {}
        spus_by_shop, codes_by_shop = {}, {}
        for merchant, spu, _name, _flags, sku_code, *_rest in parsed.values():
            spus_by_shop.setdefault(merchant.pk, set()).add(spu)
            if sku_code:
                codes_by_shop.setdefault(merchant.pk, set()).add(sku_code)
        scoped = scope_to_actor(Product.objects.all(), self.actor)
        for merchant_id, spus in spus_by_shop.items():
            for product in any_of(scoped.filter(merchant_id=merchant_id), "spu_id", spus):
                products[(product.merchant_id, product.spu_id)] = product
        scoped_skus = scope_to_actor(Sku.objects.select_related("product"), self.actor)
        for merchant_id, codes in codes_by_shop.items():
            for sku in any_of(scoped_skus.filter(merchant_id=merchant_id), "sku_code", codes):
                skus[(sku.merchant_id, sku.sku_code)] = sku

        # 4. the plan: new / changed products and SKUs; an SKU of another product is an error
        new_products, changed_products, new_skus, changed_skus = {}, {}, {}, {}
        sku_owner, import_types = {}, {}
        defaults = {flag: self.fields[flag].default for flag in ("on_shelf", "three_guarantee", "durable")}
        for number, (merchant, spu_id, name, flags, sku_code, spec, price) in parsed.items():
            key = (merchant.pk, spu_id)
            product = products.get(key)
            kind = "skip"
            if product is None:
                planned = new_products.get(key)
                wanted = {k: (v if v is not None else defaults[k]) for k, v in flags.items()}
                if planned is None:
                    new_products[key] = {"name": name, **wanted}
                    kind = "new"
                else:
                    planned.update({"name": name, **{k: v for k, v in flags.items() if v is not None}})
            else:
                wanted = {"name": name, **{k: v for k, v in flags.items() if v is not None}}
                if any(getattr(product, attr) != value for attr, value in wanted.items()):
                    for attr, value in wanted.items():
                        setattr(product, attr, value)
                    changed_products[key] = product
                    kind = "update"
            if sku_code:
                sku_key = (merchant.pk, sku_code)
                if sku_key in sku_owner and sku_owner[sku_key][0] != spu_id:
                    batch.error(
                        number,
                        col["sku_code"],
                        gettext("SKU编码「%(code)s」在第 %(row)d 行已用于另一个商品。")
                        % {"code": sku_code, "row": dataset.row_numbers[sku_owner[sku_key][1] - 1]},
                    )
                    continue
                sku_owner[sku_key] = (spu_id, number)
                sku = skus.get(sku_key)
                if sku is not None and sku.product.spu_id != spu_id:
                    batch.error(
                        number,
                        col["sku_code"],
                        gettext("SKU编码「%(code)s」已属于商品 %(spu)s。")
                        % {"code": sku_code, "spu": sku.product.spu_id},
                    )
                    continue
                if sku is None:
                    new_skus[sku_key] = (key, spec, price if price is not None else Decimal("0.00"))
                    kind = "new" if kind == "new" else "update"
                elif sku.spec != spec or (price is not None and sku.price != price):
                    sku.spec = spec
                    if price is not None:
                        sku.price = price
                    changed_skus[sku_key] = sku
                    kind = "new" if kind == "new" else "update"
            import_types[number] = kind

        if not batch.errors and not dry_run:
            try:
                with transaction.atomic():
                    now = timezone.now()
                    new_ids = insert_rows(
                        Product,
                        [
                            "merchant_id",
                            "spu_id",
                            "name",
                            "on_shelf",
                            "three_guarantee",
                            "durable",
                            "created_at",
                        ],
                        [
                            (
                                key[0],
                                key[1],
                                p["name"],
                                p["on_shelf"],
                                p["three_guarantee"],
                                p["durable"],
                                now,
                            )
                            for key, p in new_products.items()
                        ],
                        with_ids=True,
                    )
                    fields_ = ["name", "on_shelf", "three_guarantee", "durable"]
                    Product.objects.bulk_update(changed_products.values(), fields_, batch_size=2000)
                    ids = {key: p.pk for key, p in products.items()}
                    ids.update(zip(new_products, new_ids, strict=True))
                    insert_rows(
                        Sku,
                        ["merchant_id", "product_id", "sku_code", "spec", "price"],
                        [
                            (key[0], ids[pkey], key[1], spec, price)
                            for key, (pkey, spec, price) in new_skus.items()
                        ],
                    )
                    Sku.objects.bulk_update(changed_skus.values(), ["spec", "price"], batch_size=2000)
            except IntegrityError:
                # Another import wrote the same product or SKU meanwhile: nothing of this one was kept.
                batch.error(1, "", gettext("导入期间数据被其他操作修改，本次没有写入任何数据，请重新导入。"))

        diff_columns = [headers.index(c) if c in headers else None for c in self.get_diff_headers()]

        def preview(number):
            values = dataset[number - 1]
            return ["" if i is None or values[i] is None else force_str(values[i]) for i in diff_columns]

        return batch.finish(import_types, preview)

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
