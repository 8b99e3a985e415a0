"""The demo's level story (issue 13 §6): one shop on its way up, one down, one near clear-out."""

import pytest

from demo import registry
from merchants.models import LevelEvaluation, Merchant

SIZE = 120


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return dict(registry.seed(size=SIZE, log=lambda message: None))


def test_demo_levels_tell_their_story(seeded):
    up, down, near = (
        Merchant.objects.get(code=code) for code in ("chenguang-digital", "jiangnan-tea", "yuejia-home")
    )
    falling = LevelEvaluation.objects.filter(merchant=down, applied=True).latest("pk")
    assert (falling.outcome, falling.level_before, falling.level_after) == ("down", 2, 1)
    assert "im_first_response" in falling.params["metrics"].split(",")
    near.refresh_from_db()
    assert near.level == 0 and LevelEvaluation.objects.filter(merchant=near).latest("pk").outcome != "cleared"
    previews = list(LevelEvaluation.objects.filter(merchant=up, applied=False).order_by("evaluated_on"))
    assert len(previews) >= 30  # the trend charts' history
    first = previews[0].figures["im_first_response_seconds"] / previews[0].figures["im_human_sessions"]
    last = previews[-1].figures["im_first_response_seconds"] / previews[-1].figures["im_human_sessions"]
    assert last < first  # answering faster and faster
    assert seeded["merchants.levels"]["im_days"] == 3 * 90
