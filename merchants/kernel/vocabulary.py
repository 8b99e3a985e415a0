"""The kernel's words: a shop's status, a member's role, the side an event's actor is on.

Plain choices, importable before the app registry is ready (the scoping layer reads them at import).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MerchantStatus(models.TextChoices):
    ACTIVE = "active", _("正常营业")
    CLEARED = "cleared", _("已清退")


class Role(models.TextChoices):
    OWNER = "owner", _("店主")
    AGENT = "agent", _("售后客服")
    VIEWER = "viewer", _("只读")


class ActorKind(models.TextChoices):
    SYSTEM = "system", _("系统")
    BUYER = "buyer", _("买家")
    MERCHANT = "merchant", _("商家")
    PLATFORM = "platform", _("平台")
