"""Every write to shops, orders and packages (M-1..M-4, S-1..S-5).

Order of work in each service: lock through a scoped selector, check the actor and the rules,
transition, save, record one event, schedule side effects on commit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_fsm import TransitionNotAllowed

from merchants import selectors
from merchants.kernel.checks import clean_text, pk_of
from merchants.kernel.events import record_event, record_events
from merchants.kernel.notices import (
    mark_notices_read as mark_notices_read,
)  # the notice services, re-exported
from merchants.kernel.notices import notify as notify
from merchants.kernel.scoping import BUYER as BUYER  # the buyer actor (SPEC §9 Actors), re-exported
from merchants.kernel.scoping import WRITE_ROLES, is_buyer, is_platform, require_role, scope_to_actor
from merchants.kernel.workflow import (
    ActorNotAllowedError,
    ApplicationError,
    InvalidTransitionError,
    ObjectNotFoundError,
    require_transition,
)
from merchants.members import add_member, change_role, remove_member  # noqa: F401  (the member services)
from merchants.models import (
    FakeShippingSource,
    Merchant,
    Order,
    OrderEvent,
    OrderItem,
    Package,
    PlatformSettings,
    Product,
    ShopDay,
    Sku,
)
from merchants.tracking import check_tracking, normalise_tracking
from merchants.transitions import (
    AftersaleLock,
    CancelRefund,
    Carrier,
    OrderStatus,
    PaymentMethod,
    cancel_refusal,
    needs_refund,
    paid_cancel_hooks,
)

EventKind = OrderEvent.Kind


# --------------------------------------------------------------------------------------------
# Orders arrive (imports, the demo, the buyer feed)


@dataclass(frozen=True)
class ItemLine:
    product: Product
    quantity: int
    paid_amount: Decimal
    sku: Sku | None = None


@dataclass(frozen=True, kw_only=True)
class ShippingAddress:
    """Where the buyer wants the order sent (M-2). `district` may be empty: a few cities have none."""

    consignee: str
    phone: str
    province: str
    city: str
    address: str  # street, building, room
    district: str = ""


# Max lengths are the Order columns'; a part left empty (after trimming) is refused when required.
_ADDRESS_PARTS = (
    # attribute, Order field, label, max length, required
    ("consignee", "consignee", _lazy("收货人"), 40, True),
    ("province", "province", _lazy("省份"), 20, True),
    ("city", "city", _lazy("城市"), 20, True),
    ("district", "district", _lazy("区县"), 20, False),
    ("address", "street_address", _lazy("详细地址"), 120, True),
)
_PHONE_NOISE = re.compile(r"[\s\-\u2010-\u2015\u2212\uff0d()（）]+")
# A mainland mobile number (11 digits), or a landline with its area code (0 + 9–11 digits).
_PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{9,11})$")


def normalise_phone(value: str) -> str:
    """Digits only: full-width digits, spaces, dashes, brackets and a +86 / 0086 prefix removed."""
    digits = _PHONE_NOISE.sub("", unicodedata.normalize("NFKC", value or ""))
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11 and digits[len(prefix)] == "1":
            return digits[len(prefix) :]
    return digits


def clean_address(address: ShippingAddress) -> dict[str, str]:
    """The Order fields of a shipping address, trimmed and checked; ApplicationError naming the part."""
    fields = {}
    for attr, field, label, max_length, required in _ADDRESS_PARTS:
        value = " ".join(str(getattr(address, attr) or "").split())
        if required and not value:
            raise ApplicationError(_("收货地址缺少%(part)s。") % {"part": label}, code="address")
        if len(value) > max_length:
            raise ApplicationError(
                _("收货地址的%(part)s最多 %(limit)d 个字，现在有 %(count)d 个。")
                % {"part": label, "limit": max_length, "count": len(value)},
                code="address",
            )
        fields[field] = value
    phone = normalise_phone(address.phone)
    if not phone:
        raise ApplicationError(_("收货地址缺少收货人手机号。"), code="address")
    if not _PHONE.match(phone):
        raise ApplicationError(
            _("收货人手机号格式不正确：请填写 11 位手机号，或带区号的固定电话。"),
            code="address",
        )
    fields["consignee_phone"] = phone
    return fields


@dataclass(frozen=True, kw_only=True)
class OrderDraft:
    """One order of a batch (place_orders): place_order's arguments, and what a refusal names (`key`)."""

    merchant: Merchant
    order_no: str
    buyer_id: str
    buyer_name: str
    lines: Sequence[ItemLine]
    payment_method: str = PaymentMethod.ONLINE
    buyer_phone: str = ""
    paid: bool = True
    placed_at: datetime | None = None
    ship_by: datetime | None = None
    address: ShippingAddress | None = None
    key: object = None


class OrdersRefused(ApplicationError):
    """place_orders refused: `refusals` is every refused draft as (draft.key, ApplicationError); nothing written."""

    def __init__(self, refusals: list[tuple[object, ApplicationError]]):
        self.refusals = refusals
        first = refusals[0][1]
        super().__init__(first.messages[0], code=first.code)


_PAYMENT_METHODS = frozenset(PaymentMethod.values)  # Choices.values builds a new list on every read


