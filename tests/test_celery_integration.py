"""A real Celery worker process runs a periodic task against this test's database (N-3, S-5).

The broker is the configured one when it is Redis (CI); otherwise a filesystem broker in a temporary
folder (the same transport `make demo` uses). The worker must see the rows this test writes, so the
test is transactional and the worker gets the test database: by name on PostgreSQL; on SQLite the
in-memory test database cannot be shared between processes, so for this test it is copied to a file
and both processes use that file.
"""

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from config.celery import app
from merchants.models import ActorKind, Order
from merchants.tasks import auto_confirm_receipts
from merchants.transitions import OrderStatus
from tests.factories import OrderFactory

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).with_name("celery")


def _postgres_url(conf: dict) -> str:
    auth = quote(conf["USER"] or "", safe="")
    if conf.get("PASSWORD"):
        auth += ":" + quote(conf["PASSWORD"], safe="")
    host = quote(conf.get("HOST") or "", safe="")  # a unix socket directory is a path: encode it
    port = f":{conf['PORT']}" if conf.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(conf['NAME'], safe='')}"


@pytest.fixture
def worker_database_url(transactional_db, tmp_path):
    """DATABASE_URL under which another process sees this test's database."""
    connection = connections["default"]
    if connection.vendor == "postgresql":
        yield _postgres_url(connection.settings_dict)  # NAME is the test database by now
        return
    if connection.vendor != "sqlite":
        pytest.skip(f"no recipe to share a {connection.vendor} test database with a worker process")
    if not connection.is_in_memory_db():
        yield f"sqlite:///{connection.settings_dict['NAME']}"
        return
    # Copy the migrated in-memory database to a file and point this process at the file for the
    # test; the in-memory connection is kept aside (closing it would drop the test database).
    connection.ensure_connection()
    in_memory, saved_settings = connection.connection, connection.settings_dict
    path = tmp_path / "shared.sqlite3"
    with sqlite3.connect(path) as target:
        in_memory.backup(target)
    target.close()
    connection.connection = None
    connection.settings_dict = {**saved_settings, "NAME": str(path)}
    try:
        yield f"sqlite:///{path}"
    finally:
        connection.close()
        connection.settings_dict = saved_settings
        connection.connection = in_memory


def _reset_producer_pool() -> None:
    # The app caches its connection and producer pools for the broker it first used.
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_env(tmp_path, monkeypatch):
    """Point this process's Celery app at a real broker and return the worker's environment for it."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        with app.connection_for_write(url) as conn:
            conn.default_channel.queue_purge("celery")  # leftovers from other tests' on-commit tasks
        yield {"CELERY_BROKER_URL": url}
        return
    var = tmp_path / "var"
    folders = {name: var / "broker" / name for name in ("queue", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    saved_options = app.conf.broker_transport_options
    # The same layout config/settings.py gives a filesystem broker under SHOUHOU_VAR_DIR.
    monkeypatch.setenv("CELERY_BROKER_URL", "filesystem://")  # Celery reads the environment first
    app.conf.broker_transport_options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "store_processed": False,
    }
    _reset_producer_pool()
    try:
        yield {"CELERY_BROKER_URL": "filesystem://", "SHOUHOU_VAR_DIR": str(var)}
    finally:
        app.conf.broker_transport_options = saved_options
        _reset_producer_pool()


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process, self.log = process, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def wait_for(self, condition, *, timeout: float = 60, what: str = "") -> None:
        """Poll `condition` until it holds; fail early, with the worker's log, if the worker died."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}) before {what}:\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout}s waiting for {what}; worker log:\n{self.output()}")
            time.sleep(0.1)


@pytest.fixture
def celery_worker(worker_database_url, broker_env, tmp_path):
    log = tmp_path / "worker.log"
    env = {**os.environ, **broker_env, "DATABASE_URL": worker_database_url, "DEBUG": "1"}
    command = [
        str(CELERY), "-A", "config", "worker", "--pool=solo", "-Q", "celery", "--without-heartbeat",
        "--without-gossip", "--without-mingle", "--loglevel=INFO", f"--hostname=pytest-{uuid.uuid4().hex[:8]}@%h",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    worker = Worker(process, log)
    try:
        yield worker
    finally:
        process.terminate()  # warm shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_S5_real_worker_auto_confirms_an_overdue_shipped_order(celery_worker):
    now = timezone.now()
    overdue = OrderFactory(
        status=OrderStatus.SHIPPED,
        shipped_at=now - timedelta(days=16),
        deadline_at=now - timedelta(minutes=1),
    )
    not_yet = OrderFactory(
        status=OrderStatus.SHIPPED, shipped_at=now - timedelta(days=3), deadline_at=now + timedelta(days=12)
    )

    auto_confirm_receipts.delay()

    celery_worker.wait_for(
        lambda: Order.objects.filter(pk=overdue.pk, status=OrderStatus.RECEIVED).exists(),
        what="the overdue order to become received",
    )
    overdue.refresh_from_db()
    assert overdue.received_at is not None
    assert overdue.settlement_due_on is not None
    event = overdue.events.get(kind="auto_received")
    assert (event.source_status, event.target_status) == (OrderStatus.SHIPPED, OrderStatus.RECEIVED)
    assert event.actor is None
    assert event.actor_kind == ActorKind.SYSTEM
    not_yet.refresh_from_db()
    assert not_yet.status == OrderStatus.SHIPPED
    assert not not_yet.events.exists()
    assert "auto_confirm_receipts" in celery_worker.output()
