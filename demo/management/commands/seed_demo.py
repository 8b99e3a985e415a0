"""`manage.py seed_demo`: the demo logins, shops, catalog and orders (idempotent, deterministic)."""

import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from demo import registry as demo
from demo.shops import SHOPS

# What each number of a seeder's summary counts (issue 11 §16): the words shown instead of the keys.
SEEDERS = {
    "merchants.users_and_shops": gettext_lazy("账号与店铺"),
    "merchants.catalog": gettext_lazy("商品"),
    "merchants.orders": gettext_lazy("订单"),
    "aftersales.rules": gettext_lazy("自动退款规则"),
    "aftersales.cases": gettext_lazy("售后单"),
    "reviews.reviews": gettext_lazy("评价"),
    "tickets.tickets": gettext_lazy("服务单"),
    "tickets.senior_staff": gettext_lazy("高级客服账号"),
    "merchants.levels": gettext_lazy("店铺等级"),
}
WORDS = {
    "users": gettext_lazy("新建账号"),
    "shops": gettext_lazy("新建店铺"),
    "memberships": gettext_lazy("新建店铺成员"),
    "products": gettext_lazy("新建商品"),
    "skus": gettext_lazy("新建 SKU"),
    "orders": gettext_lazy("新建订单"),
    "rules": gettext_lazy("新建规则"),
    "cases": gettext_lazy("新建售后单"),
    "reviews": gettext_lazy("新建评价"),
    "replies": gettext_lazy("新建回复"),
    "appeals": gettext_lazy("新建申诉"),
    "tickets": gettext_lazy("新建服务单"),
    "pinned": gettext_lazy("置顶的带图好评"),
    "deleted": gettext_lazy("买家已删除的评价"),
    "escalated": gettext_lazy("超时升级给高级客服的服务单"),
    "im_days": gettext_lazy("客服日报（店铺 × 天）"),
    "changed": gettext_lazy("今日评估后等级变化的店铺"),
    "skipped_shops": gettext_lazy("已有数据而跳过的店铺"),
    "unplaced": gettext_lazy("排不进时间线而略过的计划"),
}
# What the database holds after seeding, whatever this run created.
TOTALS = (
    ("merchants.Order", gettext_lazy("订单")),
    ("aftersales.AfterSaleCase", gettext_lazy("售后单")),
    ("reviews.Review", gettext_lazy("评价")),
    ("tickets.Ticket", gettext_lazy("服务单")),
)


def summary_line(name: str, summary: dict) -> str:
    """One seeder's numbers in words, in the active language: "订单：新建订单 900，已有数据而跳过的店铺 0"."""
    details = _("，").join(f"{WORDS.get(key, key)} {value}" for key, value in summary.items()) or "-"
    return _("%(seeder)s：%(details)s") % {"seeder": SEEDERS.get(name, name), "details": details}


def totals_line() -> str:
    parts = []
    for label, words in TOTALS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        parts.append(f"{words} {model._default_manager.count()}")
    return _("数据库现有：%(totals)s。") % {"totals": _("，").join(parts)}


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
            log(summary_line(name, summary))
        log(totals_line())
        shares = _("、").join(f"{shop.name} {shop.share:.0%}" for shop in SHOPS)
        log(
            _(
                "以上“新建”是本次运行生成的数量；已有数据的店铺会整体跳过，所以重复运行时显示 0 是正常的。"
                "订单按店铺分配：%(shares)s。"
            )
            % {"shares": shares}
        )
        log(
            self.style.SUCCESS(
                _("演示数据就绪，用时 %(seconds).1f 秒。") % {"seconds": time.monotonic() - started}
            )
        )
        log(
            _(
                "登录：admin/admin（管理员）、staff/staff（平台）、senior/senior（高级客服）→ /admin/；"
                "shop1/shop1、shop2/shop2、shop3/shop3（店主；另有 shop1_agent、shop1_viewer 等）、"
                "ops/ops（shop1 和 shop2 两店的客服）→ /workbench/"
            )
        )
