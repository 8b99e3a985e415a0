"""`manage.py simulate_demo`: buyers act in the demo shops, one tick at a time (what beat runs every 30 s)."""

import random
import time

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from demo import registry as demo


class Command(BaseCommand):
    help = _("模拟买家在演示店铺中的活动（下单、付款、确认收货……），每轮通过业务服务执行。")

    def add_arguments(self, parser):
        parser.add_argument(
            "--ticks", type=int, default=1, help=_("运行几轮（0 表示一直运行，按 Ctrl-C 停止）")
        )
        parser.add_argument("--interval", type=float, default=30.0, help=_("两轮之间间隔的秒数"))
        parser.add_argument("--seed", type=int, default=None, help=_("随机种子（便于复现）"))

    def handle(self, *args, ticks, interval, seed, **options):
        rng = random.Random(seed)
        number = 0
        try:
            while ticks <= 0 or number < ticks:
                if number:
                    time.sleep(max(interval, 0))
                number += 1
                result = demo.simulate_tick(rng=rng)
                self.stdout.write(_("第 %(n)d 轮：完成 %(done)d 项") % {"n": number, "done": result.changed})
                for line in result.done:
                    self.stdout.write(f"  ✓ {line}")
                for line in result.refused:
                    self.stdout.write(f"  – {line}")
        except KeyboardInterrupt:
            self.stdout.write(_("已停止。"))
