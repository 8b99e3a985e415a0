"""Level-engine benchmarks (issue 13): `evaluate_levels` over every due shop, and one shop's dashboard.

    .venv/bin/python -m bench.levels

- data (`levels`, its own marker in `bench_dataset`, generated once): BENCH_LEVEL_SHOPS shops (10,000)
  with BENCH_LEVEL_ORDERS_PER_DAY orders a day each (10) over the 30 days before today — 3,000,000 orders
  at the defaults — one item each, a package for every shipped order (0.5 % flagged fake), daily shop
  counts, an IM day per shop and day, reviews on 5 % of the orders, refund cases on 3 % (an approval
  event for each return refund), merchant-liable or malicious complaints on 0.5 %. Every shop changed
  level 31–60 days ago, so all are due. Written server-side (INSERT … SELECT generate_series, every
  column the generator does not name filled with the model's default as bench.generate.Copier does):
  the whole set in a few minutes, much faster than streaming 10 M rows through COPY from Python.
  Smaller machines: BENCH_LEVEL_SHOPS=2000 scales every table with it (the figure says how many shops).
- evaluate_levels (L-2): `merchants.tasks.evaluate_levels()` over every due shop, in a transaction rolled
  back afterwards (levels and evaluations restored), target ≤ 30 s; shops/s. Anchor, same run: a loop of
  queries per shop (each shop's figures collected alone: the same providers, one shop at a time) under a
  time budget (BENCH_LEVEL_NAIVE_BUDGET_S, 30 s), its rate projected to all the shops.
- dashboard (L-8): /workbench/merchants/levelevaluation/dashboard/ as the owner of one shop, median of 20,
  target ≤ 300 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from bench.common import Report, Stopwatch, log, require_postgres, scalar, setup, sql  # noqa: E402

N_SHOPS = int(os.environ.get("BENCH_LEVEL_SHOPS", "10000"))
PER_DAY = int(os.environ.get("BENCH_LEVEL_ORDERS_PER_DAY", "10"))
DAYS = 30
NAIVE_BUDGET_S = float(os.environ.get("BENCH_LEVEL_NAIVE_BUDGET_S", "30"))
EVALUATE_TARGET_S = 30
DASHBOARD_TARGET_MS = 300
OWNER = "bench_levels"
MARKER = "levels"


def _insert(cur, model, exprs: dict[str, str], source: str, params=()) -> int:
    """INSERT INTO model's table (named columns = SQL expressions) SELECT … FROM `source`; the columns not
    named get the model's defaults (bench.generate.Copier decides which, and refuses a NOT NULL without one)."""
    from django.db import models
    from django.db.models import NOT_PROVIDED

    from bench.generate import Copier

    exprs = dict(exprs)
    for f in model._meta.local_concrete_fields:  # blank text without a default (forms fill it): ''
        if (
            f.column not in exprs
            and isinstance(f, models.CharField | models.TextField)
            and f.blank
            and not f.null
            and not f.has_default()
            and f.db_default is NOT_PROVIDED
            and not getattr(f, "generated", False)
        ):
            exprs[f.column] = "''"
        elif f.column not in exprs and isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
            exprs[f.column] = "now()"
    copier = Copier(cur, model, list(exprs))
    extra_cols = copier.columns[len(exprs) :]
    # Written with `%` as SQL's modulo and `:P` for a placeholder (the FROM part's parameters).
    select = ", ".join([*(e.replace("%", "%%") for e in exprs.values()), *["%s"] * len(extra_cols)])
    source = source.replace("%", "%%").replace(":P", "%s")
    cur.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(copier.columns)}) SELECT {select} FROM {source}",
        [*copier.extra, *params],
    )
    return cur.rowcount


