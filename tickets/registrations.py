"""What tickets give the kernel's registries: notice kinds, violation rule names, reply-template values (T-6).

Imported once from TicketsConfig.ready(), so web and worker processes alike know them. Notices are stored
as kind + params and read in the reader's language from the texts here.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from merchants.kernel import files, notices, templates
from merchants.registrations import order_values
from tickets.models import Ticket, TicketAttachment
from tickets.services.effects import (
    APPROVED_NOTICE,
    OPENED_NOTICE,
    OVERDUE_NOTICE,
    OVERDUE_RULE,
    REJECTED_NOTICE,
    REVIEW_LATE_NOTICE,
    SHIP_COMMIT_NOTICE,
    SHIP_COMMIT_RULE,
)


def ticket_link(params: dict[str, Any], site: str) -> str:
    return reverse(f"{site}:tickets_ticket_change", args=[params["ticket_id"]])


notices.register_kind(
    OPENED_NOTICE,
    title=_("新服务单 %(no)s，请在时限内处理"),
    body=_("平台客服根据买家反馈发起了服务单，请查看买家诉求并提交处理结果。"),
    link=ticket_link,
)
notices.register_kind(
    APPROVED_NOTICE,
    title=_("服务单 %(no)s 的处理结果已审核通过"),
    body=_("服务单已关闭。"),
    link=ticket_link,
)
notices.register_kind(
    REJECTED_NOTICE, title=_("服务单 %(no)s 的处理结果被驳回，请重新处理"), link=ticket_link
)
notices.register_kind(
    OVERDUE_NOTICE,
    title=_("服务单 %(no)s 已超时未处理，已记录违规"),
    body=_("服务单已超过处理时限，平台已记录违规（扣 %(points)d 分）并升级处理，请尽快提交处理结果。"),
    link=ticket_link,
)
notices.register_kind(REVIEW_LATE_NOTICE, title=_("服务单 %(no)s 审核超时，请高级客服处理"), link=ticket_link)
notices.register_kind(
    SHIP_COMMIT_NOTICE,
    title=_("服务单 %(no)s：未按承诺时间发货，已记录违规"),
    body=_("您在服务单中承诺的发货时间已到，订单仍未发货。"),
    link=ticket_link,
)

notices.register_rule(OVERDUE_RULE, _("服务单超时未处理"))
notices.register_rule(SHIP_COMMIT_RULE, _("未按承诺时间发货"))


def ticket_values(ticket: Ticket) -> dict[str, Any]:
    """A ticket fills what its order knows (the promise, the parcel); without an order, nothing."""
    return order_values(ticket.order) if ticket.order_id else {}


templates.register_source(Ticket, ticket_values)
files.register(TicketAttachment, kind="ticket")
