#!/usr/bin/env bash
# Set up a checkout: uv (installed with pip when missing), the locked virtualenv in .venv, compiled
# message catalogs. Idempotent and quick when nothing changed; `make demo` and `make test` start here.
set -euo pipefail
cd "$(dirname "$0")/.."

export UV_PROJECT_ENVIRONMENT=.venv

# shellcheck source=scripts/uv.sh
source scripts/uv.sh
ensure_uv

"${UV[@]}" sync --frozen --quiet

# Compiled catalogs (.mo) are committed, so a machine without gettext still has them; with gettext,
# rebuild them from the .po files so a fresh edit is picked up.
if command -v msgfmt >/dev/null 2>&1; then
  DEBUG="${DEBUG:-1}" .venv/bin/python manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules -v 0
else
  echo "setup: gettext (msgfmt) not found; using the committed .mo files (apt-get install gettext to rebuild)." >&2
fi
