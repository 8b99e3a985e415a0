"""`manage.py seed_demo`: the demo logins, shops, catalog and orders (idempotent, deterministic)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from demo import registry as demo


class Command(BaseCommand):
    help = _("生成演示数据（账号、店铺、商品、订单）；可重复运行，已有的数据不会重复生成。")

    def add_arguments(self, parser):
        parser.add_argument("--size", type=int, default=demo.DEFAULT_SIZE, help=_("订单总数（默认 2000）"))
        parser.add_argument(
            "--seed", type=int, default=demo.DEFAULT_SEED, help=_("随机种子（同一种子生成同样的数据）")
        )

    def handle(self, *args, size, seed, verbosity=1, **options):
        started = time.monotonic()
        log = self.stdout.write if verbosity > 0 else (lambda message: None)
        try:
            results = demo.seed(size=size, seed=seed, log=log)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for name, summary in results:
            details = "，".join(f"{key} {value}" for key, value in summary.items()) or "-"
            log(f"{name}: {details}")
        log(
            self.style.SUCCESS(
                _("演示数据就绪，用时 %(seconds).1f 秒。") % {"seconds": time.monotonic() - started}
            )
        )
        log(
            _(
                "登录：admin/admin（管理员）、staff/staff（平台）、senior/senior（高级客服）→ /admin/；"
                "shop1/shop1、shop2/shop2（店主）→ /workbench/"
            )
        )
