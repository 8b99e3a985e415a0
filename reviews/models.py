"""Reviews (R-1..R-8): the buyer's review and its images, the merchant's replies and appeals, the history.

A review is written by the buyer once per order item and never edited; what changes around it —
replies moderated by staff (R-2), one appeal (R-3), up to two pins per product (R-4), the buyer's
deletion (R-5) — is written only by reviews.services, which also keeps two kinds of derived data here:
the review's `reply_status` / `appeal_status` (what the workbench tabs filter on, without a join) and
one `ProductReviewSummary` row per product (what the public page shows, without counting 50,000 rows).
"""

from __future__ import annotations

import django_fsm as fsm
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from merchants.kernel.models import AttachmentBase, EventBase, MerchantOwned, SingletonSettings
from reviews.contact import ContactKind
from reviews.transitions import (
    LIVE_REPLY_STATES,
    PIN_SLOTS,
    RATINGS,
    AppealDecisionReason,
    AppealStatus,
    BannedWordAction,
    ReplyStatus,
    appeal_deadline,
)


class ReviewSettings(SingletonSettings):
    """The R-3 and R-7 defaults, editable in /admin/ without a deploy."""

    appeal_days = models.PositiveIntegerField(
        _("评价发布后可申诉（天）"), default=30, validators=[MinValueValidator(1)]
    )
    dsr_days = models.PositiveIntegerField(
        _("店铺评分统计周期（天）"), default=90, validators=[MinValueValidator(1)]
    )
    reply_max_chars = models.PositiveIntegerField(
        _("回复最多字数"), default=500, validators=[MinValueValidator(10), MaxValueValidator(2000)]
    )

    class Meta:
        verbose_name = _("评价规则设置")
        verbose_name_plural = _("评价规则设置")

    def __str__(self) -> str:
        return str(_("评价规则设置"))


def _rating(label):
    return models.PositiveSmallIntegerField(
        label, choices=[(n, str(n)) for n in RATINGS], validators=[MinValueValidator(1), MaxValueValidator(5)]
    )


