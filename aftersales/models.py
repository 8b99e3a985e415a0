"""After-sales cases (A-1..A-12): the case and its legal moves, its timeline, refunds, rules, delay reports.

Transition methods change the case in memory only (state, deadline, fields of the move); the
services in aftersales/services.py lock, check, call them, save, and write the event.
"""

import secrets
from datetime import timedelta
from decimal import Decimal

import django_fsm as fsm
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.transitions import (
    OPEN_STATES,
    WITHDRAWABLE_STATES,
    ArbitrationOutcome,
    CaseStatus,
    CaseType,
    DelayReportStatus,
    Liability,
    Party,
    Reason,
    RefundStatus,
    ShippingStage,
    buyer_only,
    has_proposal,
    is_cod,
    is_platform_staff,
    is_shop_writer,
    needs_reship,
    system_only,
    within_refundable,
)
from merchants.kernel import files
from merchants.kernel.checks import phone_validator
from merchants.kernel.models import AttachmentBase
from merchants.kernel.workflow import ConcurrentTransitionMixin
from merchants.models import MONEY, EventBase, MerchantOwned, SingletonSettings
from merchants.transitions import Carrier, PaymentMethod

# N-9: the bounds that make sense. A setting or rule outside them is a typo, and one of them used to
# break every case of a shop (下单后 99999999999 小时: timedelta overflowed in every open_case).
MAX_WAIT_HOURS = 720  # 30 days: no one is given longer than a month to answer, pay or decide
MAX_WAIT_DAYS = 90  # returns, receipts, idle refusals, exchanges: a quarter at most
MAX_WINDOW_DAYS = 3650  # A-2 windows: ten years covers the longest 三包 guarantee
MAX_RULE_HOURS = 8760  # a rule looks back at most a year since order or delivery
MAX_AUTO_AMOUNT = Decimal("100000.00")  # an automatic approval never covers more than ¥100,000
MAX_REFUND_ATTEMPTS = 12  # aftersales.tasks.REFUND_MAX_RETRIES: Celery stops retrying there anyway


def _bounded(low, high):
    return [MinValueValidator(low), MaxValueValidator(high)]


def _hours(label, default, high=MAX_WAIT_HOURS):
    return models.PositiveIntegerField(label, default=default, validators=_bounded(1, high))


def _days(label, default, high=MAX_WAIT_DAYS):
    return models.PositiveIntegerField(label, default=default, validators=_bounded(1, high))


class AftersalesSettings(SingletonSettings):
    """The A-2, A-5, A-11 defaults, editable in /admin/ without a deploy (bounded: N-9)."""

    merchant_response_hours = _hours(_("商家处理时限（小时）"), 48)
    negotiation_hours = _hours(_("协商方案有效期（小时）"), 48)
    buyer_return_days = _days(_("买家退货时限（天）"), 7)
    merchant_receipt_days = _days(_("商家收货时限（天）"), 7)
    voucher_hours = _hours(_("货到付款退款凭证时限（小时）"), 48)
    rejected_idle_days = _days(_("拒绝后买家无操作关闭（天）"), 7)
    exchange_delivery_days = _days(_("换货自动完成（天）"), 15)
    arbitration_hours = _hours(_("平台介入升级时限（小时）"), 72)
    due_soon_hours = _hours(_("即将超时提醒（小时）"), 12)
    window_days = _days(_("收货后可申请售后（天）"), 15, high=MAX_WINDOW_DAYS)
    three_guarantee_days = _days(_("三包商品质量问题申请期（天）"), 90, high=MAX_WINDOW_DAYS)
    durable_days = _days(_("耐用品质量问题申请期（天）"), 180, high=MAX_WINDOW_DAYS)
    express_max_amount = models.DecimalField(
        _("极速退款订单金额上限（元，不含）"),
        **MONEY,
        default=Decimal("300.00"),
        validators=_bounded(Decimal("0.01"), MAX_AUTO_AMOUNT),
    )
    express_max_hours = _hours(_("极速退款下单后时限（小时，不含）"), 6)
    refund_max_attempts = models.PositiveIntegerField(
        _("退款最多尝试次数"), default=5, validators=_bounded(1, MAX_REFUND_ATTEMPTS)
    )

    class Meta:
        verbose_name = _("售后规则设置")
        verbose_name_plural = _("售后规则设置")

    def __str__(self) -> str:
        return str(_("售后规则设置"))

    def clean(self):
        super().clean()
        if (
            self.due_soon_hours is not None
            and self.merchant_response_hours is not None
            and self.due_soon_hours >= self.merchant_response_hours
        ):
            raise ValidationError(
                {
                    "due_soon_hours": _(
                        "即将超时提醒（%(due)d 小时）须短于商家处理时限（%(answer)d 小时），"
                        "否则每个新售后单一开始就显示即将超时。"
                    )
                    % {"due": self.due_soon_hours, "answer": self.merchant_response_hours}
                }
            )