def _order_row(draft: OrderDraft, settings_: PlatformSettings, now: datetime) -> dict:
    """M-2 on one draft: the checks, and the Order's columns (state, paid time, unpaid deadline)."""
    merchant = draft.merchant
    merchant_id = merchant.pk
    address_fields = clean_address(draft.address) if draft.address is not None else {}
    placed_at = draft.placed_at or now
    if not draft.lines:
        raise ApplicationError(_("订单至少需要一件商品。"), code="lines")
    for line in draft.lines:
        if line.product.merchant_id != merchant_id or (line.sku and line.sku.merchant_id != merchant_id):
            raise ApplicationError(
                _("商品「%(name)s」不属于该店铺。") % {"name": line.product.name}, code="product"
            )
        if line.quantity < 1 or line.paid_amount < 0:
            raise ApplicationError(_("商品数量须至少为 1，金额不能为负。"), code="quantity")
    if draft.payment_method not in _PAYMENT_METHODS:
        raise ApplicationError(
            _("未知的支付方式：%(value)s") % {"value": draft.payment_method}, code="payment_method"
        )
    if draft.payment_method == PaymentMethod.COD:
        status, paid_at, deadline = OrderStatus.AWAITING_CONFIRMATION, None, None
    elif draft.paid:
        status, paid_at, deadline = OrderStatus.TO_SHIP, placed_at, None
    else:
        status, paid_at = OrderStatus.UNPAID, None
        deadline = placed_at + timedelta(hours=settings_.unpaid_cancel_hours)  # M-3
    return {
        "merchant_id": merchant_id,
        "order_no": draft.order_no,
        "buyer_id": draft.buyer_id,
        "buyer_name": draft.buyer_name,
        "buyer_phone": draft.buyer_phone,
        "payment_method": draft.payment_method,
        "paid_amount": sum((line.paid_amount for line in draft.lines), Decimal("0.00")),
        "placed_at": placed_at,
        "paid_at": paid_at,
        "ship_by": draft.ship_by,
        "status": status,
        "deadline_at": deadline,
        **address_fields,
    }


def _duplicate(order_no: str) -> ApplicationError:
    return ApplicationError(_("订单号 %(no)s 已存在。") % {"no": order_no}, code="duplicate")


@transaction.atomic
def place_order(
    merchant: Merchant,
    *,
    order_no: str,
    buyer_id: str,
    buyer_name: str,
    lines: Sequence[ItemLine],
    payment_method: str = PaymentMethod.ONLINE,
    buyer_phone: str = "",
    paid: bool = True,
    placed_at: datetime | None = None,
    ship_by: datetime | None = None,
    actor=None,
    address: ShippingAddress | None = None,
) -> Order:
    """Create an order with its items (M-2): online orders start unpaid (or to_ship once paid), cod ones wait.

    `address`, when given, is checked (every part but the district, the phone's format, the lengths).
    The single form of place_orders: the same checks (_order_row), one order written by the ORM.
    """
    require_role(actor, merchant.pk, WRITE_ROLES)
    draft = OrderDraft(
        merchant=merchant,
        order_no=order_no,
        buyer_id=buyer_id,
        buyer_name=buyer_name,
        lines=lines,
        payment_method=payment_method,
        buyer_phone=buyer_phone,
        paid=paid,
        placed_at=placed_at,
        ship_by=ship_by,
        address=address,
    )
    row = _order_row(draft, PlatformSettings.load(), timezone.now())
    row.pop("merchant_id")
    try:
        with transaction.atomic():
            order = Order.objects.create(merchant=merchant, **row)
    except IntegrityError as exc:
        raise _duplicate(order_no) from exc
    OrderItem.objects.bulk_create(
        OrderItem(
            merchant=merchant,
            order=order,
            product=line.product,
            sku=line.sku,
            quantity=line.quantity,
            paid_amount=line.paid_amount,
        )
        for line in lines
    )
    record_event(order, EventKind.PLACED, source="", actor=actor, at=order.placed_at)
    _count_shop_days([{**row, "merchant_id": merchant.pk}])
    return order


def _count_shop_days(rows: Iterable[dict]) -> None:
    """ShopDay for new orders (the rows place_order / place_orders write): one update per shop and day.

    L-3: a cod order counts on the day it was placed, an online order when paid (never while unpaid).
    """
    days: dict[tuple[int, date], list] = {}
    zone = timezone.get_current_timezone()  # once, not per row (localdate() looks it up each time)
    for row in rows:
        cod = row["payment_method"] == PaymentMethod.COD
        at = row["placed_at"] if cod else row.get("paid_at")
        if at is None:
            continue
        day = (
            at.astimezone(zone).date() if at.tzinfo is not None else timezone.localdate(at)
        )  # naive: refused
        bucket = days.setdefault((row["merchant_id"], day), [0, Decimal("0"), at])
        bucket[0] += 1
        bucket[1] += row["paid_amount"]
    for (merchant_id, _day), (orders, amount, at) in days.items():
        count_shop_day(merchant_id, at=at, amount=amount, orders=orders)


_ORDER_COLUMNS = (
    "merchant_id",
    "order_no",
    "buyer_id",
    "buyer_name",
    "buyer_phone",
    "payment_method",
    "paid_amount",
    "placed_at",
    "paid_at",
    "ship_by",
    "status",
    "deadline_at",
    "consignee",
    "consignee_phone",
    "province",
    "city",
    "district",
    "street_address",
    "cancel_reason",
    "updated_at",
)


_BLANK_ORDER = dict.fromkeys(_ORDER_COLUMNS, "")
_order_tuple = itemgetter(*_ORDER_COLUMNS)  # a row dict -> its COPY tuple, in one C call


