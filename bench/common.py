"""Shared plumbing for every benchmark: Django setup, timing, the figures file and its printing.

A benchmark module (bench/orders.py, later bench/aftersales.py …) calls `setup()` first, measures its
figure *and* the anchor in the same run, and hands both to `Report.add()`. Each figure is printed at
once as one line (`name  value  unit  anchor  ratio`) and appended to a JSON-lines file
(`BENCH_RESULTS`, default bench/out/results.jsonl) so that bench/run.sh can print one summary table
for all modules at the end (`python -m bench.summary`).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"

# The targets of ../shared/BENCHMARKS.md ("target for Shouhou"), in one place for every module. A target
# is absolute (`target=`, in the figure's unit) or relative to the anchor measured in the same run
# (`target_ratio=`, value ÷ anchor), as the table states it.
CHANGELIST_TARGET_MS = 100  # every change list and filter, plain or filtered or searched: ≤ 100 ms median
SWEEP_TARGET_VS_BARE_UPDATE = 0.3  # a deadline sweep with events and all guards: ≥ 0.3 of a bare UPDATE
BULK_TARGET_VS_LOOP = 1.0  # bulk approve: no slower per case than a naive loop over the cases


def setup() -> None:
    """Make the repository importable and start Django (settings from the environment, DEBUG on)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def log(message: str) -> None:
    """Progress goes to stderr so stdout carries only the figure lines."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# Timing


@dataclass
class Timing:
    samples_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p90(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]

    @property
    def minimum(self) -> float:
        return min(self.samples_ms)


def repeat(fn: Callable[[], object], *, n: int = 30, warmup: int = 3) -> Timing:
    """Call `fn` `warmup` times unmeasured, then `n` times; wall-clock milliseconds of each call."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return Timing(samples)


class Stopwatch:
    """`with Stopwatch() as sw: …` then `sw.seconds`."""

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


# ------------------------------------------------------------------------------------------------
# Figures


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    anchor: float | None = None
    anchor_name: str = ""
    # "lower" for times, "higher" for rates: decides how the ratio reads and whether the target is met.
    better: str = "lower"
    target: float | None = None
    target_ratio: float | None = None  # a target relative to the anchor: value / anchor
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.anchor in (None, 0):
            return None
        return self.value / self.anchor

    @property
    def meets_target(self) -> bool | None:
        checks = []
        if self.target is not None:
            checks.append((self.value, self.target))
        if self.target_ratio is not None and self.ratio is not None:
            checks.append((self.ratio, self.target_ratio))
        if not checks:
            return None
        if self.better == "lower":
            return all(value <= target for value, target in checks)
        return all(value >= target for value, target in checks)

    @property
    def target_text(self) -> str:
        """The target as the table says it: "≤ 100" (absolute) or "≥ 0.30x" (of the anchor)."""
        sign = "≤ " if self.better == "lower" else "≥ "
        parts = []
        if self.target is not None:
            parts.append(sign + fmt(self.target))
        if self.target_ratio is not None:
            parts.append(f"{sign}{self.target_ratio:.2f}x")
        return ", ".join(parts) or "-"

    def line(self) -> str:
        """name  value  unit  anchor  ratio  target  met (yes / NO / - when the figure has no target)."""
        anchor = "-" if self.anchor is None else fmt(self.anchor)
        ratio = "-" if self.ratio is None else f"{self.ratio:.2f}x"
        met = {None: "-", True: "yes", False: "NO"}[self.meets_target]
        target = self.target_text.replace(" ", "")
        return f"{self.name}  {fmt(self.value)}  {self.unit}  {anchor}  {ratio}  {target}  {met}"


def fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}".replace(",", "")
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def results_path() -> Path:
    return Path(os.environ.get("BENCH_RESULTS", OUT_DIR / "results.jsonl"))


class Report:
    """Collects figures: prints each line as it comes and appends it to the results file."""

    def __init__(self, path: Path | None = None):
        self.path = path or results_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.figures: list[Figure] = []

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        anchor: float | None = None,
        anchor_name: str = "",
        better: str = "lower",
        target: float | None = None,
        target_ratio: float | None = None,
        note: str = "",
        **extra,
    ) -> Figure:
        extra.setdefault("loadavg_1m", round(os.getloadavg()[0], 2))
        figure = Figure(name, value, unit, anchor, anchor_name, better, target, target_ratio, note, extra)
        self.figures.append(figure)
        print(figure.line(), flush=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(figure), ensure_ascii=False, default=str) + "\n")
        return figure


