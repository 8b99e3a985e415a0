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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Choices, QuerySet
from django.urls import NoReverseMatch
from django.utils import timezone

from merchants.kernel.events import jsonable
from merchants.kernel.models import Notice
from merchants.kernel.scoping import BUYER, WRITE_ROLES, is_platform, roles_for, scope_to_actor

Link = Callable[[dict[str, Any], str], str]  # (params, admin site name) -> url


@dataclass(frozen=True)
class NoticeKind:
    """How one kind of notice reads: lazy %-templates over its params, and where it links to."""

    key: str
    title: Any
    body: Any = ""
    choices: dict[str, type[Choices]] = field(default_factory=dict)  # param -> Choices showing its label
    link: Link | None = None


KINDS: dict[str, NoticeKind] = {}
RULES: dict[str, Any] = {}  # violation rule code -> lazy readable name


def register_kind(
    key: str,
    *,
    title,
    body="",
    choices: dict[str, type[Choices]] | None = None,
    link: Link | None = None,
) -> NoticeKind:
    """Declare a kind of notice (idempotent: re-registering replaces it). `key` is "<app>.<what>"."""
    kind = NoticeKind(key=key, title=title, body=body, choices=dict(choices or {}), link=link)
    KINDS[key] = kind
    return kind


def register_rule(code: str, label) -> None:
    """Give a violation rule code its readable name (lazy), shown in the shop's violation list."""
    RULES[code] = label


def rule_label(code: str) -> str:
    """The rule's readable name in the active language; the code itself when no app registered it."""
    label = RULES.get(code)
    return str(label) if label is not None else code


# --------------------------------------------------------------------------------------------
# Reading


def _fill(template, params: dict[str, Any], choices: dict[str, type[Choices]]) -> str:
    if not template:
        return ""
    values = {}
    for name, value in (params or {}).items():
        chosen = choices.get(name)
        if chosen is not None:
            try:
                value = chosen(value).label
            except ValueError:
                pass
        values[name] = value
    try:
        return str(template) % values
    except (KeyError, TypeError, ValueError):
        return ""


def render(notice: Notice) -> tuple[str, str]:
    """(title, body) of a notice in the active language.

    A registered kind renders its templates; people's words (params "message") follow the rendered body.
    A row without a kind, or whose kind no app registers any more, shows its stored title and body.
    """
    kind = KINDS.get(notice.kind) if notice.kind else None
    if kind is None:
        return notice.title or notice.kind, notice.body
    params = notice.params or {}
    title = _fill(kind.title, params, kind.choices) or notice.title or kind.key
    words = str(params.get("message") or "")
    body = "\n".join(part for part in (_fill(kind.body, params, kind.choices), words) if part)
    return title, body


def link_of(notice: Notice, site_name: str) -> str:
    """Where the notice points on `site_name` ("workbench" or "admin"); "" when nowhere."""
    kind = KINDS.get(notice.kind) if notice.kind else None
    if kind is not None and kind.link is not None:
        try:
            return kind.link(notice.params or {}, site_name) or notice.link
        except (KeyError, TypeError, ValueError, NoReverseMatch):
            return notice.link
    return notice.link


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