@transaction.atomic
def place_orders(drafts: Sequence[OrderDraft], *, actor, check_only: bool = False) -> list[int]:
    """The batch form of place_order (M-2): every draft checked as place_order checks it; all or none.

    Order numbers are unique: one query finds those taken already, and a number twice in the batch is
    refused on its second draft. Any refusal: OrdersRefused naming every refused draft, nothing written.
    Otherwise orders, items and their PLACED events are inserted in bulk (COPY on PostgreSQL) in this
    transaction. `check_only`: check and return []. Returns the new orders' ids in draft order.
    """
    if not drafts:
        return []
    settings_, now = PlatformSettings.load(), timezone.now()
    taken = set()
    numbers = sorted({d.order_no for d in drafts})
    taken.update(_by_ids(Order._base_manager.all(), numbers, "order_no").values_list("order_no", flat=True))
    allowed: dict[int, ApplicationError | None] = {}
    refusals, rows = [], []

    def checked():
        """Each draft checked in turn (refusals collected); the COPY tuple of each while none is refused."""
        for draft in drafts:
            try:
                merchant_id = draft.merchant.pk
                if merchant_id not in allowed:
                    try:
                        require_role(actor, merchant_id, WRITE_ROLES)
                        allowed[merchant_id] = None
                    except ApplicationError as exc:
                        allowed[merchant_id] = exc
                if allowed[merchant_id] is not None:
                    raise allowed[merchant_id]
                row = _order_row(draft, settings_, now)
                if draft.order_no in taken:
                    raise _duplicate(draft.order_no)
                taken.add(draft.order_no)
                row["updated_at"] = now
                rows.append((draft, row))
                if not refusals:
                    yield _order_tuple({**_BLANK_ORDER, **row})
            except ApplicationError as exc:
                refusals.append((draft.key, exc))
        if refusals:
            raise OrdersRefused(refusals)

    if check_only:
        for _tuple in checked():
            pass
        return []
    from merchants.kernel.importing import insert_rows  # noqa: PLC0415

    # Every draft is checked before anything is written (a refusal raised inside a running COPY left
    # the connection waiting on PostgreSQL: never stream the checks into the COPY).
    order_rows = list(checked())
    try:
        with transaction.atomic():
            ids = insert_rows(Order, list(_ORDER_COLUMNS), order_rows, with_ids=True)
    except IntegrityError as exc:  # another import placed one of these numbers meanwhile
        raise OrdersRefused(
            [(None, ApplicationError(_("导入期间订单号被占用，请重新导入。"), code="duplicate"))]
        ) from exc
    insert_rows(
        OrderItem,
        ["merchant_id", "order_id", "product_id", "sku_id", "quantity", "paid_amount"],
        (
            (
                row["merchant_id"],
                order_id,
                line.product.pk,
                line.sku.pk if line.sku else None,
                line.quantity,
                line.paid_amount,
            )
            for (draft, row), order_id in zip(rows, ids, strict=True)
            for line in draft.lines
        ),
    )
    record_events(  # each PLACED event at its order's placed time, as place_order records it
        [
            _Subject(order_id, {"target_status": row["status"], "created_at": row["placed_at"]})
            for (_draft, row), order_id in zip(rows, ids, strict=True)
        ],
        EventKind.PLACED,
        source="",
        at=now,
        actor=actor,
        per_subject=lambda subject: subject.event,
        returning=False,
    )
    _count_shop_days(row for _draft, row in rows)
    return ids


@transaction.atomic
def pay_order(order: Order, *, at: datetime | None = None) -> Order:
    """The buyer paid an unpaid online order (M-2)."""
    order = selectors.order_for_update(order.pk, actor=None)
    require_transition(order.pay, action=_("付款"))
    source = order.status
    order.pay(at=at or timezone.now())
    order.save(update_fields=["status", "paid_at", "deadline_at", "updated_at"])
    record_event(order, EventKind.PAID, source=source, actor=BUYER)
    count_shop_day(
        order.merchant_id, at=order.paid_at, amount=order.paid_amount
    )  # L-3: online counts when paid
    return order


# --------------------------------------------------------------------------------------------
# Daily per-shop order and GMV counts (L-1 caps, L-4), kept in the order's own transaction


def count_shop_day(merchant_id: int, *, at: datetime, amount: Decimal, orders: int = 1) -> None:
    """Add `orders` orders worth `amount` to the shop's local day of `at` (an F() update, or the day's row).

    Called by place_order (cod, or online paid at once) and pay_order, inside their transaction: the row
    of the day is updated in place (no read-modify-write, so two orders at once both count).
    """
    day = timezone.localdate(at)
    rows = ShopDay.objects.filter(merchant_id=merchant_id, day=day)
    if rows.update(orders=F("orders") + orders, gmv=F("gmv") + amount):
        return
    try:
        with transaction.atomic():
            ShopDay.objects.create(merchant_id=merchant_id, day=day, orders=orders, gmv=amount)
    except IntegrityError:  # another transaction created the day's row meanwhile
        rows.update(orders=F("orders") + orders, gmv=F("gmv") + amount)


def shop_day_counts(orders_qs=None):
    """(merchant_id, local day, orders, GMV) of the valid orders of `orders_qs` (default: all), grouped.

    The one definition of "an order that counts" for sales, GMV and the caps (L-3): a cod order on the day
    it was placed, an online order on the day it was paid; an unpaid online order (paid_at null) never.
    """
    from django.db.models import Case, Count, Sum, When
    from django.db.models.functions import TruncDate

    qs = Order.objects.all() if orders_qs is None else orders_qs
    counted_at = Case(
        When(payment_method=PaymentMethod.COD, then=F("placed_at")),
        default=F("paid_at"),
    )
    return (
        qs.annotate(counted_at=counted_at)
        .filter(counted_at__isnull=False)
        .annotate(day=TruncDate("counted_at", tzinfo=timezone.get_current_timezone()))
        .values("merchant_id", "day")
        .annotate(n=Count("pk"), total=Sum("paid_amount"))
        .order_by()
    )


@transaction.atomic
def rebuild_shop_days(*, merchant_ids: Iterable[int] | None = None, batch_size: int = 5000) -> int:
    """Recompute ShopDay from the orders (existing data, imports that bypassed place_order); rows written.

    `merchant_ids` limits it to some shops; their days are replaced as a whole, in one transaction.
    """
    orders = Order.objects.all()
    days = ShopDay.objects.all()
    if merchant_ids is not None:
        merchant_ids = list(merchant_ids)
        orders = orders.filter(merchant_id__in=merchant_ids)
        days = days.filter(merchant_id__in=merchant_ids)
    days.delete()
    rows = [
        ShopDay(merchant_id=row["merchant_id"], day=row["day"], orders=row["n"], gmv=row["total"])
        for row in shop_day_counts(orders)
    ]
    ShopDay.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


@transaction.atomic
def confirm_cod(order: Order, *, actor) -> Order:
    """The merchant confirms a cash-on-delivery order so it can ship (M-2)."""
    order = selectors.order_for_update(order.pk, actor=actor)
    require_role(actor, order.merchant_id, WRITE_ROLES, platform=False)
    require_transition(order.confirm_cod, action=_("确认订单"))
    source = order.status
    order.confirm_cod()
    order.save(update_fields=["status", "updated_at"])
    record_event(order, EventKind.COD_CONFIRMED, source=source, actor=actor)
    return order


# --------------------------------------------------------------------------------------------
# Shipping (S-1..S-4)


_CARRIERS = frozenset(Carrier.values)


