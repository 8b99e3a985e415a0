"""The shop's reject reasons (拒绝原因模板, issue 11 §5): presets the shop edits, some requiring evidence.

Every shop starts with DEFAULT_REJECT_REASONS: migration 0014 wrote them for the shops that existed, and
`ensure_default_reject_reasons` writes them once for a shop made later, the first time its reasons are
read (the reject form). A shop that wants none of them disables them: deleting every row brings the
defaults back.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet

from aftersales.models import DEFAULT_REJECT_REASONS, RejectReason
from merchants.models import Merchant


@transaction.atomic
def ensure_default_reject_reasons(merchant_id: int) -> int:
    """Write the default reasons for a shop that has none yet; returns how many were written (idempotent)."""
    if RejectReason.objects.filter(merchant_id=merchant_id).exists():
        return 0
    Merchant.objects.select_for_update().filter(pk=merchant_id).first()  # two first readers: one writes
    if RejectReason.objects.filter(merchant_id=merchant_id).exists():
        return 0
    rows = RejectReason.objects.bulk_create(
        RejectReason(merchant_id=merchant_id, text=text, evidence_required=evidence, position=10 * (i + 1))
        for i, (text, evidence) in enumerate(DEFAULT_REJECT_REASONS)
    )
    return len(rows)


def reject_reasons_for(merchant_id: int) -> QuerySet[RejectReason]:
    """The shop's enabled reasons, in its order (the defaults written first if it never had any)."""
    ensure_default_reject_reasons(merchant_id)
    return RejectReason.objects.filter(merchant_id=merchant_id, enabled=True).order_by("position", "pk")


__all__ = ["ensure_default_reject_reasons", "reject_reasons_for"]
