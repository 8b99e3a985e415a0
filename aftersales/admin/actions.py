"""The case actions a page may offer (A-4): the names selectors.available_actions returns, with their forms.

Each action is a small form on its own page, POSTing back to it; the view calls the service named here
with `actor=request.user` and the form's cleaned data. Rules live in the services, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from aftersales import forms


@dataclass(frozen=True)
class CaseAction:
    name: str  # as selectors.available_actions names it; also the service function and the URL part
    label: str
    form_class: type[forms.CaseActionForm]
    done: str  # the success message (may use %(case_no)s)
    icon: str = ""
    variant: str = "default"  # unfold button variant: primary | danger | default
    intro: str = ""  # what happens, shown above the form
    submit: str = ""
    platform: bool = False  # offered on /admin/ only

    @property
    def takes_input(self) -> bool:
        return self.form_class is not forms.ConfirmForm


CASE_ACTIONS: dict[str, CaseAction] = {
    action.name: action
    for action in (
        CaseAction(
            "approve",
            _("同意"),
            forms.ConfirmForm,
            _("已同意售后单 %(case_no)s。"),
            icon="check_circle",
            variant="primary",
            intro=_(
                "同意后：仅退款立即退款（货到付款需线下退款并上传凭证）；退货退款、换货等待买家寄回商品。"
            ),
            submit=_("确认同意"),
        ),
        CaseAction(
            "reject",
            _("拒绝"),
            forms.RejectForm,
            _("已拒绝售后单 %(case_no)s。"),
            icon="block",
            variant="danger",
            intro=_("请写明拒绝原因并上传凭证。买家可修改申请，或申请平台介入。"),
            submit=_("确认拒绝"),
        ),
        CaseAction(
            "propose",
            _("协商"),
            forms.ProposeForm,
            _("协商方案已发送给买家（售后单 %(case_no)s）。"),
            icon="handshake",
            intro=_(
                "向买家提出其他解决方案。买家接受后按新方案处理；拒绝或超时则回到待处理，您的处理时限继续计算。"
            ),
            submit=_("发送协商方案"),
        ),
        CaseAction(
            "confirm_return",
            _("确认收货"),
            forms.ConfirmForm,
            _("已确认收到退货（售后单 %(case_no)s）。"),
            icon="inventory",
            variant="primary",
            intro=_(
                "确认已收到买家退回的商品：在线支付订单立即退款，货到付款订单需线下退款并上传凭证，换货需补发商品。"
            ),
            submit=_("确认收货"),
        ),
        CaseAction(
            "refuse_return",
            _("拒绝收货"),
            forms.RefuseReturnForm,
            _("已拒绝收货，售后单 %(case_no)s 转平台介入。"),
            icon="do_not_disturb_on",
            variant="danger",
            intro=_("退回的商品有问题时拒绝收货：请写明原因并上传凭证，售后单将由平台客服判定。"),
            submit=_("确认拒绝收货"),
        ),
        CaseAction(
            "reship",
            _("补发"),
            forms.ReshipForm,
            _("补发物流已提交（售后单 %(case_no)s）。"),
            icon="local_shipping",
            variant="primary",
            intro=_("填写补发商品的快递公司和运单号。"),
            submit=_("提交补发物流"),
        ),
        CaseAction(
            "upload_voucher",
            _("上传退款凭证"),
            forms.UploadVoucherForm,
            _("退款凭证已上传，售后单 %(case_no)s 退款完成。"),
            icon="receipt",
            variant="primary",
            intro=_("货到付款订单由商家线下退款。退款后上传凭证，否则超时将由平台先行赔付并记录违规。"),
            submit=_("上传凭证"),
        ),
        CaseAction(
            "file_delay_report",
            _("延迟报备"),
            forms.DelayReportForm,
            _("延迟售后报备已提交，等待平台审核（售后单 %(case_no)s）。"),
            icon="schedule",
            intro=_("因不可抗力等原因无法按时处理时报备。平台审核通过后，该售后单不计入考核数据。"),
            submit=_("提交报备"),
        ),
        CaseAction(
            "add_message",
            _("留言"),
            forms.MessageForm,
            _("留言已记录在协商记录中（售后单 %(case_no)s）。"),
            icon="chat",
            intro=_("留言会记录在协商记录中，买家和平台都能看到。"),
            submit=_("发送留言"),
        ),
        CaseAction(
            "arbitrate",
            _("平台判定"),
            forms.ArbitrateForm,
            _("已判定售后单 %(case_no)s。"),
            icon="gavel",
            variant="primary",
            intro=_("查看双方凭证后判定结果与责任方。判定商家责任的售后单计入商家纠纷率。"),
            submit=_("提交判定"),
            platform=True,
        ),
        CaseAction(
            "retry_refund",
            _("重新退款"),
            forms.ConfirmForm,
            _("已重新发起退款（售后单 %(case_no)s）。"),
            icon="replay",
            variant="primary",
            intro=_(
                "退款多次失败后已暂停。确认支付渠道问题已解决后，重新发起退款（同一售后单最多退款一次）。"
            ),
            submit=_("重新发起退款"),
            platform=True,
        ),
    )
}


def actions_for_site(platform_site: bool) -> dict[str, CaseAction]:
    """The actions a site offers: the workbench never arbitrates or retries refunds."""
    return {name: action for name, action in CASE_ACTIONS.items() if platform_site or not action.platform}
