"""Complaint figures for the level engine (L-3), registered with merchants.levels.

A complaint counts when the platform found the merchant liable (T-5); a malicious one never counts
(nor one found the buyer's fault, or nobody's). Counted in the window of the complaint's filing.
"""

from __future__ import annotations

from django.db.models import Count

from merchants.levels.registry import Windows, level_metric
from tickets.models import Ticket
from tickets.transitions import Liability, TicketCategory


@level_metric
def complaint_figures(merchant_ids, windows: Windows) -> dict:
    start, end = windows.w30
    rows = (
        Ticket.objects.filter(
            merchant_id__in=merchant_ids,
            category=TicketCategory.COMPLAINT,
            liability=Liability.MERCHANT,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("merchant_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["merchant_id"]: {"complaints": row["n"]} for row in rows}
