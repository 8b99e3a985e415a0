"""Products with their SKUs (B-1): a row per SKU, natural keys (shop, 商品ID) and (shop, SKU编码)."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields

from merchants.kernel.importing import BatchResult, SpreadsheetResource, any_of, insert_rows
from merchants.kernel.scoping import WRITE_ROLES, roles_for, scope_to_actor, sees_all
from merchants.models import Merchant, Product, Sku
from merchants.resources.common import (  # noqa: F401
    FALSE_WORDS,
    LIST_SEPARATORS,
    TRUE_WORDS,
    MoneyWidget,
    ShopRowsMixin,
    TextWidget,
    YesNoWidget,
    cell_plain,
    cell_text,
    chunks,
)

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
        spu_id = cell_text(row.get(force_str(self.fields["spu_id"].column_name)))
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
            and cell_text(row[field.column_name]) == ""
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
        code = cell_text(row.get(code_col))
        if code:
            price_col = force_str(self.fields["price"].column_name)
            price = None
            try:
                price = self.fields["price"].widget.clean(row.get(price_col))
            except ValueError as exc:
                errors[price_col] = [str(exc)]
            spec = cell_text(row.get(force_str(self.fields["spec"].column_name)))
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
        codes = {cell_text(cell(values, "shop")) for values in dataset} - {""}
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
            code = cell_text(cell(values, "shop"))
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
            spu_id, name = cell_text(cell(values, "spu_id")), cell_plain(cell(values, "name"))
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
            sku_code, spec = cell_text(cell(values, "sku_code")), cell_plain(cell(values, "spec"))
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
