"""After-sales benchmarks on the 1M-case data set (bench/generate_cases.py): the A-5 deadline sweep, the
case list (A-10) and bulk approve.

    .venv/bin/python -m bench.aftersales                  # everything
    .venv/bin/python -m bench.aftersales sweep            # or: changelist, bulk

Every figure is measured together with its anchor in the same process and run:
- sweep: `aftersales.tasks.run_deadlines` with exactly N cases due among the 1M, a realistic mix of waiting
  states (pending -> approved by the system, awaiting_return / rejected -> closed, return_in_transit ->
  receipt confirmed, exchange_shipped -> exchanged). Anchors on the same rows: the naive loop (per case:
  select_for_update(skip_locked) load, transition, save(), event, the same item release and refund queueing)
  and a bare SQL UPDATE of them. Also the due-id selection alone against the same query forced to scan
  the table, and a sweep with nothing due.
- changelist: the case list on /workbench/ (bench_shop's shop, ~5,000 cases) and /admin/ (all shops):
  plain, the 待处理 quick tab, the type filter, a search by order number; at 25 and 100 rows a page.
  Anchor: the same list served by a ModelAdmin with Django's defaults (bench/anchor.py).
- bulk: `aftersales.services.bulk_approve` of 500 pending cases as the shop's owner. Anchor: the naive
  per-object loop (load, approve(), save(), event) over the same cases.

Rows a run touches are snapshotted first and restored afterwards (also after an interrupted run), so the
data set stays as generated. Refund tasks are queued on the in-memory Celery broker (CELERY_BROKER_URL is
forced to memory:// here): the sweep pays for publishing them, not for a broker's disk or network.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The broker is not what these benchmarks measure: the default (filesystem://, a file per message under
# var/) would put a disk write per refund into the sweep. Set before Django reads its settings.
os.environ["CELERY_BROKER_URL"] = "memory://"

from bench.common import (
    BULK_TARGET_VS_LOOP,
    CHANGELIST_TARGET_MS,
    SWEEP_TARGET_VS_BARE_UPDATE,  # noqa: E402  # noqa: E402
    Report,
    Stopwatch,
    explain,
    interleaved,
    log,
    no_index_scans,
    repeat_ms,
    report_changelist_page,
    report_query_counts,
    require_postgres,
    scalar,
    setup,
    sql,
    warm,
)

SWEEP_SIZES = tuple(int(x) for x in os.environ.get("BENCH_CASE_SWEEP_SIZES", "10000,50000").split(","))
WARMUP_DUE = 1_000
NAIVE_BUDGET_S = float(os.environ.get("BENCH_CASE_NAIVE_BUDGET_S", "20"))
CHANGELIST_BUDGET_S = float(os.environ.get("BENCH_CASE_CHANGELIST_BUDGET_S", "7"))
REQUESTS = 30
BULK_SIZE = int(os.environ.get("BENCH_BULK_SIZE", "500"))
BULK_ROUNDS = int(os.environ.get("BENCH_BULK_ROUNDS", "3"))
BENCH_OWNER_USER = "bench_owner"  # owner of the shop with the most pending cases (bulk approve)

# Which waiting states are made due, in what proportion (the sweep's realistic daily mix): mostly
# merchants who did not answer in 48 h, then buyers who never sent the goods back, shops that did not
# confirm a receipt, refusals nobody followed up, exchanges nobody confirmed.
DUE_MIX = {
    "pending": 0.50,
    "awaiting_return": 0.15,
    "return_in_transit": 0.15,
    "rejected": 0.12,
    "exchange_shipped": 0.08,
}

DUE_TABLE = "bench_case_due"
SNAP_CASES = "bench_case_snapshot"
SNAP_ITEMS = "bench_case_item_snapshot"
SNAP_META = "bench_case_snapshot_meta"


# ================================================================================================
# Snapshot / restore of the rows a run touches


def _tables() -> tuple[str, str, str]:
    from aftersales.models import AfterSaleCase, CaseEvent
    from merchants.models import OrderItem

    return AfterSaleCase._meta.db_table, CaseEvent._meta.db_table, OrderItem._meta.db_table


def _case_columns() -> list[str]:
    from aftersales.models import AfterSaleCase

    return [f.column for f in AfterSaleCase._meta.local_concrete_fields if not f.primary_key]


def _ensure_snapshot_tables() -> None:
    cases, _events, items = _tables()
    sql(f"CREATE TABLE IF NOT EXISTS {DUE_TABLE} (case_id bigint PRIMARY KEY)")
    sql(f"CREATE TABLE IF NOT EXISTS {SNAP_CASES} (LIKE {cases})")
    sql(
        f"CREATE TABLE IF NOT EXISTS {SNAP_ITEMS} (id bigint PRIMARY KEY, aftersale_lock text, refunded_amount numeric)"
    )
    sql(f"CREATE TABLE IF NOT EXISTS {SNAP_META} (name text PRIMARY KEY, value bigint NOT NULL)")
    # A column added to the case model since the table was made: start the snapshot table afresh.
    snap_cols = {
        r[0]
        for r in sql("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [SNAP_CASES])
    }
    if not set(_case_columns()) <= snap_cols:
        sql(f"DROP TABLE {SNAP_CASES}")
        sql(f"CREATE TABLE {SNAP_CASES} (LIKE {cases})")


def restore() -> int:
    """Put the cases (and their items) a run touched back as they were, and delete the events it wrote."""
    _ensure_snapshot_tables()
    cases, events, items = _tables()
    count = scalar(f"SELECT count(*) FROM {SNAP_CASES}")
    if count:
        cols = _case_columns()
        sql(
            f"UPDATE {cases} c SET ({', '.join(cols)}) = ({', '.join('s.' + c for c in cols)}) "
            f"FROM {SNAP_CASES} s WHERE c.id = s.id"
        )
        sql(
            f"""UPDATE {items} i SET aftersale_lock = s.aftersale_lock, refunded_amount = s.refunded_amount
                FROM {SNAP_ITEMS} s WHERE i.id = s.id"""
        )
        max_event = scalar(f"SELECT value FROM {SNAP_META} WHERE name = 'max_event_id'")
        if max_event is not None:
            sql(
                f"DELETE FROM {events} e USING {SNAP_CASES} s WHERE e.case_id = s.id AND e.id > %s",
                [max_event],
            )
        _delete_side_rows()
    sql(f"TRUNCATE {SNAP_CASES}, {SNAP_ITEMS}, {SNAP_META}, {DUE_TABLE}")
    return count


def _delete_side_rows() -> None:
    """Notices, violations and refunds a run may have written for the snapshotted cases."""
    from aftersales.models import AfterSaleCase, Refund
    from merchants.models import Notice, Violation

    since = scalar(f"SELECT value FROM {SNAP_META} WHERE name = 'max_notice_id'")
    if since is not None:
        sql(f"DELETE FROM {Notice._meta.db_table} WHERE id > %s", [since])
    sql(
        f"DELETE FROM {Violation._meta.db_table} v USING {SNAP_CASES} s WHERE v.source_type = %s AND v.source_id = s.id",
        [AfterSaleCase._meta.label_lower],
    )
    sql(f"DELETE FROM {Refund._meta.db_table} r USING {SNAP_CASES} s WHERE r.case_id = s.id")


def snapshot(ids_sql: str, params: list | None = None) -> int:
    """Remember the cases `ids_sql` selects (and their items) before a run changes them."""
    from merchants.models import Notice

    cases, events, items = _tables()
    restore()
    sql(f"INSERT INTO {DUE_TABLE} (case_id) {ids_sql}", params or [])
    n = scalar(f"SELECT count(*) FROM {DUE_TABLE}")
    sql(f"INSERT INTO {SNAP_CASES} SELECT c.* FROM {cases} c JOIN {DUE_TABLE} d ON d.case_id = c.id")
    sql(
        f"""INSERT INTO {SNAP_ITEMS} (id, aftersale_lock, refunded_amount)
            SELECT DISTINCT i.id, i.aftersale_lock, i.refunded_amount FROM {items} i
            JOIN {SNAP_CASES} s ON s.item_id = i.id"""
    )
    sql(
        f"INSERT INTO {SNAP_META} VALUES ('max_event_id', (SELECT coalesce(max(id), 0) FROM {events})), "
        f"('max_notice_id', (SELECT coalesce(max(id), 0) FROM {Notice._meta.db_table}))"
    )
    return n


def _events_since_snapshot() -> dict[str, int]:
    _cases, events, _items = _tables()
    return dict(
        sql(
            f"""SELECT e.kind, count(*) FROM {events} e JOIN {DUE_TABLE} d ON d.case_id = e.case_id
                WHERE e.id > (SELECT value FROM {SNAP_META} WHERE name = 'max_event_id') GROUP BY 1"""
        )
    )


# ================================================================================================
# Deadline sweep


def _allocation(n: int) -> dict[str, int]:
    counts = {state: int(n * share) for state, share in DUE_MIX.items()}
    counts["pending"] += n - sum(counts.values())
    return counts


def make_due(n: int, now: datetime) -> dict[str, int]:
    """Exactly `n` waiting cases, in DUE_MIX proportions and spread over the table, get a past deadline (one UPDATE)."""
    cases = _tables()[0]
    allocation = _allocation(n)
    # Multiplicative hashing spreads the chosen rows over the whole table (not the first pages).
    parts = " UNION ALL ".join(
        f"""(SELECT id FROM {cases} WHERE status = '{state}' AND deadline_at IS NOT NULL
             ORDER BY (id * 2654435761) %% 4294967296 LIMIT {count})"""
        for state, count in allocation.items()
    )
    chosen = snapshot(parts)
    if chosen != n:
        raise SystemExit(
            f"bench: wanted {n} due cases {allocation}, found only {chosen} (data set too small?)"
        )
    updated = sql(
        f"""WITH due AS (
                UPDATE {cases} c SET deadline_at = %(at)s - (c.id %% 1440) * interval '1 minute',
                       merchant_deadline_at = CASE WHEN c.status = 'pending'
                           THEN %(at)s - (c.id %% 1440) * interval '1 minute' ELSE c.merchant_deadline_at END
                FROM {DUE_TABLE} d WHERE c.id = d.case_id RETURNING 1)
            SELECT count(*) FROM due""",
        {"at": now - timedelta(minutes=1)},
    )[0][0]
    due = _count_due(now)
    if updated != n or due != n:
        raise SystemExit(f"bench: wanted {n} due cases, made {updated}, {due} due (is the data set shifted?)")
    with Stopwatch() as sw:
        sql(f"VACUUM (ANALYZE) {cases}")
    log(f"made {n:,} cases due {allocation}; VACUUM {sw.seconds:.1f} s")
    return allocation


def _count_due(now: datetime) -> int:
    from aftersales.services.deadlines import SWEEPS

    states = [status for status, _handler in SWEEPS]
    return scalar(
        f"SELECT count(*) FROM {_tables()[0]} WHERE status = ANY(%s) AND deadline_at <= %s", [states, now]
    )


def naive_sweep(now: datetime, *, budget_s: float) -> int:
    """The anchor: one transaction per case, loaded with select_for_update(skip_locked), transition, save(), event.

    The same effects as the sweep (item released on close/exchange, refund queued on commit), written the
    obvious way: related rows loaded lazily, every column saved, one INSERT per event. Stops after
    `budget_s` seconds; the caller reports the rate over the cases it did.
    """
    from django.db import transaction

    from aftersales.models import AfterSaleCase, AftersalesSettings, CaseEvent
    from aftersales.tasks import refund_task
    from aftersales.transitions import CaseStatus
    from merchants.models import ActorKind, OrderItem

    limits = AftersalesSettings.load()
    kinds = {
        CaseStatus.PENDING: CaseEvent.Kind.APPROVED,
        CaseStatus.AWAITING_RETURN: CaseEvent.Kind.CLOSED,
        CaseStatus.REJECTED: CaseEvent.Kind.CLOSED,
        CaseStatus.RETURN_IN_TRANSIT: CaseEvent.Kind.RETURN_CONFIRMED,
        CaseStatus.EXCHANGE_SHIPPED: CaseEvent.Kind.EXCHANGE_CONFIRMED,
    }
    ids = list(
        AfterSaleCase.objects.filter(status__in=list(kinds), deadline_at__lte=now)
        .order_by("deadline_at")
        .values_list("pk", flat=True)
    )
    changed = 0
    stop_at = time.perf_counter() + budget_s
    for pk in ids:
        if time.perf_counter() > stop_at:
            break
        with transaction.atomic():
            case = (
                AfterSaleCase.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, deadline_at__lte=now)
                .first()
            )
            if case is None:
                continue
            source = case.status
            if source == CaseStatus.PENDING:
                case.approve(now=now, limits=limits)  # reads case.item and case.order: two more queries
            elif source in (CaseStatus.AWAITING_RETURN, CaseStatus.REJECTED):
                case.close(now=now)
            elif source == CaseStatus.RETURN_IN_TRANSIT:
                case.confirm_return(now=now, limits=limits)
            elif source == CaseStatus.EXCHANGE_SHIPPED:
                case.confirm_exchange(now=now)
            else:
                continue
            case.save()
            CaseEvent.objects.create(
                case=case,
                kind=kinds[source],
                source_status=source,
                target_status=case.status,
                actor=None,
                actor_kind=ActorKind.SYSTEM,
                amount=case.amount if source == CaseStatus.PENDING else None,
                created_at=now,
            )
            if case.status in (CaseStatus.CLOSED, CaseStatus.EXCHANGED):
                OrderItem.objects.filter(pk=case.item_id).update(aftersale_lock="")
            elif case.status == CaseStatus.REFUNDING:
                transaction.on_commit(partial(refund_task.delay, case.pk))
            changed += 1
    return changed


def bare_update(now: datetime) -> int:
    """The floor: one UPDATE of the due rows to their next state, no FSM, no guard, no event, no item."""
    return len(
        sql(
            f"""UPDATE {_tables()[0]} SET status = CASE status
                       WHEN 'pending' THEN CASE WHEN type = 'refund_only' THEN 'refunding' ELSE 'awaiting_return' END
                       WHEN 'return_in_transit' THEN CASE WHEN type = 'exchange' THEN 'reshipping' ELSE 'refunding' END
                       WHEN 'exchange_shipped' THEN 'exchanged'
                       ELSE 'closed' END,
                   deadline_at = NULL, updated_at = %(now)s
                WHERE status IN ('pending', 'awaiting_return', 'rejected', 'return_in_transit', 'exchange_shipped')
                  AND deadline_at <= %(now)s RETURNING id""",
            {"now": now},
        )
    )


def _select_ids_ms(now: datetime, *, table_scan: bool = False) -> tuple[float, int]:
    """Best of 3 of the task's id selection alone (merchants.kernel.deadlines.due_ids for every swept state).

    With `table_scan`, index scans are switched off: the anchor, what the same query costs without the
    index. Both run the same code in a transaction (so SET LOCAL applies)."""
    from django.conf import settings
    from django.db import connection, transaction

    from aftersales.services.deadlines import SWEEPS, due_queryset
    from merchants.kernel.deadlines import due_ids

    best, count = None, 0
    with transaction.atomic():
        if table_scan:
            with connection.cursor() as cur:
                no_index_scans(cur)
        for _ in range(3):
            with Stopwatch() as sw:
                count = sum(
                    len(chunk)
                    for status, _handler in SWEEPS
                    for chunk in due_ids(due_queryset(status), now=now, batch=settings.SHOUHOU_SWEEP_BATCH)
                )
            best = sw.seconds if best is None else min(best, sw.seconds)
    return best * 1000, count


def _due_plan(now: datetime) -> str:
    from aftersales.services.deadlines import due_queryset

    statement, params = (
        due_queryset("pending")
        .filter(deadline_at__lte=now)
        .order_by("deadline_at")
        .values_list("pk", flat=True)
        .query.sql_with_params()
    )
    return explain(statement, params)


class _PublishTimer:
    """Wraps the refund tasks' delay to count and time the messages the run publishes (memory broker).

    `calls` counts messages (a refund_batch_task message carries a batch), `refunds` the refunds in them.
    """

    def __init__(self):
        from aftersales.tasks import refund_batch_task, refund_task

        self.tasks, self.calls, self.refunds, self.seconds = (refund_task, refund_batch_task), 0, 0, 0.0

    def __enter__(self):
        self.originals = {}
        for task in self.tasks:
            original = self.originals[task] = task.delay

            def delay(*args, _original=original, **kwargs):
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.seconds += time.perf_counter() - start
                    self.calls += 1
                    self.refunds += len(args[0]) if args and isinstance(args[0], list) else 1

            task.delay = delay
        return self

    def __exit__(self, *exc):
        for task, original in self.originals.items():
            try:
                del task.delay  # the instance attribute: the class's method shows again
            except AttributeError:
                task.delay = original


def run_sweep(report: Report) -> None:
    from django.conf import settings
    from django.utils import timezone

    from aftersales.tasks import run_deadlines

    cases = _tables()[0]
    restore()
    table_rows = scalar(f"SELECT count(*) FROM {cases}")
    waiting = dict(sql(f"SELECT status, count(*) FROM {cases} WHERE deadline_at IS NOT NULL GROUP BY 1"))
    now = timezone.now()
    if _count_due(now):
        raise SystemExit("bench: cases are already due; run bench.generate (it shifts old data)")
    log(f"sweep: {table_rows:,} cases, waiting with a deadline: {waiting}; none due")
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("memory://"):
        raise SystemExit(f"bench: CELERY_BROKER_URL is {broker}, expected memory://")

    none_due = repeat_ms(run_deadlines, n=5)
    report.add(
        "aftersales.sweep.none_due",
        statistics.median(none_due),
        "ms",
        anchor=_select_ids_ms(now, table_scan=True)[0],
        anchor_name="same id queries as table scans",
        note=f"run_deadlines with 0 due of {table_rows:,} cases (8 swept states, one id query each)",
    )

    # Warm-up (not reported): the first sweep of a process also pays for imports, the broker connection
    # and cold caches, which would land on the smaller N alone and skew the comparison between sizes.
    warmed = warm(cases, "merchants_order", "merchants_orderitem")
    log(f"sweep: cases, orders and items read into the OS cache in {warmed:.1f} s")
    make_due(WARMUP_DUE, timezone.now())
    run_deadlines()
    restore()

    seconds_by_n: dict[int, float] = {}
    for n in SWEEP_SIZES:
        label = f"aftersales.sweep.due{n // 1000}k"
        # -- ours: the Contract's task, through merchants.kernel.deadlines.run_sweeps and the batch handlers
        allocation = make_due(n, timezone.now())
        select_ms, selected = _select_ids_ms(timezone.now())
        assert selected == n, (selected, n)
        plan = _due_plan(timezone.now())
        uses_index = "case_due_idx" in plan
        log(f"{label}: id selection plan (pending):\n    " + plan.replace("\n", "\n    "))
        seq_ms, _ = _select_ids_ms(timezone.now(), table_scan=True)
        with _PublishTimer() as published, Stopwatch() as ours:
            changed = run_deadlines()
        if changed != n:
            raise SystemExit(f"bench: run_deadlines changed {changed}, expected {n}")
        events = _events_since_snapshot()
        if sum(events.values()) != n:
            raise SystemExit(f"bench: {sum(events.values())} events written for {n} transitions: {events}")
        moved = dict(
            sql(f"SELECT c.status, count(*) FROM {cases} c JOIN {DUE_TABLE} d ON d.case_id = c.id GROUP BY 1")
        )
        log(f"{label}: {changed:,} changed in {ours.seconds:.1f} s; events {events}; now {moved}")

        # -- anchor 1: the naive per-object loop over the same rows
        make_due(n, timezone.now())
        with Stopwatch() as naive:
            naive_changed = naive_sweep(timezone.now(), budget_s=NAIVE_BUDGET_S)
        naive_rate = naive_changed / naive.seconds
        naive_note = "" if naive_changed == n else f"naive rate over {naive_changed:,} of {n:,} (time budget)"

        # -- anchor 2: a bare UPDATE of the same rows
        make_due(n, timezone.now())
        with Stopwatch() as bare:
            bare_changed = bare_update(timezone.now())
        assert bare_changed == n, (bare_changed, n)
        restore()

        seconds_by_n[n] = ours.seconds
        rate, bare_rate = n / ours.seconds, n / bare.seconds
        mix = ", ".join(f"{state} {count:,}" for state, count in allocation.items())
        report.add(
            f"{label}.rate",
            rate,
            "cases/s",
            anchor=naive_rate,
            anchor_name="naive per-object loop",
            better="higher",
            note=(
                f"{n:,} due of {table_rows:,} ({mix}); FSM guard + event per case, {sum(events.values()):,} "
                f"events written; {published.refunds:,} refunds queued to memory:// in {published.calls:,} messages, "
                f"{published.seconds:.2f} s "
                f"({n / (ours.seconds - published.seconds):,.0f} cases/s without publishing them). "
                f"{naive_note}"
            ).strip(),
            events=events,
            moved_to=moved,
            publish_seconds=round(published.seconds, 3),
        )
        report.add(
            f"{label}.rate_vs_bare_update",
            rate,
            "cases/s",
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
            anchor_name="same id queries as table scans",
            note=(
                f"plan {'uses' if uses_index else 'does NOT use'} case_due_idx; "
                f"{select_ms * 1000 / n:.1f} µs per due case (the table scans cost the same at any N)"
            ),
            plan=plan,
        )
    if len(seconds_by_n) >= 2:
        small, large = min(seconds_by_n), max(seconds_by_n)
        report.add(
            f"aftersales.sweep.time_due{large // 1000}k_over_due{small // 1000}k",
            seconds_by_n[large] / seconds_by_n[small],
            "x",
            anchor=large / small,
            anchor_name="ratio of due rows",
            note=(
                f"time follows the due rows, not the table: {small:,} due {seconds_by_n[small]:.1f} s, "
                f"{large:,} due {seconds_by_n[large]:.1f} s, none due {statistics.median(none_due):.1f} ms, "
                f"all among {table_rows:,} cases (ratio ≈ 1.00x: proportional)"
            ),
        )
    sql(f"VACUUM (ANALYZE) {cases}")


# ================================================================================================
# Bulk approve


def _bench_owner():
    """bench_owner: owner of the shop with the most pending cases (and of nothing else)."""
    from django.contrib.auth import get_user_model

    from merchants.models import Membership

    cases = _tables()[0]
    shop, pending = sql(
        f"""SELECT merchant_id, count(*) FROM {cases} WHERE status = 'pending'
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"""
    )[0]
    user, _ = get_user_model().objects.get_or_create(username=BENCH_OWNER_USER)
    user.is_staff = user.is_superuser = False
    user.set_unusable_password()
    user.save()
    Membership.objects.filter(user=user).exclude(merchant_id=shop).delete()
    Membership.objects.update_or_create(user=user, merchant_id=shop, defaults={"role": "owner"})
    return user, shop, pending


def naive_approve(ids: list[int]) -> int:
    """The anchor: per case, a locked load, approve(), save() of every column, one event; no scoping or order/item locks."""
    from django.db import transaction
    from django.utils import timezone

    from aftersales.models import AfterSaleCase, AftersalesSettings, CaseEvent
    from aftersales.tasks import refund_task
    from aftersales.transitions import CaseStatus
    from merchants.models import ActorKind

    limits = AftersalesSettings.load()
    done = 0
    for pk in ids:
        with transaction.atomic():
            case = AfterSaleCase.objects.select_for_update().get(pk=pk)
            now = timezone.now()
            case.approve(now=now, limits=limits)
            case.save()
            CaseEvent.objects.create(
                case=case,
                kind=CaseEvent.Kind.APPROVED,
                source_status=CaseStatus.PENDING,
                target_status=case.status,
                actor_kind=ActorKind.MERCHANT,
                amount=case.amount,
                created_at=now,
            )
            if case.status == CaseStatus.REFUNDING:
                transaction.on_commit(partial(refund_task.delay, case.pk))
            done += 1
    return done


def run_bulk(report: Report) -> None:
    from aftersales import services
    from aftersales.models import AfterSaleCase
    from aftersales.tasks import refund_batch_task

    cases = _tables()[0]
    restore()
    owner, shop, pending = _bench_owner()
    ids_sql = f"""SELECT id FROM {cases} WHERE merchant_id = %s AND status = 'pending'
                  ORDER BY (id * 2654435761) %% 4294967296 LIMIT %s"""
    n = snapshot(ids_sql, [shop, BULK_SIZE])
    ids = [r[0] for r in sql(f"SELECT case_id FROM {DUE_TABLE} ORDER BY case_id")]
    log(
        f"bulk: {n} pending cases of shop {shop} ({pending:,} pending there), as {owner.username}, {BULK_ROUNDS} rounds"
    )
    # Neither side pays for the process's first message (it loads the broker transport).
    refund_batch_task.delay([])

    ours_s, naive_s = [], []
    for _round in range(BULK_ROUNDS):  # alternately, on the same cases made fresh again each time
        snapshot(ids_sql, [shop, BULK_SIZE])
        # ours: the service the workbench action calls, with the queryset the action hands it
        with _PublishTimer() as published, Stopwatch() as ours:
            results = services.bulk_approve(
                AfterSaleCase.objects.filter(pk__in=ids).order_by("pk"), actor=owner
            )
        ok = sum(1 for r in results if r.ok)
        events = _events_since_snapshot()
        moved = dict(
            sql(f"SELECT c.status, count(*) FROM {cases} c JOIN {DUE_TABLE} d ON d.case_id = c.id GROUP BY 1")
        )
        # Each case its own result, its own event, its own refund (the refunding ones, one each).
        if ok != n or sum(events.values()) != n or published.refunds != moved.get("refunding", 0):
            failures = [r for r in results if not r.ok][:3]
            raise SystemExit(
                f"bench: bulk_approve ok {ok} of {n}, events {events}, refunds queued {published.refunds} "
                f"for {moved}; e.g. {failures}"
            )
        ours_s.append(ours.seconds)

        # anchor: the same cases, fresh again
        snapshot(ids_sql, [shop, BULK_SIZE])
        with Stopwatch() as naive:
            naive_done = naive_approve(ids)
        assert naive_done == n, (naive_done, n)
        naive_s.append(naive.seconds)
    restore()

    ours_median, naive_median = statistics.median(ours_s), statistics.median(naive_s)
    report.add(
        f"aftersales.bulk_approve{n}.seconds",
        ours_median,
        "s",
        anchor=naive_median,
        anchor_name="naive per-object loop",
        target_ratio=BULK_TARGET_VS_LOOP,
        note=(
            f"services.bulk_approve of {n} pending cases of shop {shop} as its owner, median of {BULK_ROUNDS}: "
            f"{ok} approved ({', '.join(f'{k} {v}' for k, v in moved.items())}), each its own result and "
            f"event ({sum(events.values())}); {published.refunds} refunds queued to memory:// in "
            f"{published.calls} message(s), {published.seconds:.2f} s"
        ),
        samples=[round(x, 3) for x in ours_s],
        anchor_samples=[round(x, 3) for x in naive_s],
        moved_to=moved,
    )
    report.add(
        f"aftersales.bulk_approve{n}.per_case",
        ours_median * 1000 / n,
        "ms",
        anchor=naive_median * 1000 / n,
        anchor_name="naive per-object loop",
        target_ratio=BULK_TARGET_VS_LOOP,
    )


# ================================================================================================
# Case list


PAGE_SIZES = (25, 100)


def _changelist_cases() -> list[dict]:
    """Which pages to load, as whom, and what each must show (checked on the first response)."""
    from aftersales.models import AfterSaleCase
    from bench.generate import BENCH_SHOP_USER, BENCH_STAFF_USER, bench_shop_id

    shop = bench_shop_id()
    shop_cases = AfterSaleCase.objects.filter(merchant_id=shop)
    shop_count = shop_cases.count()
    # A real order number of the shop, from the middle of its history (not the newest page).
    order_no = shop_cases.order_by("created_at", "pk").values_list("order_no", flat=True)[shop_count // 2]
    scenarios = {
        # name: (our query, the anchor's query for the same rows)
        "plain": ({}, {}),
        "tab_pending": ({"tab": "pending"}, {"status__exact": "pending"}),
        "type": ({"type__exact": "return_refund"}, {"type__exact": "return_refund"}),
        "search": ({"q": order_no}, {"q": order_no}),
    }
    return [
        {
            "site": site,
            "user": user,
            "url": url,
            "anchor_url": "/bench-anchor/aftersales/aftersalecase/",
            "rows": rows,
            "scenario": scenario,
            "params": params,
            "anchor_params": anchor_params,
            "must_contain": order_no if scenario == "search" else None,
        }
        for site, user, url, rows in (
            (
                "workbench",
                BENCH_SHOP_USER,
                "/workbench/aftersales/aftersalecase/",
                f"shop {shop}: {shop_count:,} cases",
            ),
            ("admin", BENCH_STAFF_USER, "/admin/aftersales/aftersalecase/", "all shops"),
        )
        for scenario, (params, anchor_params) in scenarios.items()
    ]


def run_changelist(report: Report) -> None:
    from django.contrib import admin
    from django.test import override_settings

    from aftersales.models import AfterSaleCase
    from bench.orders import _client, _get, _queries
    from merchants.kernel.admin.sites import workbench_site

    for site in (workbench_site, admin.site):
        if AfterSaleCase not in site._registry:
            raise SystemExit(f"bench: AfterSaleCase is not registered on {site.name}")
    restore()

    with override_settings(ROOT_URLCONF="bench.anchor"):
        from bench.anchor import anchor_site

        anchor_admin = anchor_site._registry[AfterSaleCase]
        saved = {s: s._registry[AfterSaleCase].list_per_page for s in (workbench_site, admin.site)}
        try:
            for case in _changelist_cases():
                ours_client, anchor_client = _client(case["user"]), _client(case["user"])
                params, anchor_params, must = case["params"], case["anchor_params"], case["must_contain"]
                site = workbench_site if case["url"].startswith("/workbench/") else admin.site
                counts = {}
                for size in PAGE_SIZES:
                    site._registry[AfterSaleCase].list_per_page = size
                    anchor_admin.list_per_page = size
                    _get(ours_client, case["url"], params, must)
                    _get(anchor_client, case["anchor_url"], anchor_params, must)
                    counts[size] = (
                        _queries(ours_client, case["url"], params),
                        _queries(anchor_client, case["anchor_url"], anchor_params),
                    )
                    ours_ms, anchor_ms = interleaved(
                        partial(_get, ours_client, case["url"], params),
                        partial(_get, anchor_client, case["anchor_url"], anchor_params),
                        n=REQUESTS,
                        budget_s=CHANGELIST_BUDGET_S,
                    )
                    report_changelist_page(
                        report,
                        f"aftersales.changelist.{case['site']}.{case['scenario']}.p{size}",
                        case,
                        ours_ms,
                        anchor_ms,
                        counts[size],
                        target=CHANGELIST_TARGET_MS,
                    )
                report_query_counts(
                    report,
                    f"aftersales.changelist.{case['site']}.{case['scenario']}.queries",
                    counts,
                    PAGE_SIZES,
                )
        finally:
            for s, size in saved.items():
                s._registry[AfterSaleCase].list_per_page = size


SECTIONS = {"sweep": run_sweep, "changelist": run_changelist, "bulk": run_bulk}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="after-sales benchmarks")
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    setup()
    require_postgres()
    from bench.generate_cases import ensure_cases

    ensure_cases()
    report = Report()
    try:
        for name in args.sections or list(SECTIONS):
            log(f"aftersales: {name}")
            SECTIONS[name](report)
    finally:
        restore()
    return 0


if __name__ == "__main__":
    sys.exit(main())
