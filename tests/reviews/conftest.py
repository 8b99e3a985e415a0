"""Review test fixtures: uploads land in a temporary folder (fast hashing: tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
