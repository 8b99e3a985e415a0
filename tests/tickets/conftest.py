"""Ticket test fixtures: evidence images, the owners' mail run inline, media in a temporary folder."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def make_png(name: str = "evidence.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def png():
    return make_png


@pytest.fixture
def mail_inline(monkeypatch):
    """overdue_mail_task.delay runs the task at once (as a worker would, later); returns the ids it got."""
    from tickets.tasks import overdue_mail_task

    calls: list[list[int]] = []

    def run(ids):
        calls.append(list(ids))
        return overdue_mail_task(ids)

    monkeypatch.setattr(overdue_mail_task, "delay", run)
    return calls


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
