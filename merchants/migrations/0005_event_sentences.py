"""Order events stored before sentences were rendered at display time: their Chinese sentence becomes
its key and parameters, so an English reader reads them in English. A message that matches no sentence
(a person's words) is kept as it is."""

from django.db import migrations

from merchants.kernel.events import recover_params

# Frozen copies of OrderEvent.TEXTS as they were written (keys: a kind, or a "why").
SENTENCES = {
    "shipped": "%(carrier)s %(tracking)s，%(count)d 件商品",
    "tracking_changed": "运单 %(old)s 改为 %(carrier)s %(new)s",
    "auto_cancelled": "超时未付款，系统自动取消",
    "auto_received": "买家超时未确认，系统自动确认收货",
    "shipping_settled": "剩余商品已全部退款，订单视为已发货。",
    "all_refunded": "全部商品已退款，交易关闭",
}
CARRIERS = {
    "顺丰速运": "sf", "中通快递": "zto", "圆通速递": "yto", "韵达快递": "yunda", "申通快递": "sto",
    "京东物流": "jd", "EMS": "ems", "极兔速递": "jt", "邮政快递包裹": "postal", "其他": "other",
}  # fmt: skip


def forwards(apps, schema_editor):
    OrderEvent = apps.get_model("merchants", "OrderEvent")
    rows = OrderEvent.objects.exclude(message="").filter(params={}).only("pk", "kind", "message")
    for event in rows.iterator(chunk_size=2000):
        sentences = {k: v for k, v in SENTENCES.items() if k == event.kind or k not in _KINDS}
        found = recover_params(event.message, sentences, {"carrier": CARRIERS})
        if found is None:
            continue
        key, params = found
        if key != event.kind:
            params["why"] = key
        OrderEvent.objects.filter(pk=event.pk).update(message="", params=params)


_KINDS = {"shipped", "tracking_changed", "auto_cancelled", "auto_received", "shipping_settled"}


class Migration(migrations.Migration):
    dependencies = [("merchants", "0004_event_params")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