def clean_tracking(carrier: str, tracking_no: str, *, check_format: bool = True) -> tuple[str, str]:
    """The carrier and the normalised tracking number (merchants.tracking); ApplicationError if bad.

    `check_format=False` keeps only the generic rule: for numbers that arrive from the platform on the
    buyer's behalf (a return shipment), which nobody here could correct.
    """
    tracking_no = normalise_tracking(tracking_no)
    if not carrier:
        raise ApplicationError(_("请选择快递公司。"), code="carrier")
    if carrier not in _CARRIERS:  # imports pass free text: name the value that was refused
        raise ApplicationError(_("未知的快递公司：%(value)s") % {"value": carrier}, code="carrier")
    if not tracking_no:
        raise ApplicationError(_("请填写运单号。"), code="tracking_no")
    try:
        check_tracking(carrier if check_format else Carrier.OTHER, tracking_no)
    except ValidationError as exc:  # re-raise as ours, same message
        raise ApplicationError(exc.messages[0], code="tracking_no") from exc
    return carrier, tracking_no


@dataclass(frozen=True)
class ShipLine:
    """One package of a batch (ship_many): items of one order under one tracking number.

    `key` is what a refusal names (an import's row number); `item_ids` are OrderItem ids."""

    order_id: int
    item_ids: Sequence[int]
    carrier: str
    tracking_no: str
    key: object = None


class ShipRefused(ApplicationError):
    """ship_many refused: `refusals` is every refused line as (line.key, ApplicationError), in line order.

    Nothing was written (all or nothing, B-3)."""

    def __init__(self, refusals: list[tuple[object, ApplicationError]]):
        self.refusals = refusals
        first = refusals[0][1]
        super().__init__(first.messages[0], code=first.code)


def _by_ids(queryset, ids: Sequence, column: str = "id"):
    """`queryset` restricted to `ids` in one statement, the ids bound as one parameter (`__any`)."""
    return queryset.filter(**{f"{column}__any": list(ids)})


def _chunked(queryset, ids: Sequence[int], column: str = "id"):
    """Rows of `queryset` for `ids`, in one statement, the ids sorted (a lock's one-statement order)."""
    return _by_ids(queryset, sorted(ids), column)


_SHIP_ORDER_FIELDS = ["status", "shipped_at", "shipped_late", "deadline_at", "updated_at"]


@transaction.atomic
def ship_many(lines: Sequence[ShipLine], *, actor, check_only: bool = False) -> list[int]:
    """The batch form of ship() (S-1, S-2): every line a new package; all of them, or none.

    One statement locks the orders (in id order), one the items of those orders (order first, then
    items, as ship()); one reads their packages. Each line is checked as ship() checks it, against
    the rows as the earlier lines of the batch left them (an item in two lines ships once). Any
    refusal: ShipRefused naming every refused line, nothing written. Otherwise the packages and the
    events are inserted in bulk, the items and orders updated in a few statements. `check_only`:
    check and return [] without writing (an import's preview). Returns the new packages' ids, in line order.
    """
    if not lines:
        return []
    order_ids = sorted({line.order_id for line in lines})
    orders_qs = Order.objects.select_for_update(of=("self",)).values_list(*_ShipOrder.LOADED)
    orders = {
        row[0]: _ShipOrder(*row)
        for row in _chunked(scope_to_actor(orders_qs.order_by("pk"), actor), order_ids)
    }
    items_qs = (
        OrderItem.objects.select_for_update(of=("self",))
        .order_by("order_id", "pk")
        .values_list("id", "order_id", "package_id", "aftersale_lock", "product__name", named=True)
    )
    items = {i.id: i for i in _chunked(items_qs, list(orders), "order_id")}
    by_order: dict[int, list] = {}
    for item in items.values():
        by_order.setdefault(item.order_id, []).append(item)
    packages = list(
        _chunked(
            Package.objects.values_list("id", "order_id", "carrier", "tracking_no"), list(orders), "order_id"
        )
    )
    tracking_of = {pk: tracking for pk, _order, _carrier, tracking in packages}
    used = {(order_id, carrier, tracking) for _pk, order_id, carrier, tracking in packages}
    has_packages = {order_id for _pk, order_id, _c, _t in packages}

    allowed: dict[int, ApplicationError | None] = {}
    refusals: list[tuple[object, ApplicationError]] = []
    planned: list[tuple[ShipLine, Order, str, str, list[int]]] = []
    shipped_in: dict[int, str] = {}  # item id -> the tracking number an earlier line put it under
    action = _("发货")
    for line in lines:
        try:
            planned.append(
                _check_line(line, orders, items, allowed, used, tracking_of, shipped_in, actor, action)
            )
        except ApplicationError as exc:
            refusals.append((line.key, exc))
    if refusals:
        raise ShipRefused(refusals)
    if check_only:
        return []

    now = timezone.now()
    new_ids = insert_package_rows(
        [
            (order.merchant_id, order.pk, carrier, tracking_no, now)
            for _l, order, carrier, tracking_no, _i in planned
        ]
    )
    pairs = [
        (item_id, pkg)
        for (_l, _o, _c, _t, item_ids), pkg in zip(planned, new_ids, strict=True)
        for item_id in item_ids
    ]
    _set_packages(pairs)
    auto_receive_after = timedelta(days=PlatformSettings.load().auto_receive_days)
    left = {
        order_id: sum(1 for i in rows if i.package_id is None and i.aftersale_lock != AftersaleLock.REFUNDED)
        for order_id, rows in by_order.items()
    }
    events, changed = [], {}
    for (_line, order, carrier, tracking_no, item_ids), package_id in zip(planned, new_ids, strict=True):
        left[order.pk] -= len(item_ids)
        source = order.status
        order.settle_shipping(
            at=now, auto_receive_after=auto_receive_after, has_packages=True, unshipped=left[order.pk] > 0
        )
        order.updated_at = now
        has_packages.add(order.pk)
        changed[order.pk] = order
        events.append(
            {
                "order": order.pk,
                "source": source,
                "target_status": order.status,  # the state this line left, for its event
                "params": {"carrier": carrier, "tracking": tracking_no, "count": len(item_ids)},
                "data": {
                    "package": package_id,
                    "items": item_ids,
                    "carrier": carrier,
                    "tracking_no": tracking_no,
                },
            }
        )
    groups: dict[tuple, list[int]] = {}  # one UPDATE per distinct set of values (few: one `now`)
    for order in changed.values():
        groups.setdefault(tuple(getattr(order, name) for name in _SHIP_ORDER_FIELDS), []).append(order.pk)
    for values, pks in groups.items():
        _by_ids(Order._base_manager.all(), pks).update(**dict(zip(_SHIP_ORDER_FIELDS, values, strict=True)))
    by_source: dict[str, list] = {}
    for event in events:
        by_source.setdefault(event.pop("source"), []).append(event)
    for source, rows in by_source.items():
        record_events(
            [_Subject(orders[row.pop("order")], row) for row in rows],
            EventKind.SHIPPED,
            source=source,
            at=now,
            actor=actor,
            per_subject=lambda subject: subject.event,
            returning=False,
        )
    return new_ids


