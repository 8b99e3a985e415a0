"""Complaint figures for the level engine (L-3), registered with merchants.levels.

A complaint counts when the platform found the merchant liable (T-5); a malicious one never counts
(nor one found the buyer's fault, or nobody's). Counted in the window of the complaint's filing.
"""

from __future__ import annotations

from merchants.levels.registry import Windows, level_metric
from tickets.selectors import merchant_liable_complaints


@level_metric
def complaint_figures(merchant_ids, windows: Windows) -> dict:
    start, end = windows.w30
    counts = merchant_liable_complaints(merchant_ids, start=start, end=end)
    return {merchant_id: {"complaints": n} for merchant_id, n in counts.items()}
