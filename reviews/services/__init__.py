"""Every write to reviews (R-1..R-8): the only code that changes a review, a reply or an appeal.

A package split by sub-domain (STYLE §2); callers import from here:
`from reviews import services; services.reply(review, actor=user, text="感谢支持")`.
"""

from reviews.services.appeals import appeal, decide_appeal
from reviews.services.replies import (
    BulkResult,
    Screening,
    bulk_moderate,
    delete_reply,
    moderate_reply,
    reply,
    screen,
)
from reviews.services.reviews import buyer_delete, pin, rebuild_summaries, submit_review, unpin

__all__ = [
    "BulkResult",
    "Screening",
    "appeal",
    "buyer_delete",
    "bulk_moderate",
    "decide_appeal",
    "delete_reply",
    "moderate_reply",
    "pin",
    "rebuild_summaries",
    "reply",
    "screen",
    "submit_review",
    "unpin",
]