_ORDER_STATES = frozenset(OrderStatus.values)
_SETTLE = Order.settle_shipping  # the FSM transition: its source states, its function, its target
_SETTLE_META = _SETTLE._django_fsm
_SETTLE_FROM: dict = {}  # state -> settle_shipping's transition from it (None: not allowed), read once


def _settle_from(state):
    if state not in _SETTLE_FROM:
        _SETTLE_FROM[state] = _SETTLE_META.get_transition(state)
    return _SETTLE_FROM[state]


class _ShipOrder:
    """An order row as ship_many locks it: the few columns it reads, as a plain object, not a model.

    A model instance (45 fields, the FSM mixins) per locked order cost ship_many a third of its Python.
    The shipping move is still Order.settle_shipping's: the same source states (its FSM table) and
    conditions are checked, the same function sets the fields, its RETURN_VALUE target is validated."""

    LOADED = (
        "id",
        "merchant_id",
        "order_no",
        "status",
        "ship_by",
        "payment_method",
        "shipped_at",
        "shipped_late",
        "deadline_at",
    )
    __slots__ = (*LOADED, "updated_at")

    def __init__(self, *row):
        (
            self.id,
            self.merchant_id,
            self.order_no,
            self.status,
            self.ship_by,
            self.payment_method,
            self.shipped_at,
            self.shipped_late,
            self.deadline_at,
        ) = row

    @property
    def pk(self):
        return self.id

    def get_status_display(self):
        return OrderStatus(self.status).label if self.status in _ORDER_STATES else self.status

    def require_settle(self, action) -> None:
        """require_transition(order.settle_shipping) on the row: its state, then the conditions."""
        transition = _settle_from(self.status)
        if transition is None:
            raise InvalidTransitionError(
                _("当前状态「%(state)s」不能执行「%(action)s」。")
                % {"state": self.get_status_display(), "action": action},
                code="invalid_state",
            )
        for check in transition.conditions or ():
            if not check(self):
                message = getattr(check, "message", None) or _("不满足「%(action)s」的条件。") % {
                    "action": action
                }
                raise InvalidTransitionError(message, code="condition_failed")

    def settle_shipping(self, **kwargs) -> None:
        """Order.settle_shipping's own function on the row, the state it returns checked by the FSM."""
        transition = _settle_from(self.status)
        if transition is None:  # require_settle ran first; a second line of the order moved it on
            raise InvalidTransitionError(
                _("当前状态「%(state)s」不能执行「%(action)s」。")
                % {"state": self.get_status_display(), "action": _("发货")},
                code="invalid_state",
            )
        result = _SETTLE.__wrapped__(self, **kwargs)
        target = transition.target
        if hasattr(target, "get_state"):
            target = target.get_state(self, transition, result, args=(), kwargs=kwargs)
        self.status = target


class _Subject:
    """An order as one line of a batch left it: record_events writes one event per line."""

    _meta = Order._meta  # record_events finds the event table through it

    def __init__(self, order, event):
        self.pk, self.event = getattr(order, "pk", order), event


def _check_line(line, orders, items, allowed, used, tracking_of, shipped_in, actor, action):
    """ship()'s checks on one line, in ship()'s order; on success the line's effect is noted in memory."""
    order = orders.get(line.order_id)
    if order is None:
        raise ObjectNotFoundError()
    if order.merchant_id not in allowed:
        try:
            require_role(actor, order.merchant_id, WRITE_ROLES, platform=False)
            allowed[order.merchant_id] = None
        except ApplicationError as exc:
            allowed[order.merchant_id] = exc
    if allowed[order.merchant_id] is not None:
        raise allowed[order.merchant_id]
    carrier, tracking_no = clean_tracking(line.carrier, line.tracking_no)
    item_ids = sorted(set(line.item_ids))
    if not item_ids:
        raise ApplicationError(_("请选择要发货的商品。"), code="items")
    order.require_settle(action)
    chosen = [items.get(pk) for pk in item_ids]
    if any(item is None or item.order_id != order.pk for item in chosen):
        raise ApplicationError(_("所选商品不属于订单 %(no)s。") % {"no": order.order_no}, code="items")
    for item in chosen:
        if item.package_id is not None or item.id in shipped_in:  # S-1: one item, one tracking number
            tracking = shipped_in.get(item.id) or tracking_of.get(item.package_id, "")
            raise ApplicationError(
                _("商品「%(name)s」已在包裹 %(tracking)s 中发出，一个商品不能拆分到多个运单。")
                % {"name": item.product__name, "tracking": tracking},
                code="already_shipped",
            )
        if item.aftersale_lock == AftersaleLock.OPEN:  # S-2
            raise ApplicationError(
                _("商品「%(name)s」有进行中的售后，暂不能发货。") % {"name": item.product__name},
                code="aftersale_open",
            )
        if item.aftersale_lock == AftersaleLock.REFUNDED:  # S-2
            raise ApplicationError(
                _("商品「%(name)s」已退款成功，不能发货。") % {"name": item.product__name},
                code="aftersale_refunded",
            )
    if (order.pk, carrier, tracking_no) in used:
        raise ApplicationError(
            _("运单号 %(tracking)s 已用于本订单的另一个包裹；同一包裹的商品请一次选中发货。")
            % {"tracking": tracking_no},
            code="duplicate_tracking",
        )
    used.add((order.pk, carrier, tracking_no))
    for pk in item_ids:
        shipped_in[pk] = tracking_no
    return line, order, carrier, tracking_no, item_ids


