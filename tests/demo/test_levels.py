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


def test_demo_one_shop_really_rises_by_the_rules_and_is_told_why(seeded):
    from merchants.kernel.models import Notice
    from merchants.levels.notices import LEVEL_CHANGED

    rising = Merchant.objects.get(code="qinghe-craft")
    assert rising.level == 1
    latest = LevelEvaluation.objects.filter(merchant=rising, applied=True).latest("pk")
    assert (latest.outcome, latest.level_before, latest.level_after) == ("fast_up", 0, 1)
    assert "80%" in latest.reason_text()
    earlier = LevelEvaluation.objects.filter(merchant=rising, evaluated_on__lt=latest.evaluated_on)
    assert earlier.count() >= 30 and {e.level_after for e in earlier} == {0}  # at LV0 until today
    notice = Notice.objects.get(merchant=rising, kind=LEVEL_CHANGED)
    assert "LV0 → LV1" in notice.display_title
