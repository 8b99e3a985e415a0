"""Demo data (`manage.py seed_demo`) and the demo simulator (`simulate_demo`, beat `simulate_demo_tick`).

Both are open registries so other apps plug in without editing this module or the commands:

    # aftersales/demo.py — found by discovery (each project app's `demo` module is imported)
    from merchants.demo import SeedContext, TickContext, register_action, register_seeder

    @register_seeder("aftersales.cases", order=50)     # runs after the merchants seeders (10..30)
    def seed_cases(ctx: SeedContext) -> dict[str, int]: ...

    @register_action("aftersales.buyer_requests", order=60)
    def buyer_requests(tick: TickContext) -> None: ...

Seeders must be idempotent on their own (skip what exists) and deterministic given `ctx.rng`; everything
goes through the service functions so every row has a real history (`backdated(when)` sets the clock
for a service call that stamps `timezone.now()`). Simulator actions call services through
`tick.attempt(label, service, ...)`, which records a refusal instead of raising. Helpers for both:
`demo_shops()`, `shop_actors(shop)`, `make_buyer(rng)`, `tracking_number(carrier, rng)`.
Demo data only: the logins below are weak on purpose and never exist outside `seed_demo`.
"""

from __future__ import annotations

import contextlib
import importlib
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import module_has_submodule
from django.utils.translation import gettext as _

from merchants import services
from merchants.kernel.scoping import PLATFORM_GROUP
from merchants.kernel.vocabulary import Role
from merchants.models import Membership, Merchant, Order, PlatformSettings, Product, Sku
from merchants.services import BUYER, ItemLine
from merchants.transitions import Carrier, OrderStatus, PaymentMethod

DEFAULT_SIZE = 2000
DEFAULT_SEED = 20240618
MIN_SIZE = 50  # the smallest shop still gets an order in every state
CENT = Decimal("0.01")

# --------------------------------------------------------------------------------------------
# Registries


@dataclass(frozen=True)
class Hook:
    name: str
    func: Callable
    order: int


DEMO_SEEDERS: dict[str, Hook] = {}
DEMO_ACTIONS: dict[str, Hook] = {}


def register_seeder(name: str, *, order: int) -> Callable:
    """Decorator: `func(ctx: SeedContext) -> dict | None` runs in `seed_demo`, lowest `order` first."""

    def decorate(func: Callable) -> Callable:
        DEMO_SEEDERS[name] = Hook(name, func, order)
        return func

    return decorate


def register_action(name: str, *, order: int) -> Callable:
    """Decorator: `func(tick: TickContext) -> None` runs in every simulator tick, lowest `order` first."""

    def decorate(func: Callable) -> Callable:
        DEMO_ACTIONS[name] = Hook(name, func, order)
        return func

    return decorate


def _hooks(registry: dict[str, Hook]) -> list[Hook]:
    for config in apps.get_app_configs():  # the project's own apps only, never a third party's `demo`
        if Path(config.path).parent == settings.BASE_DIR and module_has_submodule(config.module, "demo"):
            importlib.import_module(f"{config.name}.demo")
    return sorted(registry.values(), key=lambda hook: (hook.order, hook.name))


@contextlib.contextmanager
def backdated(when: datetime) -> Iterator[None]:
    """Run service calls as if it were `when` (demo seeding only: events stamped with timezone.now())."""
    try:
        import time_machine  # a dev dependency (uv sync installs it); nothing outside the demo travels
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError(_("生成演示数据需要 time-machine（uv sync 会安装开发依赖）。")) from exc
    with time_machine.travel(when, tick=False):
        yield


# --------------------------------------------------------------------------------------------
# The demo world: logins, shops, catalog


@dataclass(frozen=True)
class DemoProduct:
    name: str
    price: Decimal  # the price of a product without specs; a product with specs sells at its SKUs' prices
    three_guarantee: bool
    durable: bool
    on_shelf: bool
    skus: tuple[tuple[str, Decimal], ...]  # (spec, price)


def _catalog_table(text: str) -> tuple[DemoProduct, ...]:
    """One product a line: `name | price | flags | spec=price; spec=price` (flags: 3 三包, d 耐用品, x 已下架)."""
    products = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        name, price, flags, skus = (part.strip() for part in line.split("|"))
        specs = tuple(
            (spec.strip(), Decimal(amount))
            for spec, amount in (pair.rsplit("=", 1) for pair in skus.split(";") if pair)
        )
        products.append(
            DemoProduct(name, Decimal(price), "3" in flags, "d" in flags, "x" not in flags, specs)
        )
    return tuple(products)


@dataclass(frozen=True)
class DemoShop:
    code: str
    name: str
    login: str | None  # owner login; `<login>_agent` and `<login>_viewer` too. None: run by the simulator
    level: int
    express_refund: bool
    settlement_cycle: int
    return_contact: str
    return_phone: str
    return_address: str
    share: float  # of the seeded orders
    carriers: tuple[tuple[str, int], ...]  # (carrier, weight)
    spu_base: int  # product ids are spu_base + 7 × position
    products: tuple[DemoProduct, ...]


