"""Case events stored before sentences were rendered at display time: their Chinese sentence becomes its
key and parameters, so an English reader reads them in English. A message that matches no sentence (a
person's words: a reason, a note) is kept as it is."""

from django.db import migrations

from merchants.kernel.events import recover_params

# Frozen copies of CaseEvent.TEXTS as they were written, by the kinds that used them.
SENTENCES = {
    "approved": {
        "timeout": "商家超时未处理，系统自动同意。",
        "express_refund": "符合极速退款条件（订单金额低于 ¥%(amount)s，下单 %(hours)d 小时内，未发货），系统自动同意。",
        "auto_rule": "命中自动退款规则「%(name)s」，系统自动同意。",
    },
    "proposal_expired": {"proposal_expired": "买家超时未回应协商方案，方案失效，售后单回到待商家处理。"},
    "closed": {
        "rejected_idle": "商家拒绝后买家超时未处理，售后单自动关闭。",
        "return_not_sent": "买家超时未寄回商品，售后单自动关闭。",
    },
    "return_confirmed": {"receipt_timeout": "商家超时未确认收货，系统自动确认。"},
    "advance_paid": {"advance_paid": "货到付款售后超时未上传退款凭证，平台先行赔付。"},
    "exchange_confirmed": {"exchange_timeout": "买家超时未确认，系统自动确认换货完成。"},
    "escalated": {"escalated": "平台介入超过 %(hours)d 小时未判定，已升级至高级客服。"},
    "refunded": {"refunded": "退款已原路退回，支付流水号 %(ref)s。"},
    "refund_failed": {
        "refund_failed": "支付网关连续 %(n)d 次退款失败：%(error)s",
        "over_refundable": "退款金额超过了该商品可退的金额，已停止退款。",
    },
    "return_shipped": {"return_shipped": "%(carrier)s %(tracking)s"},
    "reshipped": {"reshipped": "%(carrier)s %(tracking)s"},
    "arbitrated": {"arbitrated": "%(outcome)s（%(liability)s）"},
}
LABELS = {
    "carrier": {
        "顺丰速运": "sf", "中通快递": "zto", "圆通速递": "yto", "韵达快递": "yunda", "申通快递": "sto",
        "京东物流": "jd", "EMS": "ems", "极兔速递": "jt", "邮政快递包裹": "postal", "其他": "other",
    },
    "outcome": {"支持退款": "refund", "商家补发": "reship", "驳回买家申请": "reject"},
    "liability": {"商家责任": "merchant", "买家责任": "buyer", "双方责任": "both", "无责": "none"},
}  # fmt: skip


def forwards(apps, schema_editor):
    CaseEvent = apps.get_model("aftersales", "CaseEvent")
    rows = CaseEvent.objects.filter(kind__in=SENTENCES, params={}).exclude(message="")
    for event in rows.only("pk", "kind", "message").iterator(chunk_size=2000):
        found = recover_params(event.message, SENTENCES[event.kind], LABELS)
        if found is None:
            continue
        key, params = found
        if key != event.kind:
            params["why"] = key
        CaseEvent.objects.filter(pk=event.pk).update(message="", params=params)


class Migration(migrations.Migration):
    dependencies = [("aftersales", "0006_event_params"), ("merchants", "0004_event_params")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
