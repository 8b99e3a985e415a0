"""States, the pure predicates that guard order transitions (M-2, M-3, S-1..S-5), and who makes each move.

The conditions read the order; the permissions (`permission=` on the transitions, and the `Move`s declared
at the end for what is not a transition) read the order and the user. Pages offer what these allow
(merchants.kernel.moves); the services check again under the lock and stay the authority.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from merchants.kernel.moves import NOBODY, PLATFORM, SHARED, SHOP, Move, Moves, permission
from merchants.kernel.scoping import (
    WRITE_ROLES,
    is_buyer,
    is_platform,
    merchant_id_of,
    require_role,
    role_for,
)
from merchants.kernel.workflow import ActorNotAllowedError, ApplicationError, condition, require_transition


class PaymentMethod(models.TextChoices):
    ONLINE = "online", _("在线支付")
    COD = "cod", _("货到付款")


class OrderStatus(models.TextChoices):
    UNPAID = "unpaid", _("待付款")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("待确认")
    TO_SHIP = "to_ship", _("待发货")
    PARTIALLY_SHIPPED = "partially_shipped", _("部分发货")
    SHIPPED = "shipped", _("已发货")
    RECEIVED = "received", _("已收货")
    CANCELLED = "cancelled", _("已取消")


# States in which items may still go out in packages (S-1).
SHIPPABLE_STATES = (OrderStatus.TO_SHIP, OrderStatus.PARTIALLY_SHIPPED)
# States an order may be cancelled from by someone (M-3); who may do it is decided by the service
# (cancel_refusal below): once anything shipped only platform staff, and only a cod order.
CANCELLABLE_STATES = (
    OrderStatus.UNPAID,
    OrderStatus.AWAITING_CONFIRMATION,
    OrderStatus.TO_SHIP,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
)


class Carrier(models.TextChoices):
    SF = "sf", _("顺丰速运")
    ZTO = "zto", _("中通快递")
    YTO = "yto", _("圆通速递")
    YUNDA = "yunda", _("韵达快递")
    STO = "sto", _("申通快递")
    JD = "jd", _("京东物流")
    EMS = "ems", _("EMS")
    JT = "jt", _("极兔速递")
    POSTAL = "postal", _("邮政快递包裹")
    OTHER = "other", _("其他")


class AftersaleLock(models.TextChoices):
    """What the after-sales app says about an item; S-2 reads it, the aftersales services write it."""

    NONE = "", _("无售后")
    OPEN = "open", _("售后中")
    REFUNDED = "refunded", _("已退款")


@condition(_("货到付款订单才需要商家确认"))
def is_cod(order) -> bool:
    return order.payment_method == PaymentMethod.COD


@condition(_("在线支付订单才有付款这一步"))
def is_online(order) -> bool:
    return order.payment_method == PaymentMethod.ONLINE


# ---- who makes each move (permissions: (instance, user) -> bool, whatever the state)


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


@permission(SHOP)
def is_shop_writer(instance, user) -> bool:
    """An owner or agent of the object's shop; a superuser answers for any shop (require_role, platform=False)."""
    if not _active(user):
        return False
    return user.is_superuser or role_for(user, merchant_id_of(instance)) in WRITE_ROLES


@permission(PLATFORM)
def is_platform_staff(instance, user) -> bool:
    """Platform staff (the `platform` group) and superusers."""
    return is_platform(user)


@permission(SHARED)
def is_shop_writer_or_platform_staff(instance, user) -> bool:
    return is_shop_writer(instance, user) or is_platform_staff(instance, user)


@permission(NOBODY)
def buyer_only(instance, user) -> bool:
    """The buyer's own move (the buyer feed, imports): never a button in the panel."""
    return is_buyer(user)


@permission(NOBODY)
def system_only(instance, user) -> bool:
    """Deadlines, the payment gateway, the services' own follow-ups: never a button."""
    return user is None


@permission(SHARED, role=is_shop_writer_or_platform_staff)
def may_cancel_order(order, user) -> bool:
    """M-3, as cancel_refusal decides it (the one rule: the buttons and cancel_order agree)."""
    return cancel_refusal(order, user) is None