# fmt: off
SHOPS: tuple[DemoShop, ...] = (
    DemoShop(
        code="chenguang-digital", name="晨光数码旗舰店", login="shop1", level=3, express_refund=True,
        settlement_cycle=Merchant.SettlementCycle.WEEKLY, return_contact="周晓峰", return_phone="0755-86351200",
        return_address="广东省深圳市南山区科技园北区朗山路 11 号晨光大厦 3 楼售后部", share=0.45,
        carriers=((Carrier.SF, 6), (Carrier.JD, 3), (Carrier.ZTO, 1)), spu_base=6071230,
        products=_catalog_table("""
            5G 全网通智能手机 8+256G 曲面屏 | 1999.00 | 3d | 黑色 / 128G=1799.00; 黑色 / 256G=1999.00; 白色 / 128G=1799.00; 白色 / 256G=1999.00
            20W PD 快充充电头 Type-C 接口 | 39.00 | 3 | 白色 / 单头=39.00; 白色 / 头+1米线=55.00
            氮化镓 65W 三口快充充电器 笔记本通用 | 119.00 | 3 |
            编织快充数据线 Type-C to Lightning | 29.90 | | 1 米=29.90; 2 米=39.90
            半入耳式无线蓝牙耳机 降噪 长续航 | 199.00 | 3 | 白色=199.00; 黑色=199.00
            头戴式主动降噪蓝牙耳机 | 459.00 | 3 |
            10000mAh 磁吸无线充电宝 22.5W | 149.00 | 3 | 白色=149.00; 远峰紫=159.00
            87 键热插拔机械键盘 RGB 背光 | 269.00 | 3d | 黑色 / 红轴=269.00; 黑色 / 茶轴=269.00; 白色 / 青轴=289.00
            2.4G 无线静音鼠标 办公家用 | 59.00 | | 深空灰=59.00; 珍珠白=59.00
            iPhone 15 Pro 磨砂防摔手机壳 | 35.00 | | 黑色 / iPhone 15 Pro=35.00; 远峰蓝 / iPhone 15 Pro Max=39.00
            高清防指纹钢化膜 2 片装 | 19.90 | x |
            Type-C 六合一扩展坞 HDMI 4K | 169.00 | 3 |
            USB3.2 高速金属 U 盘 | 49.00 | | 64G=49.00; 128G=79.00; 256G=139.00
            Type-C 移动固态硬盘 | 499.00 | 3d | 500G=329.00; 1TB=499.00; 2TB=899.00
            铝合金笔记本电脑支架 可升降折叠 | 89.00 | d |
            15W 立式桌面无线充电器 | 79.00 | 3 |
            运动智能手表 心率血氧监测 | 599.00 | 3d | 黑色 / 标准版=599.00; 银色 / NFC 版=699.00
            iPad Air 5 三折保护套 | 59.00 | | 雾霾蓝=59.00; 午夜黑=59.00
            出风口重力感应车载手机支架 | 45.00 | |
            行车记录仪专用 TF 存储卡 | 39.00 | | 64G=39.00; 128G=69.00; 256G=129.00
            1080P 高清摄像头 直播网课 | 129.00 | 3 |
        """),
    ),
    DemoShop(
        code="jiangnan-tea", name="江南茶舍", login="shop2", level=2, express_refund=False,
        settlement_cycle=Merchant.SettlementCycle.HALF_MONTHLY, return_contact="沈婉清", return_phone="0571-87963321",
        return_address="浙江省杭州市西湖区龙井路 1 号江南茶舍仓库", share=0.35,
        carriers=((Carrier.ZTO, 4), (Carrier.YTO, 3), (Carrier.YUNDA, 2), (Carrier.SF, 2)), spu_base=3318050,
        products=_catalog_table("""
            2024 新茶 明前特级西湖龙井 礼盒装 | 398.00 | | 125g=218.00; 250g=398.00
            安溪铁观音 浓香型 500g | 128.00 | |
            云南普洱熟茶 2015 年老茶饼 357g | 168.00 | |
            福鼎白茶 白牡丹 紧压茶饼 300g | 158.00 | |
            武夷山正山小种红茶 罐装 | 88.00 | | 100g=88.00; 200g=158.00
            武夷岩茶 大红袍 肉桂 双罐礼盒 | 268.00 | |
            洞庭碧螺春 2024 明前 罐装 100g | 136.00 | |
            茉莉花茶 浓香飘雪 250g | 58.00 | x |
            黄山毛峰 特级 250g | 96.00 | |
            六安瓜片 一级 罐装 100g | 118.00 | |
            桂花乌龙 三角茶包 20 包 | 39.90 | |
            新会十年老陈皮 250g | 188.00 | |
            宜兴原矿朱泥紫砂壶 西施壶 200ml | 680.00 | d |
            德化白瓷三才盖碗 150ml | 68.00 | | 羊脂白=68.00; 青花缠枝=88.00
            汝窑开片主人杯 2 只装 | 59.00 | | 天青色=59.00; 月白色=59.00
            排水式竹制茶盘 家用 | 228.00 | d | 小号 45cm=168.00; 大号 60cm=228.00
            加厚耐热玻璃公道杯 300ml | 29.00 | |
            便携旅行茶具套装 一壶三杯 | 79.00 | |
            静音电陶炉煮茶器 | 299.00 | 3d |
            全自动上水电热水壶 茶台一体 | 359.00 | 3d |
        """),
    ),
    DemoShop(
        code="yuejia-home", name="悦家家居生活馆", login=None, level=1, express_refund=False,
        settlement_cycle=Merchant.SettlementCycle.MONTHLY, return_contact="刘海燕", return_phone="021-55231876",
        return_address="上海市嘉定区曹安公路 4988 号悦家物流园 B2 库", share=0.20,
        carriers=((Carrier.YUNDA, 3), (Carrier.STO, 3), (Carrier.JT, 2), (Carrier.POSTAL, 1)), spu_base=8840310,
        products=_catalog_table("""
            纯棉四件套 北欧简约 | 299.00 | | 雾霾蓝 / 1.5m 床=269.00; 雾霾蓝 / 1.8m 床=299.00; 燕麦色 / 1.8m 床=299.00
            304 不锈钢保温杯 500ml | 69.00 | | 奶白=69.00; 墨绿=69.00
            天然乳胶枕 护颈 单只装 | 139.00 | |
            原木抽纸 3 层 24 包整箱 | 45.90 | |
            落地多层厨房置物架 | 129.00 | d |
            32cm 不粘炒锅 电磁炉通用 | 189.00 | d |
            硅藻泥浴室吸水地垫 | 39.00 | |
            加厚大号收纳箱 3 个装 | 79.00 | |
            5L 大容量可视空气炸锅 | 329.00 | 3d |
            声波电动牙刷 成人软毛 | 159.00 | 3 | 星空黑=159.00; 樱花粉=159.00
            卧室静音香薰加湿器 | 99.00 | 3 |
            冰丝夏凉被 200x230cm | 119.00 | |
            北欧风陶瓷碗碟套装 10 件 | 149.00 | |
            阳台落地折叠晾衣架 | 89.00 | d |
            珊瑚绒午睡毛毯 | 49.00 | x |
            学生护眼 LED 台灯 可调光 | 139.00 | 3 |
        """),
    ),
)
# fmt: on

