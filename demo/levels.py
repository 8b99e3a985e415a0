"""Demo: the level story (L-1..L-8) — a shop on its way up, one on its way down, one near clear-out.

晨光数码 (shop1) answers its chats ever faster: its IM first response and its scores climb over the 90
days, and it changed level 20 days ago, so its next evaluation is still ahead (the dashboard shows what
it still misses — a few percent of the demo's orders ship late in every shop, below the 99 % line — and
the what-if tries the fixes). 江南茶舍 (shop2) lets its IM first response slip past five minutes: today's
evaluation takes it down a level, and says why. 悦家家居 has been at LV0 for 48 days: twelve days left before it is cleared. Thirty days of daily previews give the trend
charts their history; then the real evaluation of today runs.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from demo.registry import SeedContext, register_seeder
from merchants.levels import engine
from merchants.models import ImDailyStat, LevelEvaluation, Merchant
from merchants.services import rebuild_shop_days

# code: (level, days at that level, daily sessions, first response seconds 90 days ago -> yesterday,
#        share of human sessions, share of rated sessions rated 1–3 stars)
STORY = {
    "chenguang-digital": (3, 20, 120, (240, 75), 0.6, 0.03),
    "jiangnan-tea": (2, 35, 60, (200, 420), 0.7, 0.12),
    "yuejia-home": (0, 48, 40, (160, 150), 0.5, 0.06),
}


@register_seeder("merchants.levels", order=80)  # after the cases (50), reviews (60) and tickets (70) it reads
def seed_levels(ctx: SeedContext) -> dict[str, int]:
    shops = [shop for shop in ctx.shops() if shop.code in STORY]
    if not shops or LevelEvaluation.objects.filter(merchant__in=shops).exists():
        return {"skipped": len(shops)}
    today = timezone.localdate(ctx.now)
    rows = []
    for shop in shops:
        level, days, sessions, (start, end), human, unhappy = STORY[shop.code]
        for n in range(90, 0, -1):
            day = today - timedelta(days=n)
            count = max(1, int(sessions * ctx.rng.uniform(0.7, 1.3)))
            people = max(1, int(count * human))
            seconds = start + (end - start) * (90 - n) / 89
            rated = max(1, int(count * 0.4))
            rows.append(
                ImDailyStat(
                    merchant=shop,
                    day=day,
                    sessions=count,
                    human_sessions=people,
                    human_first_response_seconds=int(people * seconds * ctx.rng.uniform(0.9, 1.1)),
                    rated_sessions=rated,
                    low_rated_sessions=min(rated, int(round(rated * unhappy * ctx.rng.uniform(0.5, 1.5)))),
                )
            )
        Merchant.objects.filter(pk=shop.pk).update(
            level=level, level_changed_at=ctx.now - timedelta(days=days)
        )
    ImDailyStat.objects.bulk_create(rows, ignore_conflicts=True)
    rebuild_shop_days(merchant_ids=[shop.pk for shop in shops])
    for n in range(30, 0, -1):  # the daily previews of the last 30 days: the trend charts' history
        engine.run(today=today - timedelta(days=n), preview=True)
    changed = engine.run(today=today)
    ctx.log(_("店铺等级：已生成 %(count)d 天的客服日报和评估记录") % {"count": 90})
    return {"im_days": len(rows), "changed": changed}
