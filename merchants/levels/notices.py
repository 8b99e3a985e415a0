"""The notice a shop's members get when its level changes (L-2, L-8): old → new and the main reason.

The row stores the evaluation's outcome, both levels and its reason as the key and params of
merchants.levels.rules.REASONS, so each reader reads it in their own language; it links to the shop's level
dashboard. Written in the transaction that changes the level: by the daily evaluation in one INSERT for
every changed shop (`build` + merchants.kernel.notices.notify_many), and by staff's hand-set level.
Registered from MerchantsConfig.ready().
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from merchants.kernel import notices
from merchants.kernel.events import jsonable
from merchants.kernel.models import Notice
from merchants.levels import rules
from merchants.models import LevelOutcome

LEVEL_CHANGED = "merchants.level_changed"


def dashboard_link(params: dict[str, Any], site: str) -> str:
    url = reverse(f"{site}:merchants_level_dashboard")
    return f"{url}?{urlencode({'shop': params['shop']})}" if params.get("shop") else url


def reason_sentence(params: dict[str, Any]) -> str:
    return rules.reason_text(str(params.get("reason") or ""), params.get("reason_params") or {})


notices.register_kind(
    LEVEL_CHANGED,
    title=_("店铺等级变更（%(outcome)s）：LV%(before)s → LV%(after)s"),
    body=reason_sentence,
    choices={"outcome": LevelOutcome},
    link=dashboard_link,
)


def write_many(rows: list[Notice]) -> None:
    """The daily run's notices in one go. Their fallback title and body (the site's language) are rendered
    once per distinct change, not once per shop; then COPY on PostgreSQL, the kernel's batch path elsewhere."""
    if not rows:
        return
    from django.db import connection  # noqa: PLC0415

    rendered: dict[str, tuple[str, str]] = {}
    for notice in rows:
        key = repr(sorted((k, v) for k, v in notice.params.items() if k != "shop"))
        if key not in rendered:
            notice.fill_fallback()
            rendered[key] = (notice.title, notice.body)
        notice.title, notice.body = rendered[key]
    if connection.vendor != "postgresql":
        notices.notify_many(rows)
        return
    from merchants.kernel.importing import insert_rows  # noqa: PLC0415
    from merchants.levels.numbers import dumps  # noqa: PLC0415

    columns = ["merchant_id", "audience", "kind", "params", "title", "body", "link", "created_at", "read_at"]
    insert_rows(
        Notice,
        columns,
        [
            (n.merchant_id, n.audience, n.kind, dumps(n.params), n.title, n.body, n.link, n.created_at, None)
            for n in rows
        ],
    )


def build(shop, *, outcome: str, before: int, after: int, reason: str, reason_params: dict, at) -> Notice:
    """The unsaved notice of one shop's level change (its members read it on the workbench)."""
    return notices.build(
        LEVEL_CHANGED,
        audience=Notice.Audience.MERCHANT,
        merchant_id=shop.pk,
        params={
            "outcome": outcome,
            "before": before,
            "after": after,
            "reason": reason,
            "reason_params": jsonable(reason_params),
            "shop": shop.code,
        },
        at=at,
    )
