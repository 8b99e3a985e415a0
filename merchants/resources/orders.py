"""Orders with their items and the buyer's address (B-1: other channels, offline sales).

A row per item: the order's columns repeat on each of its rows (the first row of an order number says
what the order is; a later row that disagrees is an error naming the first). Every order goes through
`merchants.services.place_orders`, the batch form of `place_order` (M-2: payment method, paid,
placed / ship-by times, the address checked as the order page checks it), in one transaction.

Order numbers are unique, so a second import of the same file never duplicates anything: an order whose
number exists already with the same shop, buyer, payment method and items is skipped (reported as
unchanged); one whose number exists with anything different is refused — an import never changes an
order that exists (its state, shipments and cases have moved on). The export (…/order/export/) writes
these columns and imports back unchanged.

A merchant imports into the own shop (B-4): another shop's code, or a product ID or SKU code that is not
the shop's, is an error on its row. Platform staff name the shop on every row.
"""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter

from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields

from merchants import services
from merchants.kernel.importing import BatchResult, SpreadsheetResource, any_of
from merchants.kernel.scoping import scope_to_actor, sees_merchant
from merchants.models import Order, OrderItem, Product, Sku
from merchants.resources.cells import local_text, parse_count, parse_moment
from merchants.resources.common import (
    Cells,
    MoneyWidget,
    RowShops,
    ShopRowsMixin,
    TextWidget,
    YesNoWidget,
    cell_plain,
    cell_text,
    choice_of,
    preview_of,
)
from merchants.transitions import OrderStatus, PaymentMethod

PAYMENT_WORDS = {
    "online": PaymentMethod.ONLINE,
    "在线支付": PaymentMethod.ONLINE,
    "在线": PaymentMethod.ONLINE,
    "线上支付": PaymentMethod.ONLINE,
    "online payment": PaymentMethod.ONLINE,
    "cod": PaymentMethod.COD,
    "货到付款": PaymentMethod.COD,
    "cash on delivery": PaymentMethod.COD,
}

ORDER_FIELDS = (
    "buyer_id",
    "buyer_name",
    "buyer_phone",
    "payment_method",
    "paid",
    "placed_at",
    "ship_by",
    "consignee",
    "consignee_phone",
    "province",
    "city",
    "district",
    "address",
)
ADDRESS_FIELDS = ("consignee", "consignee_phone", "province", "city", "district", "address")
HEAD_CELLS = ("shop", "order_no", *ORDER_FIELDS)  # the order's columns, repeated on each of its rows
_address_of = itemgetter(*ADDRESS_FIELDS)  # an order head -> its address cells, in one C call
LINE_CELLS = ("spu_id", "sku_code", "quantity", "item_paid")
TEXT_LIMITS = {"order_no": 32, "buyer_id": 40, "buyer_name": 60, "buyer_phone": 20}

# The service's error codes -> the column a refused order is marked in.
ORDER_ERROR_COLUMNS = {
    "duplicate": "order_no",
    "address": "consignee",
    "payment_method": "payment_method",
    "product": "spu_id",
    "quantity": "quantity",
    "lines": "spu_id",
}


_YES_NO = YesNoWidget()  # one reader for every order's 已付款 cell