def generate() -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from aftersales.models import AfterSaleCase, CaseEvent
    from merchants.levels.registry import midnight
    from merchants.models import (
        ImDailyStat,
        Membership,
        Merchant,
        Order,
        OrderItem,
        Package,
        Product,
        ShopDay,
    )
    from reviews.models import Review
    from tickets.models import Ticket

    now = timezone.now()
    start = midnight(timezone.localdate(now))  # today's local midnight: the windows end here
    NOW = f"'{now.isoformat()}'::timestamptz"  # literals we made ourselves: no placeholder counting
    START = f"'{start.isoformat()}'::timestamptz"
    counts = {}
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT setseed(0.1313)")
        base = {m: scalar(f"SELECT COALESCE(max(id), 0) FROM {m._meta.db_table}") for m in (
            Merchant, Product, Order, OrderItem, Package)}  # fmt: skip
        m0, p0, o0, i0, k0 = (base[m] for m in (Merchant, Product, Order, OrderItem, Package))
        n, total = N_SHOPS, N_SHOPS * DAYS * PER_DAY
        log(f"levels data: {n} shops, {total} orders")
        counts["shops"] = _insert(
            cur,
            Merchant,
            {
                "id": f"{m0} + g",
                "name": "'等级基准店' || g",
                "code": "'lv-' || g",
                "level": "(g % 7)",
                "status": "'active'",
                "express_refund_enabled": "false",
                "return_contact": "'售后'",
                "return_phone": "'13800000000'",
                "return_address": "'上海市'",
                "settlement_cycle": "7",
                "level_changed_at": f"{NOW} - ((31 + g % 30) || ' days')::interval",
                "created_at": f"{NOW} - interval '400 days'",
            },
            "generate_series(1, :P) AS g",
            [n],
        )
        _insert(
            cur,
            Product,
            {"id": f"{p0} + g", "merchant_id": f"{m0} + g", "spu_id": "'LV' || g", "name": "'基准商品' || g"},
            "generate_series(1, :P) AS g",
            [n],
        )
        # Order g: shop 1 + (g-1) % n, day 1 + ((g-1) / n) % 30 before today.
        orders_src = (
            f"(SELECT g, 1 + (g - 1) % {n} AS shop, 1 + ((g - 1) / {n}) % {DAYS} AS day, random() AS r, random() AS s"
            " FROM generate_series(1, :P) AS g) AS o"
        )
        placed = f"({START} - (o.day || ' days')::interval + (o.s * 20) * interval '1 hour')"
        log("orders")
        counts["orders"] = _insert(
            cur,
            Order,
            {
                "id": f"{o0} + o.g",
                "order_no": "'LVO' || o.g",
                "buyer_id": "'B' || (o.g % 100000)",
                "buyer_name": "'买家'",
                "buyer_phone": "''",
                "payment_method": "CASE WHEN o.r < 0.08 THEN 'cod' ELSE 'online' END",
                "paid_amount": "(50 + (o.g % 200))::numeric",
                "placed_at": placed,
                "paid_at": f"CASE WHEN o.r < 0.08 THEN NULL ELSE {placed} + interval '5 minutes' END",
                "ship_by": f"{placed} + interval '48 hours'",
                "status": f"CASE WHEN {placed} + interval '4 days' < {NOW} THEN 'received' ELSE 'shipped' END",
                "shipped_at": f"{placed} + (o.r * 50) * interval '1 hour'",
                "shipped_late": "o.r * 50 > 48",
                "received_at": f"CASE WHEN {placed} + interval '4 days' < {NOW} THEN {placed} + interval '4 days' END",
                "merchant_id": f"{m0} + o.shop",
            },
            orders_src,
            [total],
        )
        log("packages and items")
        _insert(
            cur,
            Package,
            {
                "id": f"{k0} + o.id - {o0}",
                "order_id": "o.id",
                "carrier": "'sf'",
                "tracking_no": "'SF' || o.id",
                "shipped_at": "o.shipped_at",
                "fake_shipping": "(o.id % 200 = 0)",
                "merchant_id": "o.merchant_id",
            },
            f"{Order._meta.db_table} o WHERE o.id > {o0}",
        )
        _insert(
            cur,
            OrderItem,
            {
                "id": f"{i0} + o.id - {o0}",
                "order_id": "o.id",
                "product_id": f"{p0} + o.merchant_id - {m0}",
                "quantity": "1",
                "paid_amount": "o.paid_amount",
                "refunded_amount": "0",
                "package_id": f"{k0} + o.id - {o0}",
                "aftersale_lock": "''",
                "merchant_id": "o.merchant_id",
            },
            f"{Order._meta.db_table} o WHERE o.id > {o0}",
        )
        log("shop days, IM days")
        _insert(
            cur,
            ShopDay,
            {
                "merchant_id": "merchant_id",
                "day": "day",
                "orders": "count(*)",
                "gmv": "sum(paid_amount)",
            },
            f"(SELECT merchant_id, paid_amount, (COALESCE(paid_at, placed_at) AT TIME ZONE 'Asia/Shanghai')::date AS day"
            f" FROM {Order._meta.db_table} WHERE id > {o0}) x GROUP BY merchant_id, day",
        )
        _insert(
            cur,
            ImDailyStat,
            {
                "merchant_id": f"{m0} + s",
                "day": f"('{timezone.localdate(now)}'::date - d)",
                "sessions": "40",
                "human_sessions": "20",
                "human_first_response_seconds": "20 * (60 + (s % 300))",
                "rated_sessions": "10",
                "low_rated_sessions": "(s % 3)",
            },
            "generate_series(1, :P) AS s, generate_series(1, :P) AS d",
            [n, 90],
        )
        log("reviews, cases, complaints")
        _insert(
            cur,
            Review,
            {
                "merchant_id": "o.merchant_id",
                "product_id": f"{p0} + o.merchant_id - {m0}",
                "order_id": "o.id",
                "item_id": f"{i0} + o.id - {o0}",
                "order_no": "o.order_no",
                "buyer_id": "o.buyer_id",
                "buyer_name": "o.buyer_name",
                "product_rating": "CASE WHEN o.id % 37 = 0 THEN 1 ELSE 5 END",
                "service_rating": "CASE WHEN o.id % 29 = 0 THEN 2 ELSE 5 END",
                "logistics_rating": "5",
                "content": "'好'",
                "created_at": "o.received_at",
            },
            f"{Order._meta.db_table} o WHERE o.id > {o0} AND o.received_at IS NOT NULL AND o.id % 20 = 0",
        )
        _insert(
            cur,
            AfterSaleCase,
            {
                "merchant_id": "o.merchant_id",
                "case_no": "'LVC' || o.id",
                "order_id": "o.id",
                "item_id": f"{i0} + o.id - {o0}",
                "product_id": f"{p0} + o.merchant_id - {m0}",
                "order_no": "o.order_no",
                "buyer_id": "o.buyer_id",
                "buyer_name": "o.buyer_name",
                "type": "CASE WHEN o.id % 2 = 0 THEN 'refund_only' ELSE 'return_refund' END",
                "status": "'refunded'",
                "reason": "CASE WHEN o.id % 5 = 0 THEN 'logistics' ELSE 'quality' END",
                "amount": "o.paid_amount",
                "postage_payer": "'merchant'",
                "return_shipped_at": "CASE WHEN o.id % 2 = 1 THEN o.shipped_at + interval '30 hours' END",
                "return_signed_at": "CASE WHEN o.id % 2 = 1 THEN o.shipped_at + interval '50 hours' END",
                "return_received_at": "CASE WHEN o.id % 2 = 1 THEN o.shipped_at + interval '60 hours' END",
                "refunded_amount": "o.paid_amount",
                "refunded_at": "o.shipped_at + interval '62 hours'",
                "arbitration_started_at": "CASE WHEN o.id % 41 = 0 THEN o.shipped_at + interval '30 hours' END",
                "arbitrated_at": "CASE WHEN o.id % 41 = 0 THEN o.shipped_at + interval '40 hours' END",
                "liability": "CASE WHEN o.id % 41 = 0 THEN 'merchant' ELSE '' END",
                "created_at": "o.shipped_at + interval '24 hours'",
                "closed_at": "o.shipped_at + interval '62 hours'",
            },
            f"{Order._meta.db_table} o WHERE o.id > {o0} AND o.id % 33 = 0 AND o.shipped_at + interval '62 hours' < {NOW}",
        )
        _insert(
            cur,
            CaseEvent,
            {
                "case_id": "c.id",
                "actor_kind": "'merchant'",
                "kind": "'approved'",
                "source_status": "'pending'",
                "target_status": "'awaiting_return'",
                "created_at": "c.created_at + interval '3 hours'",
            },
            f"{AfterSaleCase._meta.db_table} c WHERE c.case_no LIKE 'LVC%' AND c.type = 'return_refund'",
        )
        _insert(
            cur,
            Ticket,
            {
                "merchant_id": "o.merchant_id",
                "ticket_no": "'LVT' || o.id",
                "order_id": "o.id",
                "order_no": "o.order_no",
                "category": "'complaint'",
                "demand": "'投诉'",
                "status": "'closed'",
                "liability": "CASE WHEN o.id % 3 = 0 THEN 'malicious' ELSE 'merchant' END",
                "created_at": "o.placed_at + interval '3 days'",
                "closed_at": "o.placed_at + interval '4 days'",
            },
            f"{Order._meta.db_table} o WHERE o.id > {o0} AND o.id % 200 = 7",
        )
        for model in (Merchant, Product, Order, OrderItem, Package):
            table = model._meta.db_table
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        user, _created = get_user_model().objects.get_or_create(username=OWNER)
        user.set_password(OWNER)
        user.save()
        Membership.objects.get_or_create(user=user, merchant_id=m0 + 1, defaults={"role": "owner"})
        from bench.generate import _mark

        _mark(MARKER, {"shops": n, "per_day": PER_DAY, "first_shop": m0 + 1}, total, now)
    log("ANALYZE")
    for model in (Merchant, Order, OrderItem, Package, ShopDay, ImDailyStat, Review, AfterSaleCase, Ticket):
        sql(f"VACUUM (ANALYZE) {model._meta.db_table}")
    return counts