def insert_package_rows(rows: list[tuple]) -> list[int]:
    """New packages (merchant_id, order_id, carrier, tracking_no, shipped_at) in one statement; their ids."""
    if len(rows) == 1:  # the ship button: a plain INSERT
        merchant_id, order_id, carrier, tracking_no, at = rows[0]
        package = Package.objects.create(
            merchant_id=merchant_id,
            order_id=order_id,
            carrier=carrier,
            tracking_no=tracking_no,
            shipped_at=at,
        )
        return [package.pk]
    from merchants.kernel.importing import insert_rows  # noqa: PLC0415

    return insert_rows(
        Package, ["merchant_id", "order_id", "carrier", "tracking_no", "shipped_at"], rows, with_ids=True
    )


def _set_packages(pairs: list[tuple[int, int]]) -> None:
    """Put items into their new packages: (item id, package id) pairs, one UPDATE on PostgreSQL."""
    from django.db import connection  # noqa: PLC0415

    by_package: dict[int, list[int]] = {}
    for item_id, package_id in pairs:
        by_package.setdefault(package_id, []).append(item_id)
    if connection.vendor == "postgresql" and len(by_package) > 1:
        table = OrderItem._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" SET package_id = v.package FROM unnest(%s::bigint[], %s::bigint[]) '
                f'AS v(item, package) WHERE "{table}".id = v.item',
                [[p[0] for p in pairs], [p[1] for p in pairs]],
            )
        return
    if len(by_package) <= 1:
        for package_id, item_ids in by_package.items():
            OrderItem.objects.filter(pk__in=item_ids).update(package_id=package_id)
        return
    OrderItem.objects.bulk_update(
        [OrderItem(pk=item_id, package_id=package_id) for item_id, package_id in pairs],
        ["package"],
        batch_size=500,
    )


@transaction.atomic
def ship(order: Order, *, items: Iterable[OrderItem | int], carrier: str, tracking_no: str, actor) -> Package:
    """Put unshipped items of one order into one new package (S-1, S-2): ship_many with one line.

    The order row, then its item rows, locked; the first refusal raised as it is."""
    order = selectors.order_for_update(order.pk, actor=actor)  # another shop's order: not found
    require_role(actor, order.merchant_id, WRITE_ROLES, platform=False)
    carrier, tracking_no = clean_tracking(carrier, tracking_no)
    try:  # a form or import row with a non-numeric or absurd item id: a message, not a 500 (N-9)
        item_ids = sorted({item.pk if isinstance(item, OrderItem) else pk_of(item) for item in items})
    except (TypeError, ApplicationError) as exc:
        raise ApplicationError(_("所选商品无效。"), code="items") from exc
    try:
        (package_id,) = ship_many(
            [ShipLine(order_id=order.pk, item_ids=item_ids, carrier=carrier, tracking_no=tracking_no)],
            actor=actor,
        )
    except ShipRefused as exc:
        raise exc.refusals[0][1] from None
    return Package.objects.get(pk=package_id)


@transaction.atomic
def update_tracking(package: Package, *, carrier: str, tracking_no: str, actor) -> Package:
    """Change a package's tracking once every shippable item shipped (S-3, S-4); its items move together."""
    order = selectors.order_for_update(package.order_id, actor=actor)
    require_role(actor, order.merchant_id, WRITE_ROLES, platform=False)
    package = selectors.package_for_update(package.pk, actor=actor)
    carrier, tracking_no = clean_tracking(carrier, tracking_no)
    if order.status == OrderStatus.PARTIALLY_SHIPPED or order.unshipped_shippable_items().exists():  # S-3
        raise ApplicationError(
            _("订单还有商品未发货，全部发货前不能修改已发货包裹的物流信息。"), code="not_fully_shipped"
        )
    if order.status != OrderStatus.SHIPPED:
        raise ApplicationError(
            _("订单状态为「%(state)s」，不能修改物流信息。") % {"state": order.get_status_display()},
            code="state",
        )
    if (package.carrier, package.tracking_no) == (carrier, tracking_no):
        raise ApplicationError(_("物流信息没有变化。"), code="unchanged")
    if order.packages.exclude(pk=package.pk).filter(carrier=carrier, tracking_no=tracking_no).exists():
        raise ApplicationError(
            _("运单号 %(tracking)s 已用于本订单的另一个包裹。") % {"tracking": tracking_no}
        )
    old = {"carrier": package.carrier, "tracking_no": package.tracking_no}
    package.carrier, package.tracking_no, package.tracking_changed_at = carrier, tracking_no, timezone.now()
    package.save(update_fields=["carrier", "tracking_no", "tracking_changed_at"])
    record_event(
        order,
        EventKind.TRACKING_CHANGED,
        source=order.status,
        actor=actor,
        params={"old": old["tracking_no"], "carrier": carrier, "new": tracking_no},
        data={"package": package.pk, "old": old, "new": {"carrier": carrier, "tracking_no": tracking_no}},
    )
    return package


@transaction.atomic
def resettle_shipping(order: Order | int, *, actor=None) -> Order:
    """Re-derive the shipping state after items stopped being shippable (refunded in full, S-2); no-op otherwise.

    An order whose every item was refunded before anything shipped is cancelled (closed) instead.
    `order` may be an id (merchants.effects passes the item's order_id).
    """
    order = selectors.order_for_update(getattr(order, "pk", order), actor=None)
    from merchants.kernel.workflow import can_proceed

    if not can_proceed(order.settle_shipping):
        return order
    source = order.status
    if not order.packages.exists() and not order.unshipped_shippable_items().exists():
        # Every item was refunded before anything shipped: the order closes (交易关闭). Settling it would
        # mark an order without a parcel `shipped`, then `received`, and make its settlement fall due.
        order.cancel(at=timezone.now(), reason=_("全部商品已退款，交易关闭"))
        order.save(update_fields=["status", "cancelled_at", "cancel_reason", "deadline_at", "updated_at"])
        record_event(
            order,
            EventKind.CANCELLED,
            source=source,
            actor=actor,
            params={"why": "all_refunded"},
        )
        return order
    order.settle_shipping(
        at=timezone.now(), auto_receive_after=timedelta(days=PlatformSettings.load().auto_receive_days)
    )
    if order.status != source:
        order.save(update_fields=["status", "shipped_at", "shipped_late", "deadline_at", "updated_at"])
        record_event(
            order,
            EventKind.SHIPPING_SETTLED,
            source=source,
            actor=actor,
        )
    return order