class Review(MerchantOwned):
    """A buyer's review of one order item (R-1). Never edited: services only stamp times and derived states."""

    # No single-column indexes: the composite ones below serve every shop and product read.
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"), db_index=False
    )
    product = models.ForeignKey(
        "merchants.Product",
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name=_("商品"),
        db_index=False,
    )
    sku = models.ForeignKey(
        "merchants.Sku",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("SKU"),
        db_index=False,  # never filtered on: lists filter by product
    )
    order = models.ForeignKey(
        "merchants.Order", on_delete=models.PROTECT, related_name="reviews", verbose_name=_("订单")
    )
    # one review per order item, enforced by the database.
    item = models.OneToOneField(
        "merchants.OrderItem", on_delete=models.PROTECT, related_name="review", verbose_name=_("订单商品")
    )
    # Copied from the order: the workbench searches them on this table.
    order_no = models.CharField(_("订单号"), max_length=32)
    buyer_id = models.CharField(_("买家ID"), max_length=40)
    buyer_name = models.CharField(_("买家昵称"), max_length=60)

    product_rating = _rating(_("商品评分"))
    service_rating = _rating(_("服务评分"))
    logistics_rating = _rating(_("物流评分"))
    content = models.TextField(_("评价内容"), blank=True)
    image_count = models.PositiveSmallIntegerField(_("图片数"), default=0)

    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)
    deleted_at = models.DateTimeField(_("买家删除时间"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("申诉成功隐藏时间"), null=True, blank=True)
    pinned_at = models.DateTimeField(_("置顶时间"), null=True, blank=True)
    # which of the product's two pin places this review holds; unique per product (see constraints).
    pin_slot = models.PositiveSmallIntegerField(_("置顶位"), null=True, blank=True)
    # The status of the review's latest reply ("" = none or deleted) and of its one appeal ("" = none).
    reply_status = models.CharField(_("回复状态"), max_length=10, choices=ReplyStatus.choices, blank=True)
    appeal_status = models.CharField(_("申诉状态"), max_length=10, choices=AppealStatus.choices, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ("-created_at", "-pk")
        indexes = [
            # The workbench list: a shop's newest reviews. Covering (PostgreSQL) what the quick-tab counts and
            # the rating filter read, so the tab counts and the list's COUNT are index-only scans.
            models.Index(
                fields=["merchant", "-created_at"],
                include=["product_rating", "reply_status", "appeal_status", "deleted_at", "hidden_at"],
                name="review_shop_recent_idx",
            ),
            # the shop's list filtered by rating, newest first (the list's order, pk included): the
            # page is the index's first rows, with no rows of other ratings read and dropped.
            models.Index(
                fields=["merchant", "product_rating", "-created_at", "-id"], name="review_shop_rating_idx"
            ),
            models.Index(fields=["-created_at"], name="review_recent_idx"),
            # a shop's DSR reads only this partial covering index (PostgreSQL: index-only scan).
            models.Index(
                fields=["merchant", "created_at"],
                include=["product_rating", "service_rating", "logistics_rating"],
                condition=Q(deleted_at__isnull=True, hidden_at__isnull=True),
                name="review_dsr_idx",
            ),
            # the product page's newest visible, unpinned reviews, by any page number.
            models.Index(
                fields=["product", "-created_at", "-id"],
                condition=Q(deleted_at__isnull=True, hidden_at__isnull=True, pinned_at__isnull=True),
                name="review_public_idx",
            ),
            models.Index(fields=["order_no"], name="review_order_no_idx", opclasses=["varchar_pattern_ops"]),
            # Staff lists across every shop: one product's reviews (SPU filter / search), one buyer's.
            models.Index(fields=["product", "-created_at"], name="review_product_recent_idx"),
            models.Index(fields=["buyer_id"], name="review_buyer_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(product_rating__gte=1, product_rating__lte=5)
                & Q(service_rating__gte=1, service_rating__lte=5)
                & Q(logistics_rating__gte=1, logistics_rating__lte=5),
                name="review_ratings_1_to_5",
            ),
            # at most two pinned per product, whatever happens at once: a pin takes a free place.
            models.UniqueConstraint(
                fields=["product", "pin_slot"],
                condition=Q(pin_slot__isnull=False),
                name="review_pin_slot_unique",
            ),
            models.CheckConstraint(
                condition=Q(pin_slot__isnull=True, pinned_at__isnull=True)
                | Q(pin_slot__in=list(PIN_SLOTS), pinned_at__isnull=False),
                name="review_pin_slot_with_pinned_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_no} · {self.product_rating}★"

    @property
    def is_public(self) -> bool:
        """R-8: shown on the product page (not deleted by the buyer, not hidden by an upheld appeal)."""
        return self.deleted_at is None and self.hidden_at is None

    @property
    def is_locked(self) -> bool:
        """R-3, R-5: the merchant can do nothing more with it."""
        return not self.is_public

    @property
    def masked_buyer_name(self) -> str:
        """张** — the only form of a buyer's name on the public page (R-8)."""
        name = (self.buyer_name or "").strip()
        return f"{name[0]}**" if name else "**"

    def appeal_deadline(self, days: int):
        return appeal_deadline(self.created_at, days)


class ProductReviewSummary(models.Model):
    """Running totals of one product's public reviews (R-8): count, rating sums and the star histogram.

    Kept by the services in the same transaction as each change (F() updates: concurrent changes add up).
    """

    merchant_path = "product__merchant"

    product = models.OneToOneField(
        "merchants.Product",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="review_summary",
        verbose_name=_("商品"),
    )
    review_count = models.PositiveIntegerField(_("评价数"), default=0)
    product_rating_sum = models.PositiveIntegerField(_("商品评分合计"), default=0)
    service_rating_sum = models.PositiveIntegerField(_("服务评分合计"), default=0)
    logistics_rating_sum = models.PositiveIntegerField(_("物流评分合计"), default=0)
    star_1 = models.PositiveIntegerField(_("1 星"), default=0)
    star_2 = models.PositiveIntegerField(_("2 星"), default=0)
    star_3 = models.PositiveIntegerField(_("3 星"), default=0)
    star_4 = models.PositiveIntegerField(_("4 星"), default=0)
    star_5 = models.PositiveIntegerField(_("5 星"), default=0)

    class Meta:
        verbose_name = _("商品评价汇总")
        verbose_name_plural = _("商品评价汇总")

    def __str__(self) -> str:
        return str(self.product_id)

    def average(self, dimension: str = "product") -> float | None:
        if not self.review_count:
            return None
        return getattr(self, f"{dimension}_rating_sum") / self.review_count

    def histogram(self) -> list[tuple[int, int, int]]:
        """[(stars, count, percent)] from 5 stars down."""
        total = self.review_count or 0
        return [
            (stars, count, round(100 * count / total) if total else 0)
            for stars in (5, 4, 3, 2, 1)
            for count in (getattr(self, f"star_{stars}"),)
        ]

    @property
    def good_rate(self) -> float | None:
        if not self.review_count:
            return None
        return (self.star_4 + self.star_5) / self.review_count


class ReplyFlag(models.TextChoices):
    """What the automatic check found in a reply (R-2)."""

    CONTACT = "contact", _("含联系方式")
    BANNED = "banned", _("含违禁词")
    SENSITIVE = "sensitive", _("含敏感词，需人工审核")


class Reply(fsm.ConcurrentTransitionMixin, MerchantOwned):
    """One wording of the merchant's reply (R-2). A new wording is a new row: the history keeps them all."""

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"), db_index=False
    )
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="replies", verbose_name=_("评价")
    )
    text = models.TextField(_("回复内容"))
    status = fsm.FSMField(
        _("审核状态"), max_length=10, choices=ReplyStatus.choices, default=ReplyStatus.PENDING, protected=True
    )
    flag = models.CharField(_("自动检查结果"), max_length=10, choices=ReplyFlag.choices, blank=True)
    flag_kind = models.CharField(_("联系方式类型"), max_length=10, choices=ContactKind.choices, blank=True)
    flag_text = models.CharField(_("命中内容"), max_length=100, blank=True)
    reject_reason = models.TextField(_("驳回原因"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("回复人"),
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("审核人"),
    )
    moderated_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评价回复")
        verbose_name_plural = _("评价回复")
        ordering = ("created_at", "pk")
        indexes = [
            # The staff moderation queue: pending replies, oldest first (only the pending rows are indexed).
            models.Index(
                fields=["created_at", "id"], condition=Q(status=ReplyStatus.PENDING), name="reply_queue_idx"
            ),
            models.Index(fields=["status", "-created_at"], name="reply_status_recent_idx"),
        ]
        constraints = [
            # one live (pending or approved, not deleted) reply per review.
            models.UniqueConstraint(
                fields=["review"],
                condition=Q(status__in=[s.value for s in LIVE_REPLY_STATES], deleted_at__isnull=True),
                name="reply_one_live_per_review",
            )
        ]

    def __str__(self) -> str:
        return self.text[:30]

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_REPLY_STATES and self.deleted_at is None

    def reason_text(self) -> str:
        """Why the reply was refused (or held), in the reader's language; the moderator's words as typed."""
        if self.flag == ReplyFlag.CONTACT:
            kind = ContactKind(self.flag_kind).label if self.flag_kind else ReplyFlag.CONTACT.label
            return gettext(
                "回复含联系方式（%(kind)s：%(found)s）。平台不允许在评价回复中留下联系方式，请修改后重新提交。"
            ) % {"kind": kind, "found": self.flag_text}
        if self.flag == ReplyFlag.BANNED:
            return gettext("回复含违禁词「%(word)s」，请修改后重新提交。") % {"word": self.flag_text}
        if self.status == ReplyStatus.REJECTED:
            return self.reject_reason
        if self.flag == ReplyFlag.SENSITIVE:
            return gettext("回复含敏感词「%(word)s」，需平台人工审核。") % {"word": self.flag_text}
        return ""

    # ---- transitions (in memory; reviews.services locks, checks, saves and records)

    @fsm.transition(field=status, source=ReplyStatus.PENDING, target=ReplyStatus.APPROVED)
    def approve(self, *, now, by) -> None:
        """A moderator lets the reply through: it shows on the product page."""
        self.moderated_by, self.moderated_at = by, now

    @fsm.transition(field=status, source=ReplyStatus.PENDING, target=ReplyStatus.REJECTED)
    def reject(self, *, now, by, reason: str) -> None:
        """A moderator refuses it, with a reason the merchant reads; the merchant may reply again."""
        self.moderated_by, self.moderated_at, self.reject_reason = by, now, reason


class Appeal(fsm.ConcurrentTransitionMixin, MerchantOwned):
    """The merchant's one appeal of a review (R-3), decided by platform staff."""

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"), db_index=False
    )
    # Once per review, whatever the outcome: the database holds one row per review.
    review = models.OneToOneField(
        Review, on_delete=models.CASCADE, related_name="appeal", verbose_name=_("评价")
    )
    reason = models.TextField(_("申诉理由"))
    status = fsm.FSMField(
        _("申诉状态"),
        max_length=10,
        choices=AppealStatus.choices,
        default=AppealStatus.PENDING,
        protected=True,
    )
    decision_code = models.CharField(
        _("审核结论"), max_length=16, choices=AppealDecisionReason.choices, blank=True
    )
    decision_note = models.TextField(_("审核说明"), blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("申诉人"),
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
    created_at = models.DateTimeField(_("申诉时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评价申诉")
        verbose_name_plural = _("评价申诉")
        ordering = ("created_at", "pk")
        indexes = [
            models.Index(
                fields=["created_at", "id"], condition=Q(status=AppealStatus.PENDING), name="appeal_queue_idx"
            ),
            models.Index(fields=["status", "-created_at"], name="appeal_status_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.review.order_no} · {self.get_status_display()}"

    def decision_text(self) -> str:
        """The standard reason's label and the staff's own words, as the merchant reads them."""
        parts = []
        if self.decision_code:
            parts.append(str(AppealDecisionReason(self.decision_code).label))
        if self.decision_note:
            parts.append(self.decision_note)
        return "：".join(parts) if len(parts) == 2 else "".join(parts)

    # ---- transitions (in memory)

    @fsm.transition(field=status, source=AppealStatus.PENDING, target=AppealStatus.UPHELD)
    def uphold(self, *, now, by, code: str, note: str) -> None:
        """Staff agree: the review is hidden from the product page and leaves the DSR."""
        self.decided_by, self.decided_at, self.decision_code, self.decision_note = by, now, code, note

    @fsm.transition(field=status, source=AppealStatus.PENDING, target=AppealStatus.DISMISSED)
    def dismiss(self, *, now, by, code: str, note: str) -> None:
        """Staff refuse: the review stays; the merchant reads the reason."""
        self.decided_by, self.decided_at, self.decision_code, self.decision_note = by, now, code, note

    @fsm.transition(field=status, source=AppealStatus.PENDING, target=AppealStatus.VOID)
    def void(self, *, now) -> None:
        """The buyer deleted the review meanwhile: no result is returned."""
        self.decided_at = now


class BannedWord(models.Model):
    """A word replies may not contain (R-2): refused at once, or held for a person. Staff edit the list."""

    word = models.CharField(_("违禁词"), max_length=50, unique=True)
    action = models.CharField(
        _("处理方式"), max_length=10, choices=BannedWordAction.choices, default=BannedWordAction.REFUSE
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("添加时间"), default=timezone.now)

    class Meta:
        verbose_name = _("违禁词")
        verbose_name_plural = _("违禁词")
        ordering = ("word",)

    def __str__(self) -> str:
        return self.word


class ReviewImage(AttachmentBase):
    """A buyer's review photo (R-1). Public exactly when its review shows on the product page (R-8)."""

    upload_folder = "reviews"
    merchant_path = "review__merchant"

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="images", verbose_name=_("评价")
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("评价图片")
        verbose_name_plural = _("评价图片")
        ordering = ("review_id", "position", "pk")  # by the column: "review" would join reviews to sort

    def is_public(self) -> bool:
        """R-8: anyone may fetch it while its review is on the product page (not deleted, not hidden)."""
        return self.review.is_public

    @classmethod
    def public_queryset(cls) -> models.QuerySet:
        """The rows is_public() says yes to, for the protected file view's visitors."""
        return cls._default_manager.filter(review__deleted_at__isnull=True, review__hidden_at__isnull=True)


class AppealImage(AttachmentBase):
    """The merchant's appeal evidence (R-3): seen by the shop and platform staff only, never public."""

    upload_folder = "appeals"
    merchant_path = "appeal__merchant"

    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, related_name="images", verbose_name=_("申诉")
    )

    class Meta:
        verbose_name = _("申诉凭证")
        verbose_name_plural = _("申诉凭证")
        ordering = ("appeal_id", "pk")

    def is_public(self) -> bool:
        return False

    @classmethod
    def public_queryset(cls) -> models.QuerySet:
        return cls._default_manager.none()


class ReviewEvent(EventBase):
    """One line of a review's history: the buyer's moves, every reply wording, moderation, appeal, pins."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("买家发表评价")
        DELETED = "deleted", _("买家删除评价")
        REPLIED = "replied", _("商家回复")
        REPLY_APPROVED = "reply_approved", _("回复审核通过")
        REPLY_REJECTED = "reply_rejected", _("回复被驳回")
        REPLY_DELETED = "reply_deleted", _("商家删除回复")
        APPEALED = "appealed", _("商家申诉")
        APPEAL_UPHELD = "appeal_upheld", _("申诉成功")
        APPEAL_DISMISSED = "appeal_dismissed", _("申诉驳回")
        APPEAL_VOIDED = "appeal_voided", _("申诉失效")
        PINNED = "pinned", _("置顶")
        UNPINNED = "unpinned", _("取消置顶")

    # Rendered in the reader's language when shown (merchants.kernel.events); "why" picks one of several.
    TEXTS = {
        "contact": _("回复含联系方式（%(kind)s：%(found)s），系统自动驳回。"),
        "banned": _("回复含违禁词「%(word)s」，系统自动驳回。"),
        "sensitive": _("回复含敏感词「%(word)s」，已转平台人工审核。"),
        "decision": "%(decision)s",
        Kind.APPEAL_VOIDED: _("买家删除了评价，申诉自动失效。"),
        "deleted_unpinned": _("评价已被买家删除，自动取消置顶。"),
        Kind.SUBMITTED: _("商品 %(product)d 星，服务 %(service)d 星，物流 %(logistics)d 星"),
    }
    PARAM_CHOICES = {"decision": AppealDecisionReason, "kind": ContactKind}

    merchant_path = "review__merchant"

    # reviewevent_review_idx (review, created_at) covers lookups by review.
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="events", verbose_name=_("评价"), db_index=False
    )

    class Meta(EventBase.Meta):
        verbose_name = _("评价记录")
        verbose_name_plural = _("评价记录")
        indexes = [models.Index(fields=["review", "created_at"], name="reviewevent_review_idx")]

    def __str__(self) -> str:
        return f"{self.review_id} {self.kind}"
