"""Service tickets (T-1..T-7): the ticket and its legal moves, its log, its attachments, the ticket settings.

Transition methods change the ticket in memory only (state, clocks, fields of the move); the services in
tickets/services/ lock, check, call them, save, and write the event.

Two clocks, never running together (T-2): `due_at` is the merchant's, set while the ticket is `pending`;
`review_due_at` is the platform's own, set while it is `in_review`. Each has a partial index the deadline
sweep reads (T-3), covering only the rows whose clock still has to be acted on.
"""

import secrets
from datetime import timedelta

import django_fsm as fsm
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.kernel.models import AttachmentBase, EventBase, MerchantOwned, SingletonSettings
from merchants.transitions import Carrier
from tickets.transitions import (
    Liability,
    TicketCategory,
    TicketStatus,
    not_marked_overdue,
    review_not_flagged,
)


class TicketSettings(SingletonSettings):
    """The T-1..T-3 defaults, editable in /admin/ without a deploy."""

    first_due_hours = models.PositiveIntegerField(
        _("商家首次处理时限（小时）"), default=48, validators=[MinValueValidator(1)]
    )
    redo_due_hours = models.PositiveIntegerField(
        _("驳回后重新处理时限（小时）"), default=24, validators=[MinValueValidator(1)]
    )
    review_hours = models.PositiveIntegerField(
        _("平台审核时限（小时）"),
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_("商家提交处理结果后，平台客服须在此时限内审核，超时上报高级客服。"),
    )
    overdue_points = models.PositiveSmallIntegerField(
        _("超时未处理扣分"), default=2, help_text=_("每次超时记录一条违规（商家违规行为管理规则）。")
    )
    ship_commit_points = models.PositiveSmallIntegerField(
        _("未按承诺时间发货扣分"), default=2, help_text=_("催发货服务单中承诺的发货时间到期仍未发货。")
    )
    due_soon_hours = models.PositiveIntegerField(_("即将超时提醒（小时）"), default=12)

    class Meta:
        verbose_name = _("服务单规则设置")
        verbose_name_plural = _("服务单规则设置")

    def __str__(self) -> str:
        return str(_("服务单规则设置"))


def _ticket_no() -> str:
    # "TK", the local date, 8 random digits (as case numbers: see aftersales.models._case_no); the unique
    # constraint is the guarantee, open_ticket draws again on a clash.
    return f"TK{timezone.localdate():%y%m%d}{secrets.randbelow(10**8):08d}"


