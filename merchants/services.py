"""Every write to shops, orders and packages (M-1..M-4, S-1..S-5).

Order of work in each service: lock through a scoped selector, check the actor and the rules,
transition, save, record one event, schedule side effects on commit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from merchants import selectors
from merchants.kernel.checks import clean_text, pk_of
from merchants.kernel.events import record_event, record_events
from merchants.kernel.notices import (
    mark_notices_read as mark_notices_read,
)  # the notice services, re-exported
from merchants.kernel.notices import notify as notify
from merchants.kernel.scoping import BUYER as BUYER  # the buyer actor (SPEC §9 Actors), re-exported
from merchants.kernel.scoping import WRITE_ROLES, is_buyer, is_platform, require_role
from merchants.kernel.workflow import ActorNotAllowedError, ApplicationError, require_transition
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
from merchants.transitions import AftersaleLock, Carrier, OrderStatus, PaymentMethod

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
    """
    require_role(actor, merchant.pk, WRITE_ROLES)
    address_fields = clean_address(address) if address is not None else {}
    placed_at = placed_at or timezone.now()
    if not lines:
        raise ApplicationError(_("订单至少需要一件商品。"))
    for line in lines:
        if line.product.merchant_id != merchant.pk or (line.sku and line.sku.merchant_id != merchant.pk):
            raise ApplicationError(_("商品「%(name)s」不属于该店铺。") % {"name": line.product.name})
        if line.quantity < 1 or line.paid_amount < 0:
            raise ApplicationError(_("商品数量须至少为 1，金额不能为负。"))
    if payment_method not in PaymentMethod.values:
        raise ApplicationError(_("未知的支付方式：%(value)s") % {"value": payment_method})
    total = sum((line.paid_amount for line in lines), Decimal("0.00"))
    settings_ = PlatformSettings.load()
    if payment_method == PaymentMethod.COD:
        status, paid_at, deadline = OrderStatus.AWAITING_CONFIRMATION, None, None
    elif paid:
        status, paid_at, deadline = OrderStatus.TO_SHIP, placed_at, None
    else:
        status, paid_at = OrderStatus.UNPAID, None
        deadline = placed_at + timedelta(hours=settings_.unpaid_cancel_hours)  # M-3
    try:
        with transaction.atomic():
            order = Order.objects.create(
                merchant=merchant,
                order_no=order_no,
                buyer_id=buyer_id,
                buyer_name=buyer_name,
                buyer_phone=buyer_phone,
                payment_method=payment_method,
                paid_amount=total,
                placed_at=placed_at,
                paid_at=paid_at,
                ship_by=ship_by,
                status=status,
                deadline_at=deadline,
                **address_fields,
            )
    except IntegrityError as exc:
        raise ApplicationError(_("订单号 %(no)s 已存在。") % {"no": order_no}) from exc
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
    record_event(
        order,
        EventKind.PLACED,
        source="",
        actor=actor,
        at=placed_at,
    )
    if paid_at is not None or payment_method == PaymentMethod.COD:  # L-3: cod at placement, online when paid
        count_shop_day(merchant.pk, at=placed_at, amount=total)
    return order


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


def clean_tracking(carrier: str, tracking_no: str, *, check_format: bool = True) -> tuple[str, str]:
    """The carrier and the normalised tracking number (merchants.tracking); ApplicationError if bad.

    `check_format=False` keeps only the generic rule: for numbers that arrive from the platform on the
    buyer's behalf (a return shipment), which nobody here could correct.
    """
    tracking_no = normalise_tracking(tracking_no)
    if not carrier:
        raise ApplicationError(_("请选择快递公司。"), code="carrier")
    if carrier not in Carrier.values:  # imports pass free text: name the value that was refused
        raise ApplicationError(_("未知的快递公司：%(value)s") % {"value": carrier}, code="carrier")
    if not tracking_no:
        raise ApplicationError(_("请填写运单号。"), code="tracking_no")
    try:
        check_tracking(carrier if check_format else Carrier.OTHER, tracking_no)
    except ValidationError as exc:  # re-raise as ours, same message
        raise ApplicationError(exc.messages[0], code="tracking_no") from exc
    return carrier, tracking_no


