"""Forms of the case action pages (A-4, A-7, A-8, A-9) and of the automation rules (A-12).

They only collect and tidy input: every rule (states, roles, amounts, windows) is checked by
aftersales.services, whose refusals the admin shows as messages. Images go through
merchants.kernel.uploads (type, size, real decoding) before any service sees them.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminRadioSelectWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminSplitDateTimeWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from aftersales.models import MAX_DELAY_DAYS, AutoRefundRule
from aftersales.transitions import (
    ArbitrationOutcome,
    CaseType,
    Liability,
    Reason,
    ShippingStage,
    arbitration_contradiction,
)
from merchants.forms import TrackingFieldsMixin
from merchants.kernel import templates as replies
from merchants.kernel.uploads import EvidenceImageField, EvidenceImagesField
from merchants.transitions import Carrier

Scene = replies.ReplyTemplate.Scene
CARRIER_CHOICES = [("", _("请选择快递公司")), *Carrier.choices]


def _text(label, *, required=True, max_length=500, rows=3, placeholder="", help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": rows, "placeholder": placeholder}),
        error_messages={"required": _("请填写%(label)s。") % {"label": label}},
    )


IMAGES_HELP = _("支持 JPG、PNG、WEBP、GIF 图片，最多 9 张。")


def _images(label, *, required=False):
    return EvidenceImagesField(label=label, required=required, help_text=IMAGES_HELP)


class CaseActionForm(forms.Form):
    """Base of every case action form: knows its case; `service_kwargs()` is what the service receives."""

    def __init__(self, *args, case, **kwargs):
        self.case = case
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class ConfirmForm(CaseActionForm):
    """Actions without input (approve, confirm the return, retry a refund): a POST with the CSRF token."""

    def service_kwargs(self) -> dict:
        return {}


class RejectForm(CaseActionForm):
    reason = _text(_("拒绝原因"), placeholder=_("例如：商品已使用，影响二次销售"))
    attachments = _images(_("凭证图片"))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        replies.offer(self.fields["reason"], source=case, scenes=(Scene.CASE_REJECT,))


class ProposeForm(CaseActionForm):
    """A-8: another solution — a type, an amount (at most what is still refundable), a text for the buyer."""

    type = forms.ChoiceField(
        label=_("协商售后类型"), choices=CaseType.choices, widget=UnfoldAdminSelectWidget
    )
    amount = forms.DecimalField(
        label=_("协商金额（元）"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=UnfoldAdminDecimalFieldWidget,
    )
    text = _text(_("协商方案说明"), placeholder=_("例如：商品有轻微瑕疵，补偿 20 元，无需退货"))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["type"].initial = case.type
        self.fields["amount"].initial = case.amount
        self.fields["amount"].help_text = _("该商品最多可退 ¥%(amount)s。") % {
            "amount": case.item.refundable_amount()
        }

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        refundable = self.case.item.refundable_amount()
        if amount is not None and amount > refundable:
            raise forms.ValidationError(
                _("协商金额不能超过该商品可退的 ¥%(amount)s。") % {"amount": refundable}
            )
        return amount


class RefuseReturnForm(CaseActionForm):
    reason = _text(_("拒绝收货原因"), placeholder=_("例如：退回商品与发出商品不一致"))
    attachments = _images(_("凭证图片"), required=True)


class ReshipForm(TrackingFieldsMixin, CaseActionForm):
    """The replacement's carrier and tracking number: normalised and checked as the ship form's."""


class UploadVoucherForm(CaseActionForm):
    file = EvidenceImageField(
        label=_("线下退款凭证"), help_text=_("货到付款订单线下退款后，上传转账或退款截图。")
    )


class DelayReportForm(CaseActionForm):
    """A-9: reason, the time the merchant expects to finish, proof images."""

    reason = _text(_("报备原因"), placeholder=_("例如：春节物流停运，退货无法按时签收"))
    delay_until = forms.SplitDateTimeField(label=_("预计处理时间"), widget=UnfoldAdminSplitDateTimeWidget)
    images = _images(_("证明图片"), required=True)

    def clean_delay_until(self):
        value = self.cleaned_data["delay_until"]
        now = timezone.now()
        if value is not None and value <= now:
            raise forms.ValidationError(_("预计处理时间必须晚于现在。"))
        if value is not None and value > now + timedelta(days=MAX_DELAY_DAYS):
            raise forms.ValidationError(
                _("预计处理时间最多可报备到 %(days)d 天后。") % {"days": MAX_DELAY_DAYS}
            )
        return value


class MessageForm(CaseActionForm):
    text = _text(
        _("留言内容"),
        required=False,
        max_length=1000,
        placeholder=_("写给买家或平台的说明，会记录在协商记录中"),
    )
    attachments = _images(_("图片"))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        replies.offer(self.fields["text"], source=case, scenes=(Scene.CASE_MESSAGE, Scene.SHIPPING))


class ArbitrateForm(CaseActionForm):
    """A-7: the platform's decision and who is liable."""

    outcome = forms.ChoiceField(
        label=_("判定结果"), choices=ArbitrationOutcome.choices, widget=UnfoldAdminRadioSelectWidget
    )
    liability = forms.ChoiceField(
        label=_("责任方"), choices=Liability.choices, widget=UnfoldAdminRadioSelectWidget
    )
    note = _text(_("判定说明"), required=False, max_length=1000, placeholder=_("写给双方的判定依据"))

    def clean(self):
        cleaned = super().clean()
        problem = arbitration_contradiction(cleaned.get("outcome"), cleaned.get("liability"))
        if problem:
            self.add_error("liability", problem)
        return cleaned


