"""The Celery app: configured from the CELERY_-namespaced Django settings, tasks autodiscovered.

It also tells /healthz how to check the broker (merchants.kernel.health), since this module owns it.
"""

import os
import tempfile
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("shouhou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def broker_ok() -> tuple[bool, str]:
    """The broker in settings answers: a server is connected to, a filesystem broker's folders written to."""
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    scheme = url.split(":", 1)[0]
    if scheme == "memory":
        return True, scheme  # in-process (tests): nothing outside can fail
    if scheme == "filesystem":
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            folder = options.get(key)
            if not folder:
                continue
            try:
                with tempfile.NamedTemporaryFile(dir=Path(folder), prefix=".healthz-"):
                    pass
            except OSError:
                return False, f"{scheme}: {key} not writable"
        return True, scheme
    try:
        # The URL from settings, explicitly: Celery's own config prefers the environment's value.
        with app.connection_for_write(url) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        return True, scheme
    except Exception as exc:  # noqa: BLE001  (report, never raise, from a health check)
        return False, exc.__class__.__name__


def _register_health_check() -> None:
    from merchants.kernel.health import health_check

    health_check("broker")(broker_ok)


_register_health_check()
