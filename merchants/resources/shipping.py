"""Batch shipping 批量发货 (B-1, S-1..S-4)."""

from __future__ import annotations

import functools

from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields

from merchants import services
from merchants.kernel.importing import BatchResult, SpreadsheetResource, any_of
from merchants.kernel.scoping import is_platform, sees_all, sees_merchant
from merchants.kernel.workflow import ApplicationError
from merchants.models import Order, OrderItem, Package
from merchants.resources.common import (  # noqa: F401
    FALSE_WORDS,
    LIST_SEPARATORS,
    TRUE_WORDS,
    Cells,
    MoneyWidget,
    RowShops,
    ShopRowsMixin,
    TextWidget,
    YesNoWidget,
    cell_plain,
    cell_text,
    chunks,
    preview_of,
)
from merchants.transitions import AftersaleLock, Carrier

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


@functools.cache
def _carrier_names() -> dict[str, str]:
    """{casefolded code, Chinese name or English name: carrier code}."""
    from django.utils import translation  # noqa: PLC0415

    names = {}
    for choice in Carrier:
        names[choice.value.casefold()] = choice.value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names[force_str(choice.label).casefold()] = choice.value
    return names


def carrier_code(value: str) -> str:
    """A carrier by its code (sf), its Chinese name (顺丰速运) or its English name; else the text as given."""
    text = cell_text(value)
    return _carrier_names().get(text.casefold(), text)


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

    # -- import: set-based (issue 12 §6). The file is read and checked in Python; one scoped lookup
    # of the orders it names, one of their items and one of their packages; then every row that is
    # not already shipped goes to merchants.services.ship_many — the batch form of ship(), the same
    # S-1/S-2 checks and tracking formats — which locks the orders and items in one statement each
    # and writes everything or nothing. Every refusal names its row; the preview asks ship_many to
    # check without writing.

    def import_prepared(self, dataset, *args, dry_run=False, **kwargs):
        batch = BatchResult(self, dataset)
        batch.formula_errors()
        cells = Cells(self, dataset)
        col = cells.column
        shops = RowShops(
            self.actor, {cell_text(cells(v, "shop")) for v in dataset} if cells.has("shop") else ()
        )
        check_shop = sees_all(self.actor) or cells.has("shop")

        # 1. each row on its own: required cells, the shop (B-4)
        parsed = {}
        for number, values in enumerate(dataset, start=1):
            shop = None
            code = cell_text(cells(values, "shop"))
            if check_shop and (code or sees_all(self.actor)):
                try:
                    shop = shops.resolve(code)
                except ValueError as exc:
                    batch.error(number, col["shop"], str(exc))
            order_no = cell_text(cells(values, "order_no"))
            if not order_no:
                batch.error(number, col["order_no"], gettext("请填写订单号。"))
            codes = [c for c in LIST_SEPARATORS.split(cell_text(cells(values, "skus"))) if c]
            carrier = carrier_code(cells(values, "carrier"))
            tracking_no = cell_text(cells(values, "tracking_no"))
            if number not in batch.errors:
                parsed[number] = (shop, order_no, codes, carrier, tracking_no)

        # 2. the orders, their items and packages: one query each (per 5,000 on PostgreSQL). The orders by
        # number alone (unique across shops), the actor's shops kept (sees_merchant): with the shop in the
        # SQL the planner scanned the whole shop whenever its statistics lagged (orders just added).
        numbers = {order_no for _s, order_no, *_r in parsed.values()}
        found = Order.objects.values_list("id", "order_no", "merchant_id")
        orders = {
            no: (pk, shop_id)
            for pk, no, shop_id in any_of(found, "order_no", numbers)
            if sees_merchant(self.actor, shop_id)
        }
        order_ids = [pk for pk, _shop in orders.values()]
        items: dict[int, list] = {}
        item_rows = OrderItem.objects.values_list(
            "id", "order_id", "sku__sku_code", "product__spu_id", "package_id", "aftersale_lock"
        )
        for row in any_of(item_rows, "order_id", order_ids):
            items.setdefault(row[1], []).append(row)
        packages = {}
        for pk, order_id, carrier, tracking_no in any_of(
            Package.objects.values_list("id", "order_id", "carrier", "tracking_no"), "order_id", order_ids
        ):
            packages[(order_id, carrier, tracking_no)] = pk

        # 3. each row's items; a row whose items went out under its tracking number already is skipped
        lines, import_types = [], {}
        for number, (shop, order_no, codes, carrier, tracking_no) in parsed.items():
            found = orders.get(order_no)
            if found is None or (shop is not None and found[1] != shop.pk):
                batch.error(
                    number,
                    col["order_no"],
                    gettext("订单号「%(no)s」不存在，或不属于您的店铺。") % {"no": order_no},
                )
                continue
            order_id = found[0]
            rows = items.get(order_id, [])
            if codes:
                chosen, missing = [], []
                for code in dict.fromkeys(codes):
                    matched = [r for r in rows if (r[2] == code if r[2] else r[3] == code)]
                    if matched:
                        chosen.extend(matched)
                    else:
                        missing.append(code)
                if missing:
                    batch.error(
                        number,
                        col["skus"],
                        gettext("订单 %(no)s 中没有商品 %(codes)s。")
                        % {"no": order_no, "codes": "、".join(missing)},
                    )
                    continue
            else:
                chosen = [r for r in rows if r[4] is None and r[5] != AftersaleLock.REFUNDED]
            try:  # the service's own normal form, to recognise a row that already went out
                norm_carrier, norm_tracking = services.clean_tracking(carrier, tracking_no)
            except ApplicationError:
                norm_carrier, norm_tracking = carrier, tracking_no
            already = packages.get((order_id, norm_carrier, norm_tracking))
            if already is not None and all(r[4] == already for r in chosen):
                import_types[number] = "skip"  # a repeated import: this package is in the database
                continue
            if not chosen:
                batch.error(number, col["skus"], gettext("订单 %(no)s 没有待发货的商品。") % {"no": order_no})
                continue
            lines.append(
                services.ShipLine(
                    order_id=order_id,
                    item_ids=[r[0] for r in chosen],
                    carrier=carrier,
                    tracking_no=tracking_no,
                    key=number,
                )
            )
            import_types[number] = "new"

        # 4. the service: checks every line (the preview, or a file with bad rows), else ships them all
        write = not dry_run and not batch.errors
        try:
            services.ship_many(lines, actor=self.service_actor, check_only=not write)
        except services.ShipRefused as exc:
            for number, error in exc.refusals:
                column = SHIP_ERROR_COLUMNS.get(error.code or "", "order_no")
                batch.error(number, col[column], "；".join(error.messages))
        return batch.finish(import_types, preview_of(self, dataset))

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
