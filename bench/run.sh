#!/usr/bin/env bash
# `make bench`: PostgreSQL (database "bench"), migrate, data sets if missing, every benchmark, one summary.
#
# stdout: one line per figure as it is measured ("name  value  unit  anchor  ratio"), then the table.
# stderr: progress. Figures also land in bench/out/results-<time>.jsonl (samples, queries, plans).
#
#   BENCH_MODULES="orders aftersales"  benchmark modules to run (bench/<name>.py, each with main())
#   BENCH_ORDERS=1000000          orders in the data set (changing it regenerates)
#   BENCH_CASES=1000000           after-sales cases in the data set (changing it regenerates them)
#   BENCH_SWEEP_SIZES=10000,50000 due rows per order sweep run
#   BENCH_NAIVE_BUDGET_S=60       seconds the naive order sweep anchor may run before its rate is taken
#   BENCH_CASE_SWEEP_SIZES=10000,50000  due cases per after-sales sweep run
#   BENCH_CASE_NAIVE_BUDGET_S=20  seconds the naive case sweep anchor may run before its rate is taken
#   BENCH_BULK_SIZE=500           pending cases per bulk approve
#   BENCH_BULK_ROUNDS=3           bulk approve rounds (ours and the naive loop alternately; medians)
#   BENCH_IMPORT_ROWS=100000      rows of the product import (bench/imports.py; COPY anchor: BENCH_IMPORT_COPY_ROWS=100000)
#   BENCH_SHIP_ROWS=100000, BENCH_ORDER_ROWS=100000   rows of the batch-shipping and orders imports
#   BENCH_SHIP_ROWS=3000          rows of the batch-shipping import (row by row through ship())
#   BENCH_LEVEL_SHOPS=10000       shops of the level data set (bench/levels.py; 30 days × BENCH_LEVEL_ORDERS_PER_DAY=10 orders each)
#   BENCH_LEVEL_NAIVE_BUDGET_S=30 seconds the per-shop level loop anchor may run before its rate is taken
#   SHOUHOU_PG_DB=bench           database name in the throwaway cluster (scripts/pg.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
MODULES="${BENCH_MODULES:-orders aftersales imports exports reviews tickets levels}"

export DATABASE_URL
DATABASE_URL="$(SHOUHOU_PG_DB="${SHOUHOU_PG_DB:-bench}" scripts/pg.sh start)"
export DJANGO_SETTINGS_MODULE=config.settings
export DEBUG=1
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-memory://}"
export LOG_LEVEL="${LOG_LEVEL:-WARNING}"
export SHOUHOU_VAR_DIR="${SHOUHOU_VAR_DIR:-$PWD/var/bench}"
mkdir -p bench/out "$SHOUHOU_VAR_DIR"
export BENCH_RESULTS="${BENCH_RESULTS:-$PWD/bench/out/results-$(date +%Y%m%d-%H%M%S).jsonl}"
: > "$BENCH_RESULTS"

start=$(date +%s)
echo "[bench] database: $DATABASE_URL" >&2
$PY manage.py migrate --noinput -v0
datasets="orders"  # what the chosen modules read (bench/generate.py DATASETS)
case " $MODULES " in *" aftersales "*|*" exports "*) datasets="$datasets cases" ;; esac
# shellcheck disable=SC2086
$PY -m bench.generate $datasets

failed=()
for module in $MODULES; do
  echo "[bench] module: $module" >&2
  if ! $PY -m "bench.$module"; then
    failed+=("$module")
  fi
done

echo
echo "== Summary ($(( $(date +%s) - start )) s; figures and samples in ${BENCH_RESULTS#"$PWD"/}) =="
$PY -m bench.summary
if [ ${#failed[@]} -gt 0 ]; then
  echo "[bench] failed: ${failed[*]}" >&2
  exit 1
fi
