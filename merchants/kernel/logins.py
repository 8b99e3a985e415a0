"""Login throttling (N-7): who a login attempt comes from, and when django-axes stops listening.

django-axes counts failed logins (settings: AXES_*). Three counters, each with its own limit within the
cool-off (AXES_COOLOFF_TIME, 15 minutes):

- one username from one address: AXES_FAILURE_LIMIT (5) — the person who forgot their password;
- one address, any usernames: SHOUHOU_LOGIN_ADDRESS_FAILURE_LIMIT — password spraying from one machine;
- one username, any addresses: SHOUHOU_LOGIN_USERNAME_FAILURE_LIMIT — one account attacked from many.

axes compares the largest of its counters with one limit, so `LoginThrottleHandler` scales each counter
to the common limit. A successful login clears only the username-and-address counter: an attacker who
owns one account cannot wipe the address's record by logging into it between guesses.

The client address is REMOTE_ADDR unless SHOUHOU_TRUSTED_PROXY_COUNT says how many reverse proxies
stand in front of the site; then it is the X-Forwarded-For entry the outermost of them wrote
(`client_ip`). Entries further left are whatever the client sent and are never believed.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

PAIR, ADDRESS, USERNAME = "username+ip_address", "ip_address", "username"


def client_ip(request) -> str | None:
    """The address a request comes from, trusting exactly SHOUHOU_TRUSTED_PROXY_COUNT proxies (AXES_CLIENT_IP_CALLABLE)."""
    remote = request.META.get("REMOTE_ADDR")
    hops = settings.SHOUHOU_TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [part for part in chain if part]
    if len(chain) < hops:
        return remote  # the header did not come through every proxy we trust: believe none of it
    return _address(chain[-hops]) or remote


def _address(text: str) -> str | None:
    candidates = [text]
    if text.startswith("["):  # [2001:db8::1]:443
        candidates.append(text[1:].split("]", 1)[0])
    elif text.count(":") == 1:  # 203.0.113.7:51234
        candidates.append(text.split(":", 1)[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def combination(parameters) -> str:
    return "+".join(parameters) if isinstance(parameters, list | tuple) else str(parameters)


def combination_limits(base: int) -> dict[str, int]:
    return {
        PAIR: base,
        ADDRESS: settings.SHOUHOU_LOGIN_ADDRESS_FAILURE_LIMIT,
        USERNAME: settings.SHOUHOU_LOGIN_USERNAME_FAILURE_LIMIT,
    }


def lockout_numbers(request=None) -> dict[str, int]:
    """How many failures lock a username on one device, and for how many minutes (from the settings)."""
    cool_off = get_cool_off(request) or timedelta(0)
    return {
        "limit": get_failure_limit(request, {}),
        "minutes": max(int(cool_off.total_seconds() // 60), 1),
    }


class LoginThrottleHandler(AxesDatabaseHandler):
    """axes' database handler with one limit per counter (see the module docstring)."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        base = get_failure_limit(request, credentials)
        limits = combination_limits(base)
        worst, tripped = 0, None
        parameters = get_lockout_parameters(request, credentials)
        for params, attempts in zip(parameters, self.get_user_attempts(request, credentials), strict=True):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            key = combination(params)
            limit = max(limits.get(key, base), 1)
            scaled = failures * base // limit  # >= base exactly when failures >= this counter's limit
            if scaled > worst:
                worst, tripped = scaled, key
        request.shouhou_lockout = tripped if worst >= base else None
        request.shouhou_lockout_limit = limits.get(tripped, base) if tripped else base
        return worst

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        ).delete()
        return count


__all__ = ["LoginThrottleHandler", "client_ip", "combination_limits", "lockout_numbers"]