SHOP_CODES = tuple(shop.code for shop in SHOPS)
OPERATOR_SUFFIX = "_ops"  # the simulator's member in shops without demo logins (no usable password)


def demo_shops() -> list[Merchant]:
    """The demo shops that exist, in SHOPS order."""
    by_code = {m.code: m for m in Merchant.objects.filter(code__in=SHOP_CODES)}
    return [by_code[code] for code in SHOP_CODES if code in by_code]


def shop_spec(code: str) -> DemoShop:
    return next(shop for shop in SHOPS if shop.code == code)


def _members(spec: DemoShop) -> list[tuple[str, str]]:
    """(username, role) of the shop's demo members; the password is the username."""
    if spec.login is None:
        return [(f"{spec.code.split('-')[0]}{OPERATOR_SUFFIX}", Role.OWNER)]
    return [
        (spec.login, Role.OWNER),
        (f"{spec.login}_agent", Role.AGENT),
        (f"{spec.login}_viewer", Role.VIEWER),
    ]


def shop_actors(shop: Merchant) -> list:
    """Members who may write (agent first, then owner): who ships, confirms and answers in the demo."""
    names = [name for name, role in _members(shop_spec(shop.code)) if role != Role.VIEWER]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    return [users[name] for name in reversed(names) if name in users]


# --------------------------------------------------------------------------------------------
# Buyers, tracking numbers, order numbers

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁沈任姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛"
GIVEN = (
    "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 浩然 子轩 欣怡 梓涵 雨萱 一诺 思远 俊杰 "
    "佳怡 晓东 文博 宇航 诗涵 晨曦 志强 海燕 建国 丽华 婷婷 嘉怡 子墨 若曦 天宇 博文 雅琴 慧敏 国栋 春梅 鹏飞 "
    "雪梅 立新 晓丽 振华 紫涵 昊天 梦琪"
).split()
PHONE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 173 176 177 180 181 182 183 "
    "185 186 187 188 189 191 199"
).split()


@dataclass(frozen=True)
class Buyer:
    buyer_id: str
    name: str
    phone: str


def make_buyer(rng: random.Random) -> Buyer:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    return Buyer(buyer_id=f"U{rng.randrange(10**9, 10**10)}", name=name, phone=phone)


