"""Service-ticket vocabulary (T-1, T-2, T-5, T-7) and the pure predicates that guard ticket transitions."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from merchants.kernel.workflow import condition


class TicketCategory(models.TextChoices):
    URGE_SHIPMENT = "urge_shipment", _("催发货")
    LOGISTICS = "logistics", _("物流问题")
    QUALITY = "quality", _("质量问题")
    REFUND = "refund", _("退款问题")
    COMPLAINT = "complaint", _("投诉")
    OTHER = "other", _("其他")


class TicketStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    IN_REVIEW = "in_review", _("审核中")
    CLOSED = "closed", _("已关闭")


class Liability(models.TextChoices):
    """T-5: who was at fault in a closed complaint. Malicious complaints never count against the shop."""

    MERCHANT = "merchant", _("商家责任")
    BUYER = "buyer", _("买家责任")
    NONE = "none", _("无责")
    MALICIOUS = "malicious", _("恶意投诉")


class UrgePath(models.TextChoices):
    """T-7: how the merchant answers an urge-shipment ticket, by the order's situation."""

    TRACKING = "tracking", _("已线下发货，补录运单号")
    SHIP_TIME = "ship_time", _("尚未发货，承诺发货时间")
    OUT_OF_STOCK = "out_of_stock", _("缺货，为买家退款")


# ---- predicates (pure: read the ticket, write nothing). Due-ness is the deadline engine's: it locks only
# rows whose time has passed, and re-checks that under the lock.


@condition(_("服务单本次超时已记录"))
def not_marked_overdue(ticket) -> bool:
    return not ticket.overdue


@condition(_("审核超时已上报"))
def review_not_flagged(ticket) -> bool:
    return not ticket.review_late
