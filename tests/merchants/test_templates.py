"""Reply templates (话术, T-6): placeholders required and optional, refused when broken, filled from the
object a message is about, and inserted through a scoped workbench endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from aftersales.transitions import CaseStatus, CaseType
from merchants.kernel import templates
from merchants.kernel.templates import MissingValuesError, ReplyTemplate
from merchants.models import Package
from merchants.registrations import order_values
from merchants.transitions import Carrier, OrderStatus
from tests.aftersales.factories import CaseFactory, make_order
from tests.merchants.factories import ReplyTemplateFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
LATE = (
    "亲，非常抱歉，因为{reason}，您的订单没能按时发出。承诺在{ship_time}前为您发货。"
    "[如果您愿意等待，发货后我们会送上一张{coupon}优惠券。]如果不方便等待，可以申请退款。"
)


def insert_url():
    return reverse("workbench:merchants_replytemplate_insert")


def ask(client, template, obj, **typed):
    params = {"template": template.pk, "source": obj._meta.label_lower, "id": obj.pk}
    params.update({f"v_{name}": value for name, value in typed.items()})
    return client.get(insert_url(), params)


def platform_default(title):
    return ReplyTemplate.objects.get(merchant=None, title=title)


# --------------------------------------------------------------------------------------------
# The text


def test_T6_a_required_placeholder_without_value_is_refused_naming_it():
    with pytest.raises(MissingValuesError) as refused:
        templates.render("您的运单号是{tracking_no}，由{carrier}配送。", {"carrier": "顺丰速运"})

    assert refused.value.missing == ["tracking_no"]
    assert refused.value.messages == ["缺少「运单号」，无法使用此模板。"]


def test_T6_every_missing_value_is_named_in_the_readers_language():
    with translation.override("en"), pytest.raises(MissingValuesError) as refused:
        templates.render("{carrier} {tracking_no} [{coupon}]", {"carrier": ""})

    assert refused.value.missing == ["carrier", "tracking_no"]
    message = refused.value.messages[0]
    assert "carrier" in message.lower() and "tracking number" in message.lower() and "运单号" not in message


def test_T6_the_optional_coupon_part_is_left_out_cleanly_without_a_coupon():
    values = {"reason": "仓库盘点", "ship_time": "2026-06-03 18:00"}

    without = templates.render(LATE, values)
    with_coupon = templates.render(LATE, {**values, "coupon": "5元"})

    assert without == (
        "亲，非常抱歉，因为仓库盘点，您的订单没能按时发出。承诺在2026-06-03 18:00前为您发货。"
        "如果不方便等待，可以申请退款。"
    )
    assert with_coupon == (
        "亲，非常抱歉，因为仓库盘点，您的订单没能按时发出。承诺在2026-06-03 18:00前为您发货。"
        "如果您愿意等待，发货后我们会送上一张5元优惠券。如果不方便等待，可以申请退款。"
    )
    assert templates.render(LATE, {**values, "coupon": "   "}) == without  # blank is no value


def test_T6_a_placeholder_used_outside_brackets_anywhere_is_required():
    assert templates.placeholders_of("[送您{coupon}。]{tracking_no}，{coupon}") == [
        ("coupon", True),
        ("tracking_no", True),
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("您的快递{buyer_name}已发出", "未知的占位符「{buyer_name}」"),
        ("[发货后送您{coupon}优惠券", "有一个「[」没有用「]」结束"),
        ("发货后送您{coupon}优惠券]", "有一个「]」前面没有「[」"),
        ("[外层[{coupon}]]", "不能嵌套"),
        ("[感谢您的耐心]", "至少要有一个占位符"),
        ("运单号 {tracking_no", "花括号不成对"),
        ("{}", "未知的占位符「{}」"),
    ],
)
def test_T6_an_unknown_placeholder_or_unbalanced_bracket_is_refused(text, fragment):
    with pytest.raises(ValidationError) as refused:
        templates.check(text)

    assert any(fragment in message for message in refused.value.messages), refused.value.messages


@pytest.mark.django_db
def test_T6_a_template_with_an_unknown_placeholder_is_refused_on_save(shop):
    template = ReplyTemplate(
        merchant=shop, scene=ReplyTemplate.Scene.CASE_MESSAGE, title="坏模板", text="亲{nick}"
    )

    with pytest.raises(ValidationError) as cleaned:
        template.full_clean()
    with pytest.raises(ValidationError):
        template.save()

    assert "text" in cleaned.value.message_dict
    assert not ReplyTemplate.objects.filter(title="坏模板").exists()


@pytest.mark.django_db
def test_T6_the_workbench_form_refuses_a_broken_template_and_saves_a_good_one(client, shop, owner):
    client.force_login(owner, backend=BACKEND)
    add = reverse("workbench:merchants_replytemplate_add")
    form = {
        "merchant": shop.pk,
        "scene": ReplyTemplate.Scene.CASE_MESSAGE,
        "title": "本店发货说明",
        "enabled": "on",
        "position": 10,
    }

    refused = client.post(add, {**form, "text": "亲，{快递}已发出"})
    saved = client.post(add, {**form, "text": "亲，{carrier}已发出[，送您{coupon}优惠券]。"})

    assert refused.status_code == 200 and "未知的占位符「{快递}」" in refused.content.decode()
    assert saved.status_code == 302
    assert list(ReplyTemplate.objects.filter(merchant=shop).values_list("title", flat=True)) == [
        "本店发货说明"
    ]


@pytest.mark.django_db
def test_T6_a_member_keeps_templates_only_for_shops_they_serve(client, shop, other_shop, clerk, viewer):
    client.force_login(clerk, backend=BACKEND)
    form = {"scene": "case_message", "title": "越权", "text": "亲", "position": 1, "merchant": other_shop.pk}

    slipped = client.post(reverse("workbench:merchants_replytemplate_add"), form)
    client.force_login(viewer, backend=BACKEND)
    viewer_add = client.get(reverse("workbench:merchants_replytemplate_add"))

    assert slipped.status_code == 200 and not ReplyTemplate.objects.filter(title="越权").exists()
    assert viewer_add.status_code == 403


# --------------------------------------------------------------------------------------------
# The defaults and the values


@pytest.mark.django_db
def test_T6_the_platform_defaults_cover_seed_001_and_are_valid():
    defaults = ReplyTemplate.objects.filter(merchant=None, scene=ReplyTemplate.Scene.SHIPPING)

    assert set(defaults.values_list("title", flat=True)) == {
        "主动告知发货时间",
        "发货通知",
        "延迟发货致歉",
        "缺货致歉并退款",
        "已线下发货说明",
    }
    for template in defaults:
        templates.check(template.text)
    assert ("coupon", False) in platform_default("延迟发货致歉").placeholders()
    assert "收货地址" in platform_default("主动告知发货时间").text


@pytest.mark.django_db
def test_T6_an_order_fills_its_promise_and_its_latest_parcel(shop):
    placed = timezone.now() - timedelta(hours=2)
    waiting = make_order(shop, placed_at=placed, paid_at=placed, ship_by=placed + timedelta(hours=48))
    late = make_order(shop, placed_at=placed, paid_at=placed, ship_by=placed + timedelta(hours=1))
    shipped = make_order(shop, status=OrderStatus.SHIPPED, placed_at=placed)
    parcel = shipped.packages.get()

    assert order_values(waiting)["promised_hours"] == 48
    assert order_values(waiting)["ship_time"] == waiting.ship_by  # the promise, still ahead
    assert order_values(late)["ship_time"] is None  # a passed promise is no time to tell the buyer
    assert order_values(shipped)["tracking_no"] == parcel.tracking_no
    assert order_values(shipped)["carrier"] == Carrier.SF.label


# --------------------------------------------------------------------------------------------
# The insert endpoint and the control


@pytest.mark.django_db
def test_T6_insertion_fills_the_template_from_the_case_and_what_the_user_types(client, shop, clerk):
    case = CaseFactory(merchant=shop, type=CaseType.RETURN_REFUND, status=CaseStatus.PENDING)
    parcel = Package.objects.get(order=case.order)
    client.force_login(clerk, backend=BACKEND)
    shipped_notice = platform_default("发货通知")

    missing = ask(client, shipped_notice, case)
    filled = ask(client, shipped_notice, case, ship_from="浙江杭州")

    assert missing.status_code == 400
    assert missing.json()["error"] == "缺少「发货地」，无法使用此模板。"
    assert missing.json()["missing"] == ["ship_from"]
    by_name = {item["name"]: item for item in missing.json()["placeholders"]}
    assert by_name["tracking_no"]["filled"] and by_name["tracking_no"]["value"] == parcel.tracking_no
    assert not by_name["ship_from"]["filled"] and by_name["ship_from"]["required"]
    assert filled.status_code == 200 and filled.json()["ok"]
    text = filled.json()["text"]
    assert f"从浙江杭州由{Carrier.SF.label}发出，运单号{parcel.tracking_no}" in text
    assert timezone.localtime(parcel.shipped_at).strftime("%Y-%m-%d %H:%M") in text


@pytest.mark.django_db
def test_T6_the_insert_endpoint_is_404_for_another_shops_object_or_template(client, shop, other_shop, clerk):
    mine, theirs = CaseFactory(merchant=shop), CaseFactory(merchant=other_shop)
    their_template = ReplyTemplateFactory(merchant=other_shop, text="亲，已收到。")
    my_template = ReplyTemplateFactory(merchant=shop, text="亲，已收到。")
    client.force_login(clerk, backend=BACKEND)

    assert ask(client, my_template, mine).status_code == 200
    assert ask(client, my_template, theirs).status_code == 404
    assert ask(client, their_template, mine).status_code == 404
    assert (
        client.get(
            insert_url(), {"template": my_template.pk, "source": "auth.user", "id": clerk.pk}
        ).status_code
        == 404
    )
    assert (
        client.get(
            insert_url(), {"template": "x", "source": "aftersales.aftersalecase", "id": mine.pk}
        ).status_code
        == 404
    )


@pytest.mark.django_db
def test_T6_the_case_message_box_offers_the_shops_and_the_platforms_templates(
    client, shop, other_shop, clerk, superuser
):
    case = CaseFactory(merchant=shop)
    ReplyTemplateFactory(merchant=shop, title="本店留言模板")
    ReplyTemplateFactory(merchant=other_shop, title="别家留言模板")
    ReplyTemplateFactory(merchant=shop, title="停用的模板", enabled=False)
    client.force_login(clerk, backend=BACKEND)

    page = client.get(reverse("workbench:aftersales_aftersalecase_action", args=[case.pk, "add_message"]))
    reject = client.get(reverse("workbench:aftersales_aftersalecase_action", args=[case.pk, "reject"]))
    client.force_login(superuser, backend=BACKEND)
    staff_page = client.get(reverse("admin:aftersales_aftersalecase_action", args=[case.pk, "add_message"]))

    body = page.content.decode()
    assert "data-reply-picker" in body and 'data-target="id_text"' in body
    assert (
        "shouhou/reply-picker.js" in body
        and "<script>" not in body.split("data-reply-picker")[1].split("</form>")[0]
    )
    assert "本店留言模板" in body and "延迟发货致歉" in body
    assert "别家留言模板" not in body and "停用的模板" not in body
    assert 'data-target="id_reason"' not in reject.content.decode()  # no reject-reason templates yet
    assert "data-reply-picker" not in staff_page.content.decode()  # staff write in their own words