class Ticket(fsm.ConcurrentTransitionMixin, MerchantOwned):
    """A service ticket (服务单, T-1) raised by platform staff from a buyer's complaint, answered by the shop."""

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"), db_index=False
    )
    ticket_no = models.CharField(_("服务单号"), max_length=32, unique=True, default=_ticket_no)
    order = models.ForeignKey(
        "merchants.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("订单"),
    )
    order_no = models.CharField(_("订单号"), max_length=32, blank=True)  # copied: searched on this table
    category = models.CharField(_("类型"), max_length=20, choices=TicketCategory.choices)
    demand = models.TextField(_("买家诉求"))
    status = fsm.FSMField(
        _("状态"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.PENDING, protected=True
    )

    # The merchant's clock (T-1, T-2): runs only while pending.
    due_at = models.DateTimeField(_("处理截止时间"), null=True, blank=True)
    overdue = models.BooleanField(_("已超时"), default=False, help_text=_("本次处理已超过时限。"))
    overdue_count = models.PositiveSmallIntegerField(_("超时次数"), default=0)
    overdue_at = models.DateTimeField(_("最近超时时间"), null=True, blank=True)
    # The platform's clock: staff review within review_hours, or it is raised to senior staff.
    review_due_at = models.DateTimeField(_("审核截止时间"), null=True, blank=True)
    review_late = models.BooleanField(_("审核超时"), default=False)

    result_text = models.TextField(_("商家处理结果"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    reject_reason = models.TextField(_("驳回原因"), blank=True)
    reject_count = models.PositiveSmallIntegerField(_("驳回次数"), default=0)
    liability = models.CharField(_("责任方"), max_length=10, choices=Liability.choices, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)

    # T-7: the ship time the merchant committed to; `ship_commit_due_at` is the watch (cleared once checked).
    ship_commit_at = models.DateTimeField(_("承诺发货时间"), null=True, blank=True)
    ship_commit_due_at = models.DateTimeField(_("承诺发货检查时间"), null=True, blank=True)

    created_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("服务单")
        verbose_name_plural = _("服务单")
        ordering = ("-created_at", "-pk")
        indexes = [
            # T-3: the overdue sweep reads due, not yet escalated, pending tickets through this index only.
            models.Index(
                fields=["status", "due_at"],
                name="ticket_due_idx",
                condition=Q(overdue=False, due_at__isnull=False),
            ),
            # The platform's review clock, read the same way.
            models.Index(
                fields=["status", "review_due_at"],
                name="ticket_review_due_idx",
                condition=Q(review_late=False, review_due_at__isnull=False),
            ),
            # T-7: committed ship times still to be checked.
            models.Index(
                fields=["ship_commit_due_at"],
                name="ticket_ship_commit_idx",
                condition=Q(ship_commit_due_at__isnull=False),
            ),
            # The workbench list: a shop's newest tickets, optionally by state (stage tabs).
            models.Index(fields=["merchant", "-created_at"], name="ticket_shop_recent_idx"),
            models.Index(fields=["merchant", "status", "-created_at"], name="ticket_shop_status_idx"),
            # The stage tabs' counts (selectors.tab_counts), read from the index alone.
            models.Index(fields=["merchant", "status", "overdue"], name="ticket_shop_stage_idx"),
            # Staff lists across every shop: newest first, optionally by state.
            models.Index(fields=["-created_at"], name="ticket_recent_idx"),
            models.Index(fields=["status", "-created_at"], name="ticket_status_recent_idx"),
            models.Index(fields=["order_no"], name="ticket_order_no_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.ticket_no

    @property
    def is_complaint(self) -> bool:
        return self.category == TicketCategory.COMPLAINT

    # ---- transitions (in memory; `now` and `limits` (TicketSettings) are passed by the service)

    @fsm.transition(field=status, source=TicketStatus.PENDING, target=TicketStatus.IN_REVIEW)
    def submit_result(self, *, now, limits, text: str) -> None:
        """The merchant answers: their clock stops, the platform's review clock starts (T-2)."""
        self.result_text, self.submitted_at = text, now
        self.due_at, self.overdue = None, False
        self.review_due_at, self.review_late = now + timedelta(hours=limits.review_hours), False

    @fsm.transition(field=status, source=TicketStatus.IN_REVIEW, target=TicketStatus.CLOSED)
    def approve(self, *, now, liability: str = "") -> None:
        """Staff accept the result; a complaint carries its liability (T-5)."""
        self.liability = liability or ""
        self.closed_at = now
        self.review_due_at, self.review_late = None, False

    @fsm.transition(field=status, source=TicketStatus.IN_REVIEW, target=TicketStatus.PENDING)
    def reject(self, *, now, limits, reason: str) -> None:
        """Staff send the result back with a reason: the merchant handles it anew, on a shorter clock (T-2)."""
        self.reject_reason = reason
        self.reject_count += 1
        self.due_at = now + timedelta(hours=limits.redo_due_hours)
        self.review_due_at, self.review_late = None, False

    @fsm.transition(
        field=status,
        source=TicketStatus.PENDING,
        target=TicketStatus.PENDING,
        conditions=[not_marked_overdue],
    )
    def mark_overdue(self, *, now) -> None:
        """T-3: the merchant's due time passed unanswered — one overdue episode, raised in the staff queue."""
        self.overdue, self.overdue_at = True, now
        self.overdue_count += 1

    @fsm.transition(
        field=status,
        source=TicketStatus.IN_REVIEW,
        target=TicketStatus.IN_REVIEW,
        conditions=[review_not_flagged],
    )
    def flag_late_review(self, *, now) -> None:
        """Staff did not review in time: raised to senior staff (group platform_senior)."""
        self.review_late = True


class TicketEvent(EventBase):
    """One line of the ticket log (T-4): immutable, written only through merchants.kernel.events."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("平台发起服务单")
        RESULT_SUBMITTED = "result_submitted", _("商家提交处理结果")
        APPROVED = "approved", _("审核通过，服务单关闭")
        REJECTED = "rejected", _("审核驳回")
        OVERDUE = "overdue", _("商家超时未处理")
        REVIEW_LATE = "review_late", _("平台审核超时")
        SHIP_COMMIT_MISSED = "ship_commit_missed", _("未按承诺时间发货")

    # The system's sentences, rendered in the reader's language when shown; RESULT_SUBMITTED keeps the
    # key of the T-7 path it took in params["why"].
    TEXTS = {
        Kind.OPENED: _("%(category)s，请在 %(hours)d 小时内处理。"),
        "tracking": _("已补录发货物流：%(carrier)s %(tracking)s。"),
        "ship_time": _("承诺 %(ship_time)s 前发货。"),
        "refund": _("缺货，已为买家退款（售后单 %(cases)s）。"),
        Kind.APPROVED: _("责任方：%(liability)s。"),
        Kind.REJECTED: _("请在 %(hours)d 小时内重新处理。"),
        Kind.OVERDUE: _("超过处理时限 %(due)s 未处理，记录违规（扣 %(points)d 分），已升级至平台客服。"),
        Kind.REVIEW_LATE: _("超过审核时限 %(due)s 未审核，已上报高级客服。"),
        Kind.SHIP_COMMIT_MISSED: _("承诺 %(ship_time)s 前发货，到期仍未发货，记录违规（扣 %(points)d 分）。"),
    }
    PARAM_CHOICES = {"category": TicketCategory, "liability": Liability, "carrier": Carrier}

    merchant_path = "ticket__merchant"

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("服务单"), db_index=False
    )

    class Meta(EventBase.Meta):
        verbose_name = _("服务单记录")
        verbose_name_plural = _("服务单记录")
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketevent_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class TicketAttachment(AttachmentBase):
    """A file attached to a step of the ticket log: the buyer's evidence, the merchant's proof (T-1, T-2)."""

    upload_folder = "tickets"
    merchant_path = "event__ticket__merchant"

    event = models.ForeignKey(
        TicketEvent, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("记录")
    )

    class Meta:
        verbose_name = _("服务单附件")
        verbose_name_plural = _("服务单附件")