class DelayDecisionForm(forms.Form):
    """A-9: platform staff approve or reject a delay report, with a note."""

    note = _text(_("审核意见"), required=False, max_length=500)

    def __init__(self, *args, report=None, **kwargs):
        self.report = report
        super().__init__(*args, **kwargs)


# ---- automation rules


class AutoRefundRuleForm(forms.ModelForm):
    """A readable rule form: the JSON list fields become checkboxes (none ticked = all)."""

    case_types = forms.MultipleChoiceField(
        label=_("售后类型"),
        choices=CaseType.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=_("不勾选表示全部类型。"),
    )
    shipping_stages = forms.MultipleChoiceField(
        label=_("订单发货状态"),
        choices=ShippingStage.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=_("不勾选表示全部。"),
    )
    reasons = forms.MultipleChoiceField(
        label=_("售后原因"),
        choices=Reason.choices,
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        help_text=_("不勾选表示全部原因。"),
    )

    class Meta:
        model = AutoRefundRule
        fields = [
            "merchant",
            "name",
            "enabled",
            "priority",
            "case_types",
            "shipping_stages",
            "reasons",
            "max_amount",
            "max_hours_since_order",
            "max_hours_since_delivery",
        ]
        widgets = {
            "enabled": UnfoldBooleanSwitchWidget,
            "name": UnfoldAdminTextInputWidget,
            "priority": UnfoldAdminIntegerFieldWidget,
            "max_amount": UnfoldAdminDecimalFieldWidget,
            "max_hours_since_order": UnfoldAdminIntegerFieldWidget,
            "max_hours_since_delivery": UnfoldAdminIntegerFieldWidget,
        }

    def clean(self):
        cleaned = super().clean()
        limits = ("max_amount", "max_hours_since_order", "max_hours_since_delivery")
        if not any(cleaned.get(name) not in (None, "") for name in limits) and not any(
            cleaned.get(name) for name in ("case_types", "shipping_stages", "reasons")
        ):
            raise forms.ValidationError(
                _("规则至少要有一个条件（类型、发货状态、原因、金额上限或时限），否则会同意所有申请。")
            )
        return cleaned