@transaction.atomic
def ship(order: Order, *, items: Iterable[OrderItem | int], carrier: str, tracking_no: str, actor) -> Package:
    """Put unshipped items of one order into one new package (S-1, S-2); order row, then item rows, locked."""
    order = selectors.order_for_update(order.pk, actor=actor)
    require_role(actor, order.merchant_id, WRITE_ROLES, platform=False)
    carrier, tracking_no = clean_tracking(carrier, tracking_no)
    try:  # a form or import row with a non-numeric or absurd item id: a message, not a 500 (N-9)
        item_ids = sorted({item.pk if isinstance(item, OrderItem) else pk_of(item) for item in items})
    except (TypeError, ApplicationError) as exc:
        raise ApplicationError(_("所选商品无效。"), code="items") from exc
    if not item_ids:
        raise ApplicationError(_("请选择要发货的商品。"), code="items")
    require_transition(order.settle_shipping, action=_("发货"))
    locked = selectors.items_for_update(order, item_ids)
    if len(locked) != len(item_ids):
        raise ApplicationError(_("所选商品不属于订单 %(no)s。") % {"no": order.order_no}, code="items")
    for item in locked:
        if item.package_id is not None:  # S-1: one item, one tracking number
            raise ApplicationError(
                _("商品「%(name)s」已在包裹 %(tracking)s 中发出，一个商品不能拆分到多个运单。")
                % {"name": item.product.name, "tracking": item.package.tracking_no},
                code="already_shipped",
            )
        if item.aftersale_lock == AftersaleLock.OPEN:  # S-2
            raise ApplicationError(
                _("商品「%(name)s」有进行中的售后，暂不能发货。") % {"name": item.product.name},
                code="aftersale_open",
            )
        if item.aftersale_lock == AftersaleLock.REFUNDED:  # S-2
            raise ApplicationError(
                _("商品「%(name)s」已退款成功，不能发货。") % {"name": item.product.name},
                code="aftersale_refunded",
            )
    if order.packages.filter(carrier=carrier, tracking_no=tracking_no).exists():
        raise ApplicationError(
            _("运单号 %(tracking)s 已用于本订单的另一个包裹；同一包裹的商品请一次选中发货。")
            % {"tracking": tracking_no},
            code="duplicate_tracking",
        )
    now = timezone.now()
    package = Package.objects.create(
        merchant_id=order.merchant_id, order=order, carrier=carrier, tracking_no=tracking_no, shipped_at=now
    )
    OrderItem.objects.filter(pk__in=item_ids).update(package=package)
    source = order.status
    order.settle_shipping(
        at=now, auto_receive_after=timedelta(days=PlatformSettings.load().auto_receive_days)
    )
    order.save(update_fields=["status", "shipped_at", "shipped_late", "deadline_at", "updated_at"])
    record_event(
        order,
        EventKind.SHIPPED,
        source=source,
        actor=actor,
        params={"carrier": carrier, "tracking": tracking_no, "count": len(item_ids)},
        data={"package": package.pk, "items": item_ids, "carrier": carrier, "tracking_no": tracking_no},
    )
    return package


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


# M-3, who may cancel what (the FSM allows every state before `received`; this decides the actor):
#
#                      online                               cod
#   unpaid             buyer, system, platform staff        —
#   awaiting_conf.     —                                    merchant (owner/agent), platform staff
#   to_ship            platform staff, with the full refund merchant, platform staff
#   partially_shipped  nobody                               platform staff
#   shipped            nobody                               platform staff
#
# Online, once anything has shipped the goods are on their way: a cancel that refunds in full would pay
# the buyer for a parcel that nobody brings back, so the buyer asks for after-sales instead (return and
# refund for what shipped, refund only for the rest), where the merchant's receipt of the goods comes
# before the money. Cash on delivery has taken no money yet, so SPEC's "once anything has shipped only
# platform staff can" applies as written: the courier brings the parcel back and nothing is refunded.


@dataclass(frozen=True)
class CancelRefund:
    """One refund a paid order's cancellation started (what the refund hook returns, per item)."""

    item_id: int
    case_no: str
    amount: Decimal


PaidCancelHook = Callable[..., Sequence[CancelRefund]]
_paid_cancel_hooks: dict[str, PaidCancelHook] = {}


