"""The case's moves on pages of their own (A-4, A-6, A-7, A-8, A-9), and the bulk moves of the case list (A-6, A-10).

Each is the kernel's kit (merchants.kernel.admin.actions) holding the service itself; who may see a
button, and when, is the state machine's (aftersales/transitions.py CASE_MOVES, by the action's name).
Rules live in the services, which are called with `actor=request.user` and the form's cleaned data.
"""

from __future__ import annotations

from django.db.models import Count
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales import forms, selectors, services
from aftersales.admin.display import countdown, money, status_badge
from aftersales.filters import due_soon_hours
from aftersales.models import AfterSaleCase
from aftersales.transitions import CASE_MOVES, CaseType
from merchants.kernel.admin.actions import BulkAction, ObjectAction, ObjectActionsMixin
from merchants.transitions import Carrier

RETURN_TYPES = forms.RETURN_TYPES  # approving these sends the buyer to a return address

CASE_ACTIONS: dict[str, ObjectAction] = {
    action.name: action
    for action in (
        ObjectAction(
            "approve",
            _("同意"),
            services.approve,
            forms.ApproveForm,
            _("已同意售后单 %(case_no)s。"),
            icon="check_circle",
            variant="primary",
            intro=_(
                "同意后：仅退款立即退款（货到付款需线下退款并上传凭证）；退货退款、换货等待买家寄回商品。"
            ),
            submit=_("确认同意"),
        ),
        ObjectAction(
            "reject",
            _("拒绝"),
            services.reject,
            forms.RejectForm,
            _("已拒绝售后单 %(case_no)s。"),
            icon="block",
            variant="danger",
            intro=_("请写明拒绝原因并上传凭证。买家可修改申请，或申请平台介入。"),
            submit=_("确认拒绝"),
        ),
        ObjectAction(
            "propose",
            _("协商"),
            services.propose,
            forms.ProposeForm,
            _("协商方案已发送给买家（售后单 %(case_no)s）。"),
            icon="handshake",
            intro=_(
                "向买家提出其他解决方案。买家接受后按新方案处理；拒绝或超时则回到待处理，您的处理时限继续计算。"
            ),
            submit=_("发送协商方案"),
        ),
        ObjectAction(
            "revise_proposal",
            _("修改协商方案"),
            services.revise_proposal,
            forms.ReviseProposalForm,
            _("协商方案已修改，买家将看到新方案（售后单 %(case_no)s）。"),
            icon="edit",
            intro=_("买家尚未回应时可以修改方案。方案有效期不变，从第一次发起协商时计算。"),
            submit=_("发送新方案"),
        ),
        ObjectAction(
            "withdraw_proposal",
            _("撤回协商"),
            services.withdraw_proposal,
            forms.ConfirmForm,
            _("已撤回协商方案，售后单 %(case_no)s 回到待商家处理。"),
            icon="undo",
            intro=_("撤回后售后单回到待商家处理，处理时限仍按买家申请时计算，不会重新开始。"),
            submit=_("确认撤回"),
        ),
        ObjectAction(
            "confirm_return",
            _("确认收货"),
            services.confirm_return,
            forms.ConfirmForm,
            _("已确认收到退货（售后单 %(case_no)s）。"),
            icon="inventory",
            variant="primary",
            intro=_(
                "确认已收到买家退回的商品：在线支付订单立即退款，货到付款订单需线下退款并上传凭证，换货需补发商品。"
            ),
            submit=_("确认收货"),
        ),
        ObjectAction(
            "refuse_return",
            _("拒绝收货"),
            services.refuse_return,
            forms.RefuseReturnForm,
            _("已拒绝收货，售后单 %(case_no)s 转平台介入。"),
            icon="do_not_disturb_on",
            variant="danger",
            intro=_("退回的商品有问题时拒绝收货：请写明原因并上传凭证，售后单将由平台客服判定。"),
            submit=_("确认拒绝收货"),
        ),
        ObjectAction(
            "reship",
            _("补发"),
            services.reship,
            forms.ReshipForm,
            _("补发物流已提交（售后单 %(case_no)s）。"),
            icon="local_shipping",
            variant="primary",
            intro=_("填写补发商品的快递公司和运单号。"),
            submit=_("提交补发物流"),
        ),
        ObjectAction(
            "upload_voucher",
            _("上传退款凭证"),
            services.upload_voucher,
            forms.UploadVoucherForm,
            _("退款凭证已上传，售后单 %(case_no)s 退款完成。"),
            icon="receipt",
            variant="primary",
            intro=_("货到付款订单由商家线下退款。退款后上传凭证，否则超时将由平台先行赔付并记录违规。"),
            submit=_("上传凭证"),
        ),
        ObjectAction(
            "file_delay_report",
            _("延迟报备"),
            services.file_delay_report,
            forms.DelayReportForm,
            _("延迟售后报备已提交，等待平台审核（售后单 %(case_no)s）。"),
            icon="schedule",
            intro=_("因不可抗力等原因无法按时处理时报备。平台审核通过后，该售后单不计入考核数据。"),
            submit=_("提交报备"),
        ),
        ObjectAction(
            "add_message",
            _("留言"),
            services.add_message,
            forms.MessageForm,
            _("留言已记录在协商记录中（售后单 %(case_no)s）。"),
            icon="chat",
            intro=_("留言会记录在协商记录中，买家和平台都能看到。"),
            submit=_("发送留言"),
        ),
        ObjectAction(
            "arbitrate",
            _("平台判定"),
            services.arbitrate,
            forms.ArbitrateForm,
            _("已判定售后单 %(case_no)s。"),
            icon="gavel",
            variant="primary",
            intro=_("查看双方凭证后判定结果与责任方。判定商家责任的售后单计入商家纠纷率。"),
            submit=_("提交判定"),
            platform_only=True,
        ),
        ObjectAction(
            "retry_refund",
            _("重新退款"),
            services.retry_refund,
            forms.ConfirmForm,
            _("已重新发起退款（售后单 %(case_no)s）。"),
            icon="replay",
            variant="primary",
            intro=_(
                "退款多次失败后已暂停。确认支付渠道问题已解决后，重新发起退款（同一售后单最多退款一次）。"
            ),
            submit=_("重新发起退款"),
            platform_only=True,
        ),
    )
}