def tracking_number(carrier: str, rng: random.Random) -> str:
    """A number in the carrier's usual shape (SF1234…, JD…, 75…, YT…)."""
    digits = lambda n: f"{rng.randrange(10**n):0{n}d}"  # noqa: E731
    return {
        Carrier.SF: lambda: "SF" + digits(13),
        Carrier.JD: lambda: "JDVA" + digits(11),
        Carrier.ZTO: lambda: "7" + rng.choice("35") + digits(12),
        Carrier.YTO: lambda: "YT" + digits(13),
        Carrier.YUNDA: lambda: rng.choice(("43", "46", "31")) + digits(11),
        Carrier.STO: lambda: "77" + digits(11),
        Carrier.JT: lambda: "JT" + digits(13),
        Carrier.POSTAL: lambda: "98" + digits(11),
        Carrier.EMS: lambda: "11" + digits(11),
    }.get(carrier, lambda: digits(14))()


def _order_no(at: datetime, shop_index: int, serial: str) -> str:
    # 18 digits like the marketplaces' numbers; seeded serials start 0-8, the simulator's with 9.
    return f"{timezone.localtime(at):%y%m%d%H%M}{shop_index}{serial}"


def _weighted(rng: random.Random, pairs: Sequence[tuple]) -> object:
    return rng.choices([value for value, _w in pairs], weights=[w for _v, w in pairs])[0]


def _lines(
    shop: Merchant, catalog: list[tuple[Product, list[Sku]]], rng: random.Random, count: int
) -> list[ItemLine]:
    """`count` distinct products with a sku when the product has specs; Decimal amounts after coupons."""
    prices = {spu_id: row.price for spu_id, row in _spu_table(shop.code).items()}
    lines = []
    for product, skus in rng.sample(catalog, k=min(count, len(catalog))):
        sku = rng.choice(skus) if skus else None
        quantity = _weighted(rng, ((1, 80), (2, 15), (3, 5)))
        unit = sku.price if sku else prices.get(product.spu_id, Decimal("99.00"))
        amount = unit * quantity
        if rng.random() < 0.3:  # a shop coupon, at most a fifth of the line
            amount -= min(Decimal(rng.choice((3, 5, 10, 20))), (amount / 5).quantize(CENT))
        lines.append(ItemLine(product=product, sku=sku, quantity=quantity, paid_amount=amount.quantize(CENT)))
    return lines


def _spu_table(code: str) -> dict[str, DemoProduct]:
    spec = shop_spec(code)
    return {str(spec.spu_base + 7 * index): row for index, row in enumerate(spec.products)}


def _catalog(shop: Merchant, *, on_shelf_only: bool = False) -> list[tuple[Product, list[Sku]]]:
    products = Product.objects.filter(merchant=shop).order_by("spu_id").prefetch_related("skus")
    if on_shelf_only:  # new orders only for what is on sale; the seeded history also sold what is off now
        products = products.filter(on_shelf=True)
    return [(product, sorted(product.skus.all(), key=lambda s: s.sku_code)) for product in products]


# --------------------------------------------------------------------------------------------
# Seeding


@dataclass
class SeedContext:
    """What every seeder gets: the size asked for, its own seeded random, the clock, a logger."""

    size: int
    seed: int
    now: datetime
    log: Callable[[str], None] = print
    rng: random.Random = field(default_factory=random.Random)

    def shops(self) -> list[Merchant]:
        return demo_shops()


def seed(
    *,
    size: int = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    log: Callable[[str], None] = print,
) -> list[tuple[str, dict]]:
    """Run every registered seeder in order; idempotent (each skips what exists). Returns (name, summary)."""
    if size < MIN_SIZE:
        raise ValueError(_("演示订单数量至少为 %(min)d。") % {"min": MIN_SIZE})
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    results = []
    for hook in _hooks(DEMO_SEEDERS):
        # Each seeder gets its own stream, so adding one never reshuffles another's data.
        ctx = SeedContext(size=size, seed=seed, now=now, log=log, rng=random.Random(f"{seed}:{hook.name}"))
        results.append((hook.name, hook.func(ctx) or {}))
    return results


