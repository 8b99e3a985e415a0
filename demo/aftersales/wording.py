"""What buyers, merchants and staff write in the demo's cases (realistic, varied); bench reuses it.

A buyer's description fits what they bought (issue 11 §16): `describe(rng, reason, item)` picks from the
texts of the product's kind (the demo shops sell electronics, tea and tea ware, home goods), names the
item's own spec where the text is about a spec, and says whether the text mentions a photo — the seeder
and the simulator attach one exactly then. DESCRIPTIONS (any product) stays for the bench.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from aftersales.transitions import ArbitrationOutcome, Reason

# ---- what buyers, merchants and staff write (realistic, varied)

DESCRIPTIONS = {
    Reason.QUALITY: (
        "收到后发现机身侧面有一道明显划痕，包装完好，应该是出厂就有的。",
        "用了两天就充不进电了，换了几根线和插头都一样。",
        "右耳耳机没有声音，按说明书重置过也不行。",
        "开机十分钟机身明显发烫，还有异响。",
        "茶叶罐密封条是坏的，里面的茶叶有点受潮结块。",
        "拉链拉了两次就坏了，缝线也开了。",
    ),
    Reason.NOT_AS_DESCRIBED: (
        "实物颜色比详情页偏暗很多，和图片差距明显。",
        "详情页写的是 256G，收到的是 128G 版本。",
        "描述说是纯棉，摸起来明显是化纤的。",
        "尺寸和详情页标的不一样，短了三厘米。",
    ),
    Reason.COUNTERFEIT: (
        "包装上的防伪码查询显示未激活，怀疑不是正品。",
        "和专柜买的对比，logo 印刷和做工都不一样。",
    ),
    Reason.WRONG_ITEM: (
        "下单的是白色，收到的是黑色。",
        "少发了一根数据线，包装里只有主机。",
        "拍的是 250g 装，发来的是 100g 装。",
    ),
    Reason.LOGISTICS: (
        "物流显示已签收，但我本人没有收到，驿站也查不到。",
        "外箱破损严重，里面的商品被压坏了。",
        "下单一周了还没发货，不想等了。",
    ),
    Reason.OUT_OF_STOCK: (
        "客服说暂时缺货，要等半个月，不想等了。",
        "商家通知缺货无法发货，申请退款。",
    ),
    Reason.NO_REASON: (
        "买重复了，商品未拆封，申请七天无理由退货。",
        "尺码不合适，想退掉重新买。",
        "家里人已经买了一个，这个用不上了。",
        "收到后觉得不太喜欢，吊牌都在。",
    ),
    Reason.OTHER: (
        "拍错了规格，麻烦处理一下。",
        "地址写错了，申请退款后重新下单。",
    ),
}
REJECT_REASONS = (
    "商品已拆封使用，影响二次销售，不符合七天无理由退货条件。",
    "买家上传的照片看不出质量问题，请补充清晰的细节图。",
    "发货前已拍照验货，商品完好，划痕应为使用中造成。",
    "该商品为定制商品，详情页已注明不支持无理由退货。",
)
PROPOSALS = (
    "商品有轻微瑕疵，给您补偿 {amount} 元，商品无需退回，您看可以吗？",
    "可以部分退款 {amount} 元，您继续使用，后续有问题随时联系我们。",
    "建议您退回商品，我们收到后全额退款，运费由我们承担。",
)
REVISED_PROPOSALS = (
    "再给您加一些：补偿 {amount} 元，商品无需退回，您看这样可以吗？",
    "我们重新核算了一下，可以部分退款 {amount} 元，希望您满意。",
)
REFUSE_RETURN_REASONS = (
    "退回的商品缺少原装配件和包装盒，影响二次销售。",
    "退回的商品与我店发出的商品序列号不一致。",
    "退回商品有明显使用痕迹和人为损坏。",
)
ESCALATE_REASONS = (
    "商家拒绝售后，但商品确实有质量问题，请平台介入。",
    "商品问题已经说明清楚了，商家还是不同意，申请客服处理。",
    "",
)
ARBITRATION_NOTES = {
    ArbitrationOutcome.REFUND: "根据买家提供的照片，商品存在质量问题，支持买家退款。",
    ArbitrationOutcome.REJECT: "商家已提供发货前验货视频，商品完好，驳回买家申请。",
}
MERCHANT_MESSAGES = (
    "您好，麻烦提供一下商品问题部位的清晰照片，我们尽快处理。",
    "亲，已收到您的申请，仓库核实后马上给您答复。",
    "退货请寄到店铺售后地址，包裹里请附上订单号。",
)
BUYER_MESSAGES = (
    "麻烦尽快处理，谢谢。",
    "请问什么时候可以退款？",
    "快递已经寄出了，麻烦注意查收。",
)
DELAY_REASONS = (
    "春节期间快递停运，退货无法按时签收入库。",
    "仓库搬迁，退货验收需延后三天。",
    "商品需返厂检测，检测报告预计五个工作日出具。",
)


# ---- descriptions that fit the product: {kind: {reason: (text, ...)}}; "（见照片）" marks a photo

PHOTO_MARK = "（见照片）"
KIND_BY_SHOP = {"chenguang-digital": "digital", "jiangnan-tea": "tea", "yuejia-home": "home"}
TEA_WARE = ("壶", "杯", "盖碗", "茶盘", "炉", "水壶", "茶具")

BY_KIND: dict[str, dict[str, tuple[str, ...]]] = {
    "digital": {
        Reason.QUALITY: (
            "收到后发现机身侧面有一道明显划痕，包装完好，应该是出厂就有的（见照片）。",
            "用了两天就充不进电了，换了几根线和插头都一样。",
            "开机十分钟机身明显发烫，还有异响。",
            "接口松动，插上线要按着才有反应（见照片）。",
        ),
        Reason.NOT_AS_DESCRIBED: (
            "实物颜色比详情页偏暗很多，和图片差距明显（见照片）。",
            "续航远没有详情页写的那么长，充满电只能用半天。",
        ),
        Reason.COUNTERFEIT: (
            "包装上的防伪码查询显示未激活，怀疑不是正品。",
            "序列号在官网查不到，怀疑是翻新机。",
        ),
        Reason.WRONG_ITEM: ("少发了配件，包装里只有主机（见照片）。",),
    },
    "tea": {
        Reason.QUALITY: (
            "茶叶罐密封条是坏的，里面的茶叶有点受潮结块（见照片）。",
            "冲泡后有一股霉味，和以前买的不一样。",
            "茶叶里碎末和茶梗很多，像是碎茶（见照片）。",
        ),
        Reason.NOT_AS_DESCRIBED: (
            "详情页写的是明前特级，收到的叶片粗大，不像明前茶（见照片）。",
            "称了一下，重量比标注的少了不少。",
        ),
        Reason.COUNTERFEIT: ("包装上的防伪码查询显示未激活，怀疑不是正品。",),
        Reason.WRONG_ITEM: ("拍的是这款茶，发来的却是另一款（见照片）。",),
    },
    "tea_ware": {
        Reason.QUALITY: (
            "壶盖边缘有一道裂纹，倒水会渗（见照片）。",
            "杯口有一处磕破的缺口，包装盒完好（见照片）。",
            "通电后指示灯亮但不加热。",
        ),
        Reason.NOT_AS_DESCRIBED: (
            "实物颜色和详情页差别很大，釉面发灰（见照片）。",
            "容量比详情页写的小很多。",
        ),
        Reason.COUNTERFEIT: ("底款和详情页展示的不一样，怀疑不是原矿。",),
        Reason.WRONG_ITEM: ("收到的款式和下单的不一样（见照片）。",),
    },
    "home": {
        Reason.QUALITY: (
            "拉链拉了两次就坏了，缝线也开了（见照片）。",
            "保温杯倒进开水两个小时就凉了，根本不保温。",
            "洗了一次就起球掉色（见照片）。",
        ),
        Reason.NOT_AS_DESCRIBED: (
            "描述说是纯棉，摸起来明显是化纤的。",
            "尺寸和详情页标的不一样，短了三厘米（见照片）。",
        ),
        Reason.COUNTERFEIT: ("吊牌和品牌官网的不一样，怀疑不是正品。",),
        Reason.WRONG_ITEM: ("颜色发错了，和下单的不一样（见照片）。",),
    },
}
# A wrong spec, when the item has one: names the spec the buyer ordered.
WRONG_SPEC = (
    "下单的是「%(spec)s」，收到的规格不对（见照片）。",
    "拍的是「%(spec)s」，发来的是别的规格（见照片）。",
)


@dataclass(frozen=True)
class Description:
    text: str
    photo: bool  # the text says a photo is attached: attach one


def kind_of(item) -> str:
    """The kind of product an order item is (digital, tea, tea_ware, home), from the demo shop and its name."""
    kind = KIND_BY_SHOP.get(item.order.merchant.code if hasattr(item, "order") else "", "home")
    if kind == "tea" and any(word in item.product.name for word in TEA_WARE):
        return "tea_ware"
    return kind


def describe(rng: random.Random, reason: str, item) -> Description:
    """What the buyer writes about this item for this reason; `photo` when the text says one is attached."""
    spec = getattr(getattr(item, "sku", None), "spec", "") if getattr(item, "sku_id", None) else ""
    if reason == Reason.WRONG_ITEM and spec:
        text = rng.choice(WRONG_SPEC) % {"spec": spec}
    else:
        texts = BY_KIND.get(kind_of(item), {}).get(reason) or DESCRIPTIONS[reason]
        text = rng.choice(texts)
    return Description(text=text, photo=PHOTO_MARK in text)