class AutoRefundRule(MerchantOwned):
    """A shop owner's custom auto-approve rule (A-12), evaluated when a case opens."""

    name = models.CharField(_("规则名称"), max_length=60)
    enabled = models.BooleanField(_("启用"), default=True)
    priority = models.PositiveSmallIntegerField(
        _("优先级"), default=10, help_text=_("数字小的先匹配。"), validators=[MaxValueValidator(999)]
    )
    case_types = models.JSONField(_("售后类型"), default=list, help_text=_("为空表示全部类型。"))
    shipping_stages = models.JSONField(_("订单发货状态"), default=list, help_text=_("为空表示全部。"))
    reasons = models.JSONField(_("售后原因"), default=list, help_text=_("为空表示全部原因。"))
    max_amount = models.DecimalField(
        _("退款金额上限（元，含）"),
        **MONEY,
        null=True,
        blank=True,
        validators=_bounded(Decimal("0.01"), MAX_AUTO_AMOUNT),
    )
    max_hours_since_order = models.PositiveIntegerField(
        _("下单后（小时）内"), null=True, blank=True, validators=_bounded(1, MAX_RULE_HOURS)
    )
    max_hours_since_delivery = models.PositiveIntegerField(
        _("签收后（小时）内"), null=True, blank=True, validators=_bounded(1, MAX_RULE_HOURS)
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("自动退款规则")
        verbose_name_plural = _("自动退款规则")
        ordering = ("merchant", "priority", "pk")

    def __str__(self) -> str:
        return self.name


class ReturnAddress(MerchantOwned):
    """One of a shop's return addresses (退货地址库, A-3): where a buyer sends goods back; one is the default.

    Approving a return or an exchange gives the buyer one of them (the default unless the merchant picks
    another); the case keeps a copy of what the buyer was given, so editing the library later never
    changes what an open case says.
    """

    label = models.CharField(_("地址名称"), max_length=30, blank=True, help_text=_("例如：杭州仓、售后部"))
    contact = models.CharField(_("收件人"), max_length=50)
    phone = models.CharField(_("联系电话"), max_length=20, validators=[phone_validator])
    address = models.CharField(_("详细地址"), max_length=200)
    is_default = models.BooleanField(_("默认地址"), default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("退货地址")
        verbose_name_plural = _("退货地址库")
        ordering = ("merchant", "-is_default", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant"], condition=Q(is_default=True), name="return_address_one_default"
            )
        ]

    def __str__(self) -> str:
        name = f"{self.label} · " if self.label else ""
        return f"{name}{self.contact} {self.phone} {self.address}"

    def snapshot(self) -> dict[str, str]:
        """What a case keeps of the address (AfterSaleCase.return_to_*)."""
        return {"contact": self.contact, "phone": self.phone, "address": self.address}


# The reasons every shop starts with (issue 11 §5): (text, evidence required). The shop's own words once
# written (edited, disabled, added to in the workbench); migration 0014 wrote the same list for the shops
# that existed then.
DEFAULT_REJECT_REASONS = (
    ("商品已使用或影响二次销售，不符合退换条件", True),
    ("买家未提供有效凭证，无法核实商品问题", False),
    ("商品经检验无质量问题", True),
    ("定制商品，不支持七天无理由退货", False),
    ("已超过售后申请期限", False),
    ("已与买家协商一致，请买家撤销申请", False),
)


class RejectReason(MerchantOwned):
    """A preset reason for refusing a case (拒绝原因模板, issue 11 §5), edited by the shop.

    `evidence_required`: refusing with it needs at least one image (the reject form asks for it). The
    defaults every shop starts with are written by a data migration and by `ensure_defaults()`.
    """

    text = models.CharField(_("拒绝原因"), max_length=200)
    evidence_required = models.BooleanField(
        _("需要上传凭证"), default=False, help_text=_("选择该原因拒绝时，必须上传凭证图片。")
    )
    position = models.PositiveSmallIntegerField(_("排序"), default=10, validators=[MaxValueValidator(999)])
    enabled = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("拒绝原因")
        verbose_name_plural = _("拒绝原因模板")
        ordering = ("merchant", "position", "pk")

    def __str__(self) -> str:
        return self.text


def _case_no() -> str:
    # 16 characters, e.g. AS26112304718263: "AS", the local date (yymmdd: numbers sort by day and say when
    # at a glance), then 8 random digits. Random rather than the time or a counter: demos and tests open
    # many cases at one frozen instant, and a counter would need a lock every opening waits on. With 10^8
    # numbers a day a clash is rare (~1 in 20,000 days with 100 cases a day, ~1 in 200 with 1,000). The
    # unique constraint on case_no is what guarantees uniqueness: a clash fails the insert (the creating
    # service may retry with a fresh number), it never stores a duplicate.
    return f"AS{timezone.localdate():%y%m%d}{secrets.randbelow(10**8):08d}"


class AfterSaleCase(ConcurrentTransitionMixin, MerchantOwned):
    """A buyer's after-sales request on one order item (A-1, A-3). `deadline_at` drives A-5."""

    # No single-column index: case_shop_recent_idx (merchant, -created_at) serves every shop filter, and each
    # index is one more write per state change (the sweep changes thousands a minute).
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"), db_index=False
    )
    case_no = models.CharField(_("售后单号"), max_length=32, unique=True, default=_case_no)
    order = models.ForeignKey(
        "merchants.Order", on_delete=models.PROTECT, related_name="cases", verbose_name=_("订单")
    )
    item = models.ForeignKey(
        "merchants.OrderItem", on_delete=models.PROTECT, related_name="cases", verbose_name=_("订单商品")
    )
    product = models.ForeignKey(
        "merchants.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("商品")
    )
    # Copied from the order at opening: the workbench filters and searches them on one table.
    order_no = models.CharField(_("订单号"), max_length=32)
    buyer_id = models.CharField(_("买家ID"), max_length=40)
    buyer_name = models.CharField(_("买家昵称"), max_length=60)

    type = models.CharField(_("售后类型"), max_length=16, choices=CaseType.choices)
    status = fsm.FSMField(
        _("售后状态"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.PENDING, protected=True
    )
    reason = models.CharField(_("售后原因"), max_length=20, choices=Reason.choices)
    description = models.TextField(_("买家说明"), blank=True)
    quantity = models.PositiveIntegerField(_("数量"), default=1, validators=[MinValueValidator(1)])
    amount = models.DecimalField(_("申请金额"), **MONEY)
    postage_payer = models.CharField(_("退货运费承担方"), max_length=10, choices=Party.choices)

    deadline_at = models.DateTimeField(_("处理截止时间"), null=True, blank=True)
    merchant_deadline_at = models.DateTimeField(_("商家处理截止时间"), null=True, blank=True)

    # Negotiation
    proposed_type = models.CharField(_("协商售后类型"), max_length=16, choices=CaseType.choices, blank=True)
    proposed_amount = models.DecimalField(_("协商金额"), **MONEY, null=True, blank=True)
    proposal_text = models.TextField(_("协商方案"), blank=True)
    proposed_at = models.DateTimeField(_("协商发起时间"), null=True, blank=True)
    negotiated = models.BooleanField(_("协商一致"), default=False, help_text=_("不计入售后考核指标。"))

    # Merchant refusal
    reject_reason = models.TextField(_("拒绝原因"), blank=True)

    # the return address the buyer was given on approval, as it was then (the library may change).
    return_to_contact = models.CharField(_("退货收件人"), max_length=50, blank=True)
    return_to_phone = models.CharField(_("退货联系电话"), max_length=20, blank=True)
    return_to_address = models.CharField(_("退货地址"), max_length=200, blank=True)

    # Return logistics (buyer -> merchant) and replacement (merchant -> buyer)
    return_carrier = models.CharField(_("退货快递"), max_length=16, blank=True)
    return_tracking_no = models.CharField(_("退货运单号"), max_length=32, blank=True)
    return_shipped_at = models.DateTimeField(_("买家寄回时间"), null=True, blank=True)
    return_received_at = models.DateTimeField(_("商家收货时间"), null=True, blank=True)
    # L-5: the return parcel's signed-for time (from the logistics feed, aftersales.services.record_return_signed);
    # when no feed said so, the moment the merchant confirmed receipt (the merchant cannot have signed later).
    return_signed_at = models.DateTimeField(_("退货签收时间"), null=True, blank=True, db_index=True)
    reship_carrier = models.CharField(_("补发快递"), max_length=16, blank=True)
    reship_tracking_no = models.CharField(_("补发运单号"), max_length=32, blank=True)
    reshipped_at = models.DateTimeField(_("补发时间"), null=True, blank=True)

    # Money
    refunded_amount = models.DecimalField(_("退款金额"), **MONEY, null=True, blank=True)
    refunded_at = models.DateTimeField(_("退款时间"), null=True, blank=True)
    refund_failed = models.BooleanField(_("退款失败待处理"), default=False)
    # N-3: the refund could not be handed to the broker after the commit; aftersales.tasks.requeue_refunds
    # publishes it again at this time (with backoff) and clears both fields once it went.
    refund_requeue_at = models.DateTimeField(_("退款重新排队时间"), null=True, blank=True)
    refund_queue_failures = models.PositiveSmallIntegerField(_("退款排队失败次数"), default=0)
    advance_paid = models.BooleanField(_("平台先行赔付"), default=False)

    # Arbitration
    arbitration_started_at = models.DateTimeField(_("介入时间"), null=True, blank=True)
    arbitration_outcome = models.CharField(
        _("判定结果"), max_length=10, choices=ArbitrationOutcome.choices, blank=True
    )
    liability = models.CharField(_("责任方"), max_length=10, choices=Liability.choices, blank=True)
    arbitrated_at = models.DateTimeField(_("判定时间"), null=True, blank=True)
    escalated = models.BooleanField(_("已升级高级客服"), default=False)

    # Automation and assessment
    auto_approved_by = models.CharField(_("自动同意依据"), max_length=80, blank=True)
    excluded_from_assessment = models.BooleanField(
        _("不计入考核"), default=False, help_text=_("延迟售后报备通过后不计入考核数据。")
    )

    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    closed_at = models.DateTimeField(_("完结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("售后单")
        verbose_name_plural = _("售后单")
        ordering = ("-created_at", "-pk")
        indexes = [
            # The deadline sweep reads due cases through this index only.
            models.Index(
                fields=["status", "deadline_at"], name="case_due_idx", condition=Q(deadline_at__isnull=False)
            ),
            # The workbench list: a shop's newest cases, optionally by state (quick tabs).
            models.Index(fields=["merchant", "-created_at"], name="case_shop_recent_idx"),
            models.Index(fields=["merchant", "status", "-created_at"], name="case_shop_status_idx"),
            models.Index(fields=["-created_at"], name="case_recent_idx"),
            # requeue_refunds (every few seconds) reads only the few cases waiting to be queued again.
            models.Index(
                fields=["refund_requeue_at"],
                name="case_refund_requeue_idx",
                condition=Q(refund_requeue_at__isnull=False),
            ),
            # Staff lists across every shop: one state (quick tab), newest first; also its count.
            models.Index(fields=["status", "-created_at"], name="case_status_recent_idx"),
            # varchar_pattern_ops (PostgreSQL): also serves `order_no LIKE 'x%'` (search by prefix) under
            # a non-C collation; other databases ignore the operator class.
            models.Index(fields=["order_no"], name="case_order_no_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["buyer_id"], name="case_buyer_idx"),
            # The list's search by buyer nickname (exact, as the order list's).
            models.Index(fields=["buyer_name"], name="case_buyer_name_idx"),
        ]
        constraints = [
            # one open case per item at a time — enforced by the database too.
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status__in=[s.value for s in OPEN_STATES]),
                name="case_one_open_per_item",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="case_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.case_no

    # ---- cheap derived values

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def is_due_soon(self, now=None, hours: int = 12) -> bool:
        """A-5: the next deadline is under `hours` away (or already passed, waiting for the sweep)."""
        now = now or timezone.now()
        return self.deadline_at is not None and self.deadline_at < now + timedelta(hours=hours)

    @property
    def shipping_stage(self) -> str:
        from merchants.transitions import OrderStatus

        if self.order.status == OrderStatus.RECEIVED:
            return ShippingStage.RECEIVED
        if self.order.status in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED) and self.item.package_id:
            return ShippingStage.SHIPPED
        return ShippingStage.NOT_SHIPPED

    def _after_approval(self) -> str:
        """Where an approved case goes: refund only pays (cod: the merchant pays offline); others wait for goods."""
        if self.type == CaseType.REFUND_ONLY:
            return (
                CaseStatus.AWAITING_VOUCHER
                if self.order.payment_method == PaymentMethod.COD
                else CaseStatus.REFUNDING
            )
        return CaseStatus.AWAITING_RETURN

    # ---- transitions (in memory; `now` and `limits` (AftersalesSettings) are passed by the service)

    @fsm.transition(
        field=status,
        source=CaseStatus.PENDING,
        target=fsm.RETURN_VALUE(
            CaseStatus.REFUNDING, CaseStatus.AWAITING_RETURN, CaseStatus.AWAITING_VOUCHER
        ),
        conditions=[within_refundable],
        permission=is_shop_writer,
    )
    def approve(self, *, now, limits) -> str:
        """Accept the request as asked."""
        target = self._after_approval()
        self._set_deadline_for(target, now, limits)
        return target

    @fsm.transition(
        field=status,
        source=CaseStatus.PENDING,
        target=CaseStatus.REJECTED,
        permission=is_shop_writer,
    )
    def reject(self, *, now, limits, reason: str) -> None:
        """Refuse, with a reason; the buyer may revise or escalate within the idle period."""
        self.reject_reason = reason
        self._set_deadline_for(CaseStatus.REJECTED, now, limits)

    @fsm.transition(
        field=status,
        source=CaseStatus.PENDING,
        target=CaseStatus.NEGOTIATING,
        permission=is_shop_writer,
    )
    def propose(self, *, now, limits, type: str, amount: Decimal, text: str) -> None:
        """Offer another solution (A-8); the merchant's own 48 h clock keeps running meanwhile."""
        self.proposed_type, self.proposed_amount, self.proposal_text, self.proposed_at = (
            type,
            amount,
            text,
            now,
        )
        self.deadline_at = now + timedelta(hours=limits.negotiation_hours)

    @fsm.transition(
        field=status,
        source=CaseStatus.NEGOTIATING,
        target=fsm.RETURN_VALUE(
            CaseStatus.REFUNDING, CaseStatus.AWAITING_RETURN, CaseStatus.AWAITING_VOUCHER
        ),
        conditions=[has_proposal],
        permission=buyer_only,
    )
    def accept_proposal(self, *, now, limits) -> str:
        """The buyer accepts: the case proceeds as approved on the proposed terms, marked negotiated."""
        self.type = self.proposed_type or self.type
        if self.proposed_amount is not None:
            self.amount = self.proposed_amount
        self.negotiated = True
        target = self._after_approval()
        self._set_deadline_for(target, now, limits)
        return target

    @fsm.transition(
        field=status,
        source=CaseStatus.NEGOTIATING,
        target=CaseStatus.PENDING,
        permission=buyer_only,
    )
    def decline_proposal(self, *, now, limits) -> None:
        """The buyer declines, or the proposal expires: back to the merchant, on the original clock."""
        self.deadline_at = self.merchant_deadline_at or now

    @fsm.transition(
        field=status,
        source=CaseStatus.NEGOTIATING,
        target=CaseStatus.NEGOTIATING,
        conditions=[has_proposal],
        permission=is_shop_writer,
    )
    def revise_proposal(self, *, now, limits, type: str, amount: Decimal, text: str) -> None:
        """The merchant changes the pending proposal (A-3): new terms, the same negotiation clock."""
        self.proposed_type, self.proposed_amount, self.proposal_text = type, amount, text

    @fsm.transition(
        field=status,
        source=CaseStatus.NEGOTIATING,
        target=CaseStatus.PENDING,
        permission=is_shop_writer,
    )
    def withdraw_proposal(self, *, now, limits) -> None:
        """The merchant takes the proposal back (A-3): pending again, on the merchant's original clock."""
        self.deadline_at = self.merchant_deadline_at or now

    @fsm.transition(
        field=status,
        source=CaseStatus.REJECTED,
        target=CaseStatus.PENDING,
        permission=buyer_only,
    )
    def revise(self, *, now, limits, amount: Decimal | None = None, description: str = "") -> None:
        """The buyer revises a refused request; the merchant gets a new answer period."""
        if amount is not None:
            self.amount = amount
        if description:
            self.description = description
        self.merchant_deadline_at = now + timedelta(hours=limits.merchant_response_hours)
        self.deadline_at = self.merchant_deadline_at

    @fsm.transition(
        field=status,
        source=CaseStatus.AWAITING_RETURN,
        target=CaseStatus.RETURN_IN_TRANSIT,
        permission=buyer_only,
    )
    def buyer_ship_return(self, *, now, limits, carrier: str, tracking_no: str) -> None:
        self.return_carrier, self.return_tracking_no, self.return_shipped_at = carrier, tracking_no, now
        self._set_deadline_for(CaseStatus.RETURN_IN_TRANSIT, now, limits)

    @fsm.transition(
        field=status,
        source=CaseStatus.RETURN_IN_TRANSIT,
        target=fsm.RETURN_VALUE(CaseStatus.REFUNDING, CaseStatus.AWAITING_VOUCHER, CaseStatus.RESHIPPING),
        permission=is_shop_writer,
    )
    def confirm_return(self, *, now, limits) -> str:
        """Goods are back: refund (online), wait for the offline voucher (cod), or send the replacement.

        L-5: without a signed-for time from the logistics feed, the receipt's moment stands for it.
        """
        self.return_received_at = now
        if self.return_signed_at is None or self.return_signed_at > now:
            self.return_signed_at = now
        if self.type == CaseType.EXCHANGE:
            target = CaseStatus.RESHIPPING
        elif self.order.payment_method == PaymentMethod.COD:
            target = CaseStatus.AWAITING_VOUCHER
        else:
            target = CaseStatus.REFUNDING
        self._set_deadline_for(target, now, limits)
        return target

    @fsm.transition(
        field=status,
        source=CaseStatus.RETURN_IN_TRANSIT,
        target=CaseStatus.ARBITRATION,
        permission=is_shop_writer,
    )
    def refuse_return(self, *, now, limits) -> None:
        """The merchant refuses the returned goods: the platform decides."""
        self._start_arbitration(now, limits)

    @fsm.transition(
        field=status,
        source=CaseStatus.REJECTED,
        target=CaseStatus.ARBITRATION,
        permission=buyer_only,
    )
    def escalate(self, *, now, limits) -> None:
        """The buyer asks the platform to step in (官方客服介入)."""
        self._start_arbitration(now, limits)

    @fsm.transition(
        field=status,
        source=CaseStatus.ARBITRATION,
        target=fsm.RETURN_VALUE(
            CaseStatus.REFUNDING, CaseStatus.AWAITING_VOUCHER, CaseStatus.RESHIPPING, CaseStatus.CLOSED
        ),
        permission=is_platform_staff,
    )
    def arbitrate(self, *, now, limits, outcome: str, liability: str) -> str:
        self.arbitration_outcome, self.liability, self.arbitrated_at = outcome, liability, now
        if outcome == ArbitrationOutcome.REFUND:
            target = (
                CaseStatus.AWAITING_VOUCHER
                if self.order.payment_method == PaymentMethod.COD
                else CaseStatus.REFUNDING
            )
        elif outcome == ArbitrationOutcome.RESHIP:
            target = CaseStatus.RESHIPPING
        else:
            target = CaseStatus.CLOSED
            self.closed_at = now
        self._set_deadline_for(target, now, limits)
        return target

    @fsm.transition(
        field=status,
        source=CaseStatus.AWAITING_VOUCHER,
        target=CaseStatus.REFUNDED,
        conditions=[is_cod],
        permission=is_shop_writer,
    )
    def upload_voucher(self, *, now) -> None:
        """The merchant refunded a cod order offline and proved it."""
        self._mark_paid(now)

    @fsm.transition(
        field=status,
        source=CaseStatus.AWAITING_VOUCHER,
        target=CaseStatus.REFUNDED,
        conditions=[is_cod],
        permission=system_only,
    )
    def pay_in_advance(self, *, now) -> None:
        """48 h without a voucher: the platform pays the buyer (先行赔付); a violation goes on the merchant."""
        self.advance_paid = True
        self._mark_paid(now)

    @fsm.transition(
        field=status,
        source=CaseStatus.RESHIPPING,
        target=CaseStatus.EXCHANGE_SHIPPED,
        conditions=[needs_reship],
        permission=is_shop_writer,
    )
    def reship(self, *, now, limits, carrier: str, tracking_no: str) -> None:
        self.reship_carrier, self.reship_tracking_no, self.reshipped_at = carrier, tracking_no, now
        self._set_deadline_for(CaseStatus.EXCHANGE_SHIPPED, now, limits)

    @fsm.transition(
        field=status,
        source=CaseStatus.EXCHANGE_SHIPPED,
        target=CaseStatus.EXCHANGED,
        permission=buyer_only,
    )
    def confirm_exchange(self, *, now) -> None:
        """The buyer (or, after 15 days, the system) confirms the replacement arrived."""
        self.deadline_at, self.closed_at = None, now

    @fsm.transition(
        field=status,
        source=CaseStatus.REFUNDING,
        target=CaseStatus.REFUNDED,
        permission=system_only,
    )
    def mark_refunded(self, *, now) -> None:
        """The gateway confirmed the refund."""
        self._mark_paid(now)

    @fsm.transition(
        field=status,
        source=[CaseStatus.AWAITING_RETURN, CaseStatus.REJECTED],
        target=CaseStatus.CLOSED,
        permission=system_only,
    )
    def close(self, *, now) -> None:
        """The buyer let the case lapse (no return shipped / no reply to a refusal)."""
        self.deadline_at, self.closed_at = None, now

    @fsm.transition(
        field=status,
        source=WITHDRAWABLE_STATES,
        target=CaseStatus.CANCELLED,
        permission=buyer_only,
    )
    def cancel(self, *, now) -> None:
        """The buyer withdraws the request while no money has moved."""
        self.deadline_at, self.closed_at = None, now

    # ---- helpers for the transition bodies

    def _mark_paid(self, now) -> None:
        self.refunded_amount = self.amount
        self.refunded_at = now
        self.refund_failed = False
        self.deadline_at, self.closed_at = None, now

    def _start_arbitration(self, now, limits) -> None:
        self.arbitration_started_at = now
        self._set_deadline_for(CaseStatus.ARBITRATION, now, limits)

    def _set_deadline_for(self, target: str, now, limits) -> None:
        """A-5: every waiting state has its deadline; the others have none."""
        periods = {
            CaseStatus.PENDING: timedelta(hours=limits.merchant_response_hours),
            CaseStatus.REJECTED: timedelta(days=limits.rejected_idle_days),
            CaseStatus.AWAITING_RETURN: timedelta(days=limits.buyer_return_days),
            CaseStatus.RETURN_IN_TRANSIT: timedelta(days=limits.merchant_receipt_days),
            CaseStatus.AWAITING_VOUCHER: timedelta(hours=limits.voucher_hours),
            CaseStatus.EXCHANGE_SHIPPED: timedelta(days=limits.exchange_delivery_days),
            CaseStatus.ARBITRATION: timedelta(hours=limits.arbitration_hours),
        }
        period = periods.get(target)
        self.deadline_at = now + period if period else None
        if target in (CaseStatus.CLOSED,):
            self.closed_at = now


class CaseEvent(EventBase):
    """One line of the case timeline (洽谈记录, A-4): immutable."""

    class Kind(models.TextChoices):
        """What happened (past tense); `kind` stores the value, the timeline shows the label."""

        OPENED = "opened", _("买家发起售后")
        APPROVED = "approved", _("同意申请")
        REJECTED = "rejected", _("拒绝申请")
        PROPOSED = "proposed", _("商家发起协商")
        PROPOSAL_ACCEPTED = "proposal_accepted", _("买家接受协商方案")
        PROPOSAL_DECLINED = "proposal_declined", _("买家拒绝协商方案")
        PROPOSAL_EXPIRED = "proposal_expired", _("协商方案超时失效")
        PROPOSAL_REVISED = "proposal_revised", _("商家修改协商方案")
        PROPOSAL_WITHDRAWN = "proposal_withdrawn", _("商家撤回协商方案")
        REVISED = "revised", _("买家修改申请")
        RETURN_SHIPPED = "return_shipped", _("买家寄回商品")
        RETURN_SIGNED = "return_signed", _("退货包裹已签收")
        RETURN_CONFIRMED = "return_confirmed", _("商家确认收货")
        RETURN_REFUSED = "return_refused", _("商家拒绝收货")
        ARBITRATION_REQUESTED = "arbitration_requested", _("买家申请平台介入")
        ARBITRATED = "arbitrated", _("平台判定")
        ESCALATED = "escalated", _("升级高级客服")
        VOUCHER_UPLOADED = "voucher_uploaded", _("商家上传退款凭证")
        ADVANCE_PAID = "advance_paid", _("平台先行赔付")
        RESHIPPED = "reshipped", _("商家补发商品")
        EXCHANGE_CONFIRMED = "exchange_confirmed", _("换货完成")
        REFUNDED = "refunded", _("退款成功")
        REFUND_FAILED = "refund_failed", _("退款失败")
        REFUND_RETRIED = "refund_retried", _("重新发起退款")
        CLOSED = "closed", _("售后关闭")
        CANCELLED = "cancelled", _("买家撤销申请")
        DELAY_REPORTED = "delay_reported", _("商家延迟售后报备")
        DELAY_APPROVED = "delay_approved", _("报备审核通过")
        DELAY_REJECTED = "delay_rejected", _("报备审核驳回")
        MESSAGE = "message", _("留言")

    # The system's sentences, rendered in the reader's language when shown (merchants.kernel.events); a
    # kind with several keeps the key of its sentence in params["why"].
    TEXTS = {
        "timeout": _("商家超时未处理，系统自动同意。"),
        "express_refund": _(
            "符合极速退款条件（订单金额低于 ¥%(amount)s，下单 %(hours)d 小时内，未发货），系统自动同意。"
        ),
        "auto_rule": _("命中自动退款规则「%(name)s」，系统自动同意。"),
        "order_cancelled": _("平台客服应买家要求取消订单 %(no)s，系统全额退款 ¥%(amount)s。"),
        "merchant_opened": _("商家主动为买家发起，无需买家申请。"),
        Kind.PROPOSAL_EXPIRED: _("买家超时未回应协商方案，方案失效，售后单回到待商家处理。"),
        "rejected_idle": _("商家拒绝后买家超时未处理，售后单自动关闭。"),
        "return_not_sent": _("买家超时未寄回商品，售后单自动关闭。"),
        "receipt_timeout": _("商家超时未确认收货，系统自动确认。"),
        Kind.ADVANCE_PAID: _("货到付款售后超时未上传退款凭证，平台先行赔付。"),
        "exchange_timeout": _("买家超时未确认，系统自动确认换货完成。"),
        Kind.ESCALATED: _("平台介入超过 %(hours)d 小时未判定，已升级至高级客服。"),
        Kind.REFUNDED: _("退款已原路退回，支付流水号 %(ref)s。"),
        Kind.REFUND_FAILED: _("支付网关连续 %(n)d 次退款失败：%(error)s"),
        "over_refundable": _("退款金额超过了该商品可退的金额，已停止退款。"),
        Kind.RETURN_SHIPPED: "%(carrier)s %(tracking)s",
        Kind.RETURN_SIGNED: _("退货包裹于 %(at)s 签收。"),
        Kind.RESHIPPED: "%(carrier)s %(tracking)s",
        Kind.ARBITRATED: _("%(outcome)s（%(liability)s）"),
    }
    PARAM_CHOICES = {"carrier": Carrier, "outcome": ArbitrationOutcome, "liability": Liability}

    merchant_path = "case__merchant"

    # caseevent_case_idx (case, created_at) covers lookups by case; no second index to write per event.
    case = models.ForeignKey(
        AfterSaleCase,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("售后单"),
        db_index=False,
    )
    amount = models.DecimalField(_("金额"), **MONEY, null=True, blank=True)

    class Meta(EventBase.Meta):
        verbose_name = _("协商记录")
        verbose_name_plural = _("协商记录")
        indexes = [models.Index(fields=["case", "created_at"], name="caseevent_case_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    @property
    def kind_label(self) -> str:
        """As EventBase, but a case the shop opened itself (T-7 out of stock) does not read as the buyer's."""
        if self.kind == self.Kind.OPENED and (self.params or {}).get("why") == "merchant_opened":
            return str(_("商家主动发起售后"))
        return super().kind_label


def evidence_path(instance, filename: str) -> str:
    """The old upload path (original names in the path); kept because migrations 0001.. name it."""
    return f"evidence/{timezone.now():%Y/%m}/{filename}"


class CaseAttachment(AttachmentBase):
    """An image attached to a timeline event (evidence, vouchers); checked by merchants.kernel.uploads,
    served by the kernel's protected file view at /files/evidence/<id>/."""

    merchant_path = "event__case__merchant"
    upload_folder = "evidence"

    event = models.ForeignKey(
        CaseEvent, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("记录")
    )

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")


files.register(CaseAttachment, kind="evidence")


class Refund(models.Model):
    """The one refund of a case (A-6): unique per case, its idempotency key sent to the gateway."""

    merchant_path = "case__merchant"

    case = models.OneToOneField(
        AfterSaleCase, on_delete=models.PROTECT, related_name="refund", verbose_name=_("售后单")
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=64, unique=True)
    amount = models.DecimalField(_("金额"), **MONEY)
    status = models.CharField(
        _("状态"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    gateway_reference = models.CharField(_("支付网关流水号"), max_length=64, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("退款")
        verbose_name_plural = _("退款")
        # retry_stuck_refunds reads unfinished refunds by age.
        indexes = [models.Index(fields=["status", "updated_at"], name="refund_status_idx")]

    def __str__(self) -> str:
        return self.idempotency_key


class GatewayCall(models.Model):
    """What the simulated payment gateway (aftersales.gateway.SimulatedGateway) has seen, by idempotency key.

    A real gateway keeps this on its side; the simulation keeps it here so a repeated key gets the same
    reference back and tests can count the calls that reached "the bank".
    """

    idempotency_key = models.CharField(_("幂等键"), max_length=64, unique=True)
    amount = models.DecimalField(_("金额"), **MONEY)
    case_no = models.CharField(_("售后单号"), max_length=32)
    reference = models.CharField(_("支付网关流水号"), max_length=64)
    calls = models.PositiveIntegerField(_("调用次数"), default=1)
    created_at = models.DateTimeField(_("首次调用时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("最近调用时间"), auto_now=True)

    class Meta:
        verbose_name = _("模拟网关调用")
        verbose_name_plural = _("模拟网关调用")

    def __str__(self) -> str:
        return self.reference


# A-9 / N-9: how far ahead a delay report may reach. The seed (002, JD 延迟售后报备) names only "延迟时间";
# 30 days is the assessment window of L-2/L-3, so a longer delay would take a case out of more than one
# whole evaluation, and no waiting state of A-3 lasts longer than 15 days (exchange delivery) anyway.
MAX_DELAY_DAYS = 30


class DelayReport(MerchantOwned):
    """延迟售后报备 (A-9): filed by the merchant, decided by platform staff."""

    case = models.ForeignKey(
        AfterSaleCase, on_delete=models.CASCADE, related_name="delay_reports", verbose_name=_("售后单")
    )
    reason = models.TextField(_("报备原因"))
    delay_until = models.DateTimeField(_("预计处理时间"))
    status = models.CharField(
        _("状态"), max_length=10, choices=DelayReportStatus.choices, default=DelayReportStatus.PENDING
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("报备人"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审核人"),
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(_("报备时间"), default=timezone.now)

    class Meta:
        verbose_name = _("延迟售后报备")
        verbose_name_plural = _("延迟售后报备")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="delay_one_pending_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} {self.get_status_display()}"


class DelayReportImage(AttachmentBase):
    """A proof image of a delay report (A-9), served at /files/delay-proof/<id>/."""

    merchant_path = "report__merchant"
    upload_folder = "evidence/delay"

    report = models.ForeignKey(
        DelayReport, on_delete=models.CASCADE, related_name="images", verbose_name=_("报备")
    )

    class Meta:
        verbose_name = _("报备图片")
        verbose_name_plural = _("报备图片")


files.register(DelayReportImage, kind="delay-proof")
