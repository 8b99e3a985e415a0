"""Export benchmarks (B-6, issue 12 "Speed"): the case export of the download center over the 1M cases.

    .venv/bin/python -m bench.exports            # CSV at 100k and 1M rows, the anchor, XLSX
    .venv/bin/python -m bench.exports one csv 100000   # one measurement (a subprocess of the above)

Each measurement runs in a fresh subprocess, so its peak RSS (ru_maxrss) is its own:
- `exports.cases.csv_1m_s`: `aftersales.admin.cases.export.case_export_spec` (values_list over a server-side
  cursor in chunks of 5,000, the handler of each chunk in one query, labels, times in Asia/Shanghai,
  neutralised text) written by `merchants.kernel.centers.exports.write_csv` to a file, for the first
  1,000,000 cases (all shops, as the system); on PostgreSQL the rows are formatted by the database and
  written by COPY … TO STDOUT (labels, local times, neutralising in SQL). Target <= 20 s. Anchor, same
  run: the naive Django path, `.iterator()` over model instances (select_related shop and product) +
  csv.writer of the same columns. `…csv_1m_vs_copy_s`: the same figure against a bare COPY of the raw
  columns (the floor).
- `exports.cases.csv_rss_mb_100k` / `…_1m`: peak RSS at 100k and 1M rows; target < 150 MB and not growing
  with the row count (the 1M figure's anchor is the 100k one: ratio ~1.0).
- `exports.cases.xlsx_rows_s`: the XLSX writer (write-only openpyxl, typed cells) on BENCH_EXPORT_XLSX_ROWS
  rows (default 100,000; 1M takes minutes), reported as rows per second with its peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Report, log, require_postgres, setup

ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
SMALL_ROWS = int(os.environ.get("BENCH_EXPORT_SMALL_ROWS", "100000"))
XLSX_ROWS = int(os.environ.get("BENCH_EXPORT_XLSX_ROWS", "100000"))
# The naive anchor runs on this many rows and is scaled to ROWS (it is linear; 1M takes minutes).
ANCHOR_ROWS = int(os.environ.get("BENCH_EXPORT_ANCHOR_ROWS", "100000"))
CSV_TARGET_S = 20.0
RSS_TARGET_MB = 150.0


def _queryset(rows: int):
    from aftersales.models import AfterSaleCase

    pks = AfterSaleCase.objects.order_by("pk").values_list("pk", flat=True)
    last = pks[rows - 1 : rows].first() or pks.last()
    return AfterSaleCase.objects.filter(pk__lte=last)


def _ours(fmt: str, rows: int, path: str) -> int:
    from aftersales.admin.cases.export import case_export_spec
    from merchants.kernel.centers import exports

    spec = case_export_spec(_queryset(rows))
    with open(path, "wb") as handle:
        return exports.write(spec, handle, fmt)


def _anchor(rows: int, path: str) -> int:
    """The naive path: model instances from .iterator() and csv.writer, same columns, no labels."""
    import csv

    from aftersales.admin.cases.export import COLUMNS

    queryset = _queryset(rows).select_related("merchant", "product").order_by("pk")
    written = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([str(c.header) for c in COLUMNS])
        for case in queryset.iterator(chunk_size=5000):
            writer.writerow(
                [
                    case.case_no, case.merchant.name, case.order_no, case.product.name, case.buyer_id,
                    case.buyer_name, case.get_type_display(), case.get_reason_display(),
                    case.get_status_display(), case.quantity, case.amount, case.refunded_amount,
                    case.refunded_at, case.created_at, case.deadline_at, "", case.reject_reason, "",
                    case.arbitration_outcome, case.liability, case.return_carrier, case.return_tracking_no,
                    case.return_shipped_at, case.return_received_at, case.closed_at, case.description,
                    case.auto_approved_by,
                ]
            )  # fmt: skip
            written += 1
    return written


def _copy_floor(rows: int, path: str) -> int:
    """The floor: PostgreSQL's COPY of the same raw columns (no labels, local times or neutralising)."""
    from django.db import connection, transaction

    from aftersales.admin.cases.export import FIELDS

    query, params = _queryset(rows).order_by("pk").values_list(*FIELDS[1:]).query.sql_with_params()
    with open(path, "wb") as handle, transaction.atomic(), connection.cursor() as cursor:
        cursor.cursor.execute("SET LOCAL jit = off")
        with cursor.cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for data in copy:
                handle.write(data)
    return rows


