"""After-sales test fixtures: evidence images and a captured refund queue (fast hashing: tests/conftest.py)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


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
