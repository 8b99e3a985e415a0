"""The platform's default texts of the T-7 guided urge-shipment answers (话术, SPEC T-6), in our own words.

Kernel reply templates (merchants.ReplyTemplate, scene "ticket_result", no shop) that tickets.replies
looks up by title; a shop's own enabled template of the same title and scene is used instead. Data, not
UI strings: the texts are Chinese as merchants send them, and staff edit them in /admin/.
"""

from django.db import migrations

SCENE = "ticket_result"

# (position, title, text): the titles are the keys of tickets.replies.TITLES.
DEFAULTS = [
    (
        110,
        "催发货·告知发货时间",
        "亲，您的订单我们会在{ship_time}前发出。发货前请核对收货地址和联系电话是否正确，"
        "如需修改请及时告诉我们，发出后会第一时间通知您。",
    ),
    (
        120,
        "催发货·已发货通知",
        "亲，您的订单已发货：{carrier}，运单号{tracking_no}。[发货地：{ship_from}。]"
        "物流信息更新可能稍有延迟，请耐心等待。",
    ),
    (
        130,
        "催发货·延迟发货致歉",
        "非常抱歉，您的订单未能按时发出，给您添麻烦了。我们承诺于{ship_time}前发货。"
        "[为表歉意，我们为您准备了{coupon}，请注意查收。]",
    ),
    (
        140,
        "催发货·缺货致歉并退款",
        "非常抱歉，您购买的商品暂时缺货，无法按时发出，我们已为您申请全额退款，款项将原路退回。"
        "[为表歉意，我们为您准备了{coupon}，请注意查收。]",
    ),
    (
        150,
        "催发货·线下已发货补录运单",
        "亲，您的订单已通过线下方式发出，运单号已补录：{carrier} {tracking_no}，请留意物流信息。"
        "如果您已经申请了退款，麻烦先撤销申请，以免包裹被退回。",
    ),
]


def add_defaults(apps, schema_editor):
    ReplyTemplate = apps.get_model("merchants", "ReplyTemplate")
    for position, title, text in DEFAULTS:
        ReplyTemplate.objects.get_or_create(
            merchant=None,
            scene=SCENE,
            title=title,
            defaults={"text": text, "position": position, "enabled": True},
        )


def remove_defaults(apps, schema_editor):
    ReplyTemplate = apps.get_model("merchants", "ReplyTemplate")
    ReplyTemplate.objects.filter(merchant=None, scene=SCENE, title__in=[t for _p, t, _x in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_tickets_events_attachments_settings"),
        ("merchants", "0008_reply_template_defaults"),
    ]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
