"""The shop's after-sales switches (A-11): the express-refund switch, flipped by an owner in one click.

The switch is the shop's setting (merchants.Merchant.express_refund_enabled); this is the one writer the
workbench's one-click switch (case list, home page) calls. Each change is logged in the shop's history
(Django's admin log, which the shop's history page shows in the reader's language).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import translation

from merchants.kernel.scoping import require_role
from merchants.kernel.vocabulary import Role
from merchants.models import Merchant

OWNER_ONLY = frozenset({Role.OWNER})


@transaction.atomic
def set_express_refund(merchant: Merchant | int, *, actor, enabled: bool) -> Merchant:
    """Turn the shop's express refund (极速退款, A-11) on or off: owners only; logged once per change.

    Locks the shop row, so two owners clicking at once change it once; setting it to what it already is
    changes (and logs) nothing."""
    pk = getattr(merchant, "pk", merchant)
    require_role(actor, pk, OWNER_ONLY, platform=False)
    shop = Merchant.objects.select_for_update().get(pk=pk)
    enabled = bool(enabled)
    if shop.express_refund_enabled == enabled:
        return shop
    shop.express_refund_enabled = enabled
    shop.save(update_fields=["express_refund_enabled"])
    with translation.override(settings.LANGUAGE_CODE):  # as Django's admin stores field names
        field = str(Merchant._meta.get_field("express_refund_enabled").verbose_name)
    if getattr(actor, "pk", None):
        LogEntry.objects.create(
            user_id=actor.pk,
            content_type=ContentType.objects.get_for_model(Merchant),
            object_id=str(shop.pk),
            object_repr=str(shop)[:200],
            action_flag=CHANGE,
            change_message=json.dumps([{"changed": {"fields": [field]}}], ensure_ascii=False),
        )
    return shop


__all__ = ["set_express_refund"]
