"""The texts a T-7 path prefills (话术, T-6), with the order's and ticket's values filled in.

TODO(kernel templates): the kernel's template engine (platform defaults + each shop's own templates,
placeholders like {ship_time}, a required one missing is an error naming it) replaces `prefill` here;
callers pass the same situation and values. Until then: plain platform texts, the optional coupon
sentence left out cleanly when there is no coupon, and never a placeholder left unfilled.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

SHIP_TIME_NOTICE = "ship_time_notice"  # 主动告知发货时间，请买家核对地址
SHIPPED_NOTICE = "shipped_notice"  # 已发货通知：快递公司、运单号、发货地
LATE_APOLOGY = "late_apology"  # 发货延迟致歉（可附优惠券）
OUT_OF_STOCK = "out_of_stock"  # 缺货致歉并退款（可附优惠券）
SHIPPED_OFFLINE = "shipped_offline"  # 已线下发货（无运单号）说明

SITUATIONS = (SHIP_TIME_NOTICE, SHIPPED_NOTICE, LATE_APOLOGY, OUT_OF_STOCK, SHIPPED_OFFLINE)


def _coupon(coupon: str) -> str:
    coupon = (coupon or "").strip()
    return _("为表歉意，我们为您准备了%(coupon)s，请注意查收。") % {"coupon": coupon} if coupon else ""


def prefill(situation: str, **values) -> str:
    """The text of `situation` with `values` (ship_time, carrier, tracking_no, ship_from, coupon)."""
    coupon = _coupon(values.get("coupon", ""))
    ship_from = (values.get("ship_from") or "").strip()
    if situation == SHIP_TIME_NOTICE:
        return _(
            "亲，您的订单将于 %(ship_time)s 前发出，请您核对收货地址是否正确，如需修改请及时告诉我们。"
        ) % {"ship_time": values["ship_time"]}
    if situation == SHIPPED_NOTICE:
        text = _("亲，您的订单已发货：%(carrier)s，运单号 %(tracking_no)s。") % {
            "carrier": values["carrier"],
            "tracking_no": values["tracking_no"],
        }
        if ship_from:
            text += _("发货地：%(ship_from)s。") % {"ship_from": ship_from}
        return text + _("物流信息更新可能稍有延迟，请耐心等待。")
    if situation == LATE_APOLOGY:
        return (
            _("非常抱歉，您的订单未能按时发出，给您添麻烦了。我们承诺于 %(ship_time)s 前发货。")
            % {"ship_time": values["ship_time"]}
            + coupon
        )
    if situation == OUT_OF_STOCK:
        return (
            _("非常抱歉，您购买的商品暂时缺货，无法按时发出，我们已为您申请全额退款，款项将原路退回。")
            + coupon
        )
    if situation == SHIPPED_OFFLINE:
        return _(
            "亲，您的订单已通过线下方式发出，运单号已补录：%(carrier)s %(tracking_no)s，请留意物流信息。"
        ) % {
            "carrier": values["carrier"],
            "tracking_no": values["tracking_no"],
        }
    raise ValueError(f"unknown reply situation {situation!r}")