def ensure() -> dict:
    from bench.generate import marker

    mark = marker(MARKER)
    wanted = {"shops": N_SHOPS, "per_day": PER_DAY}
    if mark and all(mark["params"].get(k) == v for k, v in wanted.items()):
        first = mark["params"]["first_shop"]
        if scalar("SELECT count(*) FROM merchants_merchant WHERE id = %s", [first]):
            return mark["params"]
    if mark:
        log("levels data: parameters changed or data gone; generating again (old rows stay)")
    with Stopwatch() as sw:
        generate()
    log(f"levels data generated in {sw.seconds:.0f} s")
    return marker(MARKER)["params"]


class Rollback(Exception):
    pass


def bench_evaluate(report: Report) -> None:
    from django.db import transaction
    from django.utils import timezone

    from merchants import tasks
    from merchants.kernel.vocabulary import MerchantStatus
    from merchants.levels import registry
    from merchants.models import LevelEvaluation, Merchant

    today = timezone.localdate()
    LevelEvaluation.objects.filter(evaluated_on=today).delete()  # an interrupted earlier run
    shops = Merchant.objects.filter(status=MerchantStatus.ACTIVE).count()
    try:
        with transaction.atomic():
            with Stopwatch() as sw:
                changed = tasks.evaluate_levels()
            evaluated = LevelEvaluation.objects.filter(evaluated_on=today).count()
            raise Rollback
    except Rollback:
        pass
    log(f"evaluate_levels: {evaluated} shops in {sw.seconds:.1f} s, {changed} changed (rolled back)")

    # Anchor: each shop's figures alone, one shop after another, on a time budget.
    ids = list(
        Merchant.objects.filter(status=MerchantStatus.ACTIVE).order_by("pk").values_list("pk", flat=True)
    )
    windows = registry.Windows(today)
    done, started = 0, time.perf_counter()
    for pk in ids:
        registry.collect([pk], windows)
        done += 1
        if time.perf_counter() - started > NAIVE_BUDGET_S:
            break
    loop_rate = done / (time.perf_counter() - started)
    projected = len(ids) / loop_rate
    report.add(
        "levels.evaluate_levels_all_due",
        sw.seconds,
        "s",
        anchor=projected,
        anchor_name="per-shop loop of queries (projected)",
        target=EVALUATE_TARGET_S,
        note=f"{evaluated} shops ({shops} active), {evaluated / sw.seconds:.0f} shops/s; "
        f"loop {loop_rate:.1f} shops/s over {done} shops",
        shops=evaluated,
        changed=changed,
    )
    report.add(
        "levels.evaluate_levels_rate",
        evaluated / sw.seconds,
        "shops/s",
        anchor=loop_rate,
        anchor_name="per-shop loop of queries",
        better="higher",
    )


def bench_dashboard(report: Report) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(get_user_model().objects.get(username=OWNER))
    url = reverse("workbench:merchants_level_dashboard")
    samples = []
    for i in range(23):
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        if i >= 3:
            samples.append(elapsed)
    report.add(
        "levels.dashboard_one_shop",
        statistics.median(samples),
        "ms",
        target=DASHBOARD_TARGET_MS,
        note=f"median of {len(samples)}",
        samples=[round(s, 1) for s in samples],
    )


def main(argv: list[str] | None = None) -> int:
    setup()
    require_postgres()
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    ensure()
    report = Report()
    bench_evaluate(report)
    bench_dashboard(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