def actions_for_site(platform_site: bool) -> dict[str, ObjectAction]:
    """The actions a site offers: the workbench never arbitrates or retries refunds."""
    return {
        name: action for name, action in CASE_ACTIONS.items() if platform_site or not action.platform_only
    }


# ---- bulk moves of the case list


def approve_breakdown(queryset) -> list[str]:
    """What approving does to each type in the selection (issue 11 §7: 退款 / 退货 / 换货)."""
    rows = AfterSaleCase.objects.filter(pk__in=queryset.values("pk")).values("type").annotate(n=Count("pk"))
    counts = {row["type"]: row["n"] for row in rows.order_by()}
    lines = []
    if counts.get(CaseType.REFUND_ONLY):
        lines.append(
            gettext("仅退款 %(n)d 单：同意退款，立即退款（货到付款需线下退款并上传凭证）")
            % {"n": counts[CaseType.REFUND_ONLY]}
        )
    if counts.get(CaseType.RETURN_REFUND):
        lines.append(
            gettext("退货退款 %(n)d 单：同意退货，买家按退货地址寄回后再退款")
            % {"n": counts[CaseType.RETURN_REFUND]}
        )
    if counts.get(CaseType.EXCHANGE):
        lines.append(
            gettext("换货 %(n)d 单：同意换货，买家寄回后补发商品") % {"n": counts[CaseType.EXCHANGE]}
        )
    return lines


BULK_APPROVE = BulkAction(
    "bulk_approve_selected",
    _("批量同意（退款 / 退货 / 换货）"),
    batch=services.bulk_approve,  # each case through its own transition, with its own result
    intro=_("只处理待商家处理的售后单，每单按其类型处理："),
    money_field="amount",
    money_label=_("申请金额"),
    submit=_("确认同意"),
    result_title=_("批量同意结果"),
    form_class=forms.BulkApproveForm,
    question=_("确认同意 %(count)d 个售后单，共 %(total)s？"),
    breakdown=approve_breakdown,
)