def one(kind: str, rows: int) -> dict:
    """One measurement in this process: seconds, rows written, bytes, peak RSS (MB)."""
    setup()
    require_postgres()
    from django.utils import translation

    translation.activate("zh-hans")
    folder = os.environ.get("SHOUHOU_VAR_DIR") or tempfile.gettempdir()
    fd, path = tempfile.mkstemp(prefix="bench-export-", suffix=f".{kind}", dir=folder)
    os.close(fd)
    try:
        started = time.perf_counter()
        if kind == "anchor":
            written = _anchor(rows, path)
        elif kind == "copy":
            written = _copy_floor(rows, path)
        else:
            written = _ours(kind, rows, path)
        seconds = time.perf_counter() - started
        size = os.path.getsize(path)
    finally:
        os.remove(path)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "rows": written, "seconds": seconds, "bytes": size, "rss_mb": rss_mb}


def _measure(kind: str, rows: int) -> dict:
    log(f"export {kind}, {rows:,} rows (subprocess)")
    out = subprocess.run(
        [sys.executable, "-m", "bench.exports", "one", kind, str(rows)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"  {result['rows']:,} rows in {result['seconds']:.1f} s, peak RSS {result['rss_mb']:.0f} MB")
    return result


def main() -> None:
    setup()
    require_postgres()
    report = Report()
    small = _measure("csv", SMALL_ROWS)
    big = _measure("csv", ROWS)
    anchor = _measure("anchor", ANCHOR_ROWS)
    anchor_1m_s = anchor["seconds"] * ROWS / max(anchor["rows"], 1)
    floor = _measure("copy", ROWS)
    xlsx = _measure("xlsx", XLSX_ROWS)
    report.add(
        "exports.cases.csv_1m_s",
        big["seconds"],
        "s",
        anchor=anchor_1m_s,
        anchor_name=f".iterator()+csv.writer ({anchor['rows'] // 1000}k rows, scaled)",
        better="lower",
        target=CSV_TARGET_S,
        note=f"{big['rows']:,} cases to CSV ({big['bytes'] / 1e6:.0f} MB), labels, handler, local times",
        rows=big["rows"],
    )
    report.add(
        "exports.cases.csv_1m_vs_copy_s",
        big["seconds"],
        "s",
        anchor=floor["seconds"],
        anchor_name="COPY of the raw columns",
        better="lower",
        note="the same rows as a bare COPY writes them: what labels, local times and neutralising cost",
    )
    report.add(
        "exports.cases.csv_rss_mb_100k", small["rss_mb"], "MB", better="lower", target=RSS_TARGET_MB,
        rows=small["rows"],
    )  # fmt: skip
    report.add(
        "exports.cases.csv_rss_mb_1m",
        big["rss_mb"],
        "MB",
        anchor=small["rss_mb"],
        anchor_name="peak RSS at 100k",
        better="lower",
        target=RSS_TARGET_MB,
        note="ratio ~1.0: memory does not grow with the row count",
        rows=big["rows"],
    )
    report.add(
        "exports.cases.xlsx_rows_s",
        xlsx["rows"] / xlsx["seconds"],
        "rows/s",
        better="higher",
        note=f"{xlsx['rows']:,} cases to XLSX in {xlsx['seconds']:.1f} s, peak RSS {xlsx['rss_mb']:.0f} MB",
        rows=xlsx["rows"],
        rss_mb=xlsx["rss_mb"],
    )


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "one":
        print(json.dumps(one(sys.argv[2], int(sys.argv[3]))))
    else:
        main()