@register_seeder("merchants.users_and_shops", order=10)
def seed_users_and_shops(ctx: SeedContext) -> dict[str, int]:
    """The logins (weak demo passwords, set only when the user is created), the shops and memberships."""
    User = get_user_model()
    created = {"users": 0, "shops": 0, "memberships": 0}

    def user(username: str, *, password: str | None, **flags) -> object:
        obj, was_created = User.objects.get_or_create(username=username, defaults=flags)
        if was_created:
            if password:
                obj.set_password(password)  # demo only: no validators on purpose
            else:
                obj.set_unusable_password()
            obj.save(update_fields=["password"])
            created["users"] += 1
        return obj

    with transaction.atomic():
        user("admin", password="admin", is_staff=True, is_superuser=True, first_name="管理员")
        staff = user("staff", password="staff", is_staff=True, first_name="平台小二")
        staff.groups.add(Group.objects.get_or_create(name=PLATFORM_GROUP)[0])
        for spec in SHOPS:
            shop, was_created = Merchant.objects.get_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "level": spec.level,
                    "express_refund_enabled": spec.express_refund,
                    "settlement_cycle": spec.settlement_cycle,
                    "return_contact": spec.return_contact,
                    "return_phone": spec.return_phone,
                    "return_address": spec.return_address,
                    "created_at": ctx.now - timedelta(days=400),
                    "level_changed_at": ctx.now - timedelta(days=40),
                },
            )
            created["shops"] += was_created
            for username, role in _members(spec):
                member = user(username, password=username if spec.login else None)
                _m, was_created = Membership.objects.get_or_create(
                    user=member, merchant=shop, defaults={"role": role}
                )
                created["memberships"] += was_created
    return created


@register_seeder("merchants.catalog", order=20)
def seed_catalog(ctx: SeedContext) -> dict[str, int]:
    """Each demo shop's products (SPU) and SKUs, created when missing."""
    created = {"products": 0, "skus": 0}
    with transaction.atomic():
        for shop in ctx.shops():
            for index, (spu_id, row) in enumerate(_spu_table(shop.code).items()):
                product, was_created = Product.objects.get_or_create(
                    merchant=shop,
                    spu_id=spu_id,
                    defaults={
                        "name": row.name,
                        "three_guarantee": row.three_guarantee,
                        "durable": row.durable,
                        "on_shelf": row.on_shelf,
                        "created_at": ctx.now - timedelta(days=120 - index),
                    },
                )
                created["products"] += was_created
                for number, (sku_spec, price) in enumerate(row.skus, start=1):
                    _sku, was_created = Sku.objects.get_or_create(
                        merchant=shop,
                        sku_code=f"{spu_id}{number:02d}",
                        defaults={"product": product, "spec": sku_spec, "price": price},
                    )
                    created["skus"] += was_created
    return created


# How the seeded orders spread over the states (received absorbs the rounding).
STATE_WEIGHTS = {
    OrderStatus.UNPAID: 0.03,
    OrderStatus.AWAITING_CONFIRMATION: 0.025,
    OrderStatus.TO_SHIP: 0.09,
    OrderStatus.PARTIALLY_SHIPPED: 0.035,
    OrderStatus.SHIPPED: 0.17,
    OrderStatus.CANCELLED: 0.13,
    OrderStatus.RECEIVED: 0.52,
}
SHIP_PROMISE = timedelta(hours=48)
BUYER_CANCEL_REASONS = ("不想要了", "信息填写错误，重新下单", "商品降价了，重新拍", "重复下单", "地址写错了")
COD_CANCEL_REASONS = ("电话联系买家，确认不需要了", "收货地址不支持货到付款", "买家电话多次无人接听")
COD_TO_SHIP_CANCEL_REASONS = ("商品缺货，与买家协商取消", "买家要求改为在线支付重新下单")


@dataclass
class _Plan:
    """One order's life: placed at `placed_at`, then `steps` of (when, action, argument)."""

    state: str
    placed_at: datetime
    payment: str
    item_count: int
    steps: list[tuple[datetime, str, object]] = field(default_factory=list)


def _hours(value: float) -> timedelta:
    return timedelta(hours=value)


