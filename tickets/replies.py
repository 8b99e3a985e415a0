"""The texts a T-7 path prefills (话术, T-6): the kernel's reply templates, filled from the ticket.

Each situation has a platform default (scene "服务单处理结果", seeded by the migration
tickets/0002_urge_reply_templates, edited by staff in /admin/), found by its title; a shop that keeps
an enabled template of the same title and scene uses its own instead. Values come from the ticket's
order (merchants.registrations.order_values) and what the merchant entered; the kernel's renderer
leaves an optional part out (the coupon sentence) when it has no value, and refuses a required
placeholder without one with an error naming it — never a literal `{ship_time}` sent out.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _

from merchants.kernel import templates
from merchants.kernel.workflow import ApplicationError

SHIP_TIME_NOTICE = "ship_time_notice"  # 主动告知发货时间，请买家核对地址
SHIPPED_NOTICE = "shipped_notice"  # 已发货通知：快递公司、运单号、发货地
LATE_APOLOGY = "late_apology"  # 发货延迟致歉（可附优惠券）
OUT_OF_STOCK = "out_of_stock"  # 缺货致歉并退款（可附优惠券）
SHIPPED_OFFLINE = "shipped_offline"  # 已线下发货（无运单号）说明

SCENE = templates.ReplyTemplate.Scene.TICKET_RESULT
# situation -> the title of its template (data, as the migration wrote it; not a UI string)
TITLES = {
    SHIP_TIME_NOTICE: "催发货·告知发货时间",
    SHIPPED_NOTICE: "催发货·已发货通知",
    LATE_APOLOGY: "催发货·延迟发货致歉",
    OUT_OF_STOCK: "催发货·缺货致歉并退款",
    SHIPPED_OFFLINE: "催发货·线下已发货补录运单",
}
SITUATIONS = tuple(TITLES)


def template_for(situation: str, *, merchant_id: int) -> templates.ReplyTemplate:
    """The template of `situation` the shop uses: its own of that title, else the platform's."""
    title = TITLES[situation]
    template = (
        templates.templates_for(merchant_id, [SCENE])
        .filter(title=title)
        .order_by(F("merchant_id").asc(nulls_last=True), "position", "pk")
        .first()
    )
    if template is None:
        raise ApplicationError(
            _("话术模板「%(title)s」不存在或已停用，请在回复框中填写处理结果，或请平台恢复该模板。")
            % {"title": title},
            code="template_missing",
        )
    return template


def prefill(situation: str, *, ticket, **values: Any) -> str:
    """The text of `situation` for `ticket`, with the order's values and `values` (typed ones win).

    MissingValuesError (a ValidationError naming each placeholder) when a required one has no value.
    """
    template = template_for(situation, merchant_id=ticket.merchant_id)
    known = templates.values_for(ticket)
    given = {name: templates.as_text(value) for name, value in values.items()}
    return templates.render(template.text, {**known, **{k: v for k, v in given.items() if v}})
