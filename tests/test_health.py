"""/healthz: what a load balancer or a process supervisor asks before sending traffic (SPEC §9 URLs)."""

import os
import tempfile
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


def _filesystem_broker(folder) -> dict:
    return {
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_TRANSPORT_OPTIONS": {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "processed_folder": str(folder),
        },
    }


def test_N3_healthz_checks_the_filesystem_broker_folder(client, tmp_path):
    with override_settings(**_filesystem_broker(tmp_path)):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["broker"] == {"ok": True, "detail": "filesystem"}
    assert not list(tmp_path.iterdir())  # the probe file is gone again


def test_N3_healthz_is_503_when_the_broker_folder_is_missing(client, tmp_path):
    with override_settings(**_filesystem_broker(tmp_path / "gone")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False
    assert "not writable" in response.json()["broker"]["detail"]


def test_N3_healthz_is_503_when_the_broker_folder_is_a_file(client, tmp_path):
    squatter = tmp_path / "queue"
    squatter.write_text("not a folder")

    with override_settings(**_filesystem_broker(squatter)):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def _read_only_folder(tmp_path):
    """A folder this process cannot write to: chmod 555, or for root (who ignores modes) sysfs."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() != 0:
        return folder
    if os.path.isdir("/sys") and _sys_refuses_files():
        return "/sys"
    pytest.skip("running as root with no read-only folder to point the broker at")


def _sys_refuses_files() -> bool:
    try:
        with tempfile.NamedTemporaryFile(dir="/sys"):
            return False
    except OSError:
        return True


def test_N3_healthz_is_503_when_the_broker_folder_is_not_writable(client, tmp_path):
    folder = _read_only_folder(tmp_path)

    with override_settings(**_filesystem_broker(folder)):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False
    assert "not writable" in response.json()["broker"]["detail"]