@transaction.atomic
def flag_fake_shipping(
    package: Package, actor=None, *, source: str | None = None, flagged: bool = True
) -> Package:
    """Set (or clear, flagged=False) a package's fake-shipping flag (L-7); an order event records it.

    Platform staff (source `staff`) or the system — the logistics import, source `logistics_feed` — set
    it; a shop never does. Setting a flag already set (or clearing one not set) changes nothing and
    writes no event, so a feed may repeat itself.
    """
    if not (actor is None or is_platform(actor)):
        raise ActorNotAllowedError(_("只有平台可以标记虚假发货。"))
    if source is None:
        source = FakeShippingSource.LOGISTICS_FEED if actor is None else FakeShippingSource.STAFF
    if source not in FakeShippingSource.values:
        raise ApplicationError(_("未知的标记来源：%(value)s") % {"value": source}, code="source")
    order = selectors.order_for_update(package.order_id, actor=None)
    package = selectors.package_for_update(package.pk, actor=None)
    if package.fake_shipping == bool(flagged):
        return package
    package.fake_shipping = bool(flagged)
    package.fake_shipping_at = timezone.now() if flagged else None
    package.fake_shipping_source = source if flagged else ""
    package.save(update_fields=["fake_shipping", "fake_shipping_at", "fake_shipping_source"])
    record_event(
        order,
        EventKind.FAKE_SHIPPING_FLAGGED if flagged else EventKind.FAKE_SHIPPING_CLEARED,
        source=order.status,
        actor=actor,
        params={"tracking": package.tracking_no, "source": source},
        data={"package": package.pk, "source": source},
    )
    return package


# --------------------------------------------------------------------------------------------
# Receipt and cancellation (S-5, M-3)


@transaction.atomic
def confirm_receipt(order: Order, *, actor) -> Order:
    """The buyer confirms receipt (actor=BUYER); platform staff may do it for them, the system on a feed's word."""
    order = selectors.order_for_update(order.pk, actor=None if is_buyer(actor) else actor)
    if not (actor is None or is_buyer(actor) or is_platform(actor)):
        raise ActorNotAllowedError(_("只有买家（或平台客服代为操作）可以确认收货。"))
    now = timezone.now()
    if actor is None and _is_due(order, now):  # S-5's period has passed: the deadline's own move
        return _auto_receive(order, now=now)
    require_transition(order.confirm_receipt, action=_("确认收货"))
    source = order.status
    order.confirm_receipt(at=now)
    order.save(update_fields=RECEIPT_FIELDS)
    record_event(
        order,
        EventKind.RECEIVED,
        source=source,
        actor=actor,
    )
    return order


@transaction.atomic
def cancel_order(order: Order, *, actor, reason: str) -> Order:
    """Cancel an order under M-3 (who may: cancel_refusal); a paid online order is refunded in full (A-6).

    The buyer (actor=BUYER) an unpaid online order; the system (None) an unpaid one; the merchant a cod
    order not shipped; platform staff, at the buyer's request, any order not yet received except an
    online one that has shipped. The refund — one system-approved refund-only case per item with money
    left — is opened in this transaction by the registered hook and paid after commit. Order row locked;
    a second call finds the order cancelled and refuses, so nothing is refunded twice.
    """
    order = selectors.order_for_update(order.pk, actor=None if is_buyer(actor) else actor)
    refusal = cancel_refusal(order, actor)
    if refusal is not None:
        raise refusal
    if actor is None and _is_due(order, timezone.now()):  # the payment window has closed: the deadline's move
        return _expire_unpaid(order, now=timezone.now())
    speaks_for_itself = actor is None or is_buyer(actor)
    reason = clean_text(reason, label=_("取消原因"), required=not speaks_for_itself, max_length=200)
    now = timezone.now()
    refunds: list[CancelRefund] = []
    if needs_refund(order):  # before the transition: the cases are opened on the paid order
        for hook in paid_cancel_hooks():
            refunds.extend(hook(order, actor=actor, reason=reason, at=now))
    source = order.status
    order.cancel(at=now, reason=reason or (_("买家取消") if is_buyer(actor) else _("系统取消")))
    order.save(update_fields=["status", "cancelled_at", "cancel_reason", "deadline_at", "updated_at"])
    record_event(
        order,
        EventKind.CANCELLED,
        source=source,
        actor=actor,
        message=reason,  # the canceller's words; the buyer and the system give none
    )
    if refunds:
        total = sum((refund.amount for refund in refunds), Decimal("0.00"))
        record_event(
            order,
            EventKind.CANCEL_REFUNDED,
            source=order.status,
            actor=None,  # opened and approved by the system, on the staff member's decision
            params={"count": len(refunds), "total": total, "cases": "、".join(r.case_no for r in refunds)},
            data={
                "refunds": [
                    {"item": r.item_id, "case_no": r.case_no, "amount": str(r.amount)} for r in refunds
                ],
                "total": str(total),
                "decided_by": getattr(actor, "pk", None),
            },
            at=now,
        )
    return order


# --------------------------------------------------------------------------------------------
# Deadlines (M-3, S-5): each deadline's move in its single form (the system acting on one due order,
# through cancel_order / confirm_receipt) and its batch form (the sweep), side by side; the sweeps that
# run them; tests/merchants/test_parity.py proves both forms leave the same rows.

CANCEL_FIELDS = ["status", "cancelled_at", "cancel_reason", "deadline_at", "updated_at"]
RECEIPT_FIELDS = ["status", "received_at", "deadline_at", "settlement_due_on", "updated_at"]