def _plan(
    state: str, index: int, rng: random.Random, now: datetime, cancel_hours: int, auto_receive_days: int
) -> _Plan:
    """When each step of an order in `state` happened; `index` spreads the special cases (late, due)."""
    uniform, days = rng.uniform, auto_receive_days * 24
    cod = state == OrderStatus.AWAITING_CONFIRMATION or rng.random() < 0.1
    items = _weighted(rng, ((1, 70), (2, 22), (3, 8)))

    def accept(plan: _Plan, after: float = 0.0) -> float:
        """Payment (online) or the merchant's confirmation (cod); returns hours after placing."""
        at = after + (uniform(0.5, 6) if plan.payment == PaymentMethod.COD else uniform(0.02, 0.5))
        plan.steps.append(
            (plan.placed_at + _hours(at), "confirm_cod" if plan.payment == PaymentMethod.COD else "pay", None)
        )
        return at

    def ship_all(plan: _Plan, first_at: float, last_at: float) -> None:
        if plan.item_count > 1 and rng.random() < 0.3:  # split shipping (S-1)
            cut = rng.randint(1, plan.item_count - 1)
            plan.steps.append((plan.placed_at + _hours(first_at), "ship", range(cut)))
            plan.steps.append((plan.placed_at + _hours(last_at), "ship", range(cut, plan.item_count)))
        else:
            plan.steps.append((plan.placed_at + _hours(last_at), "ship", range(plan.item_count)))

    def ship_delay() -> float:  # most ship in time, some late (L-3)
        return uniform(49, 80) if rng.random() < 0.08 else uniform(1.5, 44)

    payment = PaymentMethod.COD if cod else PaymentMethod.ONLINE
    if state == OrderStatus.UNPAID:
        age = uniform(22.5, 23.8) if index % 4 == 0 else uniform(0.1, 21)  # some close to auto-cancel (M-3)
        return _Plan(state, now - _hours(age), PaymentMethod.ONLINE, items)
    if state == OrderStatus.AWAITING_CONFIRMATION:
        return _Plan(state, now - _hours(uniform(0.2, 30)), PaymentMethod.COD, items)
    if state == OrderStatus.TO_SHIP:
        late = index % 2 == 0
        age = uniform(50, 144) if late else (uniform(40, 47) if index % 6 == 1 else uniform(0.5, 40))
        plan = _Plan(state, now - _hours(age), payment, items)
        accept(plan)
        return plan
    if state == OrderStatus.PARTIALLY_SHIPPED:
        late = index % 3 != 2
        age = uniform(52, 120) if late else uniform(8, 46)
        plan = _Plan(state, now - _hours(age), payment, max(items, 2))
        paid = accept(plan)
        shipped = rng.randint(1, plan.item_count - 1)
        plan.steps.append(
            (plan.placed_at + _hours(uniform(paid + 1, min(age, 46) - 0.5)), "ship", range(shipped))
        )
        return plan
    if state == OrderStatus.SHIPPED:
        # Every tenth is already past its auto-receive time (the worker acts at once), the next one close to it.
        shipped_age = {0: uniform(days + 0.5, days + 8), 5: uniform(days - 8, days - 0.5)}.get(
            index % 10, uniform(4, days - 12)
        )
        delay = ship_delay()
        plan = _Plan(state, now - _hours(shipped_age + delay), payment, items)
        paid = accept(plan)
        ship_all(plan, uniform(paid + 0.5, max(paid + 0.6, delay * 0.6)), max(delay, paid + 1))
        return plan
    if state == OrderStatus.RECEIVED:
        age = uniform(6, 60) * 24
        plan = _Plan(state, now - _hours(age), payment, items)
        paid = accept(plan)
        delay = max(ship_delay(), paid + 1)
        ship_all(plan, uniform(paid + 0.5, max(paid + 0.6, delay * 0.6)), delay)
        left = age - delay
        if left > days + 1 and rng.random() < 0.35:
            plan.steps.append((plan.placed_at + _hours(delay + days), "auto_receive", None))  # S-5
        else:
            plan.steps.append(
                (plan.placed_at + _hours(delay + uniform(24, min(9 * 24, left - 1))), "receive", None)
            )
        return plan
    # cancelled: by the system (unpaid 24 h), by the buyer before paying, or cod by the merchant
    how = _weighted(rng, (("auto", 45), ("buyer", 30), ("cod_waiting", 12), ("cod_to_ship", 13)))
    plan = _Plan(state, now - _hours(uniform(26, 60 * 24)), PaymentMethod.ONLINE, items)
    if how == "auto":
        plan.steps.append((plan.placed_at + _hours(cancel_hours), "auto_cancel", None))
    elif how == "buyer":
        plan.steps.append(
            (plan.placed_at + _hours(uniform(0.05, 20)), "cancel", rng.choice(BUYER_CANCEL_REASONS))
        )
    else:
        plan.payment = PaymentMethod.COD
        at = accept(plan) if how == "cod_to_ship" else 0.0
        reasons = COD_TO_SHIP_CANCEL_REASONS if how == "cod_to_ship" else COD_CANCEL_REASONS
        plan.steps.append(
            (plan.placed_at + _hours(at + uniform(0.5, 12)), "merchant_cancel", rng.choice(reasons))
        )
    return plan


def _quotas(total: int) -> dict[str, int]:
    counts = {state: max(1, round(total * weight)) for state, weight in STATE_WEIGHTS.items()}
    counts[OrderStatus.RECEIVED] += total - sum(counts.values())
    return counts


def _shop_sizes(size: int) -> list[int]:
    sizes = [round(size * spec.share) for spec in SHOPS]
    sizes[0] += size - sum(sizes)
    return sizes


