"""The merchants app's own figures for the level engine (L-3, L-6): shipping, IM, orders, sales.

Each is one grouped query over all the shops asked for (never a query per shop), with its exclusions:
virtual-goods orders are out of on-time shipping; an unpaid online order never counts (ShopDay counts
cod at placement and online when paid, merchants.services.shop_day_counts).
"""

from __future__ import annotations

from django.db.models import Count, Exists, F, OuterRef, Q, Sum

from merchants.levels.registry import Windows, level_daily_metric, level_metric, of_shops
from merchants.models import ImDailyStat, Order, OrderItem, Package, Product, ShopDay
from merchants.transitions import OrderStatus, PaymentMethod


def _merge(target: dict, rows, **names) -> None:
    for row in rows:
        figures = target.setdefault(row["merchant_id"], {})
        for name, column in names.items():
            figures[name] = row[column] or 0


def orders_due_to_ship(merchant_ids, start, end):
    """L-3's "orders due to ship" in [start, end): the promise fell due in the window, the order counts
    (paid, or cod), it was not cancelled before its promise, and it has goods to ship (not only virtual)."""
    items = OrderItem.objects.filter(order=OuterRef("pk"))
    if Product.objects.filter(of_shops(Product, merchant_ids), is_virtual=True).exists():
        items = items.filter(product__is_virtual=False)
    # else every item is a physical one: the same test without joining the products (the common case)
    return (
        Order.objects.filter(of_shops(Order, merchant_ids), ship_by__gte=start, ship_by__lt=end)
        .filter(Q(payment_method=PaymentMethod.COD) | Q(paid_at__isnull=False))
        .exclude(status=OrderStatus.CANCELLED, cancelled_at__lte=F("ship_by"))
        .filter(Exists(items))
    )


@level_metric
def shipping_figures(merchant_ids, windows: Windows) -> dict:
    start, end = windows.w30
    out: dict = {}
    due = (
        orders_due_to_ship(merchant_ids, start, end)
        .values("merchant_id")
        .annotate(due=Count("pk"), on_time=Count("pk", filter=Q(shipped_at__lte=F("ship_by"))))
        .order_by()
    )
    _merge(out, due, orders_due="due", orders_on_time="on_time")
    packages = (
        Package.objects.filter(of_shops(Package, merchant_ids), shipped_at__gte=start, shipped_at__lt=end)
        .values("merchant_id")
        .annotate(n=Count("pk"), fake=Count("pk", filter=Q(fake_shipping=True)))
        .order_by()
    )
    _merge(out, packages, packages_shipped="n", packages_fake="fake")
    received = (
        Order.objects.filter(of_shops(Order, merchant_ids), received_at__gte=start, received_at__lt=end)
        .values("merchant_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    _merge(out, received, orders_received="n")
    return out


@level_metric
def im_figures(merchant_ids, windows: Windows) -> dict:
    """IM sums over 30 days (first response) and 90 days (dissatisfaction, L-6)."""
    d30, end = windows.days(30)
    d90, _end = windows.days(90)
    rows = (
        ImDailyStat.objects.filter(of_shops(ImDailyStat, merchant_ids), day__gte=d90, day__lt=end)
        .values("merchant_id")
        .annotate(
            human=Sum("human_sessions", filter=Q(day__gte=d30)),
            seconds=Sum("human_first_response_seconds", filter=Q(day__gte=d30)),
            sessions=Sum("sessions", filter=Q(day__gte=d30)),
            rated=Sum("rated_sessions"),
            low=Sum("low_rated_sessions"),
        )
        .order_by()
    )
    out: dict = {}
    _merge(
        out,
        rows,
        im_human_sessions="human",
        im_first_response_seconds="seconds",
        im_sessions="sessions",
        im_rated_90="rated",
        im_low_rated_90="low",
    )
    return out


@level_metric
def order_figures(merchant_ids, windows: Windows) -> dict:
    """Valid orders: in the 30 days, over the shop's life until the window's end, and in L-6's
    logistics window (days 15–104 before) — all from the daily counts (ShopDay)."""
    d30, end = windows.days(30)
    l_start, l_end = windows.days(90, skip=14)
    rows = (
        ShopDay.objects.filter(of_shops(ShopDay, merchant_ids), day__lt=end)
        .values("merchant_id")
        .annotate(
            total=Sum("orders"),
            recent=Sum("orders", filter=Q(day__gte=d30)),
            logistics=Sum("orders", filter=Q(day__gte=l_start, day__lt=l_end)),
        )
        .order_by()
    )
    out: dict = {}
    _merge(out, rows, cumulative_sales="total", orders="recent", orders_logistics_window="logistics")
    return out


@level_daily_metric
def day_orders(pairs) -> dict:
    """L-4, one day: the shop's valid orders and GMV, and the orders received that day."""
    from merchants.levels.registry import midnight

    ids = sorted({pk for pk, _day in pairs})
    days = sorted({day for _pk, day in pairs})
    out: dict = {}
    wanted = set(pairs)
    for row in ShopDay.objects.filter(merchant_id__in=ids, day__in=days).values(
        "merchant_id", "day", "orders", "gmv"
    ):
        key = (row["merchant_id"], row["day"])
        if key in wanted:
            out.setdefault(key, {}).update(orders=row["orders"], gmv=row["gmv"])
    from datetime import timedelta

    from django.db.models.functions import TruncDate
    from django.utils import timezone

    start, end = midnight(days[0]), midnight(days[-1] + timedelta(days=1))
    received = (
        Order.objects.filter(merchant_id__in=ids, received_at__gte=start, received_at__lt=end)
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .values("merchant_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in received:
        key = (row["merchant_id"], row["day"])
        if key in wanted:
            out.setdefault(key, {})["received"] = row["n"]
    return out
