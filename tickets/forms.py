"""Forms of the ticket pages: raising a ticket (staff), answering it (the shop, T-2, T-7), reviewing it.

They only collect and tidy input: every rule (states, roles, the order's shop, liability) is checked by
tickets.services, whose refusals the admin shows as messages. Images go through merchants.kernel.uploads.
"""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminDateWidget,
    UnfoldAdminRadioSelectWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from merchants.kernel import templates
from merchants.kernel.models import Merchant, MerchantStatus
from merchants.kernel.uploads import EvidenceImagesField
from merchants.models import Order, tracking_validator
from merchants.transitions import Carrier
from tickets import replies
from tickets.transitions import Liability, TicketCategory

IMAGES_HELP = _("支持 JPG、PNG、WEBP、GIF 图片，最多 9 张。")
Scene = templates.ReplyTemplate.Scene
CARRIER_CHOICES = [("", _("请选择快递公司")), *Carrier.choices]
HOUR_CHOICES = [(str(h), f"{h:02d}:00") for h in range(24)]


def _required_message(label):
    """ "请填写…。" in the reader's language: built when shown, not at import (the label is lazy too)."""
    return lazy(lambda: gettext("请填写%(label)s。") % {"label": label}, str)()


def _text(label, *, required=True, max_length=2000, rows=4, placeholder="", help_text="", initial=None):
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        help_text=help_text,
        initial=initial,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": rows, "placeholder": placeholder}),
        error_messages={"required": _required_message(label)},
    )


def _images(label):
    return EvidenceImagesField(label=label, required=False, help_text=IMAGES_HELP)


class RaiseTicketForm(forms.Form):
    """T-1: staff raise a ticket from a buyer's complaint. The order is named by its number."""

    merchant = forms.ModelChoiceField(
        label=_("店铺"),
        queryset=Merchant.objects.filter(status=MerchantStatus.ACTIVE).order_by("code"),
        widget=UnfoldAdminSelectWidget,
        error_messages={"required": _("请选择店铺。"), "invalid_choice": _("请从列表中选择店铺。")},
    )
    order_no = forms.CharField(
        label=_("订单号"),
        required=False,
        max_length=32,
        help_text=_("可选。订单须属于所选店铺。"),
        widget=UnfoldAdminTextInputWidget(attrs={"autocomplete": "off"}),
    )
    category = forms.ChoiceField(
        label=_("服务单类型"), choices=TicketCategory.choices, widget=UnfoldAdminRadioSelectWidget
    )
    demand = _text(_("买家诉求"), placeholder=_("例如：买家反映下单三天仍未发货，要求尽快发出"))
    attachments = _images(_("附件"))

    def clean_order_no(self):
        number = (self.cleaned_data.get("order_no") or "").strip()
        if not number:
            return None
        order = Order.objects.filter(order_no=number).only("pk", "merchant_id").first()
        if order is None:
            raise forms.ValidationError(_("订单号 %(no)s 不存在。") % {"no": number})
        return order

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "category": data["category"],
            "demand": data["demand"],
            "order": data["order_no"],
            "attachments": data["attachments"],
        }


