"""Notices (站内通知) and the names of the platform's rules: what the platform tells a shop, in the reader's language.

A notice row stores what happened — its `kind` and the `params` of its sentence — never the rendered text,
so an English reader reads English notices written while Chinese was active. Each app registers the kinds
it writes, with lazy title and body templates (%(name)s placeholders filled from `params`), the Choices
whose labels show stored values, and where the notice links to:

    from merchants.kernel import notices

    notices.register_kind(
        "aftersales.advance_paid",
        title=_("售后单 %(no)s 超时未上传退款凭证，平台已先行赔付"),
        body=_("平台已向买家先行赔付 ¥%(amount)s，并记录违规（%(points)d 分）。"),
        link=lambda params, site: reverse(f"{site}:aftersales_aftersalecase_change", args=[params["case_id"]]),
    )
    notices.notify("aftersales.advance_paid", audience=Notice.Audience.MERCHANT, merchant_id=..., params=...)

`notify` is the person path, `build` + `notify_many` the batch path (one INSERT) of the same write.
Rows written before kinds existed have kind "": their stored title and body are shown as they are.

Violations name their rule by a code (`Violation.rule`); apps register the readable name of each code with
`register_rule`, and the shop's violation list shows `rule_label(code)`.

The kernel imports no app: the registries are filled by the apps (from their AppConfig.ready()).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from merchants.kernel.events import jsonable
from merchants.kernel.models import Notice
from merchants.kernel.notice_kinds import (
    KINDS,
    RULES,
    Link,
    NoticeKind,
    link_of,
    register_kind,
    register_rule,
    render,
    rule_label,
)
from merchants.kernel.scoping import BUYER, WRITE_ROLES, is_platform, roles_for, scope_to_actor


def notices_for(actor, *, audience: str = Notice.Audience.MERCHANT) -> QuerySet[Notice]:
    """The notices of one audience the actor may read (their shops' for a member), newest first."""
    return scope_to_actor(Notice.objects.filter(audience=audience), actor).order_by("-created_at", "-pk")


def unread_count(actor, *, audience: str = Notice.Audience.MERCHANT, cap: int | None = None) -> int:
    """How many of those are unread, from the partial unread index.

    With `cap` (the header bell, which shows "99+"), at most cap + 1 ids are read instead of counting:
    a bounded read on every page, however many notices a shop leaves unread.
    """
    rows = scope_to_actor(Notice.objects.filter(audience=audience, read_at__isnull=True), actor)
    if cap is None:
        return rows.count()
    return len(rows.order_by().values_list("pk", flat=True)[: cap + 1])


# --------------------------------------------------------------------------------------------
# Writing


def build(
    kind: str,
    *,
    audience: str,
    merchant_id: int | None = None,
    params: dict[str, Any] | None = None,
    message: str = "",
    link: str = "",
    at: datetime.datetime | None = None,
) -> Notice:
    """An unsaved notice of a registered kind (for notify_many); `message`: people's words as typed."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}: register it with merchants.kernel.notices")
    values = jsonable(params)
    if message:
        values["message"] = str(message)
    return Notice(
        kind=kind,
        audience=audience,
        merchant_id=merchant_id,
        params=values,
        link=link,
        created_at=at or timezone.now(),
    )


def notify(kind: str, **fields: Any) -> Notice:
    """Leave one notice for a shop's members or for senior platform staff; returns it (see build)."""
    notice = build(kind, **fields)
    notice.save()
    return notice


def notify_many(notices: Sequence[Notice]) -> list[Notice]:
    """The batch form of notify: notices made with build(), one INSERT (the deadline sweeps)."""
    return Notice.objects.bulk_create(list(notices)) if notices else []


def _clean_ids(ids: Iterable[Any]) -> list[int]:
    cleaned = []
    for value in ids:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number > 0:
            cleaned.append(number)
    return cleaned


def mark_notices_read(
    actor, ids: Iterable[Any] | None = None, *, audience: str = Notice.Audience.MERCHANT
) -> int:
    """Mark the actor's unread notices read (those with `ids`, or all); returns how many changed.

    A shop's notices are its shared inbox: owners and agents mark them read (a viewer only reads), only
    in their own shops — another shop's ids are ignored, never an error. Platform notices are marked by
    platform staff. Idempotent: one UPDATE of the still-unread rows.
    """
    if actor is BUYER:
        return 0
    rows = Notice.objects.filter(audience=audience, read_at__isnull=True)
    if audience == Notice.Audience.PLATFORM:
        if actor is not None and not is_platform(actor):
            return 0
    elif actor is not None and not getattr(actor, "is_superuser", False):
        shops = [pk for pk, role in roles_for(actor).items() if role in WRITE_ROLES]
        if not shops:
            return 0
        rows = rows.filter(merchant_id__in=shops)
    if ids is not None:
        rows = rows.filter(pk__in=_clean_ids(ids))
    return rows.update(read_at=timezone.now())


__all__ = [
    "KINDS",
    "RULES",
    "NoticeKind",
    "build",
    "link_of",
    "mark_notices_read",
    "notices_for",
    "notify",
    "notify_many",
    "register_kind",
    "register_rule",
    "render",
    "rule_label",
    "unread_count",
]

# The kinds' registry lives in merchants.kernel.notice_kinds (no model import); apps use it through here.
__all__ = [
    "KINDS",
    "Link",
    "NoticeKind",
    "RULES",
    "build",
    "link_of",
    "mark_notices_read",
    "notices_for",
    "notify",
    "notify_many",
    "register_kind",
    "register_rule",
    "render",
    "rule_label",
    "unread_count",
]
