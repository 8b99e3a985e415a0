"""The ticket actions a page may offer: the names selectors.available_actions returns, with their forms.

Each is the kernel's action-page kit (merchants.kernel.admin.actions, as aftersales/admin/actions.py)
holding the service itself: a small form on its own page, POSTing back to it; the kit calls the service
with `actor=request.user` and the form's service_kwargs(). The guided urge-shipment page (T-7) offers
one form per path of the order's situation. Rules live in the services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from merchants.kernel.admin.actions import ObjectAction
from tickets import forms, services
from tickets.transitions import UrgePath

ACTIONS: dict[str, ObjectAction] = {
    action.name: action
    for action in (
        ObjectAction(
            "submit_result",
            _("提交处理结果"),
            services.submit_result,
            forms.SubmitResultForm,
            _("处理结果已提交，等待平台审核（服务单 %(ticket_no)s）。"),
            icon="send",
            variant="primary",
            intro=_("写明处理方式和结果，可附凭证图片。平台客服审核通过后服务单关闭，驳回后需重新处理。"),
            submit=_("提交处理结果"),
        ),
        ObjectAction(
            "approve",
            _("审核通过"),
            services.review_result,
            forms.ApproveForm,
            _("已审核通过，服务单 %(ticket_no)s 已关闭。"),
            icon="check_circle",
            variant="primary",
            intro=_("确认商家的处理结果解决了买家的问题。投诉类服务单须判定责任方。"),
            submit=_("确认通过并关闭"),
            platform_only=True,
        ),
        ObjectAction(
            "reject",
            _("驳回"),
            services.review_result,
            forms.RejectForm,
            _("已驳回，服务单 %(ticket_no)s 退回商家重新处理。"),
            icon="undo",
            variant="danger",
            intro=_("写明驳回原因。服务单回到待处理，商家须在时限内重新处理。"),
            submit=_("确认驳回"),
            platform_only=True,
        ),
    )
}

# The guided urge-shipment page (action "urge": TicketAdmin.urge_view): one form per path (T-7), each
# with its own service (URGE_OPTIONS); the action itself calls none.
URGE = ObjectAction(
    "urge",
    _("催发货处理"),
    None,
    icon="local_shipping",
    variant="primary",
    intro=_("按订单的实际情况选择一种处理方式：系统会完成发货、承诺发货时间或退款，并填好回复买家的话术。"),
    template="tickets/ticket_urge.html",
)


@dataclass(frozen=True)
class UrgeOption:
    path: str
    label: str
    form_class: type[forms.TicketActionForm]
    service: Callable[..., Any]  # service(ticket, actor=user, **form.service_kwargs())
    done: str
    intro: str
    submit: str


URGE_OPTIONS: dict[str, UrgeOption] = {
    option.path: option
    for option in (
        UrgeOption(
            UrgePath.TRACKING,
            UrgePath.TRACKING.label,
            forms.TrackingForm,
            services.answer_with_tracking,
            _("已补录运单号并发货，处理结果已提交（服务单 %(ticket_no)s）。"),
            _("已通过线下方式发货但没有录入运单号：补录后订单的全部待发商品随该运单发出。"),
            _("补录运单并提交"),
        ),
        UrgeOption(
            UrgePath.SHIP_TIME,
            UrgePath.SHIP_TIME.label,
            forms.ShipTimeForm,
            services.answer_with_ship_time,
            _("已承诺发货时间，处理结果已提交（服务单 %(ticket_no)s）。"),
            _("承诺一个整点发货时间。到时仍未发货将按未按承诺时间发货记录违规。"),
            _("承诺并提交"),
        ),
        UrgeOption(
            UrgePath.OUT_OF_STOCK,
            UrgePath.OUT_OF_STOCK.label,
            forms.RefundForm,
            services.answer_with_refund,
            _("已为买家退款，处理结果已提交（服务单 %(ticket_no)s）。"),
            _("商品缺货无法发出：为每件待发商品发起仅退款并立即同意（买家已申请的退款直接同意）。"),
            _("退款并提交"),
        ),
    )
}


def actions_for_site(platform_site: bool) -> dict[str, ObjectAction]:
    """The actions a site offers: the workbench answers, /admin/ reviews."""
    offered = {name: a for name, a in ACTIONS.items() if a.platform_only == platform_site}
    if not platform_site:
        offered[URGE.name] = URGE
    return offered
