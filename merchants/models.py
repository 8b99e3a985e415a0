"""Catalog, orders and packages (M-1, M-2, S-1..S-5).

The shops, members and shared bases are the kernel's (merchants/kernel/models.py); they are imported
here so that Django registers them under this app, as `merchants.Merchant` and so on.
"""

from datetime import timedelta
from decimal import Decimal

import django_fsm as fsm
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Right
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.kernel.centers.models import ExportJob, ImportJob  # noqa: F401  (the centers' jobs, B-5, B-6)
from merchants.kernel.models import (  # noqa: F401  (registered under the merchants app)
    ActorKind,
    EventBase,
    Membership,
    Merchant,
    MerchantOwned,
    MerchantStatus,
    Notice,
    Role,
    SingletonSettings,
    Violation,
)
from merchants.kernel.templates import ReplyTemplate  # noqa: F401  (registered under the merchants app)
from merchants.kernel.workflow import ConcurrentTransitionMixin
from merchants.transitions import (
    CANCELLABLE_STATES,
    SHIPPABLE_STATES,
    AftersaleLock,
    Carrier,
    OrderStatus,
    PaymentMethod,
    buyer_only,
    is_cod,
    is_online,
    is_shop_writer,
    may_cancel_order,
    may_confirm_receipt,
    system_only,
)

MONEY = {"max_digits": 12, "decimal_places": 2}


def mask_phone(phone: str) -> str:
    """138****0000: the only way a buyer's phone is ever shown (N-7)."""
    digits = (phone or "").strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


# --------------------------------------------------------------------------------------------
# Order and shipping settings


class PlatformSettings(SingletonSettings):
    """Order and shipping defaults (M-3, S-5)."""

    # N-9: bounded. 0 would cancel or receive at once; beyond a month (unpaid) or a quarter (receipt)
    # is a typo, not a rule (the defaults are SPEC M-3's 24 h and S-5's 15 days).
    unpaid_cancel_hours = models.PositiveIntegerField(
        _("未付款自动取消（小时）"), default=24, validators=[MinValueValidator(1), MaxValueValidator(720)]
    )
    auto_receive_days = models.PositiveIntegerField(
        _("发货后自动确认收货（天）"), default=15, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )

    class Meta:
        verbose_name = _("订单规则设置")
        verbose_name_plural = _("订单规则设置")

    def __str__(self) -> str:
        return str(_("订单规则设置"))


# --------------------------------------------------------------------------------------------
# Catalog


class Product(MerchantOwned):
    """An SPU. `three_guarantee` and `durable` widen the quality-claim window (A-2)."""

    spu_id = models.CharField(_("商品ID"), max_length=40)
    name = models.CharField(_("商品名称"), max_length=200)
    on_shelf = models.BooleanField(_("在售"), default=True)
    three_guarantee = models.BooleanField(_("三包商品"), default=False)
    durable = models.BooleanField(_("耐用品"), default=False)
    # L-3: orders of virtual goods (top-ups, vouchers) ship nothing and are left out of on-time shipping.
    is_virtual = models.BooleanField(_("虚拟商品"), default=False, db_default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "spu_id"], name="product_unique_spu_per_shop")
        ]
        indexes = [models.Index(fields=["name"], name="product_name_idx")]

    def __str__(self) -> str:
        return self.name


class Sku(MerchantOwned):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="skus", verbose_name=_("商品")
    )
    sku_code = models.CharField(_("SKU编码"), max_length=40)
    spec = models.CharField(_("规格"), max_length=100, blank=True)
    price = models.DecimalField(_("价格"), **MONEY, default=Decimal("0.00"))

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKU")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku_code"], name="sku_unique_code_per_shop")
        ]

    def __str__(self) -> str:
        return f"{self.product.name} {self.spec}".strip()


# --------------------------------------------------------------------------------------------
# Orders


