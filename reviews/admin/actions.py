"""The review actions a workbench page may offer (R-2..R-4): the names selectors.available_actions returns.

Each is the kernel's action-page kit (merchants.kernel.admin.actions) holding the service itself: a small
form on its own page, POSTing back to it; the kit calls `service(review, actor=user, **form.service_kwargs())`
and shows its refusal as a message. Rules live in the services, not here.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from merchants.kernel.admin.actions import ObjectAction
from reviews import forms, selectors, services
from reviews.exceptions import ReplyNotAllowedError
from reviews.transitions import ReplyStatus


def _delete_current_reply(review, *, actor):
    reply = selectors.current_reply(review)
    if reply is None or reply.status != ReplyStatus.APPROVED:
        raise ReplyNotAllowedError(_("该评价没有已通过审核的回复可以删除。"), code="no_reply")
    return services.delete_reply(reply, actor=actor)


REVIEW_ACTIONS: dict[str, ObjectAction] = {
    action.name: action
    for action in (
        ObjectAction(
            "reply",
            _("回复"),
            services.reply,
            forms.ReplyForm,
            _("回复已提交，平台审核通过后展示（订单 %(order_no)s）。"),
            icon="reply",
            variant="primary",
            intro=_(
                "每条评价同时只能有一条回复。回复先经平台审核，通过后展示在商品评价页；被驳回可修改后重新回复。"
            ),
            submit=_("提交回复"),
        ),
        ObjectAction(
            "delete_reply",
            _("删除回复"),
            _delete_current_reply,
            forms.ConfirmForm,
            _("回复已删除，可以重新回复（订单 %(order_no)s）。"),
            icon="delete",
            variant="danger",
            intro=_("删除后商品页不再展示这条回复，评价记录中仍保留原文。删除后可以重新回复。"),
            submit=_("确认删除"),
        ),
        ObjectAction(
            "pin",
            _("置顶"),
            services.pin,
            forms.ConfirmForm,
            _("已置顶（订单 %(order_no)s）。"),
            icon="vertical_align_top",
            variant="primary",
            intro=_("置顶的评价展示在商品评价页最前面。每个商品最多置顶 %(max)d 条；申诉过的评价不能置顶。"),
            submit=_("确认置顶"),
        ),
        ObjectAction(
            "unpin",
            _("取消置顶"),
            services.unpin,
            forms.ConfirmForm,
            _("已取消置顶（订单 %(order_no)s）。"),
            icon="vertical_align_bottom",
            intro=_("取消后该评价按发表时间排列，空出的置顶位可以给其他评价。"),
            submit=_("确认取消置顶"),
        ),
        ObjectAction(
            "appeal",
            _("申诉"),
            services.appeal,
            forms.AppealForm,
            _("申诉已提交，等待平台审核（订单 %(order_no)s）。"),
            icon="gavel",
            variant="danger",
            intro=_(
                "评价发布后 %(days)d 天内可申诉，每条评价只能申诉一次（无论结果）。申诉成功后评价从商品页隐藏、不计入店铺评分；置顶中的评价需先取消置顶。"
            ),
            submit=_("提交申诉"),
        ),
    )
}
