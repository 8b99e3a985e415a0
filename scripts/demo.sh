#!/usr/bin/env bash
# `make demo`: migrate, load the demo data, then serve http://127.0.0.1:8000 with a real Celery worker
# and Celery beat beside it. Ctrl-C (or SIGTERM) stops all three; if one of them dies, the others are
# stopped too, so the demo never half-runs.
#
# Why a script and not honcho: three processes need no extra dependency, and we want two things a
# Procfile runner does not give for free: migrations and demo data before anything starts, and the
# database (SQLite file or DATABASE_URL) and broker folders prepared for all three processes alike.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBUG="${DEBUG:-1}"
export SHOUHOU_DEMO_SIMULATOR=1
export PYTHONUNBUFFERED=1
HOST="${DEMO_HOST:-127.0.0.1}"
PORT="${DEMO_PORT:-8000}"
PY=.venv/bin/python
CELERY=.venv/bin/celery

VAR_DIR="${SHOUHOU_VAR_DIR:-var}"
if [ -z "${CELERY_BROKER_URL:-}" ] || [[ "${CELERY_BROKER_URL}" == filesystem://* ]]; then
  # The default broker is a folder shared by the three processes (config/settings.py).
  mkdir -p "$VAR_DIR/broker/queue" "$VAR_DIR/broker/processed" "$VAR_DIR/broker/control"
fi
mkdir -p "$VAR_DIR/media"

echo "demo: database ${DATABASE_URL:-sqlite:///$VAR_DIR/shouhou.sqlite3 (default)}"
"$PY" manage.py migrate --noinput -v 1
"$PY" manage.py seed_demo

if command -v ss >/dev/null 2>&1 && ss -ltn "sport = :$PORT" | grep -q LISTEN; then
  echo "demo: port $PORT is already in use (another demo running?); set DEMO_PORT=8001 to use another." >&2
  exit 1
fi

pids=()
stopping=0
stop_all() {
  stopping=1
  [ "${#pids[@]}" = 0 ] && return
  trap '' INT TERM  # a second Ctrl-C (or make's own SIGTERM after timeout's) must not cut this short
  echo
  echo "demo: stopping web server, worker and beat (the worker finishes its current task first) ..."
  # Each main process only: the worker stops its own pool processes (killing them under it hangs it).
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 200); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  # Whatever is left after 20 s, and any orphan in their process groups, is killed.
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo: stopped."
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap '[ "$stopping" = 1 ] || stop_all' EXIT

# Job control puts each process in its own process group: Ctrl-C reaches only this script, which
# then stops each group (the web server's reloader and the worker's children included) exactly once.
set -m
# Task chatter (received / succeeded, beat's "sending due task") is off unless SHOUHOU_TASK_LOG_LEVEL=INFO;
# warnings and errors — a task's traceback — are always printed.
TASK_LOG_LEVEL="${SHOUHOU_TASK_LOG_LEVEL:-WARNING}"
"$CELERY" -A config worker --loglevel="$TASK_LOG_LEVEL" --concurrency=2 --hostname="demo-worker@%h" &
pids+=($!)
"$CELERY" -A config beat --loglevel="$TASK_LOG_LEVEL" &
pids+=($!)
"$PY" manage.py runserver --noreload "$HOST:$PORT" &
pids+=($!)
set +m

cat <<EOF

  Shouhou demo: http://$HOST:$PORT/workbench/ (merchants: shop1/shop1, shop2/shop2; both shops: ops/ops)
                http://$HOST:$PORT/admin/     (platform: staff/staff, admin: admin/admin)
  Worker and beat run beside it (SHOUHOU_DEMO_SIMULATOR=1). Ctrl-C stops everything.
  The log shows warnings and errors only; SHOUHOU_LOG_REQUESTS=1 SHOUHOU_TASK_LOG_LEVEL=INFO for every request and task.

EOF

# Returns as soon as any of the three exits: then stop the others and report failure.
set +e
wait -n "${pids[@]}"
status=$?
set -e
if [ "$stopping" = 0 ]; then
  echo "demo: a process exited unexpectedly (status $status); stopping the others." >&2
  stop_all
  exit 1
fi