class TicketActionForm(forms.Form):
    """Base of every ticket action form: knows its ticket; `service_kwargs()` is what the service receives."""

    def __init__(self, *args, ticket, **kwargs):
        self.ticket = ticket
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class SubmitResultForm(TicketActionForm):
    text = _text(_("处理结果"), placeholder=_("写明处理方式与结果，平台客服审核后关闭服务单"))
    attachments = _images(_("凭证图片"))

    def __init__(self, *args, ticket, prefill: str = "", **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        if prefill:
            self.fields["text"].initial = prefill
        # T-6: the shop's and the platform's reply templates, filled from the ticket's order.
        templates.offer(self.fields["text"], source=ticket, scenes=(Scene.TICKET_RESULT, Scene.SHIPPING))


class ApproveForm(TicketActionForm):
    """T-2 approve, with T-5's liability (required for a complaint: the service says so too)."""

    liability = forms.ChoiceField(
        label=_("责任方"), choices=Liability.choices, required=False, widget=UnfoldAdminRadioSelectWidget
    )
    reason = _text(_("审核意见"), required=False, max_length=1000, rows=3)

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        if ticket.is_complaint:
            self.fields["liability"].required = True
            self.fields["liability"].error_messages["required"] = _("关闭投诉类服务单时请判定责任方。")
            self.fields["liability"].help_text = _("商家责任计入投诉率；恶意投诉不计入任何考核。")
        else:
            self.fields["liability"].help_text = _("可选。")

    def service_kwargs(self) -> dict:
        return {
            "approve": True,
            "reason": self.cleaned_data["reason"],
            "liability": self.cleaned_data["liability"] or None,
        }


class RejectForm(TicketActionForm):
    reason = _text(_("驳回原因"), max_length=1000, rows=3, placeholder=_("例如：未提供物流单号，请补充"))

    def service_kwargs(self) -> dict:
        return {"approve": False, "reason": self.cleaned_data["reason"]}


# ---- T-7: the guided urge-shipment answers (one form per path)


class TrackingForm(TicketActionForm):
    carrier = forms.ChoiceField(
        label=_("快递公司"),
        choices=CARRIER_CHOICES,
        widget=UnfoldAdminSelectWidget,
        error_messages={"required": _("请选择快递公司。"), "invalid_choice": _("请从列表中选择快递公司。")},
    )
    tracking_no = forms.CharField(
        label=_("运单号"),
        max_length=32,
        validators=[tracking_validator],
        widget=UnfoldAdminTextInputWidget(
            attrs={"placeholder": _("例如 SF1234567890"), "autocomplete": "off"}
        ),
        error_messages={"required": _("请填写运单号。")},
    )
    text = _text(
        _("回复买家的话术"),
        required=False,
        rows=3,
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        preview(self, replies.SHIPPED_OFFLINE, carrier=_("（快递公司）"), tracking_no=_("（运单号）"))
        self.fields["text"].help_text = _("留空则使用「%(title)s」话术，自动填入快递公司和运单号。") % {
            "title": replies.TITLES[replies.SHIPPED_OFFLINE]
        }

    def clean_tracking_no(self) -> str:
        return self.cleaned_data["tracking_no"].strip()


class ShipTimeForm(TicketActionForm):
    """Commit a ship time to the hour: a day and an hour."""

    ship_date = forms.DateField(
        label=_("承诺发货日期"),
        widget=UnfoldAdminDateWidget,
        error_messages={"required": _("请选择承诺发货日期。")},
    )
    ship_hour = forms.TypedChoiceField(
        label=_("承诺发货时间（整点）"),
        choices=HOUR_CHOICES,
        coerce=int,
        widget=UnfoldAdminSelectWidget,
        error_messages={"required": _("请选择整点时间。")},
    )
    coupon = forms.CharField(
        label=_("优惠券（可选）"),
        required=False,
        max_length=100,
        help_text=_("例如：5 元无门槛券。留空则话术中不提优惠券。"),
        widget=UnfoldAdminTextInputWidget,
    )
    text = _text(
        _("回复买家的话术"),
        required=False,
        rows=3,
    )

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        late = bool(ticket.order and ticket.order.is_late)
        situation = replies.LATE_APOLOGY if late else replies.SHIP_TIME_NOTICE
        preview(self, situation, ship_time=_("（承诺的时间）"))
        self.fields["text"].help_text = _("留空则使用「%(title)s」话术，自动填入承诺的发货时间。") % {
            "title": replies.TITLES[situation]
        }

    def clean(self):
        cleaned = super().clean()
        day, hour = cleaned.get("ship_date"), cleaned.get("ship_hour")
        if day is not None and hour is not None:
            cleaned["ship_at"] = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour=hour)))
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {"ship_at": data["ship_at"], "coupon": data["coupon"], "text": data["text"]}


class RefundForm(TicketActionForm):
    coupon = forms.CharField(
        label=_("优惠券（可选）"), required=False, max_length=100, widget=UnfoldAdminTextInputWidget
    )
    text = _text(_("回复买家的话术"), required=False, rows=3)

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, ticket=ticket, **kwargs)
        preview(self, replies.OUT_OF_STOCK)
        self.fields["text"].help_text = _("留空则使用「%(title)s」话术。") % {
            "title": replies.TITLES[replies.OUT_OF_STOCK]
        }


def preview(form, situation: str, **values) -> None:
    """Show the text the path sends when the reply is left empty (T-6), greyed in the reply box.

    The values the merchant has yet to enter show as their names; a template that cannot be filled
    leaves the box without a preview (the service names what is missing when the form is sent).
    """
    try:
        text = replies.prefill(situation, ticket=form.ticket, **values)
    except ValidationError:
        text = ""
    form.fields["text"].widget.attrs["placeholder"] = text
