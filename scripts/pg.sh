#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests, CI and benchmarks: unix socket only, trust auth.
# initdb refuses root, so the cluster runs as the `postgres` user.
#   scripts/pg.sh start   -> prints the DATABASE_URL to use
#   scripts/pg.sh stop | url
set -euo pipefail
DIR="${SHOUHOU_PG_DIR:-/tmp/shouhou-pg}"
DB="${SHOUHOU_PG_DB:-shouhou}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
RUN_AS=(); [ "$(id -u)" = 0 ] && RUN_AS=(runuser -u postgres --)
url() { local enc; enc=$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$DIR"); echo "postgres://postgres@${enc}/${DB}"; }
case "${1:-start}" in
  start)
    if [ -z "$BIN" ]; then echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; fi
    mkdir -p "$DIR"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      "${RUN_AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
      cat >> "$DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 512MB
work_mem = 32MB
maintenance_work_mem = 256MB
max_connections = 200
CONF
    fi
    if ! "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w start >/dev/null
    fi
    "$BIN/psql" -h "$DIR" -U postgres -Atqc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 \
      || "$BIN/createdb" -h "$DIR" -U postgres "$DB"
    url ;;
  stop) "${RUN_AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null || true ;;
  url) url ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