tracking_validator = RegexValidator(r"^[A-Za-z0-9-]{6,32}$", _("运单号应为 6–32 位字母、数字或短横线。"))


class Order(ConcurrentTransitionMixin, MerchantOwned):
    """An order (M-2). `deadline_at` is the next automatic action: cancel (unpaid) or receive (shipped)."""

    order_no = models.CharField(_("订单号"), max_length=32, unique=True)
    buyer_id = models.CharField(_("买家ID"), max_length=40, db_index=True)
    buyer_name = models.CharField(_("买家昵称"), max_length=60, db_index=True)
    buyer_phone = models.CharField(_("买家手机号"), max_length=20, blank=True)
    # The buyer's shipping address (M-2), as merchants.services.place_order cleaned it. The phone is
    # shown masked only (N-7). db_default: rows written by COPY (bench/generate.py) may leave them out.
    consignee = models.CharField(_("收货人"), max_length=40, blank=True, default="", db_default="")
    consignee_phone = models.CharField(
        _("收货人手机号"), max_length=20, blank=True, default="", db_default=""
    )
    province = models.CharField(_("省份"), max_length=20, blank=True, default="", db_default="")
    city = models.CharField(_("城市"), max_length=20, blank=True, default="", db_default="")
    district = models.CharField(_("区县"), max_length=20, blank=True, default="", db_default="")
    street_address = models.CharField(_("详细地址"), max_length=120, blank=True, default="", db_default="")
    # Search by the last 4 digits of a phone (the order list): computed by the database, indexed.
    buyer_phone_last4 = models.GeneratedField(
        expression=Right("buyer_phone", 4),
        output_field=models.CharField(max_length=4),
        db_persist=True,
        verbose_name=_("买家手机尾号"),
    )
    consignee_phone_last4 = models.GeneratedField(
        expression=Right("consignee_phone", 4),
        output_field=models.CharField(max_length=4),
        db_persist=True,
        verbose_name=_("收货人手机尾号"),
    )
    payment_method = models.CharField(
        _("支付方式"), max_length=8, choices=PaymentMethod.choices, default=PaymentMethod.ONLINE
    )
    paid_amount = models.DecimalField(_("实付金额"), **MONEY)
    placed_at = models.DateTimeField(_("下单时间"), default=timezone.now)
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    ship_by = models.DateTimeField(_("承诺发货时间"), null=True, blank=True)
    status = fsm.FSMField(
        _("订单状态"), max_length=24, choices=OrderStatus.choices, default=OrderStatus.UNPAID, protected=True
    )
    deadline_at = models.DateTimeField(_("自动处理时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("全部发货时间"), null=True, blank=True)
    shipped_late = models.BooleanField(_("超时发货"), default=False)
    received_at = models.DateTimeField(_("收货时间"), null=True, blank=True)
    settlement_due_on = models.DateField(_("结算日"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        ordering = ("-placed_at", "-pk")
        indexes = [
            # The periodic tasks read due rows through this index only (M-3, S-5).
            models.Index(
                fields=["status", "deadline_at"], name="order_due_idx", condition=Q(deadline_at__isnull=False)
            ),
            # The workbench list: one shop's newest orders, optionally by state.
            models.Index(fields=["merchant", "-placed_at"], name="order_shop_recent_idx"),
            models.Index(fields=["merchant", "status", "-placed_at"], name="order_shop_status_idx"),
            models.Index(fields=["-placed_at"], name="order_recent_idx"),
            # Staff lists across every shop: one state, newest first (status filter, quick tabs).
            models.Index(fields=["status", "-placed_at"], name="order_status_recent_idx"),
            # The list's search by the last 4 digits of the buyer's or the consignee's phone.
            models.Index(fields=["buyer_phone_last4"], name="order_buyer_phone4_idx"),
            models.Index(fields=["consignee_phone_last4"], name="order_consignee_phone4_idx"),
            # Counts of open work (quick-tab badges, dashboard): only the few open rows are indexed.
            models.Index(
                fields=["status", "ship_by"],
                name="order_open_idx",
                condition=Q(status__in=["awaiting_confirmation", "to_ship", "partially_shipped"]),
            ),
            # Late orders (M-4): unshipped with a passed promise.
            models.Index(
                fields=["merchant", "ship_by"],
                name="order_late_idx",
                condition=Q(status__in=["to_ship", "partially_shipped"]),
            ),
        ]

    def __str__(self) -> str:
        return self.order_no

    # -- derived, cheap

    @property
    def buyer_phone_masked(self) -> str:
        return mask_phone(self.buyer_phone)

    @property
    def consignee_phone_masked(self) -> str:
        return mask_phone(self.consignee_phone)

    @property
    def has_address(self) -> bool:
        return bool(self.consignee or self.street_address)

    @property
    def region(self) -> str:
        """广东省 深圳市 南山区; a municipality's city repeats its province and is shown once."""
        parts = [self.province, "" if self.city == self.province else self.city, self.district]
        return " ".join(part for part in parts if part)

    @property
    def is_late(self) -> bool:
        """M-4: still owes a shipment and the promised ship-by time has passed."""
        return self.status in SHIPPABLE_STATES and self.ship_by is not None and self.ship_by < timezone.now()

    @property
    def express_refund_tag(self) -> bool:
        """A-11: orders of a shop with express refund on carry the 极速退款 tag."""
        return self.merchant.express_refund_enabled

    def unshipped_shippable_items(self):
        return self.items.filter(package__isnull=True).exclude(aftersale_lock=AftersaleLock.REFUNDED)

    # -- transitions (in memory; merchants.services saves and records)

    @fsm.transition(
        field=status,
        source=OrderStatus.UNPAID,
        target=OrderStatus.TO_SHIP,
        conditions=[is_online],
        permission=buyer_only,
    )
    def pay(self, *, at) -> None:
        """The buyer paid an online order."""
        self.paid_at = at
        self.deadline_at = None

    @fsm.transition(
        field=status,
        source=OrderStatus.AWAITING_CONFIRMATION,
        target=OrderStatus.TO_SHIP,
        conditions=[is_cod],
        permission=is_shop_writer,
    )
    def confirm_cod(self) -> None:
        """The merchant confirmed a cash-on-delivery order."""

    @fsm.transition(
        field=status,
        source=SHIPPABLE_STATES,
        target=fsm.RETURN_VALUE(OrderStatus.TO_SHIP, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED),
        permission=system_only,  # never a button: it follows from shipping (the "ship" move) and refunds
    )
    def settle_shipping(
        self,
        *,
        at,
        auto_receive_after: timedelta,
        has_packages: bool | None = None,
        unshipped: bool | None = None,
    ) -> str:
        """Recompute the shipping state from the items: shipped once every shippable item is in a package.

        A batch (merchants.services.ship_many) passes what it already knows — whether the order has a
        package, whether a shippable item is still unshipped — instead of a query per order."""
        if has_packages is None:
            has_packages = self.packages.exists()
        if unshipped is None:
            unshipped = self.unshipped_shippable_items().exists()
        if unshipped:
            return OrderStatus.PARTIALLY_SHIPPED if has_packages else OrderStatus.TO_SHIP
        self.shipped_at = at
        self.shipped_late = self.ship_by is not None and at > self.ship_by
        self.deadline_at = at + auto_receive_after  # S-5
        return OrderStatus.SHIPPED

    @fsm.transition(
        field=status, source=OrderStatus.SHIPPED, target=OrderStatus.RECEIVED, permission=may_confirm_receipt
    )
    def confirm_receipt(self, *, at) -> None:
        """The buyer (or, after the S-5 period, the system) confirmed receipt; settlement falls due."""
        self.received_at = at
        self.deadline_at = None
        self.settlement_due_on = next_settlement_day(at, self.merchant.settlement_cycle)

    @fsm.transition(
        field=status, source=CANCELLABLE_STATES, target=OrderStatus.CANCELLED, permission=may_cancel_order
    )
    def cancel(self, *, at, reason: str) -> None:
        """Cancel the order (who may is decided by merchants.services.cancel_order, M-3)."""
        self.cancelled_at = at
        self.cancel_reason = reason
        self.deadline_at = None


def next_settlement_day(at, cycle_days: int):
    """S-5: the first day of the merchant's next settlement cycle after `at` (local date).

    Cycles follow the calendar, as merchants read them: weekly cycles start on Mondays, half-monthly
    ones on the 1st and the 16th, monthly ones on the 1st. (Counting 7/15/30-day blocks from 1 January
    drifted away from calendar months and, at the year's end, jumped past the next year's first cycle.)
    """
    day = timezone.localtime(at).date()
    if cycle_days == Merchant.SettlementCycle.WEEKLY:
        return day + timedelta(days=7 - day.weekday())
    if cycle_days == Merchant.SettlementCycle.HALF_MONTHLY and day.day < 16:
        return day.replace(day=16)
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


class FakeShippingSource(models.TextChoices):
    """Who set a package's fake-shipping flag (L-7)."""

    STAFF = "staff", _("平台客服")
    LOGISTICS_FEED = "logistics_feed", _("物流导入")


class Package(MerchantOwned):
    """A parcel (包裹) carrying one or more items of one order under one tracking number (S-1)."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="packages", verbose_name=_("订单")
    )
    carrier = models.CharField(_("快递公司"), max_length=16, choices=Carrier.choices)
    tracking_no = models.CharField(_("运单号"), max_length=32, validators=[tracking_validator])
    shipped_at = models.DateTimeField(_("发货时间"), default=timezone.now)
    fake_shipping = models.BooleanField(_("虚假发货"), default=False, help_text=_("由平台或物流导入标记。"))
    fake_shipping_at = models.DateTimeField(_("虚假发货标记时间"), null=True, blank=True)
    fake_shipping_source = models.CharField(
        _("虚假发货标记来源"),
        max_length=16,
        choices=FakeShippingSource.choices,
        blank=True,
        default="",
        db_default="",
    )
    tracking_changed_at = models.DateTimeField(_("改单时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("包裹")
        verbose_name_plural = _("包裹")
        ordering = ("shipped_at", "pk")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "carrier", "tracking_no"], name="package_unique_tracking_per_order"
            )
        ]
        indexes = [models.Index(fields=["tracking_no"], name="package_tracking_idx")]

    def __str__(self) -> str:
        return f"{self.get_carrier_display()} {self.tracking_no}"


class OrderItem(MerchantOwned):
    """One line of an order. `package` is set when it ships; `aftersale_lock` is S-2's input."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("订单"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="order_items", verbose_name=_("商品")
    )
    sku = models.ForeignKey(
        Sku, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    quantity = models.PositiveIntegerField(_("数量"), default=1, validators=[MinValueValidator(1)])
    paid_amount = models.DecimalField(_("实付金额"), **MONEY)
    refunded_amount = models.DecimalField(_("已退款金额"), **MONEY, default=Decimal("0.00"))
    package = models.ForeignKey(
        Package,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="items",
        verbose_name=_("包裹"),
    )
    aftersale_lock = models.CharField(
        _("售后状态"), max_length=16, choices=AftersaleLock.choices, default=AftersaleLock.NONE, blank=True
    )

    class Meta:
        verbose_name = _("订单商品")
        verbose_name_plural = _("订单商品")
        ordering = ("pk",)
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("paid_amount")), name="item_refund_within_paid"
            ),
        ]

    def __str__(self) -> str:
        label = self.product.name if self.product_id else ""
        return f"{label} ×{self.quantity}"

    def refundable_amount(self) -> Decimal:
        return self.paid_amount - self.refunded_amount

    @property
    def is_shipped(self) -> bool:
        return self.package_id is not None


class OrderEvent(EventBase):
    """The order's history (who shipped, cancelled, changed tracking, when)."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("下单")
        PAID = "paid", _("付款")
        COD_CONFIRMED = "cod_confirmed", _("确认订单")
        SHIPPED = "shipped", _("发货")
        TRACKING_CHANGED = "tracking_changed", _("修改物流")
        RECEIVED = "received", _("确认收货")
        AUTO_RECEIVED = "auto_received", _("自动确认收货")
        CANCELLED = "cancelled", _("取消订单")
        CANCEL_REFUNDED = "cancel_refunded", _("取消订单退款")  # M-3: the refund a paid cancel started
        AUTO_CANCELLED = "auto_cancelled", _("超时未付款自动取消")
        SHIPPING_SETTLED = "shipping_settled", _("发货状态更新")
        FAKE_SHIPPING_FLAGGED = "fake_shipping_flagged", _("标记虚假发货")
        FAKE_SHIPPING_CLEARED = "fake_shipping_cleared", _("取消虚假发货标记")

    # The system's sentences, rendered in the reader's language when shown (merchants.kernel.events).
    TEXTS = {
        Kind.SHIPPED: _("%(carrier)s %(tracking)s，%(count)d 件商品"),
        Kind.TRACKING_CHANGED: _("运单 %(old)s 改为 %(carrier)s %(new)s"),
        Kind.AUTO_CANCELLED: _("超时未付款，系统自动取消"),
        Kind.AUTO_RECEIVED: _("买家超时未确认，系统自动确认收货"),
        Kind.SHIPPING_SETTLED: _("剩余商品已全部退款，订单视为已发货。"),
        Kind.FAKE_SHIPPING_FLAGGED: _("包裹 %(tracking)s 被标记为虚假发货（%(source)s）。"),
        Kind.FAKE_SHIPPING_CLEARED: _("包裹 %(tracking)s 的虚假发货标记已取消（%(source)s）。"),
        "all_refunded": _("全部商品已退款，交易关闭"),
        Kind.CANCEL_REFUNDED: _(
            "已为 %(count)d 件商品发起全额退款，共 ¥%(total)s（售后单 %(cases)s）。"
        ),  # a CANCELLED event's "why" (resettle_shipping)
    }
    PARAM_CHOICES = {"carrier": Carrier, "source": FakeShippingSource}

    merchant_path = "order__merchant"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("订单"))

    class Meta(EventBase.Meta):
        verbose_name = _("订单记录")
        verbose_name_plural = _("订单记录")

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


# --------------------------------------------------------------------------------------------
# What the level metrics read (L-1, L-3, L-4): daily counts kept as the data arrive


class ImDailyStat(MerchantOwned):
    """One shop's IM (customer-service chat) figures for one day, as the platform's IM import delivers them.

    Sums and counts only, never averages (L-3): averages over 30 or 90 days are sums ÷ counts, which an
    average of daily averages is not. `human_first_response_seconds` is the sum over `human_sessions` of
    (a human agent's first reply − the moment the session was assigned to a human agent).
    """

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"), db_index=False
    )
    day = models.DateField(_("日期"))
    sessions = models.PositiveIntegerField(_("咨询会话数"), default=0)
    human_sessions = models.PositiveIntegerField(_("人工接待会话数"), default=0)
    human_first_response_seconds = models.PositiveIntegerField(
        _("人工首次响应总时长（秒）"), default=0, help_text=_("人工接待会话的首次响应时长之和。")
    )
    rated_sessions = models.PositiveIntegerField(_("评价会话数"), default=0)
    low_rated_sessions = models.PositiveIntegerField(
        _("不满意会话数"), default=0, help_text=_("1–3 星评价的会话数。")
    )

    class Meta:
        verbose_name = _("客服日报")
        verbose_name_plural = _("客服日报")
        ordering = ("merchant", "-day")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "day"], name="imdailystat_unique_shop_day"),
            models.CheckConstraint(
                condition=Q(human_sessions__lte=models.F("sessions")),
                name="imdailystat_human_within_sessions",
            ),
            models.CheckConstraint(
                condition=Q(low_rated_sessions__lte=models.F("rated_sessions")),
                name="imdailystat_low_within_rated",
            ),
        ]
        indexes = [models.Index(fields=["day"], name="imdailystat_day_idx")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.day}"


class ShopDay(MerchantOwned):
    """One shop's valid orders and GMV of one local day (L-1 caps, L-4), counted as L-3 defines them.

    A cod order counts on the day it was placed, an online order on the day it was paid; an unpaid
    order never counts. Kept by merchants.services (place_order, pay_order) in the order's transaction;
    merchants.services.rebuild_shop_days recomputes them from the orders.
    """

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"), db_index=False
    )
    day = models.DateField(_("日期"))
    orders = models.PositiveIntegerField(_("订单数"), default=0)
    gmv = models.DecimalField(_("成交金额"), max_digits=16, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        verbose_name = _("店铺日成交")
        verbose_name_plural = _("店铺日成交")
        ordering = ("merchant", "-day")
        constraints = [models.UniqueConstraint(fields=["merchant", "day"], name="shopday_unique_shop_day")]
        indexes = [models.Index(fields=["day"], name="shopday_day_idx")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.day}"


class TrackingEvent(MerchantOwned):
    """One carrier scan of a parcel, as the platform's logistics feed delivers it (B-1, 物流轨迹).

    A parcel is a shop's (carrier, tracking number) in one direction: an outgoing package of an order, or
    a buyer's return parcel of an after-sales case (merchants imports nothing above it, so a return parcel
    is named by the case's return carrier and number, not by a key to the case). The same scan imported
    twice is one event (the unique constraint); merchants.feeds is the one writer.
    """

    class Direction(models.TextChoices):
        OUTGOING = "outgoing", _("发货包裹")
        RETURN = "return", _("退货包裹")

    class Stage(models.TextChoices):
        COLLECTED = "collected", _("已揽收")
        IN_TRANSIT = "in_transit", _("运输中")
        DELIVERING = "delivering", _("派送中")
        SIGNED = "signed", _("已签收")

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"), db_index=False
    )
    direction = models.CharField(_("包裹类型"), max_length=16, choices=Direction.choices)
    carrier = models.CharField(_("快递公司"), max_length=16, choices=Carrier.choices)
    tracking_no = models.CharField(_("运单号"), max_length=32)
    stage = models.CharField(_("物流节点"), max_length=16, choices=Stage.choices)
    occurred_at = models.DateTimeField(_("发生时间"))
    text = models.CharField(_("轨迹描述"), max_length=200, blank=True, default="")
    imported_at = models.DateTimeField(_("导入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("物流轨迹")
        verbose_name_plural = _("物流轨迹")
        ordering = ("-occurred_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "direction", "carrier", "tracking_no", "stage", "occurred_at"],
                name="trackingevent_unique_scan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_no} {self.stage} {self.occurred_at:%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------------------------
# Levels and scores (L-1..L-6): every evaluation stored with its reasons, and the dated score settings


class LevelOutcome(models.TextChoices):
    UP = "up", _("升级")
    DOWN = "down", _("降级")
    UNCHANGED = "unchanged", _("不变")
    FAST_UP = "fast_up", _("快速升级")
    CLEARED = "cleared", _("清退")
    NOT_DUE = "not_due", _("未到评估日")
    MANUAL = "manual", _("手动调整")


class LevelEvaluation(MerchantOwned):
    """One day's evaluation of a shop (L-2): every metric's value, the lines it was compared with, the
    result and why; also the day's check of a shop not due (its metrics and what they would say), and
    staff's hand-set levels (outcome `manual`, with the actor and the reason). Written by
    merchants.levels.engine and merchants.services.set_level only; never edited."""

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, verbose_name=_("店铺"), db_index=False
    )
    evaluated_on = models.DateField(_("评估日"))
    outcome = models.CharField(_("结果"), max_length=12, choices=LevelOutcome.choices)
    applied = models.BooleanField(
        _("正式评估"), default=True, help_text=_("到期的正式评估（或手动调整），而非每日预览。")
    )
    level_before = models.PositiveSmallIntegerField(_("原等级"))
    level_after = models.PositiveSmallIntegerField(_("新等级"))
    reason = models.CharField(_("原因"), max_length=20)  # a key of merchants.levels.rules.REASONS
    params = models.JSONField(_("参数"), default=dict, blank=True)
    checks = models.JSONField(_("指标"), default=list, blank=True)  # [{key, value, meets_up, hits_down, ...}]
    figures = models.JSONField(_("原始数据"), default=dict, blank=True)  # the counts the metrics came from
    scores = models.JSONField(_("评分"), default=dict, blank=True)  # L-5, L-6
    next_evaluation_on = models.DateField(_("下次评估日"), null=True, blank=True)
    # What the next due evaluation would say on today's data (a shop not due: its forecast; the staff's
    # "about to drop a level" list reads it).
    forecast = models.CharField(_("预测结果"), max_length=12, choices=LevelOutcome.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    message = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("等级评估记录")
        verbose_name_plural = _("等级评估记录")
        ordering = ("-evaluated_on", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "evaluated_on"],
                condition=~Q(outcome="manual"),
                name="levelevaluation_one_per_shop_day",
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "-evaluated_on"], name="leveleval_shop_recent_idx"),
            models.Index(fields=["evaluated_on", "outcome"], name="leveleval_day_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.evaluated_on} {self.outcome}"

    def reason_text(self) -> str:
        from merchants.levels.rules import reason_text

        return reason_text(self.reason, self.params)


class ScoreSettings(models.Model):
    """The indicator-to-score curves and the weights of L-5 and L-6, dated: a period is scored under the
    row in force on its day (the latest `effective_from` not after it). Staff add a row to change them;
    merchants.levels.scores.recompute re-scores the stored evaluations from that day on."""

    effective_from = models.DateField(_("生效日期"), unique=True)
    product_weight = models.DecimalField(
        _("商品体验权重（%）"), max_digits=5, decimal_places=2, default=Decimal("42.50")
    )
    logistics_weight = models.DecimalField(
        _("物流体验权重（%）"), max_digits=5, decimal_places=2, default=Decimal("20.00")
    )
    service_weight = models.DecimalField(
        _("服务体验权重（%）"), max_digits=5, decimal_places=2, default=Decimal("37.50")
    )
    refund_only_weight = models.DecimalField(
        _("仅退款时长权重（%）"), max_digits=5, decimal_places=2, default=Decimal("50.00")
    )
    return_refund_weight = models.DecimalField(
        _("退货退款时长权重（%）"), max_digits=5, decimal_places=2, default=Decimal("50.00")
    )
    curves = models.JSONField(
        _("评分曲线"),
        default=dict,
        blank=True,
        help_text=_("每个指标一组 [指标值, 分数] 折线点，按指标值升序；留空的指标用默认曲线。"),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("评分设置")
        verbose_name_plural = _("评分设置")
        ordering = ("-effective_from",)

    def __str__(self) -> str:
        return str(self.effective_from)

    def clean(self):
        from django.core.exceptions import ValidationError

        from merchants.levels.scores import check_curves

        total = self.product_weight + self.logistics_weight + self.service_weight
        if total != 100:
            raise ValidationError(
                _("商品、物流、服务体验权重之和须为 100%%，现在是 %(total)s%%。") % {"total": total}
            )
        if self.refund_only_weight + self.return_refund_weight != 100:
            raise ValidationError(_("两项售后时长权重之和须为 100%。"))
        check_curves(self.curves)
