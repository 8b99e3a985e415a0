"""Issue 11 §16: the demo's buyers write about what they bought, attach a photo when they say so, and the
seed summary says what its numbers count."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import call_command

from aftersales.models import AfterSaleCase, CaseEvent
from aftersales.transitions import Reason
from demo import registry
from demo.aftersales.wording import BY_KIND, PHOTO_MARK, describe, kind_of
from tests.factories import MerchantFactory, OrderItemFactory, ProductFactory, SkuFactory

SIZE = 400


@pytest.fixture
def seeded(db):
    return dict(registry.seed(size=SIZE, log=lambda message: None))


@pytest.fixture
def tea_item(db):
    shop = MerchantFactory(code="jiangnan-tea", name="江南茶舍")
    return OrderItemFactory(
        order__merchant=shop, product=ProductFactory(merchant=shop, name="安溪铁观音 浓香型 500g")
    )


def test_tea_buyers_never_write_about_zippers_or_batteries(tea_item):
    rng = random.Random(1)

    texts = {describe(rng, reason, tea_item).text for reason in Reason.values for _ in range(30)}

    assert not any(word in text for text in texts for word in ("拉链", "充电", "耳机", "机身", "纯棉"))
    assert kind_of(tea_item) == "tea"


def test_a_wrong_spec_names_the_items_own_spec(db):
    shop = MerchantFactory(code="chenguang-digital")
    product = ProductFactory(merchant=shop, name="USB3.2 高速金属 U 盘")
    sku = SkuFactory(product=product, spec="128G")
    item = OrderItemFactory(order__merchant=shop, product=product, sku=sku)

    said = describe(random.Random(2), Reason.WRONG_ITEM, item)

    assert "「128G」" in said.text and said.photo


def test_the_photo_flag_follows_the_text():
    for kinds in BY_KIND.values():
        for texts in kinds.values():
            for text in texts:
                assert ("照片" in text) == (PHOTO_MARK in text), text


def test_seeded_cases_carry_a_photo_exactly_when_their_text_says_so(seeded):
    cases = AfterSaleCase.objects.select_related("merchant")

    assert cases.exists()
    for case in cases:
        opened = case.events.get(kind=CaseEvent.Kind.OPENED)
        assert opened.attachments.exists() == (PHOTO_MARK in case.description), case.description
        if case.merchant.code == "jiangnan-tea":
            assert "拉链" not in case.description


def test_seed_summary_says_what_its_numbers_count(seeded):
    out = StringIO()

    call_command("seed_demo", size=SIZE, stdout=out)

    text = out.getvalue()
    assert "订单：新建订单 0，已有数据而跳过的店铺 3" in text
    assert "数据库现有：订单" in text
    assert "重复运行时显示 0 是正常的" in text