def _is_due(order: Order, now: datetime) -> bool:
    return order.deadline_at is not None and order.deadline_at <= now


def _unpaid_reason() -> str:
    return _("超时未付款，系统自动取消")


def _expire_unpaid(order: Order, *, now: datetime) -> Order:
    """M-3 on one unpaid online order whose payment window closed (lock held): the system cancels it."""
    require_transition(order.cancel, action=_("取消订单"))
    order.cancel(at=now, reason=_unpaid_reason())
    order.save(update_fields=CANCEL_FIELDS)
    record_event(order, EventKind.AUTO_CANCELLED, source=OrderStatus.UNPAID, actor=None, at=now)
    return order


def auto_cancel_unpaid(orders: Sequence[Order], now: datetime) -> int:
    """The batch form of _expire_unpaid, on rows the sweep locked; returns how many changed."""
    from merchants.kernel.deadlines import save_batch

    changed = []
    reason = _unpaid_reason()
    for order in orders:
        try:  # the transition re-checks the state itself (a person may have acted since the ids were read)
            order.cancel(at=now, reason=reason)
        except TransitionNotAllowed:
            continue
        order.updated_at = now
        changed.append(order)
    save_batch(changed, CANCEL_FIELDS)
    record_events(changed, EventKind.AUTO_CANCELLED, source=OrderStatus.UNPAID, at=now)
    return len(changed)


def _auto_receive(order: Order, *, now: datetime) -> Order:
    """S-5 on one shipped order whose receipt period passed (lock held): the system confirms receipt."""
    require_transition(order.confirm_receipt, action=_("确认收货"))
    order.confirm_receipt(at=now)
    order.save(update_fields=RECEIPT_FIELDS)
    record_event(order, EventKind.AUTO_RECEIVED, source=OrderStatus.SHIPPED, actor=None, at=now)
    return order


def auto_confirm_receipt(orders: Sequence[Order], now: datetime) -> int:
    """The batch form of _auto_receive, on rows the sweep locked; returns how many changed."""
    from merchants.kernel.deadlines import save_batch

    # confirm_receipt() reads the shop's settlement cycle: one query for the batch, one instance per shop.
    shops = {
        pk: Merchant(pk=pk, settlement_cycle=cycle)
        for pk, cycle in Merchant.objects.filter(pk__any={o.merchant_id for o in orders}).values_list(
            "pk", "settlement_cycle"
        )
    }
    changed = []
    for order in orders:
        order.merchant = shops[order.merchant_id]
        try:
            order.confirm_receipt(at=now)
        except TransitionNotAllowed:
            continue
        order.updated_at = now
        changed.append(order)
    save_batch(changed, RECEIPT_FIELDS)
    record_events(changed, EventKind.AUTO_RECEIVED, source=OrderStatus.SHIPPED, at=now)
    return len(changed)


# What the two order sweeps load of a due row: the transitions write every other field they save.
SWEPT_ORDER_FIELDS = ("merchant_id", "status", "deadline_at")


def cancel_due_unpaid(*, now: datetime, limit: int | None = None, resume: dict | None = None):
    """M-3 sweep: cancel every unpaid online order whose payment window closed (at most `limit` rows).

    Returns the kernel's SweepRun (how many changed, and where a bounded run stopped).
    """
    from merchants.kernel.deadlines import Sweep, run_sweeps

    unpaid = Order.objects.filter(status=OrderStatus.UNPAID).only(*SWEPT_ORDER_FIELDS)
    sweep = Sweep("unpaid", unpaid, auto_cancel_unpaid)
    return run_sweeps([sweep], now=now, limit=limit, resume=resume)


def confirm_due_receipts(*, now: datetime, limit: int | None = None, resume: dict | None = None):
    """S-5 sweep: shipped orders past the receipt period become received (at most `limit` rows)."""
    from merchants.kernel.deadlines import Sweep, run_sweeps

    shipped = Order.objects.filter(status=OrderStatus.SHIPPED).only(*SWEPT_ORDER_FIELDS)
    sweep = Sweep("shipped", shipped, auto_confirm_receipt)
    return run_sweeps([sweep], now=now, limit=limit, resume=resume)


# --------------------------------------------------------------------------------------------
# Levels (L-1, L-2): staff set a shop's level by hand (shops that existed before the rules)


@transaction.atomic
def set_level(merchant: Merchant, *, actor, level: int, reason: str) -> Merchant:
    """Platform staff set a shop's level (0–7) with a reason; logged as a `manual` evaluation.

    It is a change: the next evaluation is 30 days later (L-2). A cleared shop given a level is active again.
    """
    from merchants.kernel.vocabulary import MerchantStatus
    from merchants.models import LevelEvaluation, LevelOutcome

    if not is_platform(actor):
        raise ActorNotAllowedError(_("只有平台可以调整店铺等级。"))
    try:
        level = int(level)
    except (TypeError, ValueError):
        level = -1
    if not 0 <= level <= 7:
        raise ApplicationError(_("等级应为 0 到 7 之间的整数。"), code="level")
    reason = clean_text(reason, label=_("调整原因"), required=True, max_length=500)
    shop = Merchant.objects.select_for_update().get(pk=merchant.pk)
    now = timezone.now()
    before = shop.level
    shop.level, shop.level_changed_at = level, now
    fields = ["level", "level_changed_at"]
    if shop.status == MerchantStatus.CLEARED:
        shop.status = MerchantStatus.ACTIVE
        fields.append("status")
    shop.save(update_fields=fields)
    today = timezone.localdate(now)
    LevelEvaluation.objects.create(
        merchant=shop,
        evaluated_on=today,
        outcome=LevelOutcome.MANUAL,
        applied=True,
        level_before=before,
        level_after=level,
        reason="manual",
        params={"reason": reason},
        next_evaluation_on=today + timedelta(days=30),
        actor=actor,
        message=reason,
        created_at=now,
    )
    if level != before:  # the shop's members are told (L-8), in the same transaction
        from merchants.levels import notices  # noqa: PLC0415

        notices.build(
            shop,
            outcome=LevelOutcome.MANUAL,
            before=before,
            after=level,
            reason="manual",
            reason_params={"reason": reason},
            at=now,
        ).save()
    return shop
