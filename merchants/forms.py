"""Forms of the order action pages (ship, change tracking, cancel) and the shop settings page.

They only collect input: every rule (S-1..S-4, M-3) is checked by merchants.services, whose refusals the
admin shows as messages. Item choices are the items of the one order being handled, never others.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from merchants.kernel.checks import BadInputError, clean_text, normalize_phone, parse_id
from merchants.models import Merchant, Order, Package
from merchants.tracking import MAX_INPUT_LENGTH, MAX_LENGTH, check_tracking, normalise_tracking
from merchants.transitions import Carrier

CARRIER_CHOICES = [("", _("请选择快递公司")), *Carrier.choices]


def _checked_id(field, value) -> str:
    """A posted id as a bounded positive integer before any query sees it ('²' or 10^22 used to be a 500)."""
    try:
        number = parse_id(value, label=field.label)
    except BadInputError as exc:
        raise forms.ValidationError(field.error_messages["invalid_choice"], code="invalid_choice") from exc
    return "" if number is None else str(number)


class CheckedModelChoiceField(forms.ModelChoiceField):
    """A choice of one object by id (N-9: the id is checked by merchants.kernel.checks first)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        return super().to_python(_checked_id(self, value))


class CheckedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A choice of objects by id; each id checked by merchants.kernel.checks before the query."""

    def clean(self, value):
        if value and isinstance(value, (list, tuple)):
            value = [_checked_id(self, item) for item in value]
        return super().clean(value)


class TrackingNumberField(forms.CharField):
    """A tracking number as pasted from a label: normalised first (merchants.tracking), then validated.

    The input takes more than the 32 stored characters, so that a number with spaces or dashes
    between its groups is not cut short by the browser before it can be normalised.
    """

    default_error_messages = {
        "required": _("请填写运单号。"),
        "max_length": _("运单号最多 %(limit_value)d 个字符（您填写了 %(show_value)d 个）。"),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("运单号"))
        kwargs.setdefault("max_length", MAX_LENGTH)
        kwargs.setdefault(
            "widget",
            UnfoldAdminTextInputWidget(attrs={"placeholder": _("例如 SF1234567890"), "autocomplete": "off"}),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalise_tracking(super().to_python(value))

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if "maxlength" in attrs:
            attrs["maxlength"] = str(MAX_INPUT_LENGTH)
        return attrs


class TrackingFieldsMixin(forms.Form):
    """A carrier and a tracking number that fits it (the case reship form uses it too)."""

    carrier = forms.ChoiceField(
        label=_("快递公司"),
        choices=CARRIER_CHOICES,
        widget=UnfoldAdminSelectWidget,
        error_messages={
            "required": _("请选择快递公司。"),
            "invalid_choice": _("请从列表中选择快递公司。"),
        },
    )
    tracking_no = TrackingNumberField()

    def clean(self):
        cleaned = super().clean()
        carrier, tracking_no = cleaned.get("carrier"), cleaned.get("tracking_no")
        if carrier and tracking_no:
            try:
                check_tracking(carrier, tracking_no)  # the same check as merchants.services.clean_tracking
            except forms.ValidationError as exc:
                self.add_error("tracking_no", exc)
        return cleaned


class ShipForm(TrackingFieldsMixin):
    """S-1: pick items of this order to go out together under one tracking number."""

    field_order = ["items", "carrier", "tracking_no"]

    items = CheckedModelMultipleChoiceField(
        label=_("发货商品"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请选择要发货的商品。"),
            "invalid_choice": _("所选商品不属于这个订单，请刷新页面后重新选择。"),
            "invalid_pk_value": _("所选商品不属于这个订单，请刷新页面后重新选择。"),
        },
    )

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        # Every item of the order is a valid value: whether it may ship is the service's call (S-1, S-2),
        # so a stale page or a second click gets the rule's own message rather than "invalid choice".
        self.fields["items"].queryset = order.items.select_related("product", "sku", "package").order_by("pk")


class TrackingForm(TrackingFieldsMixin):
    """S-4: a new carrier / tracking number for one package of this order (its items move together)."""

    field_order = ["package", "carrier", "tracking_no"]

    package = CheckedModelChoiceField(
        label=_("包裹"),
        queryset=None,
        empty_label=None,
        widget=UnfoldAdminSelectWidget,
        error_messages={
            "required": _("请选择要修改物流的包裹。"),
            "invalid_choice": _("所选包裹不属于这个订单，请刷新页面后重新选择。"),
        },
    )

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.fields["package"].queryset = Package.objects.filter(order=order).order_by("shipped_at", "pk")


class CancelForm(forms.Form):
    """M-3: the merchant cancels a cash-on-delivery order, saying why."""

    reason = forms.CharField(
        label=_("取消原因"),
        max_length=200,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3, "placeholder": _("例如：买家电话确认不要了")}),
        error_messages={"required": _("请填写取消原因。")},
    )

    def clean_reason(self) -> str:
        try:  # zero-width-only text is empty; bidi controls are stripped (N-9)
            return clean_text(self.cleaned_data["reason"], label=_("取消原因"), max_length=200)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class MerchantSettingsForm(forms.ModelForm):
    """What a shop owner may change on the workbench; code, level and status stay with the platform."""

    class Meta:
        model = Merchant
        fields = [
            "name",
            "express_refund_enabled",
            "return_contact",
            "return_phone",
            "return_address",
            "settlement_cycle",
        ]

    def clean_return_phone(self) -> str:
        """Stored as digits and dashes: '138 0013 8000' and full-width digits become 13800138000."""
        return normalize_phone(self.cleaned_data.get("return_phone") or "")
