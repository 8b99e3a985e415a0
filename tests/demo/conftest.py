"""Demo test fixtures: the seeders' evidence photos and vouchers go to a temporary media root."""

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
