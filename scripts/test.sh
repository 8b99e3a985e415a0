#!/usr/bin/env bash
# `make test`: set up, then run the whole pytest suite. Extra arguments go to pytest.
#   DATABASE_URL unset -> SQLite (in memory); .ci/run sets it to a throwaway PostgreSQL.
#   Browser tests (marker e2e) need /usr/bin/chromium: skipped, with the reason, when it is missing
#   locally; with CI=true a missing browser is an error instead.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

CHROMIUM=/usr/bin/chromium
if [ ! -x "$CHROMIUM" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "test: $CHROMIUM is missing and CI=true: browser tests cannot run (apt-get install chromium)." >&2
    exit 1
  fi
  echo "test: NOTE: $CHROMIUM not found: browser tests (marker e2e) will be SKIPPED." >&2
  echo "test:       apt-get install chromium to run them." >&2
fi

echo "test: database ${DATABASE_URL:-SQLite (in memory)}, broker ${CELERY_BROKER_URL:-memory:// (tests)}"
set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "test: pytest collected no tests: that is a failure, not a pass." >&2
  exit 1
fi
exit "$status"