def paid_cancel_hook(func: PaidCancelHook) -> PaidCancelHook:
    """Register what refunds a paid order that platform staff cancel (M-3, A-6).

    `merchants` imports nothing above it: the after-sales app registers its refund here (AppConfig.ready).
    The hook is called as `hook(order, actor=..., reason=..., at=...)` inside cancel_order's transaction,
    with the order row locked and still in its paid state; it returns the refunds it started and must be
    idempotent (an item refunded in full, or already being refunded, gets none). Registering the same
    function twice keeps one.
    """
    _paid_cancel_hooks[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def _needs_refund(order: Order) -> bool:
    return order.payment_method == PaymentMethod.ONLINE and order.status != OrderStatus.UNPAID


def cancel_refusal(order: Order, actor) -> ApplicationError | None:
    """Why `actor` may not cancel `order` now under M-3, or None when they may (reads only, no lock).

    The order page asks it to offer the button; cancel_order asks it again under the row lock.
    """
    label = _("取消订单")
    try:
        require_transition(order.cancel, action=label)
    except ApplicationError as exc:
        return exc
    cod = order.payment_method == PaymentMethod.COD
    shipped = order.status in (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED) or order.packages.exists()
    if actor is None:  # the system: only what M-3 lets it do on its own, an unpaid online order
        if order.status != OrderStatus.UNPAID:
            return ActorNotAllowedError(_("系统只能取消未付款的订单。"), code="system_paid")
    elif is_buyer(actor):
        if cod:
            return ActorNotAllowedError(_("货到付款订单提交后，买家不能取消。"), code="cod_buyer")
        if order.status != OrderStatus.UNPAID:
            return ActorNotAllowedError(
                _("订单已付款，买家不能直接取消：请联系平台客服取消（全额退款），或申请售后。"), code="paid"
            )
    elif is_platform(actor):
        if shipped and not cod:
            return ApplicationError(
                _(
                    "订单已有商品发货，在线支付订单不能再取消：请买家对已发货的商品申请退货退款，"
                    "未发货的商品申请仅退款。"
                ),
                code="shipped",
            )
    else:
        try:
            require_role(actor, order.merchant_id, WRITE_ROLES, platform=False)
        except ApplicationError as exc:
            return exc
        if not cod:
            return ActorNotAllowedError(
                _("在线支付订单不能由商家取消：未付款订单会超时自动取消，已付款订单请走售后。"),
                code="online_merchant",
            )
        if shipped:
            return ApplicationError(
                _("订单已有商品发货，只有平台客服可以取消（应买家要求）。"), code="shipped"
            )
    busy = order.items.filter(aftersale_lock=AftersaleLock.OPEN).select_related("product").first()
    if busy is not None:  # its case decides that item's money; a second refund beside it could pay twice
        return ApplicationError(
            _("商品「%(name)s」有进行中的售后，请先处理完该售后再取消订单。") % {"name": busy.product.name},
            code="aftersale_open",
        )
    if _needs_refund(order) and not _paid_cancel_hooks:
        return ApplicationError(_("退款服务不可用，已付款的订单暂不能取消。"), code="no_refund")
    return None


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
    if _needs_refund(order):  # before the transition: the cases are opened on the paid order
        for hook in _paid_cancel_hooks.values():
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
    from merchants.kernel.workflow import can_proceed

    changed = []
    reason = _unpaid_reason()
    for order in orders:
        if order.status == OrderStatus.UNPAID and can_proceed(order.cancel):
            order.cancel(at=now, reason=reason)
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
    from merchants.kernel.workflow import can_proceed

    cycles = dict(
        Merchant.objects.filter(pk__in={o.merchant_id for o in orders}).values_list("pk", "settlement_cycle")
    )
    changed = []
    for order in orders:
        if not can_proceed(order.confirm_receipt):
            continue
        # confirm_receipt() reads the merchant's settlement cycle; give it without a query per row.
        order.merchant = Merchant(pk=order.merchant_id, settlement_cycle=cycles[order.merchant_id])
        order.confirm_receipt(at=now)
        order.updated_at = now
        changed.append(order)
    save_batch(changed, RECEIPT_FIELDS)
    record_events(changed, EventKind.AUTO_RECEIVED, source=OrderStatus.SHIPPED, at=now)
    return len(changed)


def cancel_due_unpaid(*, now: datetime, limit: int | None = None, resume: dict | None = None):
    """M-3 sweep: cancel every unpaid online order whose payment window closed (at most `limit` rows).

    Returns the kernel's SweepRun (how many changed, and where a bounded run stopped).
    """
    from merchants.kernel.deadlines import Sweep, run_sweeps

    sweep = Sweep("unpaid", Order.objects.filter(status=OrderStatus.UNPAID), auto_cancel_unpaid)
    return run_sweeps([sweep], now=now, limit=limit, resume=resume)


def confirm_due_receipts(*, now: datetime, limit: int | None = None, resume: dict | None = None):
    """S-5 sweep: shipped orders past the receipt period become received (at most `limit` rows)."""
    from merchants.kernel.deadlines import Sweep, run_sweeps

    sweep = Sweep("shipped", Order.objects.filter(status=OrderStatus.SHIPPED), auto_confirm_receipt)
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
    return shop