class OrderResource(ShopRowsMixin, SpreadsheetResource):
    shop = fields.Field(column_name=_("店铺编码"), widget=TextWidget())
    order_no = fields.Field(column_name=_("订单号"), widget=TextWidget())
    buyer_id = fields.Field(column_name=_("买家ID"), widget=TextWidget())
    buyer_name = fields.Field(column_name=_("买家昵称"), widget=TextWidget())
    buyer_phone = fields.Field(column_name=_("买家手机号"), widget=TextWidget())
    payment_method = fields.Field(column_name=_("支付方式"), widget=TextWidget())
    paid = fields.Field(column_name=_("已付款"), widget=YesNoWidget())
    placed_at = fields.Field(column_name=_("下单时间"), widget=TextWidget())
    ship_by = fields.Field(column_name=_("承诺发货时间"), widget=TextWidget())
    consignee = fields.Field(column_name=_("收货人"), widget=TextWidget())
    consignee_phone = fields.Field(column_name=_("收货人手机号"), widget=TextWidget())
    province = fields.Field(column_name=_("省份"), widget=TextWidget())
    city = fields.Field(column_name=_("城市"), widget=TextWidget())
    district = fields.Field(column_name=_("区县"), widget=TextWidget())
    address = fields.Field(column_name=_("详细地址"), widget=TextWidget())
    spu_id = fields.Field(column_name=_("商品ID"), widget=TextWidget())
    sku_code = fields.Field(column_name=_("SKU编码"), widget=TextWidget())
    quantity = fields.Field(column_name=_("数量"), widget=TextWidget())
    item_paid = fields.Field(column_name=_("商品实付金额（元）"), widget=MoneyWidget())

    required_columns = ("order_no", "buyer_id", "buyer_name", "spu_id", "quantity", "item_paid")
    chunk_together = "order_no"  # the background path never splits an order's rows over two chunks
    example_row = {
        "shop": "shop1",
        "order_no": "OFF20260501001",
        "buyer_id": "B100001",
        "buyer_name": _("张三"),
        "buyer_phone": "13800000000",
        "payment_method": _("在线支付"),
        "paid": _("是"),
        "placed_at": "2026-05-01 10:00",
        "ship_by": "2026-05-03 10:00",
        "consignee": _("张三"),
        "consignee_phone": "13800000000",
        "province": _("广东省"),
        "city": _("深圳市"),
        "district": _("南山区"),
        "address": _("科技园路 1 号 101 室"),
        "spu_id": "SPU100001",
        "sku_code": "SKU100001-WL",
        "quantity": "1",
        "item_paid": "59.00",
    }

    class Meta:
        model = Order
        fields = (
            "shop",
            "order_no",
            "buyer_id",
            "buyer_name",
            "buyer_phone",
            "payment_method",
            "paid",
            "placed_at",
            "ship_by",
            "consignee",
            "consignee_phone",
            "province",
            "city",
            "district",
            "address",
            "spu_id",
            "sku_code",
            "quantity",
            "item_paid",
        )
        import_order = fields
        export_order = fields
        import_id_fields = ()
        report_skipped = True

    @classmethod
    def get_display_name(cls) -> str:
        return str(_("订单及商品"))

    # -- import (set-based: one lookup per batch, services.place_orders writes)

    def import_prepared(self, dataset, *args, dry_run=False, **kwargs):
        batch = BatchResult(self, dataset)
        batch.formula_errors()
        cells = Cells(self, dataset)
        col = cells.column
        shops = RowShops(
            self.actor, {cell_text(cells(v, "shop")) for v in dataset} if cells.has("shop") else ()
        )
        money = MoneyWidget()
        orders: dict[
            str, dict
        ] = {}  # order no -> {"row": first row, "shop", "head", "lines": [(row, spu, sku, qty, paid)]}

        # 1. each row on its own: formats, required cells, the shop (B-4); rows of one order agree.
        # An order's columns repeat on each of its rows: a row whose order cells are, as typed, those of
        # the order's first (valid) row is that order without parsing them again.
        line_values: dict[tuple, tuple] = {}  # (quantity cell, amount cell) -> parsed, per distinct text
        err = batch.error
        heads = cells.rows(dataset, HEAD_CELLS)
        for number, (raw_head, (spu_cell, sku_cell, quantity_cell, paid_cell)) in enumerate(
            zip(heads, cells.rows(dataset, LINE_CELLS), strict=True), start=1
        ):
            order_no = cell_text(raw_head[1])
            order = orders.get(order_no)
            if order is None or order["raw"] != raw_head:
                shop, head = self._order_head(number, raw_head, shops, col, err)
            else:
                shop, head = order["shop"], order["head"]
            spu_id, sku_code = cell_text(spu_cell), cell_text(sku_cell)
            if not spu_id:
                err(number, col["spu_id"], gettext("该列必须填写。"))
            quantity = paid_amount = None
            key = (quantity_cell, paid_cell)
            parsed = line_values.get(key)
            if parsed is None:
                try:
                    quantity = parse_count(quantity_cell)
                    if quantity is None:
                        err(number, col["quantity"], gettext("该列必须填写。"))
                except ValueError as exc:
                    err(number, col["quantity"], str(exc))
                try:
                    paid_amount = money.clean(paid_cell)
                    if paid_amount is None:
                        err(number, col["item_paid"], gettext("该列必须填写。"))
                except ValueError as exc:
                    err(number, col["item_paid"], str(exc))
                if quantity is not None and paid_amount is not None:
                    line_values[key] = (quantity, paid_amount)
            else:
                quantity, paid_amount = parsed
            if number in batch.errors:
                continue
            if order is None:
                orders[order_no] = {
                    "row": number,
                    "raw": raw_head,
                    "shop": shop,
                    "head": head,
                    "lines": [(number, spu_id, sku_code, quantity, paid_amount)],
                }
            elif (order["shop"] is not shop and order["shop"] != shop) or order["head"] != head:
                err(
                    number,
                    col["order_no"],
                    gettext("与第 %(row)d 行是同一订单，但订单信息（店铺、买家、支付、时间或地址）不一致。")
                    % {"row": dataset.row_numbers[order["row"] - 1]},
                )
            else:
                order["lines"].append((number, spu_id, sku_code, quantity, paid_amount))

        # 2. the products and SKUs the file names, per shop, and the orders that exist: one query each
        products, skus = self._catalogue(orders.values())
        existing = self._existing(list(orders))

        # 3. each order: its lines; an order that exists already is skipped (same) or refused (changed)
        drafts, import_types = [], {}
        for order_no, order in orders.items():
            shop, lines, bad = order["shop"], [], False
            shop_id = shop.pk
            for number, spu_id, sku_code, quantity, paid_amount in order["lines"]:
                product = products.get((shop_id, spu_id))
                if product is None:
                    batch.error(
                        number,
                        col["spu_id"],
                        gettext("商品ID「%(spu)s」在店铺 %(shop)s 中不存在。")
                        % {"spu": spu_id, "shop": shop.code},
                    )
                    bad = True
                    continue
                sku = None
                if sku_code:
                    sku = skus.get((shop_id, sku_code))
                    if sku is None or sku.product_id != product.id:
                        batch.error(
                            number,
                            col["sku_code"],
                            gettext("SKU编码「%(code)s」不是商品 %(spu)s 的 SKU。")
                            % {"code": sku_code, "spu": spu_id},
                        )
                        bad = True
                        continue
                lines.append(
                    services.ItemLine(product=product, quantity=quantity, paid_amount=paid_amount, sku=sku)
                )
            if bad:
                continue
            head = order["head"]
            found = existing.get(order_no)
            if found is not None:
                if found == _signature(shop_id, head, lines):
                    for number, *_rest in order["lines"]:
                        import_types[number] = "skip"
                    continue
                batch.error(
                    order["row"],
                    col["order_no"],
                    gettext("订单号「%(no)s」已存在，且与文件中的内容不同：导入不会修改已有订单。")
                    % {"no": order_no},
                )
                continue
            address = None
            if any(_address_of(head)):
                address = services.ShippingAddress(
                    consignee=head["consignee"],
                    phone=head["consignee_phone"],
                    province=head["province"],
                    city=head["city"],
                    district=head["district"],
                    address=head["address"],
                )
            drafts.append(
                services.OrderDraft(
                    merchant=shop,
                    order_no=order_no,
                    buyer_id=head["buyer_id"],
                    buyer_name=head["buyer_name"],
                    buyer_phone=head["buyer_phone"],
                    lines=lines,
                    payment_method=head["payment_method"],
                    paid=head["paid"],
                    placed_at=head["placed_at"],
                    ship_by=head["ship_by"],
                    address=address,
                    key=order["row"],
                )
            )
            for number, *_rest in order["lines"]:
                import_types[number] = "new"

        # 4. the service checks every order (the preview, or a file with bad rows), else places them all
        write = not dry_run and not batch.errors
        try:
            services.place_orders(drafts, actor=self.service_actor, check_only=not write)
        except services.OrdersRefused as exc:
            for number, error in exc.refusals:
                column = ORDER_ERROR_COLUMNS.get(error.code or "", "order_no")
                batch.error(number or 1, col[column], "；".join(error.messages))
        return batch.finish(import_types, preview_of(self, dataset))

    def _order_head(self, number, raw, shops, col, err):
        """The order columns of one row, checked: (shop, head); each bad cell is an error on the row."""
        shop_cell, _no, buyer_id, buyer_name, buyer_phone, method_cell, paid_cell, placed, ship_by = raw[:9]
        try:
            shop = shops.resolve(cell_text(shop_cell))
        except ValueError as exc:
            err(number, col["shop"], str(exc))
            shop = None
        order_no, buyer_id = cell_text(_no), cell_text(buyer_id)
        buyer_phone, buyer_name = cell_text(buyer_phone), cell_plain(buyer_name)
        if not order_no:  # the required cells, then the lengths (TEXT_LIMITS), in that order
            err(number, col["order_no"], gettext("该列必须填写。"))
        if not buyer_id:
            err(number, col["buyer_id"], gettext("该列必须填写。"))
        if not buyer_name:
            err(number, col["buyer_name"], gettext("该列必须填写。"))
        for name, value in (
            ("order_no", order_no),
            ("buyer_id", buyer_id),
            ("buyer_name", buyer_name),
            ("buyer_phone", buyer_phone),
        ):
            if len(value) > TEXT_LIMITS[name]:
                err(number, col[name], gettext("最多 %(limit)d 个字符。") % {"limit": TEXT_LIMITS[name]})
        method_text = cell_text(method_cell).casefold()
        method = PAYMENT_WORDS.get(method_text) or (
            choice_of(PaymentMethod, method_text) or None if method_text else PaymentMethod.ONLINE
        )
        if method is None:
            err(
                number,
                col["payment_method"],
                gettext("「%(value)s」不是有效的支付方式，请填写“在线支付”或“货到付款”。")
                % {"value": method_cell},
            )
        head = {
            "buyer_id": buyer_id,
            "buyer_name": buyer_name,
            "buyer_phone": buyer_phone,
            "payment_method": method,
        }
        try:
            paid = _YES_NO.clean(paid_cell)
            head["paid"] = True if paid is None else paid
        except ValueError as exc:
            err(number, col["paid"], str(exc))
        for name, value in (("placed_at", placed), ("ship_by", ship_by)):
            try:
                head[name] = parse_moment(value)
            except ValueError as exc:
                err(number, col[name], str(exc))
        head.update(zip(ADDRESS_FIELDS, map(cell_plain, raw[9:]), strict=True))
        return shop, head

    @property
    def service_actor(self):
        """The importing member (the service checks the role); /admin/: the platform's feed (None)."""
        from merchants.kernel.scoping import is_platform  # noqa: PLC0415

        return None if self.actor is None or is_platform(self.actor) else self.actor

    def _catalogue(self, orders):
        spus, codes = {}, {}
        for order in orders:
            shop_id = order["shop"].pk
            for _n, spu_id, sku_code, *_rest in order["lines"]:
                spus.setdefault(shop_id, set()).add(spu_id)
                if sku_code:
                    codes.setdefault(shop_id, set()).add(sku_code)
        products, skus = {}, {}
        scoped = scope_to_actor(Product.objects.only("id", "merchant_id", "spu_id", "name"), self.actor)
        for shop_id, values in spus.items():
            for product in any_of(scoped.filter(merchant_id=shop_id), "spu_id", values):
                products[(shop_id, product.spu_id)] = product
        scoped_skus = scope_to_actor(
            Sku.objects.only("id", "merchant_id", "product_id", "sku_code"), self.actor
        )
        for shop_id, values in codes.items():
            for sku in any_of(scoped_skus.filter(merchant_id=shop_id), "sku_code", values):
                skus[(shop_id, sku.sku_code)] = sku
        return products, skus

    def _existing(self, numbers):
        """{order no: signature} of the orders of the file that exist in the actor's shops.

        Looked up by number alone (unique across shops, its own index) and the actor's shops kept
        (sees_merchant, the scoping rule for one shop): with the shop in the SQL the planner took the
        shop's index once its statistics said small, and a large file's later chunks scanned every
        order the earlier ones wrote (60–90 ms a chunk at 500,000). Another shop's number is left to
        place_orders, which refuses it as taken."""
        found = {}
        ids = {}
        for pk, order_no, *head in any_of(
            Order.objects.values_list("id", "order_no", "merchant_id", "buyer_id", "payment_method"),
            "order_no",
            numbers,
        ):
            if not sees_merchant(self.actor, head[0]):
                continue
            ids[pk] = order_no
            found[order_no] = [head, []]
        for order_id, product_id, sku_id, quantity, paid in any_of(
            OrderItem.objects.values_list("order_id", "product_id", "sku_id", "quantity", "paid_amount"),
            "order_id",
            list(ids),
        ):
            found[ids[order_id]][1].append((product_id, sku_id, quantity, paid))
        return {no: (tuple(head), tuple(sorted(items, key=repr))) for no, (head, items) in found.items()}

    # -- export: a row per item, the order's columns repeated

    def iter_queryset(self, queryset):
        queryset = queryset.select_related("merchant").prefetch_related("items__product", "items__sku")
        for order in super().iter_queryset(queryset.order_by("pk")):
            for item in order.items.all():
                order._export_item = item
                yield order

    def dehydrate_shop(self, order):
        return order.merchant.code

    def dehydrate_order_no(self, order):
        return order.order_no

    def dehydrate_buyer_id(self, order):
        return order.buyer_id

    def dehydrate_buyer_name(self, order):
        return order.buyer_name

    def dehydrate_buyer_phone(self, order):
        return order.buyer_phone

    def dehydrate_payment_method(self, order):
        return force_str(order.get_payment_method_display())

    def dehydrate_paid(self, order):
        paid = order.payment_method == PaymentMethod.ONLINE and order.status != OrderStatus.UNPAID
        if order.payment_method == PaymentMethod.ONLINE and order.status == OrderStatus.CANCELLED:
            paid = order.paid_at is not None
        return gettext("是") if paid else gettext("否")

    def dehydrate_placed_at(self, order):
        return local_text(order.placed_at)

    def dehydrate_ship_by(self, order):
        return local_text(order.ship_by)

    def dehydrate_consignee(self, order):
        return order.consignee

    def dehydrate_consignee_phone(self, order):
        return order.consignee_phone

    def dehydrate_province(self, order):
        return order.province

    def dehydrate_city(self, order):
        return order.city

    def dehydrate_district(self, order):
        return order.district

    def dehydrate_address(self, order):
        return order.street_address

    def dehydrate_spu_id(self, order):
        item = getattr(order, "_export_item", None)
        return item.product.spu_id if item else ""

    def dehydrate_sku_code(self, order):
        item = getattr(order, "_export_item", None)
        return item.sku.sku_code if item and item.sku_id else ""

    def dehydrate_quantity(self, order):
        item = getattr(order, "_export_item", None)
        return str(item.quantity) if item else ""

    def dehydrate_item_paid(self, order):
        item = getattr(order, "_export_item", None)
        return f"{item.paid_amount:.2f}" if item else ""


def _signature(shop_id: int, head: dict, lines) -> tuple:
    """What makes two orders of one number the same order, in the shape `_existing` reads."""
    items = [
        (line.product.pk, line.sku.pk if line.sku else None, line.quantity, Decimal(line.paid_amount))
        for line in lines
    ]
    return ((shop_id, head["buyer_id"], head["payment_method"]), tuple(sorted(items, key=repr)))
