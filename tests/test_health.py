"""/healthz: what a load balancer or a process supervisor asks before sending traffic (SPEC §9 URLs)."""

import time
from unittest.mock import patch

import pytest
from django.db import OperationalError
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["detail"] in {"sqlite", "postgresql"}
    assert body["broker"]["ok"] is True
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_the_broker_server_does_not_answer(client):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True
    assert elapsed < 10  # a health check must answer quickly even when the broker is down


def test_healthz_is_503_when_the_database_fails(client):
    with patch(
        "merchants.kernel.health.connection.cursor",
        side_effect=OperationalError("server closed the connection"),
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == {"ok": False, "detail": "OperationalError"}


def test_healthz_accepts_only_get(client):
    assert client.post("/healthz").status_code == 405
