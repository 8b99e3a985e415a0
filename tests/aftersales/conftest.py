"""After-sales test fixtures: evidence images, a captured refund queue, fast password hashing."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Every fixture user gets a password; the default PBKDF2 cost made each test's setup take ~1 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_png(name: str = "evidence.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def png():
    return make_png


@pytest.fixture
def refund_queue(monkeypatch):
    """The case ids handed to refund_task.delay or, from a sweep, refund_batch_task.delay (neither runs)."""
    from aftersales.tasks import refund_batch_task, refund_task

    queued: list[int] = []
    monkeypatch.setattr(refund_task, "delay", lambda case_id: queued.append(case_id))
    monkeypatch.setattr(refund_batch_task, "delay", lambda case_ids: queued.extend(case_ids))
    return queued


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
