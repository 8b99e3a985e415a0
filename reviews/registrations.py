"""What reviews give the kernel's registries: the notice kinds of moderation and appeal results, and the
values a review fills reply templates (话术, T-6) with.

Imported once from ReviewsConfig.ready(), so web and worker processes alike know them. Notices are stored
as kind + params and read in the reader's language from the texts here.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from merchants.kernel import notices, templates
from reviews.models import Review
from reviews.transitions import AppealDecisionReason

REPLY_APPROVED = "reviews.reply_approved"
REPLY_REJECTED = "reviews.reply_rejected"
APPEAL_UPHELD = "reviews.appeal_upheld"
APPEAL_DISMISSED = "reviews.appeal_dismissed"


def review_link(params: dict[str, Any], site: str) -> str:
    return reverse(f"{site}:reviews_review_change", args=[params["review_id"]])


notices.register_kind(
    REPLY_APPROVED,
    title=_("评价回复已通过审核"),
    body=_("您对订单 %(order_no)s 的评价回复已通过审核，已展示在商品评价页。"),
    link=review_link,
)
notices.register_kind(
    REPLY_REJECTED,
    title=_("评价回复未通过审核"),
    body=_("您对订单 %(order_no)s 的评价回复未通过审核，您可以修改后重新回复。"),
    link=review_link,
)
notices.register_kind(
    APPEAL_UPHELD,
    title=_("评价申诉成功"),
    body=_("订单 %(order_no)s 的评价申诉成功，该评价已从商品页隐藏，不再计入店铺评分。%(decision)s"),
    choices={"decision": AppealDecisionReason},
    link=review_link,
)
notices.register_kind(
    APPEAL_DISMISSED,
    title=_("评价申诉被驳回"),
    body=_("订单 %(order_no)s 的评价申诉被驳回。%(decision)s"),
    choices={"decision": AppealDecisionReason},
    link=review_link,
)


def review_values(review: Review) -> dict[str, Any]:
    """A review fills nothing of the shipping vocabulary: its templates are plain thanks or apologies."""
    return {}


templates.register_source(Review, review_values)