BULK_REJECT = BulkAction(
    "bulk_reject_selected",
    _("批量拒绝"),
    batch=services.bulk_reject,  # each case refused on its own, with the same reason
    intro=_("所选的待处理售后单将以同一个原因拒绝，买家可修改申请或申请平台介入。"),
    money_field="amount",
    money_label=_("申请金额"),
    submit=_("确认拒绝"),
    variant="danger",
    result_title=_("批量拒绝结果"),
    form_class=forms.BulkRejectForm,
    question=_("确认拒绝 %(count)d 个售后单，共 %(total)s？"),
)

BULK_CONFIRM_RETURN = BulkAction(
    "bulk_confirm_return_selected",
    _("批量确认收货"),
    batch=services.bulk_confirm_return,  # each case's receipt confirmed on its own
    intro=_(
        "确认已收到买家退回的商品：在线支付订单立即退款，货到付款订单需线下退款并上传凭证，换货需补发商品。"
    ),
    money_field="amount",
    money_label=_("申请金额"),
    submit=_("确认收货"),
    result_title=_("批量确认收货结果"),
    question=_("确认收到 %(count)d 个售后单的退货，共 %(total)s？"),
)

BULK_RETRY_REFUND = BulkAction(
    "retry_refund_selected",
    _("重新退款"),
    service=services.retry_refund,  # only flagged refunds; each refusal is shown per case
    done=_("已重新发起退款"),
    intro=_("只会重新发起多次失败后已暂停的退款；其他售后单会在结果中说明原因。"),
    money_field="amount",
    money_label=_("申请金额"),
    submit=_("确认重新退款"),
    result_title=_("重新退款结果"),
)


def carrier_label(code: str) -> str:
    try:
        return str(Carrier(code).label)
    except ValueError:
        return code or "-"


class CaseActionPagesMixin(ObjectActionsMixin):
    """The case's action pages: the kit, with the case's summary and what arbitration shows."""

    object_actions = tuple(CASE_ACTIONS.values())
    action_url_name = "action"  # <id>/action/<name>/, named aftersales_aftersalecase_action
    action_form_object = "case"
    action_number_field = "case_no"
    action_summary_id = "case-summary"
    bulk_object_column = _("售后单号")

    moves = CASE_MOVES
    action_template = "aftersales/case_action.html"

    def bulk_object_label(self, obj) -> str:
        return obj.case_no

    def bulk_object_state(self, obj) -> str:
        return status_badge(obj)

    def action_summary(self, request, case) -> list[tuple]:
        shown = countdown(case.deadline_at, due_soon_hours=due_soon_hours(request))
        summary = [
            (_("售后单号"), case.case_no),
            (_("售后状态"), status_badge(case)),
            (_("类型 / 原因"), f"{case.get_type_display()} · {case.get_reason_display()}"),
            (
                _("申请金额"),
                format_html(
                    '<span class="font-semibold text-important">{}</span> <span class="text-base-500">{}</span>',
                    money(case.amount),
                    _("（可退 %(amount)s）") % {"amount": money(case.item.refundable_amount())},
                ),
            ),
            (_("订单号"), case.order_no),
        ]
        if shown["text"]:
            summary.append(
                (
                    _("处理倒计时"),
                    format_html(
                        '<span class="{}">{}</span>',
                        "font-semibold text-red-600" if shown["due_soon"] else "",
                        shown["text"],
                    ),
                )
            )
        return summary

    def action_context(self, request, case, action, form) -> dict:
        context = {"case": case}
        if action.name == "approve" and case.type in RETURN_TYPES:
            # Approving sends the buyer to a return address: the form picks it; warn when the shop has none.
            context["case_return_address"] = self.return_address(request, case, on_approve=True)
            context["return_address_on_approve"] = True
        if action.name == "arbitrate":
            events = list(selectors.timeline(case))
            context["case_evidence"] = self.evidence_by_party(events)
            context["case_timeline"] = self.timeline_rows(case, events)
        return context


__all__ = [
    "BULK_APPROVE",
    "BULK_CONFIRM_RETURN",
    "BULK_REJECT",
    "BULK_RETRY_REFUND",
    "CASE_ACTIONS",
    "CaseActionPagesMixin",
    "actions_for_site",
    "carrier_label",
]
