"""Bench data sets, written with PostgreSQL COPY (psycopg 3 `cursor.copy()`): minutes, not hours.

    .venv/bin/python -m bench.generate            # every data set, skipped when already there
    .venv/bin/python -m bench.generate --force    # rebuild

`orders`: 1,000,000 orders over 200 shops (sizes skewed, ~1,900 to ~20,000 orders a shop), 20 products a
shop, one item an order (12 % have two), a package for every order that shipped, statuses and times
as merchants/models.py has them (`deadline_at`: unpaid = placed + 24 h, shipped = shipped_at + 15 d,
else NULL), then ANALYZE. Users: `bench_shop` (owner of the shop closest to 5,000 orders) and
`bench_staff` (platform superuser).

A marker table `bench_dataset` remembers what was generated and the instant the data is consistent
with. Data a few hours old is shifted forward in time in one UPDATE a table, so shipped orders do not
fall due by themselves between runs (the sweep benchmark decides exactly which rows are due).

To add a data set (reviews …): write `ensure_<name>()` here or in a module of its own (as generate_cases.py),
call `ensure_orders()` first if it builds on orders, record it with `_mark()`, and add it to `DATASETS`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import sys
from bisect import bisect
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import accumulate
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Stopwatch, log, require_postgres, scalar, setup, sql

N_ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
N_SHOPS = int(os.environ.get("BENCH_SHOPS", "200"))
PRODUCTS_PER_SHOP = 20
BENCH_SHOP_TARGET = 5_000  # bench_shop's shop: the one closest to this many orders
SEED = 20261123
CHUNK = 50_000
SHIFT_AFTER = timedelta(hours=6)  # the earliest generated deadline is ~12 h ahead, so this is safe

BENCH_SHOP_USER = "bench_shop"
BENCH_STAFF_USER = "bench_staff"

# Status mix of a marketplace's last six months (fractions of all orders).
STATUS_WEIGHTS = {
    "received": 0.67,
    "shipped": 0.12,
    "to_ship": 0.08,
    "cancelled": 0.06,
    "unpaid": 0.025,
    "awaiting_confirmation": 0.015,
    "partially_shipped": 0.01,
}
CARRIERS = ("sf", "zto", "yto", "yunda", "sto", "jd", "ems", "jt")
CARRIER_PREFIX = {
    "sf": "SF",
    "zto": "ZT",
    "yto": "YT",
    "yunda": "YD",
    "sto": "ST",
    "jd": "JD",
    "ems": "EM",
    "jt": "JT",
}
NICK_HEADS = ("快乐的", "安静的", "勇敢的", "爱吃", "小", "大", "阿", "甜甜的", "认真的", "路过的")
NICK_TAILS = ("小猫", "柚子", "星星", "土豆", "麦兜", "云朵", "橘子", "熊猫", "晴天", "花卷", "豆包", "阿宝")
PRODUCT_WORDS = (
    "纯棉T恤",
    "保温杯",
    "蓝牙耳机",
    "手机壳",
    "运动鞋",
    "双肩包",
    "洗发水",
    "坚果礼盒",
    "台灯",
    "数据线",
)

HOUR = 3600
DAY = 24 * HOUR
SHANGHAI = timedelta(hours=8)  # Asia/Shanghai has no DST: local dates without tz lookups


# ------------------------------------------------------------------------------------------------
# Marker


def _marker_table() -> None:
    sql(
        """CREATE TABLE IF NOT EXISTS bench_dataset (
               name text PRIMARY KEY, params jsonb NOT NULL, rows bigint NOT NULL,
               generated_at timestamptz NOT NULL, consistent_at timestamptz NOT NULL)"""
    )


def marker(name: str) -> dict | None:
    _marker_table()
    rows = sql("SELECT params, rows, generated_at, consistent_at FROM bench_dataset WHERE name = %s", [name])
    if not rows:
        return None
    params, count, generated_at, consistent_at = rows[0]
    params = params if isinstance(params, dict) else json.loads(params)
    return {"params": params, "rows": count, "generated_at": generated_at, "consistent_at": consistent_at}


def _mark(name: str, params: dict, rows: int, at: datetime) -> None:
    _marker_table()
    sql(
        """INSERT INTO bench_dataset (name, params, rows, generated_at, consistent_at)
           VALUES (%s, %s, %s, %s, %s)
           ON CONFLICT (name) DO UPDATE SET params = EXCLUDED.params, rows = EXCLUDED.rows,
               generated_at = EXCLUDED.generated_at, consistent_at = EXCLUDED.consistent_at""",
        [name, json.dumps(params), rows, at, at],
    )


# ------------------------------------------------------------------------------------------------
# COPY with every NOT NULL column filled


class Copier:
    """COPY rows of one model. Columns the generator does not name get the model field's default, so a
    field another helper adds later (with a default) does not break the generator."""

    def __init__(self, cursor, model, columns: Sequence[str]):
        from django.db import connection
        from django.db.models import NOT_PROVIDED

        self.cursor = cursor
        self.model = model
        named = set(columns)
        extra_cols, extra_vals = [], []
        for f in model._meta.local_concrete_fields:
            if f.column in named or f.primary_key or getattr(f, "generated", False):
                continue  # a GeneratedField is computed by the database
            if f.db_default is not NOT_PROVIDED:
                continue  # the database fills it
            if f.has_default():
                extra_cols.append(f.column)
                extra_vals.append(f.get_db_prep_save(f.get_default(), connection))
            elif not f.null:
                raise SystemExit(
                    f"bench.generate: {model.__name__}.{f.name} is NOT NULL without a default; add it"
                )
        self.columns = list(columns) + extra_cols
        self.extra = tuple(_copy_value(v) for v in extra_vals)
        self.rows = 0

    def write(self, rows: Iterable[tuple]) -> None:
        table = self.model._meta.db_table
        statement = f"COPY {table} ({', '.join(self.columns)}) FROM STDIN (FREEZE)"
        extra = self.extra
        with self.cursor.copy(statement) as copy:
            if extra:
                for row in rows:
                    copy.write_row(row + extra)
                    self.rows += 1
            else:
                for row in rows:
                    copy.write_row(row)
                    self.rows += 1


def _copy_value(value):
    if isinstance(value, dict | list):
        return json.dumps(value)
    return getattr(value, "adapted", value)  # psycopg Jsonb wrapper -> its Python value


# ------------------------------------------------------------------------------------------------
# Orders


def _tables():
    from merchants.models import Merchant, Order, OrderItem, Package, Product

    return Merchant, Product, Order, OrderItem, Package


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _shop_weights(n: int) -> list[float]:
    # Marketplace shops are skewed: a few big ones, many small ones (largest/smallest ≈ 11×).
    return [1 / (k + 20) for k in range(n)]


def generate_orders(now: datetime) -> dict:
    """Truncate the order tables and COPY the whole data set in one transaction (rows frozen)."""
    from django.db import connection, transaction

    Merchant, Product, Order, OrderItem, Package = _tables()
    rng = random.Random(SEED)
    tables = [m._meta.db_table for m in (Merchant, Product, Order, OrderItem, Package)]
    with transaction.atomic(), connection.cursor() as cur:
        # CASCADE empties whatever references them (events, memberships, cases): this is the bench DB.
        cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        # Rows are consistent by construction; skip per-row FK triggers for the load.
        cur.execute("SET LOCAL session_replication_role = replica")
        dropped = _drop_secondary_indexes(
            cur, [Order._meta.db_table, OrderItem._meta.db_table, Package._meta.db_table]
        )

        shops = _write_shops(cur, rng, now, Merchant, Product)
        counts = _write_orders(cur, rng, now, shops, Order, OrderItem, Package)

        log(f"recreating {len(dropped)} indexes")
        for _name, definition in dropped:
            cur.execute(definition)
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
            )
    log("ANALYZE")
    for table in tables:
        sql(f"VACUUM (ANALYZE) {table}")
    return counts


def _drop_secondary_indexes(cur, tables: list[str]) -> list[tuple[str, str]]:
    """Drop the indexes that back no constraint (rebuilt after the load, much faster than per row)."""
    cur.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = ANY(%s) AND i.schemaname = current_schema()
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        [tables],
    )
    dropped = cur.fetchall()
    for name, _definition in dropped:
        cur.execute(f'DROP INDEX "{name}"')
    return dropped


def _write_shops(cur, rng: random.Random, now: datetime, Merchant, Product) -> list[dict]:
    shops = []
    merchant_rows, product_rows = [], []
    product_id = 0
    for i in range(1, N_SHOPS + 1):
        cycle = rng.choice((7, 15, 30))
        merchant_rows.append(
            (
                i,
                f"基准店铺{i:03d}",
                f"bench-{i:03d}",
                rng.choices(range(8), (2, 20, 25, 20, 15, 10, 5, 3))[0],
                "active",
                rng.random() < 0.2,
                f"售后{i:03d}",
                f"1380000{i:04d}",
                f"上海市浦东新区测试路{i}号",
                cycle,
                now - timedelta(days=rng.uniform(0, 60)),
                now - timedelta(days=rng.uniform(200, 1000)),
            )
        )
        products = []
        for p in range(PRODUCTS_PER_SHOP):
            product_id += 1
            price = rng.choice((990, 1990, 2990, 4900, 6800, 9900, 12900, 19900, 29900, 59900))
            product_rows.append(
                (
                    product_id,
                    i,
                    f"SPU{i:03d}{p:04d}",
                    f"{rng.choice(PRODUCT_WORDS)} {p + 1}号款",
                    True,
                    rng.random() < 0.2,
                    rng.random() < 0.1,
                    now - timedelta(days=rng.uniform(30, 300)),
                )
            )
            products.append((product_id, price))
        shops.append({"id": i, "cycle": cycle, "products": products})
    Copier(
        cur,
        Merchant,
        [
            "id",
            "name",
            "code",
            "level",
            "status",
            "express_refund_enabled",
            "return_contact",
            "return_phone",
            "return_address",
            "settlement_cycle",
            "level_changed_at",
            "created_at",
        ],
    ).write(merchant_rows)
    Copier(
        cur,
        Product,
        [
            "id",
            "merchant_id",
            "spu_id",
            "name",
            "on_shelf",
            "three_guarantee",
            "durable",
            "created_at",
        ],
    ).write(product_rows)
    return shops


def _write_orders(cur, rng: random.Random, now: datetime, shops, Order, OrderItem, Package) -> dict:
    from merchants.models import next_settlement_day

    orders = Copier(
        cur,
        Order,
        [
            "id",
            "order_no",
            "buyer_id",
            "buyer_name",
            "buyer_phone",
            "payment_method",
            "paid_amount",
            "placed_at",
            "paid_at",
            "ship_by",
            "status",
            "deadline_at",
            "shipped_at",
            "shipped_late",
            "received_at",
            "settlement_due_on",
            "cancelled_at",
            "cancel_reason",
            "updated_at",
            "merchant_id",
        ],
    )
    items = Copier(
        cur,
        OrderItem,
        [
            "id",
            "order_id",
            "product_id",
            "sku_id",
            "quantity",
            "paid_amount",
            "refunded_amount",
            "package_id",
            "aftersale_lock",
            "merchant_id",
        ],
    )
    packages = Copier(
        cur,
        Package,
        [
            "id",
            "order_id",
            "carrier",
            "tracking_no",
            "shipped_at",
            "fake_shipping",
            "tracking_changed_at",
            "merchant_id",
        ],
    )
    shop_cum = list(accumulate(_shop_weights(len(shops))))
    shop_total = shop_cum[-1]
    statuses = list(STATUS_WEIGHTS)
    status_cum = list(accumulate(STATUS_WEIGHTS.values()))
    status_total = status_cum[-1]
    uniform, random_ = rng.uniform, rng.random
    td = timedelta
    item_id = package_id = 0
    order_buf, item_buf, package_buf = [], [], []

    def flush():
        packages.write(package_buf)
        orders.write(order_buf)
        items.write(item_buf)
        order_buf.clear(), item_buf.clear(), package_buf.clear()

    with Stopwatch() as sw:
        for oid in range(1, N_ORDERS + 1):
            shop = shops[bisect(shop_cum, random_() * shop_total)]
            mid = shop["id"]
            status = statuses[bisect(status_cum, random_() * status_total)]
            cod = status == "awaiting_confirmation" or (status != "unpaid" and random_() < 0.08)
            buyer = int(random_() * 400_000)
            n_items = 2 if status == "partially_shipped" or random_() < 0.12 else 1
            lines = []
            for _ in range(n_items):
                product, price = shop["products"][int(random_() * PRODUCTS_PER_SHOP)]
                qty = 1 if random_() < 0.85 else 2
                lines.append((product, qty, price * qty))
            total = sum(line[2] for line in lines)

            paid_at = ship_by = deadline = shipped_at = received_at = settle = cancelled_at = None
            shipped_late, reason = False, ""
            first_package_at = None
            if status == "unpaid":
                placed = now - td(seconds=uniform(60, 23 * HOUR))
                deadline = placed + td(hours=24)
                updated = placed
            elif status == "awaiting_confirmation":
                placed = now - td(seconds=uniform(60, 48 * HOUR))
                ship_by = placed + td(hours=48)
                updated = placed
            elif status == "to_ship":
                placed = now - td(seconds=uniform(60, 72 * HOUR))
                paid_at = None if cod else placed + td(seconds=uniform(5, 600))
                ship_by = (paid_at or placed) + td(hours=48)
                updated = paid_at or placed
            elif status == "partially_shipped":
                placed = now - td(seconds=uniform(6 * HOUR, 96 * HOUR))
                paid_at = None if cod else placed + td(seconds=uniform(5, 600))
                ship_by = (paid_at or placed) + td(hours=48)
                first_package_at = placed + (now - placed) * uniform(0.2, 0.9)
                updated = first_package_at
            elif status == "shipped":
                shipped_at = now - td(seconds=uniform(0.1 * DAY, 14.5 * DAY))
                placed = shipped_at - td(seconds=uniform(2 * HOUR, 50 * HOUR))
                paid_at = None if cod else placed + td(seconds=uniform(5, 600))
                ship_by = (paid_at or placed) + td(hours=48)
                shipped_late = shipped_at > ship_by
                deadline = shipped_at + td(days=15)  # S-5
                first_package_at = updated = shipped_at
            elif status == "received":
                placed = now - td(seconds=uniform(3 * DAY, 180 * DAY))
                paid_at = None if cod else placed + td(seconds=uniform(5, 600))
                ship_by = (paid_at or placed) + td(hours=48)
                shipped_at = placed + td(seconds=uniform(2 * HOUR, 50 * HOUR))
                shipped_late = shipped_at > ship_by
                span = min(15 * DAY, (now - shipped_at).total_seconds() - 60)
                received_at = shipped_at + td(seconds=uniform(0.1, 1.0) * span)
                settle = next_settlement_day(received_at, shop["cycle"])
                first_package_at = shipped_at
                updated = received_at
            else:  # cancelled
                placed = now - td(seconds=uniform(1 * DAY, 180 * DAY))
                if cod:
                    cancelled_at, reason = placed + td(seconds=uniform(600, 20 * HOUR)), "商家取消：缺货"
                elif random_() < 0.7:
                    cancelled_at, reason = placed + td(hours=24), "超时未付款，系统自动取消"
                else:
                    cancelled_at, reason = placed + td(seconds=uniform(60, 20 * HOUR)), "买家取消"
                updated = cancelled_at

            package = None
            if first_package_at is not None:
                package_id += 1
                package = package_id
                carrier = CARRIERS[int(random_() * len(CARRIERS))]
                package_buf.append(
                    (
                        package_id,
                        oid,
                        carrier,
                        f"{CARRIER_PREFIX[carrier]}{7_300_000_000_000 + package_id * 7:013d}",
                        first_package_at,
                        random_() < 0.002,
                        None,
                        mid,
                    )
                )
            for n, (product, qty, cents) in enumerate(lines):
                item_id += 1
                # partially shipped: the first item is in the package, the second still waits
                in_package = package if (status != "partially_shipped" or n == 0) else None
                item_buf.append(
                    (item_id, oid, product, None, qty, _money(cents), "0.00", in_package, "", mid)
                )
            order_buf.append(
                (
                    oid,
                    f"{(placed + SHANGHAI):%y%m%d}{oid:010d}",
                    f"B{buyer:08d}",
                    f"{NICK_HEADS[buyer % 10]}{NICK_TAILS[buyer % 12]}{buyer % 9973}",
                    f"1{3 + buyer % 7}{(buyer * 7919) % 1_000_000_000:09d}",
                    "cod" if cod else "online",
                    _money(total),
                    placed,
                    paid_at,
                    ship_by,
                    status,
                    deadline,
                    shipped_at,
                    shipped_late,
                    received_at,
                    settle,
                    cancelled_at,
                    reason,
                    updated,
                    mid,
                )
            )
            if oid % CHUNK == 0:
                flush()
                if oid % (CHUNK * 4) == 0:
                    log(f"  {oid:,} orders ({oid / sw_elapsed(sw):,.0f}/s)")
        flush()
    return {"orders": orders.rows, "items": items.rows, "packages": packages.rows, "copy_seconds": sw.seconds}


def sw_elapsed(sw: Stopwatch) -> float:
    import time

    return max(time.perf_counter() - sw.start, 1e-6)


def shift_orders(delta: timedelta) -> None:
    """Move every order and package time forward by `delta` (data stays consistent with the new now)."""
    Merchant, Product, Order, OrderItem, Package = _tables()
    cols = (
        "placed_at",
        "paid_at",
        "ship_by",
        "deadline_at",
        "shipped_at",
        "received_at",
        "cancelled_at",
        "updated_at",
    )
    sets = ", ".join(f"{c} = {c} + %(d)s" for c in cols)
    sql(
        f"UPDATE {Order._meta.db_table} SET {sets}, settlement_due_on = settlement_due_on + %(days)s",
        {"d": delta, "days": delta.days},
    )
    sql(f"UPDATE {Package._meta.db_table} SET shipped_at = shipped_at + %(d)s", {"d": delta})
    for model in (Order, Package):
        sql(f"VACUUM (ANALYZE) {model._meta.db_table}")


def ensure_orders(*, force: bool = False) -> dict:
    """The 1M-order data set, generated once; shifted to now when it is a few hours old."""
    from django.utils import timezone

    Merchant, Product, Order, OrderItem, Package = _tables()
    params = {"orders": N_ORDERS, "shops": N_SHOPS, "seed": SEED, "version": 1}
    mark = marker("orders")
    if not force and mark and all(mark["params"].get(k) == v for k, v in params.items()):
        actual = scalar(f"SELECT count(*) FROM {Order._meta.db_table}")
        if actual == mark["rows"]:
            drift = timezone.now() - mark["consistent_at"]
            if drift > SHIFT_AFTER:
                log(f"orders data set is {drift} old: shifting its times forward")
                shift = timedelta(seconds=int(drift.total_seconds()))
                with Stopwatch() as sw:
                    shift_orders(shift)
                sql(
                    "UPDATE bench_dataset SET consistent_at = consistent_at + %s WHERE name = 'orders'",
                    [shift],
                )
                log(f"shifted in {sw.seconds:.1f} s")
            else:
                log(f"orders data set present ({actual:,} orders), generation skipped")
            _ensure_users()
            return marker("orders")
        log(f"orders data set incomplete ({actual:,} of {mark['rows']:,}): regenerating")
    now = timezone.now().replace(microsecond=0)
    log(f"generating {N_ORDERS:,} orders over {N_SHOPS} shops with COPY")
    with Stopwatch() as sw:
        counts = generate_orders(now)
    rate = counts["orders"] / counts["copy_seconds"]
    log(
        f"generated {counts['orders']:,} orders, {counts['items']:,} items, {counts['packages']:,} packages "
        f"in {sw.seconds:.1f} s (COPY phase {counts['copy_seconds']:.1f} s, {rate:,.0f} orders/s)"
    )
    info = {"generated_in_s": round(sw.seconds, 1), "items": counts["items"], "packages": counts["packages"]}
    _mark("orders", {**params, **info}, counts["orders"], now)
    _ensure_users()
    return marker("orders")


def bench_shop_id() -> int:
    """The shop whose order count is closest to BENCH_SHOP_TARGET (deterministic for a data set)."""
    from merchants.models import Order

    return scalar(
        f"""SELECT merchant_id FROM {Order._meta.db_table} GROUP BY merchant_id
            ORDER BY abs(count(*) - %s), merchant_id LIMIT 1""",
        [BENCH_SHOP_TARGET],
    )


def _ensure_users() -> None:
    from django.contrib.auth import get_user_model

    from merchants.models import Membership

    User = get_user_model()
    staff, _ = User.objects.get_or_create(username=BENCH_STAFF_USER)
    staff.is_staff = staff.is_superuser = staff.is_active = True
    staff.set_unusable_password()
    staff.save()
    shop_user, _ = User.objects.get_or_create(username=BENCH_SHOP_USER)
    shop_user.is_staff = shop_user.is_superuser = False
    shop_user.set_unusable_password()
    shop_user.save()
    shop = bench_shop_id()
    Membership.objects.filter(user=shop_user).exclude(merchant_id=shop).delete()
    Membership.objects.update_or_create(user=shop_user, merchant_id=shop, defaults={"role": "owner"})


# The data sets, by the function that ensures each: a data set built on the orders lives in a module of its
# own that imports this one (bench/generate_cases.py), so the command line names it instead of importing it.
DATASETS = {"orders": "bench.generate:ensure_orders", "cases": "bench.generate_cases:ensure_cases"}


def ensure(name: str, *, force: bool = False) -> dict:
    """Generate the data set `name` unless it is present (and complete); returns its marker."""
    module, function = DATASETS[name].split(":")
    return getattr(importlib.import_module(module), function)(force=force)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(DATASETS), help="data sets (default: all)")
    parser.add_argument("--force", action="store_true", help="regenerate even if present")
    args = parser.parse_args(argv)
    setup()
    require_postgres()
    for name in args.names:
        ensure(name, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
