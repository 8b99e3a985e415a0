"""What after-sales gives the kernel's registries: its notice kinds, its violation rules' names, and the
reply-template values of a case (T-6).

Imported once from AftersalesConfig.ready(), so web and worker processes alike know them. Notices are
stored as kind + params and read in the reader's language from the texts here.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersales.models import AfterSaleCase, CaseEvent
from aftersales.transitions import ArbitrationOutcome, Liability
from merchants.kernel import notices, templates
from merchants.registrations import order_values
from merchants.transitions import Carrier

REFUND_FAILED = "aftersales.refund_failed"
ADVANCE_PAID = "aftersales.advance_paid"
ESCALATED = "aftersales.escalated"
ARBITRATED = "aftersales.arbitrated"
DELAY_APPROVED = "aftersales.delay_report_approved"
DELAY_REJECTED = "aftersales.delay_report_rejected"
# aftersales.services.deadlines.VOUCHER_TIMEOUT_RULE (not imported: the services import this module)
VOUCHER_TIMEOUT_RULE = "aftersales_voucher_timeout"


def case_link(params: dict[str, Any], site: str) -> str:
    return reverse(f"{site}:aftersales_aftersalecase_change", args=[params["case_id"]])


# Platform staff (audience platform)
notices.register_kind(
    REFUND_FAILED,
    title=_("售后单 %(no)s 退款失败，需要人工处理"),
    body=CaseEvent.TEXTS[CaseEvent.Kind.REFUND_FAILED],
    link=case_link,
)
notices.register_kind(
    ESCALATED,
    title=_("平台介入售后单 %(no)s 超过 %(hours)d 小时未判定，已升级"),
    link=case_link,
)

# The shop (audience merchant): the platform's decisions and what it did in the shop's stead
notices.register_kind(
    ADVANCE_PAID,
    title=_("售后单 %(no)s 超时未上传退款凭证，平台已先行赔付"),
    body=_("平台已向买家先行赔付 ¥%(amount)s，并记录违规（%(points)d 分）。"),
    link=case_link,
)
notices.register_kind(
    ARBITRATED,
    title=_("平台已判定售后单 %(no)s：%(outcome)s"),
    body=_("责任方：%(liability)s。"),
    choices={"outcome": ArbitrationOutcome, "liability": Liability},
    link=case_link,
)
notices.register_kind(
    DELAY_APPROVED,
    title=_("售后单 %(no)s 的延迟报备已通过"),
    body=_("该售后单不计入考核数据。"),
    link=case_link,
)
notices.register_kind(
    DELAY_REJECTED,
    title=_("售后单 %(no)s 的延迟报备被驳回"),
    link=case_link,
)

notices.register_rule(VOUCHER_TIMEOUT_RULE, _("货到付款售后超时未上传退款凭证（平台先行赔付）"))


def case_values(case: AfterSaleCase) -> dict[str, Any]:
    """A case fills what its order knows, about the item's own parcel — or the reship, once sent."""
    item = case.item
    values = order_values(case.order, package=item.package if item.package_id else None)
    if case.reship_tracking_no:
        try:
            carrier = Carrier(case.reship_carrier).label
        except ValueError:
            carrier = case.reship_carrier
        values.update(carrier=carrier, tracking_no=case.reship_tracking_no, ship_time=case.reshipped_at)
    return values


templates.register_source(AfterSaleCase, case_values)
