"""States, the pure predicates that guard order transitions (M-2, M-3, S-1..S-5), and who makes each move.

The conditions read the order; the permissions (`permission=` on the transitions, and the `Move`s declared
at the end for what is not a transition) read the order and the user. Pages offer what these allow
(merchants.kernel.moves); the services check again under the lock and stay the authority.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from merchants.kernel.moves import NOBODY, PLATFORM, SHARED, SHOP, Move, Moves, permission
from merchants.kernel.scoping import WRITE_ROLES, is_buyer, is_platform, merchant_id_of, role_for
from merchants.kernel.workflow import condition


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
# (merchants.services.cancel_refusal): once anything shipped only platform staff, and only a cod order.
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
    """M-3, as merchants.services.cancel_refusal decides it (the one rule: buttons and service agree)."""
    from merchants import services  # noqa: PLC0415  (services import the models, which import this module)

    return services.cancel_refusal(order, user) is None


@permission(PLATFORM)
def may_confirm_receipt(order, user) -> bool:
    """S-5: the buyer confirms receipt; platform staff may do it for them (no page offers it yet)."""
    return is_buyer(user) or is_platform(user)


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
