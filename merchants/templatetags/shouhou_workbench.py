"""Workbench page parts: the notice bell of the header and the reply-template picker of a message box.

{% load shouhou_workbench %}
{% notice_bell %}            (templates/unfold/helpers/userlinks.html, workbench pages only)
{% reply_picker form.text %} (under a text field a form offered templates on: merchants.kernel.templates.offer)
"""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse

from merchants.kernel import notices
from merchants.kernel import templates as replies

register = template.Library()

BELL_CAP = 99


@register.inclusion_tag("shouhou/notice_bell.html", takes_context=True)
def notice_bell(context):
    """The bell with the user's unread shop notices (one bounded read), linking to the unread list."""
    request = context.get("request")
    if request is None or not context.get("is_workbench") or not request.user.is_authenticated:
        return {"show": False}
    try:
        url = reverse("workbench:merchants_notice_changelist")
    except NoReverseMatch:
        return {"show": False}
    count = notices.unread_count(request.user, cap=BELL_CAP)
    return {
        "show": True,
        "url": f"{url}?status=unread" if count else url,
        "count": count,
        "count_display": f"{BELL_CAP}+" if count > BELL_CAP else str(count),
    }


@register.inclusion_tag("shouhou/reply_picker.html", takes_context=True)
def reply_picker(context, bound_field):
    """The insert-template control for `bound_field`, on the workbench, when it offers templates."""
    offer = getattr(getattr(bound_field, "field", None), "reply_offer", None)
    if offer is None or not context.get("is_workbench"):
        return {"show": False}
    groups = replies.picker_groups(offer)
    if not groups:
        return {"show": False}
    return {
        "show": True,
        "groups": groups,
        "offer": offer,
        "target": bound_field.auto_id,
        "url": reverse("workbench:merchants_replytemplate_insert"),
    }
