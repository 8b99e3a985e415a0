"""/healthz: what a load balancer or a process supervisor asks before sending traffic (SPEC §9, N-3).

The kernel knows only the database; anything else the process needs registers a check here with
`health_check(name)` — the broker's is registered by config/celery.py, which owns the Celery app, so
the kernel never imports the project's configuration. A check returns (ok, detail) and never raises.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

Check = Callable[[], tuple[bool, str]]
_checks: dict[str, Check] = {}


def health_check(name: str) -> Callable[[Check], Check]:
    """Register `func` as the check called `name` (registering the same name again replaces it)."""

    def decorate(func: Check) -> Check:
        _checks[name] = func
        return func

    return decorate


@health_check("database")
def database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # noqa: BLE001  (report, never raise, from a health check)
        return False, exc.__class__.__name__


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in _checks.items():
        try:
            ok, detail = check()
        except Exception as exc:  # noqa: BLE001  (a broken check reports itself failed)
            ok, detail = False, exc.__class__.__name__
        results[name] = {"ok": bool(ok), "detail": detail}
    return results


@never_cache
@require_GET
def healthz(request):
    """200 when every registered check answers ok; 503 (with each check's detail) otherwise."""
    results = run_checks()
    ok = all(result["ok"] for result in results.values())
    return JsonResponse({"status": "ok" if ok else "error", **results}, status=200 if ok else 503)
