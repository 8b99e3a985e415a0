"""Forms of the review action pages and the staff decisions (R-2, R-3, R-4).

They only collect and tidy input: every rule (states, roles, windows, the pin limit, contact details) is
checked by reviews.services, whose refusals the pages show as messages. Images go through
merchants.kernel.uploads (type, size, real decoding) before any service sees them.
"""

from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminRadioSelectWidget, UnfoldAdminSelectWidget, UnfoldAdminTextareaWidget

from merchants.kernel import templates as replies
from merchants.kernel.uploads import EvidenceImagesField
from reviews.transitions import BAD_MAX, DISMISS_REASONS, GOOD_MIN, UPHOLD_REASONS, AppealDecisionReason


def _required_message(label):
    """ "请填写…。" in the reader's language: built when shown, not at import (the label is lazy too)."""
    return lazy(lambda: gettext("请填写%(label)s。") % {"label": label}, str)()


def _text(label, *, required=True, rows=4, placeholder="", help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        strip=True,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": rows, "placeholder": placeholder}),
        error_messages={"required": _required_message(label)},
    )


class ReviewActionForm(forms.Form):
    """Base of the review action forms: knows its review; `service_kwargs()` is what the service receives."""

    def __init__(self, *args, review, **kwargs):
        self.review = review
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class ConfirmForm(ReviewActionForm):
    """Pin, unpin, delete a reply: a POST with the CSRF token."""

    def service_kwargs(self) -> dict:
        return {}


class ReplyForm(ReviewActionForm):
    text = _text(
        _("回复内容"),
        placeholder=_("感谢您的评价……"),
        help_text=_(
            "回复经平台审核后展示在商品评价页。请勿留手机号、微信、QQ、网址或邮箱，否则会被直接驳回。"
        ),
    )

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, review=review, **kwargs)
        # 话术 (T-6): the platform's and the shop's templates for this kind of review, inserted into the
        # text; what is inserted is screened like any reply when it is submitted (reviews.services.screen).
        replies.offer(self.fields["text"], source=review, scenes=(self.template_scene,))

    @property
    def template_scene(self) -> str:
        rating = self.review.product_rating
        if rating >= GOOD_MIN:
            return Scene.REVIEW_GOOD
        return Scene.REVIEW_BAD if rating <= BAD_MAX else Scene.REVIEW_NEUTRAL


class AppealForm(ReviewActionForm):
    reason = _text(
        _("申诉理由"), placeholder=_("例如：该买家为同行，评价内容与所购商品无关（附聊天记录截图）")
    )
    images = EvidenceImagesField(
        label=_("申诉凭证"), required=False, help_text=_("支持 JPG、PNG、WEBP、GIF 图片，最多 9 张。")
    )


class RejectReplyForm(forms.Form):
    """Staff refuse one reply or a batch, with the reason the merchant reads."""

    reason = _text(_("驳回原因"), rows=3, placeholder=_("例如：回复含诱导好评内容"))


Scene = replies.ReplyTemplate.Scene

DECISION_CHOICES = (
    ("uphold", _("申诉成功（隐藏评价，不计入店铺评分）")),
    ("dismiss", _("驳回申诉（评价保留）")),
)


class AppealDecisionForm(forms.Form):
    """R-3: uphold or dismiss, with a standard reason (merchants read consistent reasons) and free text."""

    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=DECISION_CHOICES,
        widget=UnfoldAdminRadioSelectWidget,
        error_messages={"required": _("请选择申诉成功或驳回申诉。")},
    )
    code = forms.ChoiceField(
        label=_("审核结论"),
        required=False,
        choices=[("", _("请选择标准结论"))] + list(AppealDecisionReason.choices),
        widget=UnfoldAdminSelectWidget,
        help_text=lazy(
            lambda: (
                gettext("申诉成功可选：%(uphold)s；驳回可选：%(dismiss)s。")
                % {
                    "uphold": "、".join(str(AppealDecisionReason(c).label) for c in UPHOLD_REASONS[:-1]),
                    "dismiss": "、".join(str(AppealDecisionReason(c).label) for c in DISMISS_REASONS[:-1]),
                }
            ),
            str,
        )(),
    )
    reason = _text(_("审核说明"), required=False, rows=3, help_text=_("选择“其他”或需要补充时填写。"))

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"uphold": data["decision"] == "uphold", "code": data["code"], "reason": data["reason"]}
