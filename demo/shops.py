"""The demo world: the logins, the shops and their catalogs, and the buyers who shop there.

Helpers for every demo module: `demo_shops()`, `shop_spec(code)`, `shop_actors(shop)`, `make_buyer(rng)`,
`tracking_number(carrier, rng)`, `weighted(rng, pairs)`, `shop_catalog(shop)`; buyers come with a
shipping address (REGIONS: real provinces, cities, districts and their streets).
Demo data only: the logins below are weak on purpose and never exist outside `seed_demo`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from demo.registry import SeedContext, register_seeder, register_shops
from merchants.kernel.scoping import PLATFORM_GROUP
from merchants.kernel.vocabulary import Role
from merchants.models import Membership, Merchant, Product, Sku
from merchants.services import ShippingAddress
from merchants.transitions import Carrier

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


@register_shops
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


# A member of two shops (SPEC §1 Membership): sees both shops' rows on one workbench, with a shop column,
# and the jobs they start for several shops at once belong to no one shop (the centers: only they see them).
MULTI_SHOP_LOGIN = "ops"
MULTI_SHOP_ROLE = Role.AGENT  # may write and import (WRITE_ROLES), no shop settings


def multi_shop_codes() -> tuple[str, ...]:
    """The shops of MULTI_SHOP_LOGIN: every demo shop with logins (shop1's and shop2's)."""
    return tuple(spec.code for spec in SHOPS if spec.login)


def shop_actors(shop: Merchant) -> list:
    """Members who may write (agent first, then owner): who ships, confirms and answers in the demo."""
    names = [name for name, role in _members(shop_spec(shop.code)) if role != Role.VIEWER]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    return [users[name] for name in reversed(names) if name in users]


# --------------------------------------------------------------------------------------------
# Buyers, tracking numbers, catalogs

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


# (province, city, ((district, (road, …)), …)): each road is one of its district's real streets. A city
# without districts (东莞) has "" and the town in the street address, as the marketplaces write it.
# fmt: off
REGIONS: tuple[tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    ("北京市", "北京市", (("朝阳区", ("建国路", "望京街", "朝阳北路")), ("海淀区", ("中关村大街", "学院路", "知春路")),
                          ("丰台区", ("丰台北路", "南三环西路")), ("西城区", ("金融大街", "西单北大街")),
                          ("通州区", ("新华大街", "通胡大街")))),
    ("上海市", "上海市", (("浦东新区", ("张杨路", "世纪大道", "锦绣路")), ("徐汇区", ("漕溪北路", "天钥桥路")),
                          ("闵行区", ("七莘路", "莘松路")), ("静安区", ("南京西路", "延长中路")), ("杨浦区", ("国定路", "淞沪路")))),
    ("天津市", "天津市", (("和平区", ("南京路",)), ("南开区", ("鞍山西道",)), ("河西区", ("友谊路",)))),
    ("重庆市", "重庆市", (("渝中区", ("民族路", "中山三路")), ("江北区", ("建新北路",)), ("渝北区", ("金开大道",)))),
    ("广东省", "广州市", (("天河区", ("天河路", "体育西路")), ("海珠区", ("新港中路", "江南大道中")),
                          ("越秀区", ("中山五路", "东风中路")), ("白云区", ("白云大道北", "机场路")))),
    ("广东省", "深圳市", (("南山区", ("南海大道", "科苑路")), ("福田区", ("深南大道", "福华三路")),
                          ("宝安区", ("宝安大道", "新安六路")), ("龙岗区", ("龙岗大道", "龙翔大道")))),
    ("广东省", "东莞市", (("", ("南城街道鸿福路", "长安镇长青路", "松山湖大学路")),)),
    ("浙江省", "杭州市", (("西湖区", ("文三路", "教工路")), ("余杭区", ("文一西路", "五常大道")),
                          ("滨江区", ("江南大道", "滨盛路")), ("拱墅区", ("莫干山路", "湖墅南路")))),
    ("江苏省", "南京市", (("鼓楼区", ("中山北路", "湖南路")), ("江宁区", ("双龙大道", "天元中路")), ("秦淮区", ("中华路", "太平南路")))),
    ("江苏省", "苏州市", (("姑苏区", ("人民路", "干将西路")), ("吴中区", ("东吴北路",)))),
    ("四川省", "成都市", (("武侯区", ("人民南路四段", "科华北路")), ("锦江区", ("东大街",)), ("青羊区", ("蜀都大道", "人民西路")))),
    ("湖北省", "武汉市", (("洪山区", ("珞喻路", "光谷大道")), ("武昌区", ("中北路", "中山路")), ("江汉区", ("建设大道", "解放大道")))),
    ("陕西省", "西安市", (("雁塔区", ("小寨东路", "高新路")), ("碑林区", ("南大街",)), ("未央区", ("凤城八路",)))),
    ("湖南省", "长沙市", (("岳麓区", ("麓山南路",)), ("天心区", ("芙蓉南路",)), ("雨花区", ("韶山中路",)))),
    ("山东省", "青岛市", (("市南区", ("香港中路",)), ("崂山区", ("海尔路",)), ("黄岛区", ("长江中路",)))),
    ("福建省", "厦门市", (("思明区", ("厦禾路", "湖滨南路")), ("湖里区", ("枋湖路",)))),
    ("河南省", "郑州市", (("金水区", ("花园路",)), ("二七区", ("大学路",)))),
    ("安徽省", "合肥市", (("蜀山区", ("长江西路",)), ("包河区", ("马鞍山路",)))),
    ("云南省", "昆明市", (("五华区", ("东风西路",)), ("官渡区", ("春城路",)))),
    ("广西壮族自治区", "南宁市", (("青秀区", ("民族大道",)), ("西乡塘区", ("大学东路",)))),
    ("黑龙江省", "哈尔滨市", (("南岗区", ("西大直街",)), ("道里区", ("中央大街",)))),
)
# fmt: on
ESTATES = tuple(
    "阳光花园 锦绣华庭 翠苑三区 金色家园 紫荆公寓 幸福里小区 滨江花园 世纪新城 枫林绿洲 书香门第 润园 天逸华府".split()
)
OFFICES = ("科技大厦", "国际中心", "创业园", "金融广场", "时代大厦")


@dataclass(frozen=True)
class Buyer:
    buyer_id: str
    name: str
    phone: str
    address: ShippingAddress


def _address(rng: random.Random, name: str, phone: str) -> ShippingAddress:
    """A home (most) or an office address in one of REGIONS; now and then someone else receives it."""
    province, city, districts = rng.choice(REGIONS)
    district, roads = rng.choice(districts)
    street = f"{rng.choice(roads)}{rng.randint(1, 399)}号"
    if rng.random() < 0.8:
        room = rng.randint(1, 32) * 100 + rng.randint(1, 4)
        street += f"{rng.choice(ESTATES)}{rng.randint(1, 28)}栋{rng.randint(1, 4)}单元{room}室"
    else:
        street += f"{rng.choice(OFFICES)}{rng.randint(2, 36)}楼"
    if rng.random() < 0.15:  # a parent, a partner, a colleague
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    return ShippingAddress(
        consignee=name, phone=phone, province=province, city=city, district=district, address=street
    )


def make_buyer(rng: random.Random) -> Buyer:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    buyer_id = f"U{rng.randrange(10**9, 10**10)}"
    # Its own generator: the seeded orders (and everything after them) stay what they were.
    address = _address(random.Random(buyer_id), name, phone)
    return Buyer(buyer_id=buyer_id, name=name, phone=phone, address=address)


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


def weighted(rng: random.Random, pairs: Sequence[tuple]) -> object:
    return rng.choices([value for value, _w in pairs], weights=[w for _v, w in pairs])[0]


def spu_table(code: str) -> dict[str, DemoProduct]:
    spec = shop_spec(code)
    return {str(spec.spu_base + 7 * index): row for index, row in enumerate(spec.products)}


def shop_catalog(shop: Merchant, *, on_shelf_only: bool = False) -> list[tuple[Product, list[Sku]]]:
    products = Product.objects.filter(merchant=shop).order_by("spu_id").prefetch_related("skus")
    if on_shelf_only:  # new orders only for what is on sale; the seeded history also sold what is off now
        products = products.filter(on_shelf=True)
    return [(product, sorted(product.skus.all(), key=lambda s: s.sku_code)) for product in products]


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
        ops = user(MULTI_SHOP_LOGIN, password=MULTI_SHOP_LOGIN, first_name="两店运营")
        for shop in Merchant.objects.filter(code__in=multi_shop_codes()):
            _m, was_created = Membership.objects.get_or_create(
                user=ops, merchant=shop, defaults={"role": MULTI_SHOP_ROLE}
            )
            created["memberships"] += was_created
    return created


@register_seeder("merchants.catalog", order=20)
def seed_catalog(ctx: SeedContext) -> dict[str, int]:
    """Each demo shop's products (SPU) and SKUs, created when missing."""
    created = {"products": 0, "skus": 0}
    with transaction.atomic():
        for shop in ctx.shops():
            for index, (spu_id, row) in enumerate(spu_table(shop.code).items()):
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
