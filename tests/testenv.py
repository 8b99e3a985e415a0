"""Test-run defaults, set before Django reads its settings: loaded as a plugin (`-p tests.testenv`)."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
# Counts are exact in tests; the one test of the staff cache turns it on.
os.environ.setdefault("SHOUHOU_STAFF_COUNTS_CACHE_SECONDS", "0")
os.environ.setdefault(
    "SHOUHOU_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test")
)
# WhiteNoise looks for STATIC_ROOT at start-up; tests serve static files from the apps, so an empty one will do.
os.makedirs(os.path.join(os.environ["SHOUHOU_VAR_DIR"], "static"), exist_ok=True)
