"""The platform's default reply templates (话术, SPEC T-6): the situations of seed 001, in our own words.

Data, not UI strings: the texts are Chinese as merchants send them, and staff edit them in /admin/.
"""

from django.db import migrations

SHIPPING = "shipping"

DEFAULTS = [
    (
        10,
        "主动告知发货时间",
        "亲，小店已收到您的订单，请核对一下收货地址和联系电话是否正确哦。"
        "小店承诺{promised_hours}小时内发货，您的宝贝预计在{ship_time}前发出，发出后会第一时间告诉您。",
    ),
    (
        20,
        "发货通知",
        "亲，您的宝贝已于{ship_time}从{ship_from}由{carrier}发出，运单号{tracking_no}。"
        "可以在订单的物流详情或快递公司官网查看进度，有任何问题随时联系我们。",
    ),
    (
        30,
        "延迟发货致歉",
        "亲，非常抱歉，因为{reason}，您的订单没能按时发出，给您添麻烦了。"
        "我们正在加紧处理，承诺在{ship_time}前为您发货。"
        "[如果您愿意等待，发货后我们会送上一张{coupon}优惠券，聊表歉意。]"
        "如果不方便等待，您可以申请退款，我们会马上处理。",
    ),
    (
        40,
        "缺货致歉并退款",
        "亲，实在非常抱歉，因为{reason}，您购买的宝贝暂时无法发货。我们马上为您办理退款，款项会原路退回。"
        "[另外送您一张{coupon}优惠券，欢迎再来看看店里的其他宝贝。]再次向您致歉，希望您能谅解。",
    ),
    (
        50,
        "已线下发货说明",
        "亲，别着急，帮您查过了，您的宝贝已经发出，{carrier}运单号{tracking_no}。"
        "快递公司一般在揽收后24小时内更新物流信息，请再耐心等一等；如果之后还是没有消息，随时联系我们。"
        "如果您已经申请了退款，麻烦先撤销申请，以免包裹被退回。",
    ),
]


def add_defaults(apps, schema_editor):
    ReplyTemplate = apps.get_model("merchants", "ReplyTemplate")
    for position, title, text in DEFAULTS:
        ReplyTemplate.objects.get_or_create(
            merchant=None,
            scene=SHIPPING,
            title=title,
            defaults={"text": text, "position": position, "enabled": True},
        )


def remove_defaults(apps, schema_editor):
    ReplyTemplate = apps.get_model("merchants", "ReplyTemplate")
    ReplyTemplate.objects.filter(merchant=None, scene=SHIPPING, title__in=[t for _p, t, _x in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("merchants", "0007_reply_templates")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
