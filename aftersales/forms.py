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
from django.utils.functional import lazy
from django.utils.translation import gettext
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

from aftersales.models import MAX_DELAY_DAYS, AutoRefundRule, RejectReason, ReturnAddress
from aftersales.services.addresses import adopt_settings_address, default_addresses
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
# approving these sends the buyer to a return address.
RETURN_TYPES = frozenset({CaseType.RETURN_REFUND, CaseType.EXCHANGE})
NO_ADDRESS_CONSENT = _("我知道店铺没有退货地址，仍然同意")
NO_ADDRESS_HELP = _("买家将收不到退货地址，无法寄回商品。建议先在退货地址库中添加地址。")
NO_ADDRESS_REQUIRED = _("店铺没有退货地址：请先添加退货地址，或勾选确认仍然同意。")
CARRIER_CHOICES = [("", _("请选择快递公司")), *Carrier.choices]


def _required_message(label):
    """ "请填写…。" in the reader's language: built when shown, not at import (the label is lazy too)."""
    return lazy(lambda: gettext("请填写%(label)s。") % {"label": label}, str)()


def _text(label, *, required=True, max_length=500, rows=3, placeholder="", help_text=""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": rows, "placeholder": placeholder}),
        error_messages={"required": _required_message(label)},
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


class AddressChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = f"{obj.label} · " if obj.label else ""
        text = f"{name}{obj.contact} {obj.phone} · {obj.address}"
        return _("%(address)s（默认）") % {"address": text} if obj.is_default else text


def _address_fields(form, merchant_ids: set[int], needs_address: bool) -> None:
    """A-3: pick one of the shop's addresses (one shop in the selection), or say yes without any."""
    shops = set(merchant_ids)
    if needs_address:
        adopt_settings_address(shops)
    addresses = ReturnAddress.objects.filter(merchant_id__in=shops).order_by("-is_default", "pk")
    if needs_address and len(shops) == 1 and addresses.exists():
        form.fields["return_address"].queryset = addresses
        form.fields["return_address"].initial = addresses.first().pk  # none picked: the default all the same
    else:
        del form.fields["return_address"]
    given = default_addresses(shops) if needs_address else {}
    if needs_address and len(given) < len(shops):
        form.fields["confirm_no_address"].required = True
    else:
        del form.fields["confirm_no_address"]


class ApproveForm(CaseActionForm):
    """Approve (A-3): a return or exchange picks the address the buyer is sent to, or, with none at all,
    says explicitly that it approves anyway; a refund asks nothing."""

    return_address = AddressChoiceField(
        label=_("退货地址"),
        queryset=ReturnAddress.objects.none(),
        required=False,
        empty_label=None,
        widget=UnfoldAdminRadioSelectWidget,
        help_text=_("买家将按所选地址寄回商品，售后单会保存这份地址。"),
    )
    confirm_no_address = forms.BooleanField(
        label=NO_ADDRESS_CONSENT,
        required=False,
        help_text=NO_ADDRESS_HELP,
        error_messages={"required": NO_ADDRESS_REQUIRED},
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        _address_fields(self, {case.merchant_id}, case.type in RETURN_TYPES)

    def service_kwargs(self) -> dict:
        if "return_address" in self.fields:
            return {"return_address": self.cleaned_data["return_address"]}
        return {}


class BulkApproveForm(forms.Form):
    """Bulk approve (A-10): the address of the returns and exchanges (one shop selected), or the explicit yes
    when some shop of the selection has none."""

    return_address = ApproveForm.base_fields["return_address"]
    confirm_no_address = ApproveForm.base_fields["confirm_no_address"]

    def __init__(self, *args, objects, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        returns = objects.filter(type__in=RETURN_TYPES, status="pending")
        shops = set(returns.values_list("merchant_id", flat=True).distinct())
        _address_fields(self, shops, bool(shops))

    def service_kwargs(self) -> dict:
        if "return_address" in self.fields:
            return {"return_address": self.cleaned_data["return_address"]}
        return {}


def _reject_choices(merchant_ids) -> list:
    from aftersales.services.reasons import reject_reasons_for

    shops = set(merchant_ids)
    if len(shops) != 1:
        return []
    return [
        (
            reason.pk,
            _("%(reason)s（需上传凭证）") % {"reason": reason.text}
            if reason.evidence_required
            else reason.text,
        )
        for reason in reject_reasons_for(next(iter(shops)))
    ]


class RejectForm(CaseActionForm):
    """Refuse (A-3): one of the shop's reject reasons (拒绝原因模板) and/or the merchant's own words; a reason
    that needs evidence makes the images required (the service checks it again)."""

    preset = forms.TypedChoiceField(
        label=_("拒绝原因"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=UnfoldAdminRadioSelectWidget,
        help_text=_("店铺的拒绝原因模板（在「拒绝原因模板」中编辑）；选择后可在下面补充说明。"),
    )
    reason = _text(
        _("补充说明"),
        required=False,
        placeholder=_("例如：商品已使用，影响二次销售"),
        help_text=_("不选模板时必填。"),
    )
    attachments = _images(_("凭证图片"))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        choices = _reject_choices({case.merchant_id})
        self.evidence = set(
            RejectReason.objects.filter(merchant_id=case.merchant_id, evidence_required=True).values_list(
                "pk", flat=True
            )
        )
        if choices:
            self.fields["preset"].choices = [("", _("不使用模板，自行填写")), *choices]
        else:
            del self.fields["preset"]
            self.fields["reason"].label = _("拒绝原因")
        replies.offer(self.fields["reason"], source=case, scenes=(Scene.CASE_REJECT,))

    def clean(self):
        cleaned = super().clean()
        preset = cleaned.get("preset")
        if preset is None and not (cleaned.get("reason") or "").strip() and "reason" not in self.errors:
            self.add_error("reason", _("请选择拒绝原因，或填写拒绝原因。"))
        if preset in self.evidence and not cleaned.get("attachments"):
            self.add_error("attachments", _("所选拒绝原因需要上传凭证图片。"))
        return cleaned

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("preset") is None:
            data.pop("preset", None)
        return data


class BulkRejectForm(forms.Form):
    """Bulk reject (issue 11 §7): one reason for every selected case; no images, so no reason that needs them."""

    preset = RejectForm.base_fields["preset"]
    reason = RejectForm.base_fields["reason"]

    def __init__(self, *args, objects, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        shops = set(objects.values_list("merchant_id", flat=True).distinct())
        choices = [
            (pk, label)
            for pk, label in _reject_choices(shops)
            if not RejectReason.objects.filter(pk=pk, evidence_required=True).exists()
        ]
        if choices:
            self.fields["preset"].choices = [("", _("不使用模板，自行填写")), *choices]
            self.fields["preset"].help_text = _("需要上传凭证的原因不能批量使用，请逐个拒绝并上传凭证。")
        else:
            del self.fields["preset"]
            self.fields["reason"].label = _("拒绝原因")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("preset") is None and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("请选择拒绝原因，或填写拒绝原因。"))
        return cleaned

    def service_kwargs(self) -> dict:
        data = {"reason": self.cleaned_data.get("reason") or ""}
        if self.cleaned_data.get("preset") is not None:
            data["preset"] = self.cleaned_data["preset"]
        return data


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
        replies.offer(self.fields["text"], source=case, scenes=(Scene.CASE_MESSAGE,))
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


class ReviseProposalForm(ProposeForm):
    """A-3: change the pending proposal; the form starts from the terms the buyer sees now."""

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.fields["type"].initial = case.proposed_type or case.type
        self.fields["amount"].initial = case.proposed_amount
        self.fields["text"].initial = case.proposal_text


class RefuseReturnForm(CaseActionForm):
    reason = _text(_("拒绝收货原因"), placeholder=_("例如：退回商品与发出商品不一致"))
    attachments = _images(_("凭证图片"), required=True)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        replies.offer(self.fields["reason"], source=case, scenes=(Scene.CASE_REJECT, Scene.CASE_MESSAGE))


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

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        replies.offer(self.fields["reason"], source=case, scenes=(Scene.CASE_MESSAGE,))

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
