"""The kinds of notices and the names of the platform's rules: how a stored notice reads (no model imported).

A notice row stores its `kind` and the `params` of its sentence; this module holds what each kind says and
renders it in the active language. It imports no model, so the Notice model itself can render its title
without a circle; merchants.kernel.notices (the writers and readers) re-exports every name here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Choices
from django.urls import NoReverseMatch
from django.utils.functional import Promise

Link = Callable[[dict[str, Any], str], str]  # (params, admin site name) -> url
Sentence = Callable[[dict[str, Any]], str]  # params -> the text in the active language


@dataclass(frozen=True)
class NoticeKind:
    """How one kind of notice reads: lazy %-templates over its params, and where it links to.

    A body may instead be a function of the params that returns the text in the active language — for a
    sentence the owning app composes from a stored key of its own (a level change's reason).
    """

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
    if callable(template) and not isinstance(template, Promise | str):
        try:
            return str(template(params or {}))
        except (KeyError, TypeError, ValueError):
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


def render(notice) -> tuple[str, str]:
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


def link_of(notice, site_name: str) -> str:
    """Where the notice points on `site_name` ("workbench" or "admin"); "" when nowhere."""
    kind = KINDS.get(notice.kind) if notice.kind else None
    if kind is not None and kind.link is not None:
        try:
            return kind.link(notice.params or {}, site_name) or notice.link
        except (KeyError, TypeError, ValueError, NoReverseMatch):
            return notice.link
    return notice.link
