"""After-sales vocabulary (A-1, A-2, A-3, A-7), the pure predicates that guard case transitions, and who
makes each move.

The conditions read the case; the permissions (`permission=` on the transitions in aftersales/models.py, and
the `Move`s declared at the end for what is not a transition: a delay report, a refund retry, a message) read
the case and the user. The case page offers what these allow (merchants.kernel.moves); the services check
again under the lock and stay the authority.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from merchants.kernel.moves import Move, Moves
from merchants.kernel.workflow import condition
from merchants.transitions import (
    PaymentMethod,
    buyer_only,
    is_platform_staff,
    is_shop_writer,
    is_shop_writer_or_platform_staff,
    system_only,
)


class CaseType(models.TextChoices):
    REFUND_ONLY = "refund_only", _("仅退款")
    RETURN_REFUND = "return_refund", _("退货退款")
    EXCHANGE = "exchange", _("换货")


class CaseStatus(models.TextChoices):
    PENDING = "pending", _("待商家处理")
    NEGOTIATING = "negotiating", _("协商中")
    REJECTED = "rejected", _("商家已拒绝")
    AWAITING_RETURN = "awaiting_return", _("待买家退货")
    RETURN_IN_TRANSIT = "return_in_transit", _("待商家收货")
    AWAITING_VOUCHER = "awaiting_voucher", _("待上传退款凭证")
    RESHIPPING = "reshipping", _("待商家补发")
    EXCHANGE_SHIPPED = "exchange_shipped", _("换货已发出")
    REFUNDING = "refunding", _("退款中")
    ARBITRATION = "arbitration", _("平台介入")
    REFUNDED = "refunded", _("退款成功")
    EXCHANGED = "exchanged", _("换货成功")
    CLOSED = "closed", _("已关闭")
    CANCELLED = "cancelled", _("买家已撤销")


FINAL_STATES = (CaseStatus.REFUNDED, CaseStatus.EXCHANGED, CaseStatus.CLOSED, CaseStatus.CANCELLED)
OPEN_STATES = tuple(s for s in CaseStatus if s not in FINAL_STATES)
# The buyer may withdraw while the case is open and no money (or replacement) has moved.
WITHDRAWABLE_STATES = (
    CaseStatus.PENDING,
    CaseStatus.NEGOTIATING,
    CaseStatus.REJECTED,
    CaseStatus.AWAITING_RETURN,
    CaseStatus.RETURN_IN_TRANSIT,
    CaseStatus.ARBITRATION,
)


class Reason(models.TextChoices):
    NO_REASON = "no_reason", _("七天无理由")
    QUALITY = "quality", _("质量问题")
    NOT_AS_DESCRIBED = "not_as_described", _("与描述不符")
    COUNTERFEIT = "counterfeit", _("假冒品牌")
    WRONG_ITEM = "wrong_item", _("发错货")
    LOGISTICS = "logistics", _("物流问题")
    OUT_OF_STOCK = "out_of_stock", _("缺货")
    OTHER = "other", _("其他")


class ReasonCategory(models.TextChoices):
    QUALITY_CLAIM = "quality_claim", _("质量类（三包/耐用品延长期限）")
    MERCHANT_FAULT = "merchant_fault", _("商家责任")
    BUYER_PREFERENCE = "buyer_preference", _("买家原因")


class Party(models.TextChoices):
    MERCHANT = "merchant", _("商家")
    BUYER = "buyer", _("买家")


# each reason's category, which also decides who pays the return postage.
REASON_CATEGORY = {
    Reason.QUALITY: ReasonCategory.QUALITY_CLAIM,
    Reason.NOT_AS_DESCRIBED: ReasonCategory.QUALITY_CLAIM,
    Reason.COUNTERFEIT: ReasonCategory.QUALITY_CLAIM,
    Reason.WRONG_ITEM: ReasonCategory.MERCHANT_FAULT,
    Reason.LOGISTICS: ReasonCategory.MERCHANT_FAULT,
    Reason.OUT_OF_STOCK: ReasonCategory.MERCHANT_FAULT,
    Reason.NO_REASON: ReasonCategory.BUYER_PREFERENCE,
    Reason.OTHER: ReasonCategory.BUYER_PREFERENCE,
}
POSTAGE_PAYER = {
    ReasonCategory.QUALITY_CLAIM: Party.MERCHANT,
    ReasonCategory.MERCHANT_FAULT: Party.MERCHANT,
    ReasonCategory.BUYER_PREFERENCE: Party.BUYER,
}


def postage_payer(reason: str) -> str:
    return POSTAGE_PAYER[REASON_CATEGORY[Reason(reason)]]


class ArbitrationOutcome(models.TextChoices):
    REFUND = "refund", _("支持退款")
    RESHIP = "reship", _("商家补发")
    REJECT = "reject", _("驳回买家申请")


class Liability(models.TextChoices):
    MERCHANT = "merchant", _("商家责任")
    BUYER = "buyer", _("买家责任")
    BOTH = "both", _("双方责任")
    NONE = "none", _("无责")


def arbitration_contradiction(outcome, liability) -> str | None:
    """Why an arbitration decision contradicts itself (the form and the service both ask), or None.

    A-7 / N-9: rejecting the buyer's request finds the merchant right; making the merchant liable as well
    would count a dispute the merchant won against its dispute rate (L-5 counts `both` as merchant).
    """
    if outcome == ArbitrationOutcome.REJECT and liability in (Liability.MERCHANT, Liability.BOTH):
        return str(
            _("驳回买家申请时，责任方只能是买家或无责：驳回即认定商家没有责任。请修改判定结果或责任方。")
        )
    return None


class ShippingStage(models.TextChoices):
    """Order shipping state as automation rules see it (A-12)."""

    NOT_SHIPPED = "not_shipped", _("未发货")
    SHIPPED = "shipped", _("已发货")
    RECEIVED = "received", _("已收货")


class DelayReportStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已驳回")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("处理中")
    SUCCEEDED = "succeeded", _("成功")
    FAILED = "failed", _("失败")


# ---- predicates (pure: read the case and its loaded relations, write nothing)


@condition(_("只有换货申请或平台判定补发的售后单需要补发"))
def needs_reship(case) -> bool:
    # An arbitration may order a replacement for any type (A-7 outcome `reship`), not only exchanges.
    return case.type == CaseType.EXCHANGE or case.arbitration_outcome == ArbitrationOutcome.RESHIP


@condition(_("只有货到付款订单需要上传线下退款凭证"))
def is_cod(case) -> bool:
    return case.order.payment_method == PaymentMethod.COD


@condition(_("退款金额超过了该商品可退的金额"))
def within_refundable(case) -> bool:
    return case.amount is not None and 0 < case.amount <= case.item.refundable_amount()


@condition(_("没有待买家回应的协商方案"))
def has_proposal(case) -> bool:
    return case.proposed_at is not None


# ---- moves that are not transitions (A-4, A-6, A-9); the transitions' permissions are on their decorators


@condition(_("只有处理中的售后单可以报备延迟（退款中或已有待审核报备的除外）。"))
def may_report_delay(case) -> bool:
    """A-9: an open case not already being refunded, without a report waiting for the platform."""
    if case.status not in OPEN_STATES or case.status == CaseStatus.REFUNDING:
        return False
    pending = getattr(case, "has_pending_delay_report", None)  # selectors.with_pending_delay_report
    if pending is None:
        pending = case.delay_reports.filter(status=DelayReportStatus.PENDING).exists()
    return not pending


@condition(_("该售后单没有失败待处理的退款。"))
def has_failed_refund(case) -> bool:
    """A-6: the gateway gave up on the case's refund; platform staff may queue it again."""
    return case.status == CaseStatus.REFUNDING and case.refund_failed


CASE_MOVES = Moves(
    Move("file_delay_report", is_shop_writer, may_report_delay),
    Move("retry_refund", is_platform_staff, has_failed_refund),
    Move("add_message", is_shop_writer_or_platform_staff),
)


@condition(_("该报备已审核，不能重复审核。"))
def is_pending_report(report) -> bool:
    return report.status == DelayReportStatus.PENDING


# a delay report has no state machine; platform staff decide a pending one.
DELAY_REPORT_MOVES = Moves(Move("decide", is_platform_staff, is_pending_report))

__all__ = [
    "CASE_MOVES",
    "DELAY_REPORT_MOVES",
    "buyer_only",
    "is_platform_staff",
    "is_shop_writer",
    "is_shop_writer_or_platform_staff",
    "system_only",
]