@permission(PLATFORM)
def may_confirm_receipt(order, user) -> bool:
    """S-5: the buyer confirms receipt; platform staff may do it for them (no page offers it yet)."""
    return is_buyer(user) or is_platform(user)


# ---- M-3, who may cancel what (the FSM allows every state before `received`; this decides the actor):
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

    `merchants` imports nothing above it: the after-sales app registers its refund here (AppConfig.ready,
    through merchants.services, which re-exports this).
    The hook is called as `hook(order, actor=..., reason=..., at=...)` inside cancel_order's transaction,
    with the order row locked and still in its paid state; it returns the refunds it started and must be
    idempotent (an item refunded in full, or already being refunded, gets none). Registering the same
    function twice keeps one.
    """
    _paid_cancel_hooks[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def paid_cancel_hooks() -> list[PaidCancelHook]:
    """The registered refund hooks, in the order they were registered."""
    return list(_paid_cancel_hooks.values())


def needs_refund(order) -> bool:
    """A paid online order: cancelling it refunds the buyer."""
    return order.payment_method == PaymentMethod.ONLINE and order.status != OrderStatus.UNPAID


def cancel_refusal(order, actor) -> ApplicationError | None:
    """Why `actor` may not cancel `order` now under M-3, or None when they may (reads only, no lock).

    The order page asks it to offer the button; cancel_order asks it again under the row lock.
    """
    label = gettext("取消订单")
    try:
        require_transition(order.cancel, action=label)
    except ApplicationError as exc:
        return exc
    cod = order.payment_method == PaymentMethod.COD
    shipped = order.status in (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED) or order.packages.exists()
    if actor is None:  # the system: only what M-3 lets it do on its own, an unpaid online order
        if order.status != OrderStatus.UNPAID:
            return ActorNotAllowedError(gettext("系统只能取消未付款的订单。"), code="system_paid")
    elif is_buyer(actor):
        if cod:
            return ActorNotAllowedError(gettext("货到付款订单提交后，买家不能取消。"), code="cod_buyer")
        if order.status != OrderStatus.UNPAID:
            return ActorNotAllowedError(
                gettext("订单已付款，买家不能直接取消：请联系平台客服取消（全额退款），或申请售后。"),
                code="paid",
            )
    elif is_platform(actor):
        if shipped and not cod:
            return ApplicationError(
                gettext(
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
                gettext("在线支付订单不能由商家取消：未付款订单会超时自动取消，已付款订单请走售后。"),
                code="online_merchant",
            )
        if shipped:
            return ApplicationError(
                gettext("订单已有商品发货，只有平台客服可以取消（应买家要求）。"), code="shipped"
            )
    busy = order.items.filter(aftersale_lock=AftersaleLock.OPEN).select_related("product").first()
    if busy is not None:  # its case decides that item's money; a second refund beside it could pay twice
        return ApplicationError(
            gettext("商品「%(name)s」有进行中的售后，请先处理完该售后再取消订单。")
            % {"name": busy.product.name},
            code="aftersale_open",
        )
    if needs_refund(order) and not _paid_cancel_hooks:
        return ApplicationError(gettext("退款服务不可用，已付款的订单暂不能取消。"), code="no_refund")
    return None


# ---- moves that are not transitions (S-1, S-4)


@condition(_("订单没有可以发货的商品：未发货的商品都在售后中或已退款。"))
def has_items_to_ship(order) -> bool:
    """S-1, S-2: an unshipped item free of after-sales, to put in a package."""
    return order.unshipped_shippable_items().filter(aftersale_lock=AftersaleLock.NONE).exists()


@condition(_("订单全部发货后才能修改已发货包裹的物流信息。"))
def can_change_tracking(order) -> bool:
    """S-3, S-4: a package's tracking may change once every shippable item has shipped."""
    return order.status == OrderStatus.SHIPPED and order.packages.exists()


ORDER_MOVES = Moves(
    # Shipping settles the order's shipping state: it needs settle_shipping's states as well.
    Move("ship", is_shop_writer, has_items_to_ship, via="settle_shipping"),
    Move("change_tracking", is_shop_writer, can_change_tracking),
)