def load_figures(path: Path | None = None) -> list[Figure]:
    path = path or results_path()
    if not path.exists():
        return []
    return [
        Figure(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def summary_notes(figures: list[Figure]) -> str:
    """The notes under the table (what a figure covers, plans, caveats) and the machine's load."""
    lines = [f"- {f.name}: {f.note}" for f in figures if f.note]
    loads = [f.extra.get("loadavg_1m") for f in figures if f.extra.get("loadavg_1m") is not None]
    if loads:
        lines.append(
            f"- machine load (1-min load average, {os.cpu_count()} CPUs) while measuring: "
            f"{min(loads):.1f} to {max(loads):.1f}; absolute times scale with it, ratios much less"
        )
    return "\n".join(lines)


def summary_table(figures: list[Figure]) -> str:
    """The final table: every figure, its anchor, the ratio and whether it meets its target."""
    header = ("figure", "value", "unit", "anchor", "anchor is", "ratio", "target", "ok")
    rows = [header]
    for f in figures:
        target = f.target_text
        ok = {None: "", True: "yes", False: "NO"}[f.meets_target]
        rows.append(
            (
                f.name,
                fmt(f.value),
                f.unit,
                "-" if f.anchor is None else fmt(f.anchor),
                f.anchor_name or "-",
                "-" if f.ratio is None else f"{f.ratio:.2f}x",
                target,
                ok,
            )
        )
    widths = [max(_width(r[i]) for r in rows) for i in range(len(header))]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(_pad(cell, widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


# ------------------------------------------------------------------------------------------------
# Database helpers (PostgreSQL only)


def require_postgres() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench: set DATABASE_URL to PostgreSQL (bench/run.sh starts one with scripts/pg.sh)")


def sql(statement: str, params: tuple | list | None = None) -> list[tuple]:
    """Run one statement on Django's connection; rows if it returns any."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def scalar(statement: str, params: tuple | list | None = None):
    rows = sql(statement, params)
    return rows[0][0] if rows else None


def warm(*tables: str) -> float:
    """Read these tables and their indexes into the OS page cache (pg_prewarm's 'read' mode; a plain scan of
    each table where the extension is missing); returns the seconds it took.

    The machine's other work (CI, another data set) evicts the bench data between runs, and a sweep that
    joins orders and items then reads them from disk while its bare-UPDATE anchor, run after it, finds
    them cached: both are measured warm instead, as a live database serving the same rows would be."""
    start = time.perf_counter()
    try:
        sql("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        for table in tables:
            sql(
                "SELECT pg_prewarm(c.oid, 'read') FROM pg_class c WHERE c.oid = %s::regclass "
                "UNION ALL SELECT pg_prewarm(i.indexrelid, 'read') FROM pg_index i WHERE i.indrelid = %s::regclass",
                [table, table],
            )
    except Exception:  # noqa: BLE001  (no contrib package: read the tables instead)
        for table in tables:
            sql(f"SELECT count(*) FROM {table}")
    return time.perf_counter() - start


def explain(statement: str, params: tuple | list | None = None, *, analyze: bool = True) -> str:
    opts = "ANALYZE, BUFFERS, " if analyze else ""
    return "\n".join(row[0] for row in sql(f"EXPLAIN ({opts}COSTS OFF) {statement}", params))


def report_changelist_page(
    report: Report, name: str, case: dict, ours_ms, anchor_ms, queries, *, target
) -> None:
    """One page-size figure of a change-list benchmark: our median against the Django-defaults anchor.

    `queries` is ((our count, our queries), (anchor count, anchor queries)) for that page size.
    """
    (ours_n, ours_q), (anchor_n, anchor_q) = queries
    report.add(
        name,
        statistics.median(ours_ms),
        "ms",
        anchor=statistics.median(anchor_ms),
        anchor_name="Django admin defaults",
        target=target,
        note=f"{case['rows']}; median of {len(ours_ms)}; {ours_n} queries (anchor {anchor_n})",
        samples=[round(x, 1) for x in ours_ms],
        anchor_samples=[round(x, 1) for x in anchor_ms],
        queries=[q["sql"][:300] for q in ours_q],
        query_ms=[q["time"] for q in ours_q],
        anchor_queries=[q["sql"][:300] for q in anchor_q],
        anchor_query_ms=[q["time"] for q in anchor_q],
    )


def report_query_counts(report: Report, name: str, counts: dict, page_sizes) -> None:
    """The query-count figure: as many queries at the largest page size as at the smallest."""
    small, large = counts[page_sizes[0]][0][0], counts[page_sizes[-1]][0][0]
    report.add(
        name,
        large,
        "queries",
        anchor=counts[page_sizes[-1]][1][0],
        anchor_name="Django admin defaults",
        target=small,  # constant in page size
        note=f"{small} at {page_sizes[0]} rows, {large} at {page_sizes[-1]} rows",
    )


# ---- shared by the sweep and change-list benchmarks (bench/aftersales.py, bench/tickets.py)


def no_index_scans(cursor) -> None:
    """Switch PostgreSQL's index scans off for the current transaction: the anchor of an indexed query is
    the same query over the raw table (SET LOCAL: the caller runs inside transaction.atomic())."""
    for knob in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
        cursor.execute(f"SET LOCAL {knob} = off")


def repeat_ms(fn, *, n: int, warmup: int = 1) -> list[float]:
    """`fn` timed `n` times after `warmup` untimed calls; the samples in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def interleaved(ours, anchor, *, n: int, budget_s: float, warmup: int = 2, min_rounds: int = 5):
    """Time `ours` and `anchor` alternately (both see the same drift of the machine's load).

    Up to `n` rounds within about `budget_s` seconds, at least `min_rounds` (Django's full scans on
    /admin/ take a second or more a request)."""
    for _ in range(warmup):
        ours(), anchor()
    start = time.perf_counter()
    ours(), anchor()
    per_round = time.perf_counter() - start
    rounds = max(min_rounds, min(n, int(budget_s / max(per_round, 1e-3))))
    a, b = [], []
    for _ in range(rounds):
        for fn, samples in ((ours, a), (anchor, b)):
            t0 = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - t0) * 1000)
    return a, b
