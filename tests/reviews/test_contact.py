"""R-2's contact-detail check (reviews/contact.py): every disguise the rule names, and what must pass."""

import pytest

from reviews.contact import ContactKind, find_all, find_contact, fold

PHONE, WECHAT, QQ, URL, EMAIL = (
    ContactKind.PHONE,
    ContactKind.WECHAT,
    ContactKind.QQ,
    ContactKind.URL,
    ContactKind.EMAIL,
)


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("有问题联系我13812345678", PHONE, "13812345678"),
        ("有问题联系我１３８１２３４５６７８", PHONE, "１３８１２３４５６７８"),  # full-width digits
        ("电话 138 1234 5678 随时打", PHONE, "138 1234 5678"),  # split by spaces
        ("138.1234.5678", PHONE, "138.1234.5678"),  # by dots
        ("138-1234-5678", PHONE, "138-1234-5678"),  # by dashes
        ("1 3 8 1 2 3 4 5 6 7 8", PHONE, "1 3 8 1 2 3 4 5 6 7 8"),  # one digit at a time
        ("打一三八一二三四五六七八", PHONE, "一三八一二三四五六七八"),  # Chinese numerals
        ("幺三八 幺二三四 五六七八", PHONE, "幺三八 幺二三四 五六七八"),  # 幺 for one
        ("壹叁捌壹贰叁肆伍陆柒捌", PHONE, "壹叁捌壹贰叁肆伍陆柒捌"),  # financial numerals
        ("①③⑧①②③④⑤⑥⑦⑧", PHONE, "①③⑧①②③④⑤⑥⑦⑧"),  # circled digits
        ("1３8 一2三4 5六78", PHONE, "1３8 一2三4 5六78"),  # mixed
        ("+86 138-1234-5678", PHONE, "86 138-1234-5678"),
        ("座机 0571-88886666", PHONE, "0571-88886666"),
        ("热线400-800-1234", PHONE, "400-800-1234"),
        ("138 1234 5678 3天内发货", PHONE, "138 1234 5678"),  # digits after the number do not hide it
        ("加微信abc123456详聊", WECHAT, "微信abc123456"),
        ("V信：hello_2024", WECHAT, "V信：hello_2024"),
        ("vx: shop888", WECHAT, "vx: shop888"),
        ("ｖｘ：ｓｈｏｐ８８８", WECHAT, "ｖｘ：ｓｈｏｐ８８８"),
        ("威信 wxid_abc12", WECHAT, "威信 wxid_abc12"),
        ("加v 13812345678", WECHAT, "加v 13812345678"),
        ("扣扣 12345678", QQ, "扣扣 12345678"),
        ("QQ:123456789", QQ, "QQ:123456789"),
        ("qq号一二三四五六", QQ, "qq号一二三四五六"),
        ("企鹅 88886666", QQ, "企鹅 88886666"),
        ("访问 www.shop.com 领券", URL, "www.shop.com"),
        ("http://t.cn/abc", URL, "http://t.cn/abc"),
        ("https://example.org/a?b=1", URL, "https://example.org/a?b=1"),
        ("搜 taobao点com 同款", URL, "taobao点com"),
        ("shop.vip", URL, "shop.vip"),
        ("写信给 a.b@qq.com", EMAIL, "a.b@qq.com"),
        ("邮箱 abc＠163．com", EMAIL, "abc＠163．com"),
        ("abc艾特163点com", EMAIL, "abc艾特163点com"),
    ],
)
def test_R2_contact_details_in_any_disguise_are_found(text, kind, found):
    finding = find_contact(text)

    assert finding is not None, text
    assert (finding.kind, finding.text) == (kind, found)


@pytest.mark.parametrize(
    "text",
    [
        "感谢您的支持，我们一定继续努力！",
        "订单号 O20261100000001 已经为您补发",  # an order number is one long group, not a phone
        "订单13812345678901234",
        "价格¥199.00，满300减50",
        "2026-11-23 13:45 已发货",
        "第一次购买就遇到问题，非常抱歉，三天内给您处理",
        "尺码 XL 三件七折",
        "我们会在24小时内处理，谢谢亲的5星好评",
        "微信支付的订单已原路退款",  # the word alone is no id
        "v1.2.3 版本说明书",
        "QQ音乐会员赠品",  # QQ without a number
        "本店地址在杭州市 1 号仓库",
        "退款 ¥ 1 3 8 元",  # three digits
    ],
)
def test_R2_ordinary_replies_pass(text):
    assert find_all(text) == []


def test_R2_every_finding_is_listed_in_order():
    findings = find_all("加微信 abc_12345 或打 138 1234 5678，官网 www.a.com")

    assert [f.kind for f in findings] == [WECHAT, PHONE, URL]
    assert findings[0].start < findings[1].start < findings[2].start


def test_R2_an_email_is_not_also_reported_as_a_url():
    assert [f.kind for f in find_all("a.b@qq.com")] == [EMAIL]


def test_R2_folding_undoes_width_case_numerals_and_separators():
    assert fold("违 禁-词") == "违禁词"
    assert fold("ＡＢＣ") == "abc"
    assert fold("一二三") == "123"
