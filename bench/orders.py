"""Order benchmarks on the 1M-order data set (bench/generate.py): changelists and the S-5 deadline sweep.

    .venv/bin/python -m bench.orders                 # everything
    .venv/bin/python -m bench.orders changelist      # or: sweep

Every figure is measured together with its anchor in the same process and run:
- changelist: the order list on /workbench/ (one shop, as bench_shop) and /admin/ (all shops, as
  bench_staff), plain, filtered by status, searched by an order number, at 25 and 100 rows a page.
  Anchor: the same list served by a ModelAdmin with Django's defaults (full count, `icontains` search
  over order_no/buyer_name/buyer_id, no tuning) on a throwaway AdminSite mounted in this process.
- sweep: `merchants.tasks.auto_confirm_receipts` with exactly N shipped orders due among the 1M.
  Anchors: the naive loop (per-object load with select_for_update(skip_locked), transition, save(),
  event) over the same rows, and a bare SQL UPDATE of them.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CHANGELIST_TARGET_MS,
    SWEEP_TARGET_VS_BARE_UPDATE,
    Report,
    Stopwatch,
    explain,
    log,
    repeat,
    report_changelist_page,
    report_query_counts,
    require_postgres,
    scalar,
    setup,
    sql,
    warm,
)

SWEEP_SIZES = tuple(int(x) for x in os.environ.get("BENCH_SWEEP_SIZES", "10000,50000").split(","))
# The naive anchor runs ~100–700 rows/s; past this many seconds its rate is taken over the rows done.
NAIVE_BUDGET_S = float(os.environ.get("BENCH_NAIVE_BUDGET_S", "60"))
REQUESTS = 30
WARMUP = 3


# ================================================================================================
# Deadline sweep (S-5)

DUE_TABLE = "bench_sweep_rows"


def _order_table() -> str:
    from merchants.models import Order

    return Order._meta.db_table


def _event_table() -> str:
    from merchants.models import OrderEvent

    return OrderEvent._meta.db_table


def restore_sweep_rows() -> int:
    """Put the rows a (possibly interrupted) sweep run touched back to `shipped`, not due, without events."""
    sql(f"CREATE TABLE IF NOT EXISTS {DUE_TABLE} (order_id bigint PRIMARY KEY)")
    orders, events = _order_table(), _event_table()
    count = scalar(f"SELECT count(*) FROM {DUE_TABLE}")
    if count:
        sql(
            f"""UPDATE {orders} o SET status = 'shipped', deadline_at = o.shipped_at + interval '15 days',
                       received_at = NULL, settlement_due_on = NULL, updated_at = o.shipped_at
                FROM {DUE_TABLE} d WHERE o.id = d.order_id"""
        )
        sql(
            f"""DELETE FROM {events} e USING {DUE_TABLE} d
                WHERE e.order_id = d.order_id AND e.kind = 'auto_received'"""
        )
        sql(f"TRUNCATE {DUE_TABLE}")
    return count


def make_due(n: int, now: datetime) -> None:
    """Exactly `n` shipped orders, spread over the table, get a deadline in the past (one UPDATE)."""
    orders = _order_table()
    restore_sweep_rows()
    # Multiplicative hashing spreads the chosen rows over the whole table (not the first pages).
    sql(
        f"""INSERT INTO {DUE_TABLE} (order_id)
            SELECT id FROM {orders} WHERE status = 'shipped'
            ORDER BY (id * 2654435761) %% 4294967296 LIMIT %s""",
        [n],
    )
    updated = sql(
        f"""WITH due AS (UPDATE {orders} o SET deadline_at = %s - (o.id %% 1440) * interval '1 minute'
                         FROM {DUE_TABLE} d WHERE o.id = d.order_id RETURNING 1)
            SELECT count(*) FROM due""",
        [now - timedelta(minutes=1)],
    )[0][0]
    due = _count_due(now)
    if updated != n or due != n:
        raise SystemExit(
            f"bench: wanted {n} due orders, made {updated}, {due} due (is the data set shifted?)"
        )
    with Stopwatch() as sw:
        sql(f"VACUUM (ANALYZE) {orders}")
    log(f"made {n:,} orders due; VACUUM {sw.seconds:.1f} s")


def _count_due(now: datetime) -> int:
    return scalar(
        f"SELECT count(*) FROM {_order_table()} WHERE status = 'shipped' AND deadline_at <= %s",
        [now],
    )


def naive_sweep(now: datetime, *, budget_s: float) -> int:
    """The anchor: one transaction per order, loaded with select_for_update(skip_locked), save(), event.

    Its cost per row is constant, so on a crowded machine it stops after `budget_s` seconds and the
    caller reports the rate over the rows it did (the rest stay due and are restored).
    """
    import time

    from django.db import transaction

    from merchants.models import ActorKind, Order, OrderEvent
    from merchants.transitions import OrderStatus

    ids = list(
        Order.objects.filter(status=OrderStatus.SHIPPED, deadline_at__lte=now)
        .order_by("deadline_at")
        .values_list("pk", flat=True)
    )
    changed = 0
    stop_at = time.perf_counter() + budget_s
    for pk in ids:
        if time.perf_counter() > stop_at:
            break
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=OrderStatus.SHIPPED, deadline_at__lte=now)
                .first()
            )
            if order is None:
                continue
            order.confirm_receipt(at=now)  # reads order.merchant: one more query, as naive code does
            order.save()
            OrderEvent.objects.create(
                order=order,
                kind="auto_received",
                source_status=OrderStatus.SHIPPED,
                target_status=order.status,
                actor=None,
                actor_kind=ActorKind.SYSTEM,
                created_at=now,
            )
            changed += 1
    return changed


def bare_update(now: datetime) -> int:
    """The floor: one UPDATE of the due rows, no FSM, no guard, no event."""
    return len(
        sql(
            f"""UPDATE {_order_table()} SET status = 'received', received_at = %(now)s, deadline_at = NULL,
                       updated_at = %(now)s
                WHERE status = 'shipped' AND deadline_at <= %(now)s RETURNING id""",
            {"now": now},
        )
    )


def _select_ids_ms(now: datetime, *, table_scan: bool = False) -> tuple[float, int]:
    """Best of 3 of the engine's id selection alone (merchants.kernel.deadlines.due_ids, all batches read).

    With `table_scan`, index scans are switched off for it: the anchor, what it costs without the index.
    Both run the same code in a transaction (so SET LOCAL applies)."""
    from django.conf import settings
    from django.db import connection, transaction

    from merchants.kernel.deadlines import due_ids
    from merchants.models import Order
    from merchants.transitions import OrderStatus

    qs = Order.objects.filter(status=OrderStatus.SHIPPED)
    best, count = None, 0
    with transaction.atomic():
        if table_scan:
            with connection.cursor() as cur:
                for knob in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
                    cur.execute(f"SET LOCAL {knob} = off")
        for _ in range(3):
            with Stopwatch() as sw:
                count = sum(len(c) for c in due_ids(qs, now=now, batch=settings.SHOUHOU_SWEEP_BATCH))
            best = sw.seconds if best is None else min(best, sw.seconds)
    return best * 1000, count


def _due_plan(now: datetime) -> str:
    from merchants.models import Order
    from merchants.transitions import OrderStatus

    statement, params = (
        Order.objects.filter(status=OrderStatus.SHIPPED, deadline_at__lte=now)
        .order_by("deadline_at")
        .values_list("pk", flat=True)
        .query.sql_with_params()
    )
    return explain(statement, params)


def run_sweep(report: Report) -> None:
    from django.utils import timezone

    from merchants.tasks import auto_confirm_receipts

    orders = _order_table()
    restore_sweep_rows()
    table_rows = scalar(f"SELECT count(*) FROM {orders}")
    shipped = scalar(f"SELECT count(*) FROM {orders} WHERE status = 'shipped'")
    now = timezone.now()
    if _count_due(now):
        raise SystemExit("bench: shipped orders are already due; run bench.generate (it shifts old data)")
    log(f"sweep: {table_rows:,} orders, {shipped:,} shipped, none due")
    log(f"sweep: orders read into the OS cache in {warm(orders, 'merchants_merchant'):.1f} s")

    # Nothing due: the sweep must cost (almost) nothing however large the table is.
    none_due = repeat(auto_confirm_receipts, n=5, warmup=1)
    report.add(
        "sweep.none_due",
        none_due.median,
        "ms",
        anchor=_select_ids_ms(now, table_scan=True)[0],
        anchor_name="same id query as a table scan",
        note=f"0 due of {table_rows:,}",
    )

    for n in SWEEP_SIZES:
        label = f"sweep.due{n // 1000}k"
        # -- ours: the Contract's task, through the engine and the batch handler
        now = timezone.now()
        make_due(n, now)
        select_ms, selected = _select_ids_ms(timezone.now())
        assert selected == n, (selected, n)
        plan = _due_plan(timezone.now())
        uses_index = "order_due_idx" in plan
        log(f"{label}: id selection plan:\n    " + plan.replace("\n", "\n    "))
        seq_ms, _ = _select_ids_ms(timezone.now(), table_scan=True)
        with Stopwatch() as ours:
            changed = auto_confirm_receipts()
        if changed != n:
            raise SystemExit(f"bench: auto_confirm_receipts changed {changed}, expected {n}")
        events = scalar(
            f"""SELECT count(*) FROM {_event_table()} e JOIN {DUE_TABLE} d ON d.order_id = e.order_id
                WHERE e.kind = 'auto_received'"""
        )
        assert events == n, (events, n)

        # -- anchor 1: the naive per-object loop over the same rows
        now = timezone.now()
        make_due(n, now)
        with Stopwatch() as naive:
            naive_changed = naive_sweep(timezone.now(), budget_s=NAIVE_BUDGET_S)
        naive_rate = naive_changed / naive.seconds
        naive_note = (
            "" if naive_changed == n else f"naive rate over {naive_changed:,} of the {n:,} rows (time budget)"
        )
        if naive_note:
            log(f"{label}: {naive_note}")

        # -- anchor 2: a bare UPDATE of the same rows
        now = timezone.now()
        make_due(n, now)
        with Stopwatch() as bare:
            bare_changed = bare_update(timezone.now())
        assert bare_changed == n, (bare_changed, n)
        restore_sweep_rows()

        rate, bare_rate = n / ours.seconds, n / bare.seconds
        report.add(
            f"{label}.rate",
            rate,
            "orders/s",
            anchor=naive_rate,
            anchor_name="naive per-object loop",
            better="higher",
            note=f"{n:,} due of {table_rows:,}; FSM guard + event per order. {naive_note}".strip(),
        )
        report.add(
            f"{label}.rate_vs_bare_update",
            rate,
            "orders/s",
            anchor=bare_rate,
            anchor_name="bare SQL UPDATE",
            better="higher",
            target_ratio=SWEEP_TARGET_VS_BARE_UPDATE,
        )
        report.add(
            f"{label}.seconds",
            ours.seconds,
            "s",
            anchor=n / naive_rate,
            anchor_name="naive per-object loop" + (" (extrapolated)" if naive_note else ""),
        )
        report.add(
            f"{label}.select_ids",
            select_ms,
            "ms",
            anchor=seq_ms,
            anchor_name="same id query as a table scan",
            note=(
                f"plan {'uses' if uses_index else 'does NOT use'} order_due_idx; "
                f"{select_ms * 1000 / n:.1f} µs per due row (the table scan costs the same at any N)"
            ),
            plan=plan,
        )
    sql(f"VACUUM (ANALYZE) {orders}")


# ================================================================================================
# Changelists


PAGE_SIZES = (25, 100)


def _changelist_cases() -> list[dict]:
    """Which pages to load, as whom, and what each must show (checked on the first response)."""
    from bench.generate import BENCH_SHOP_USER, BENCH_STAFF_USER, bench_shop_id
    from merchants.models import Order

    shop = bench_shop_id()
    shop_orders = Order.objects.filter(merchant_id=shop)
    # A real order number of the shop, taken from the middle of its history (not the newest page).
    shop_count = shop_orders.count()
    order_no = shop_orders.order_by("placed_at", "pk").values_list("order_no", flat=True)[shop_count // 2]
    queries = {
        "plain": {},
        "status": {"status__exact": "shipped"},
        "search": {"q": order_no},
    }
    return [
        {
            "site": site,
            "user": user,
            "url": url,
            "anchor_url": "/bench-anchor/merchants/order/",
            "rows": rows,
            "scenario": scenario,
            "params": params,
            "must_contain": order_no if scenario == "search" else None,
        }
        for site, user, url, rows in (
            (
                "workbench",
                BENCH_SHOP_USER,
                "/workbench/merchants/order/",
                f"shop {shop}: {shop_count:,} orders",
            ),
            ("admin", BENCH_STAFF_USER, "/admin/merchants/order/", "all shops"),
        )
        for scenario, params in queries.items()
    ]


def _client(username: str):
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _get(client, url: str, params: dict, must_contain: str | None = None) -> bytes:
    response = client.get(url, params)
    if response.status_code != 200:
        raise SystemExit(f"bench: GET {url} {params} -> {response.status_code}")
    if must_contain and must_contain.encode() not in response.content:
        raise SystemExit(f"bench: GET {url} {params} does not show {must_contain}")
    return response.content


def _queries(client, url: str, params: dict) -> tuple[int, list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        _get(client, url, params)
    return len(captured.captured_queries), captured.captured_queries


def _interleaved(ours, anchor, *, n: int, budget_s: float = 15.0) -> tuple[list[float], list[float]]:
    """Time `ours` and `anchor` alternately (the machine's load drifts; both see the same drift).

    Slow anchors (Django's full scans) get fewer rounds so the run stays short: at least 7."""
    import time

    for _ in range(WARMUP):
        ours(), anchor()
    start = time.perf_counter()
    ours(), anchor()
    per_round = time.perf_counter() - start
    rounds = max(7, min(n, int(budget_s / max(per_round, 1e-3))))
    a, b = [], []
    for _ in range(rounds):
        for fn, samples in ((ours, a), (anchor, b)):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
    return a, b


def _set_page_size(url_prefix: str, anchor_admin, size: int) -> None:
    from django.contrib import admin

    from merchants.kernel.admin.sites import workbench_site
    from merchants.models import Order

    site = workbench_site if url_prefix.startswith("/workbench/") else admin.site
    site._registry[Order].list_per_page = size
    anchor_admin.list_per_page = size


def run_changelist(report: Report) -> None:

    from django.contrib import admin
    from django.test import override_settings

    from merchants.kernel.admin.sites import workbench_site
    from merchants.models import Order

    for site in (workbench_site, admin.site):
        if Order not in site._registry:
            raise SystemExit(
                f"bench: Order is not registered on {site.name} (merchants/admin): skip changelist"
            )

    with override_settings(ROOT_URLCONF="bench.anchor"):
        from bench.anchor import anchor_site

        anchor_admin = anchor_site._registry[Order]
        saved = {s: s._registry[Order].list_per_page for s in (workbench_site, admin.site)}
        try:
            for case in _changelist_cases():
                ours_client, anchor_client = _client(case["user"]), _client(case["user"])
                params, must = case["params"], case["must_contain"]
                counts = {}
                for size in PAGE_SIZES:
                    _set_page_size(case["url"], anchor_admin, size)
                    _get(ours_client, case["url"], params, must)
                    _get(anchor_client, case["anchor_url"], params, must)
                    counts[size] = (
                        _queries(ours_client, case["url"], params),
                        _queries(anchor_client, case["anchor_url"], params),
                    )
                    ours_ms, anchor_ms = _interleaved(
                        partial(_get, ours_client, case["url"], params),
                        partial(_get, anchor_client, case["anchor_url"], params),
                        n=REQUESTS,
                    )
                    report_changelist_page(
                        report,
                        f"changelist.{case['site']}.{case['scenario']}.p{size}",
                        case,
                        ours_ms,
                        anchor_ms,
                        counts[size],
                        target=CHANGELIST_TARGET_MS,
                    )
                report_query_counts(
                    report, f"changelist.{case['site']}.{case['scenario']}.queries", counts, PAGE_SIZES
                )
        finally:
            for s, size in saved.items():
                s._registry[Order].list_per_page = size


SECTIONS = {"changelist": run_changelist, "sweep": run_sweep}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="order benchmarks")
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    setup()
    require_postgres()
    from bench.generate import ensure_orders

    ensure_orders()
    report = Report()
    for name in args.sections or list(SECTIONS):
        log(f"orders: {name}")
        SECTIONS[name](report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
