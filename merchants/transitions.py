"""States and the pure predicates that guard order transitions (M-2, M-3, S-1..S-5)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

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


@condition(_("订单已有商品发货，不能取消"))
def nothing_shipped(order) -> bool:
    return not order.packages.exists()


@condition(_("订单还有可发货的商品未发货"))
def all_shippable_items_shipped(order) -> bool:
    return not order.unshipped_shippable_items().exists()