@register_seeder("merchants.orders", order=30)
def seed_orders(ctx: SeedContext) -> dict[str, int]:
    """About `ctx.size` orders over every state, each walked through the services at its own time."""
    settings_ = PlatformSettings.load()
    created = {"orders": 0, "skipped_shops": 0}
    buyers = [make_buyer(ctx.rng) for _i in range(max(50, ctx.size // 3))]  # repeat customers
    sizes = dict(zip(SHOP_CODES, _shop_sizes(ctx.size), strict=True))
    for shop in ctx.shops():
        shop_index, size = SHOP_CODES.index(shop.code) + 1, sizes[shop.code]
        if Order.objects.filter(merchant=shop).exists():
            created["skipped_shops"] += 1
            continue
        rng = random.Random(f"{ctx.seed}:orders:{shop.code}")
        plans = [
            _plan(state, index, rng, ctx.now, settings_.unpaid_cancel_hours, settings_.auto_receive_days)
            for state, count in _quotas(size).items()
            for index in range(count)
        ]
        plans.sort(key=lambda plan: plan.placed_at)
        writer = _OrderWriter(shop, shop_index, rng, ctx.now)
        with transaction.atomic():  # one shop at a time, all or nothing: a rerun never finds half a shop
            for serial, plan in enumerate(plans):
                writer.walk(plan, serial, rng.choice(buyers))
                created["orders"] += 1
        ctx.log(_("%(shop)s：已生成 %(count)d 个订单") % {"shop": shop.name, "count": len(plans)})
    return created


class _OrderWriter:
    """Walks planned orders of one shop through the services, the clock set to each step's time."""

    def __init__(self, shop: Merchant, shop_index: int, rng: random.Random, now: datetime) -> None:
        self.shop, self.shop_index, self.rng = shop, shop_index, rng
        self.spec, self.catalog, self.actors = shop_spec(shop.code), _catalog(shop), shop_actors(shop)
        self.latest = now - timedelta(minutes=1)  # nothing happens in the future

    def walk(self, plan: _Plan, serial: int, buyer: Buyer) -> Order:
        placed_at = min(plan.placed_at, self.latest).replace(microsecond=0)
        with backdated(placed_at):
            order = services.place_order(
                self.shop, order_no=_order_no(placed_at, self.shop_index, f"{serial:07d}"),
                buyer_id=buyer.buyer_id, buyer_name=buyer.name, buyer_phone=buyer.phone,
                lines=_lines(self.shop, self.catalog, self.rng, plan.item_count), payment_method=plan.payment,
                paid=False, placed_at=placed_at, ship_by=placed_at + SHIP_PROMISE,
            )  # fmt: skip
        item_ids = list(order.items.order_by("pk").values_list("pk", flat=True))
        at = placed_at
        for when, action, argument in sorted(plan.steps, key=lambda step: step[0]):
            at = max(at, min(when, self.latest).replace(microsecond=0))  # in order, none in the future
            with backdated(at):
                self._step(order, action, argument, item_ids, at)
        return order

    def _step(self, order: Order, action: str, argument, item_ids: list[int], at: datetime) -> None:
        actor = self.actors[0] if self.rng.random() < 0.8 else self.actors[-1]  # mostly the agent
        if action == "pay":
            services.pay_order(order, at=at)
        elif action == "confirm_cod":
            services.confirm_cod(order, actor=actor)
        elif action == "ship":
            carrier = _weighted(self.rng, self.spec.carriers)
            items = [item_ids[i] for i in argument if i < len(item_ids)]
            tracking = tracking_number(carrier, self.rng)
            services.ship(order, items=items, carrier=carrier, tracking_no=tracking, actor=actor)
        elif action == "receive":
            services.confirm_receipt(order, actor=BUYER)
        elif action == "cancel":
            services.cancel_order(order, actor=BUYER, reason=argument)
        elif action == "merchant_cancel":
            services.cancel_order(order, actor=actor, reason=argument)
        else:  # the system's sweeps, on this one order (M-3, S-5)
            system = (
                services.auto_confirm_receipt if action == "auto_receive" else services.auto_cancel_unpaid
            )
            system(list(Order.objects.select_for_update().filter(pk=order.pk)), at)


# --------------------------------------------------------------------------------------------
# The simulator


@dataclass
class TickContext:
    """One tick: the random source, the demo shops, and the report the actions append to."""

    rng: random.Random
    shops: list[Merchant]
    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def attempt(self, label: str, service: Callable, *args, **kwargs) -> object | None:
        """Call one service; a rule that refuses it (the state moved meanwhile) is noted, not raised."""
        try:
            result = service(*args, **kwargs)
        except ValidationError as exc:
            self.refused.append(f"{label}：{'；'.join(str(m) for m in exc.messages)}")
            return None
        self.done.append(label)
        return result

    def pick(self, queryset, count: int) -> list:
        ids = list(queryset.values_list("pk", flat=True)[:500])
        chosen = self.rng.sample(ids, k=min(count, len(ids)))
        return list(queryset.model.objects.filter(pk__in=chosen).select_related("merchant").order_by("pk"))

    def orders(self, *statuses: str):
        return Order.objects.filter(merchant__in=self.shops, status__in=statuses).order_by("-placed_at")


@dataclass(frozen=True)
class TickResult:
    done: list[str]
    refused: list[str]

    @property
    def changed(self) -> int:
        return len(self.done)


def simulate_tick(*, rng: random.Random | None = None) -> TickResult:
    """One tick of buyer (and world) activity in the demo shops, every registered action in order."""
    shops = demo_shops()
    tick = TickContext(rng=rng or random.Random(), shops=shops)
    if not shops:
        tick.refused.append(_("没有演示店铺：请先运行 manage.py seed_demo。"))
        return TickResult(tick.done, tick.refused)
    for hook in _hooks(DEMO_ACTIONS):
        hook.func(tick)
    return TickResult(tick.done, tick.refused)


@register_action("merchants.new_orders", order=10)
def buyers_place_orders(tick: TickContext) -> None:
    """1–3 new orders: most paid at once, some left unpaid, some cash on delivery."""
    now = timezone.now()
    for _i in range(tick.rng.randint(1, 3)):
        shop = tick.rng.choices(tick.shops, weights=[shop_spec(s.code).share for s in tick.shops])[0]
        catalog = _catalog(shop, on_shelf_only=True)
        if not catalog:
            continue
        buyer = make_buyer(tick.rng)
        payment = PaymentMethod.COD if tick.rng.random() < 0.15 else PaymentMethod.ONLINE
        order_no = _order_no(now, SHOP_CODES.index(shop.code) + 1, f"9{tick.rng.randrange(10**6):06d}")
        lines = _lines(shop, catalog, tick.rng, _weighted(tick.rng, ((1, 70), (2, 22), (3, 8))))
        label = _("%(buyer)s 在「%(shop)s」下单 %(no)s") % {
            "buyer": buyer.name,
            "shop": shop.name,
            "no": order_no,
        }
        order = tick.attempt(
            label, services.place_order, shop, order_no=order_no, buyer_id=buyer.buyer_id, buyer_name=buyer.name,
            buyer_phone=buyer.phone, lines=lines, payment_method=payment, paid=False, placed_at=now,
            ship_by=now + SHIP_PROMISE,
        )  # fmt: skip
        if order is not None and payment == PaymentMethod.ONLINE and tick.rng.random() < 0.7:
            tick.attempt(_("买家支付订单 %(no)s") % {"no": order_no}, services.pay_order, order)


@register_action("merchants.payments", order=20)
def buyers_pay(tick: TickContext) -> None:
    """Buyers pay some orders left unpaid; now and then one gives up and cancels."""
    for order in tick.pick(tick.orders(OrderStatus.UNPAID), tick.rng.randint(0, 2)):
        tick.attempt(_("买家支付订单 %(no)s") % {"no": order.order_no}, services.pay_order, order)
    if tick.rng.random() < 0.15:
        for order in tick.pick(tick.orders(OrderStatus.UNPAID), 1):
            reason = tick.rng.choice(BUYER_CANCEL_REASONS)
            label = _("买家取消订单 %(no)s（%(reason)s）") % {"no": order.order_no, "reason": reason}
            tick.attempt(label, services.cancel_order, order, actor=None, reason=reason)


@register_action("merchants.receipts", order=40)
def buyers_confirm_receipt(tick: TickContext) -> None:
    """Buyers confirm receipt of 0–2 parcels that have been on the road at least a day."""
    on_road = tick.orders(OrderStatus.SHIPPED).filter(shipped_at__lte=timezone.now() - timedelta(days=1))
    for order in tick.pick(on_road, tick.rng.randint(0, 2)):
        tick.attempt(
            _("买家确认收货 %(no)s") % {"no": order.order_no}, services.confirm_receipt, order, actor=None
        )


@register_action("merchants.unattended_shops", order=50)
def unattended_shops_work(tick: TickContext) -> None:
    """Shops without demo logins run themselves: confirm cod orders and ship 1–2 waiting orders."""
    for shop in tick.shops:
        spec = shop_spec(shop.code)
        actors = shop_actors(shop)
        if spec.login is not None or not actors:
            continue  # the demo users work their own queues
        orders = Order.objects.filter(merchant=shop)
        for order in tick.pick(orders.filter(status=OrderStatus.AWAITING_CONFIRMATION), 1):
            label = _("%(shop)s 确认货到付款订单 %(no)s") % {"shop": shop.name, "no": order.order_no}
            tick.attempt(label, services.confirm_cod, order, actor=actors[0])
        waiting = orders.filter(status__in=(OrderStatus.TO_SHIP, OrderStatus.PARTIALLY_SHIPPED))
        for order in tick.pick(waiting, tick.rng.randint(1, 2)):
            carrier = _weighted(tick.rng, spec.carriers)
            tracking = tracking_number(carrier, tick.rng)
            items = list(order.unshipped_shippable_items().values_list("pk", flat=True))
            label = _("%(shop)s 发货 %(no)s：%(tracking)s") % {
                "shop": shop.name,
                "no": order.order_no,
                "tracking": tracking,
            }
            tick.attempt(
                label,
                services.ship,
                order,
                items=items,
                carrier=carrier,
                tracking_no=tracking,
                actor=actors[0],
            )
