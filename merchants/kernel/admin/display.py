"""Display helpers every admin page shares: badges, money, local times, countdowns, who acted in a timeline row."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from html import escape as _escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from merchants.kernel.models import ActorKind, Membership, Role

# The markup of unfold 0.91's label component (unfold/helpers/label.html, default size), written out so a
# list of 100 rows does not render that template a few hundred times (tests/test_changelist_perf.py
# checks every variant against the template itself).
BADGE_CLASS = (
    "inline-block font-semibold rounded-default text-[11px] uppercase whitespace-nowrap h-6 leading-6 px-2"
)
BADGE_COLOURS = {
    "info": "bg-blue-100 text-blue-700 dark:bg-blue-500/20 dark:text-blue-400",
    "danger": "bg-red-100 text-red-700 dark:bg-red-500/20 dark:text-red-400",
    "warning": "bg-orange-100 text-orange-700 dark:bg-orange-500/20 dark:text-orange-400",
    "success": "bg-green-100 text-green-700 dark:bg-green-500/20 dark:text-green-400",
    "primary": "bg-primary-100 text-primary-700 dark:bg-primary-500/20 dark:text-primary-400",
    "default": "bg-base-500/8 text-base-700 dark:bg-base-500/20 dark:text-base-200",
}
_BADGE_OPEN = {variant: f'<span class="{BADGE_CLASS} {colour}">' for variant, colour in BADGE_COLOURS.items()}


def cell_escape(value) -> str:
    """conditional_escape() without its lazy-argument wrapper: safe text as it is, anything else escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape(str(value))


def cell_html(format_string: str, *args) -> SafeString:
    """format_html() for list cells: the same escaping and result, several times cheaper.

    A 100-row list calls it a few thousand times; Django's format_html runs each argument through two
    keep_lazy wrappers (conditional_escape, escape), which cost more than the escaping itself.
    """
    return SafeString(format_string.format(*[cell_escape(arg) for arg in args]))


def badge(text, variant: str = "default") -> SafeString:
    """One unfold label (escaped text); an unknown variant is grey, as in unfold."""
    opening = _BADGE_OPEN.get(variant, _BADGE_OPEN["default"])
    return SafeString(f"{opening}{cell_escape(text)}</span>")


def label_cell(text, variant: str = "default") -> SafeString:
    """What unfold's `@display(label=…)` shows in a list cell: the badge, or "-" without text."""
    return badge(text, variant) if text else mark_safe("-")


def header_cell(title, subtitle="") -> SafeString:
    """What unfold's `@display(header=True)` shows for [title, subtitle] (unfold/helpers/display_header.html)."""
    return cell_html(
        '<span class="flex gap-4 items-center"><span class="flex flex-col text-right lg:text-left">{}{}</span></span>',
        cell_html('<strong class="block font-normal">{}</strong>', title) if title else "",
        cell_html('<p class="text-base-500">{}</p>', subtitle) if subtitle else "",
    )


def badges(pairs) -> SafeString:
    """Several labels side by side; `pairs` is an iterable of (text, variant)."""
    return format_html_join(" ", "{}", ((badge(text, variant),) for text, variant in pairs))


def money(amount: Decimal | None) -> str:
    if amount is None:
        return "-"
    return f"¥{amount:,.2f}"


# Django date-format letters that mean the same in every language, and their strftime directives.
_STRFTIME = {"Y": "%Y", "m": "%m", "d": "%d", "H": "%H", "i": "%M", "s": "%S"}


@lru_cache(maxsize=32)
def _strftime_pattern(fmt: str) -> str | None:
    """`fmt` (Django's date format) as a strftime pattern, or None if it uses any other letter."""
    out = []
    for char in fmt:
        if char.isalpha() or char == "\\":
            if char not in _STRFTIME:
                return None  # names of months/days, escapes…: date_format translates those
            out.append(_STRFTIME[char])
        else:
            out.append("%%" if char == "%" else char)
    return "".join(out)


def local_time(value, fmt: str = "Y-m-d H:i") -> str:
    """`value` in Asia/Shanghai as `fmt`; numeric formats go through strftime (date_format costs ~10x per cell)."""
    if value is None:
        return "-"
    local = timezone.localtime(value)
    pattern = _strftime_pattern(fmt)
    return local.strftime(pattern) if pattern else date_format(local, fmt)


def remaining_text(delta: timedelta) -> str:
    """'剩 2 天 3 小时' / '剩 5 小时 12 分' / '剩 8 分'."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return gettext("剩 %(days)d 天 %(hours)d 小时") % {"days": days, "hours": hours}
    if hours:
        return gettext("剩 %(hours)d 小时 %(minutes)d 分") % {"hours": hours, "minutes": minutes}
    return gettext("剩 %(minutes)d 分") % {"minutes": minutes}


def countdown(deadline: datetime | None, *, now: datetime | None = None, due_soon_hours: int = 12) -> dict:
    """What the countdown to `deadline` shows: text, colour, overdue / due soon flags (any deadline: A-5, T-4…)."""
    if deadline is None:
        return {"text": "", "variant": "default", "overdue": False, "due_soon": False}
    now = now or timezone.now()
    delta = deadline - now
    if delta <= timedelta(0):
        return {"text": gettext("已超时"), "variant": "danger", "overdue": True, "due_soon": True}
    due_soon = delta < timedelta(hours=due_soon_hours)
    return {
        "text": remaining_text(delta),
        "variant": "danger" if due_soon else "default",
        "overdue": False,
        "due_soon": due_soon,
    }


def countdown_cell(deadline: datetime | None, *, due_soon_hours: int = 12) -> str:
    """The countdown in a list cell: "-" without a deadline, a red badge when due soon or overdue."""
    return shown_countdown(countdown(deadline, due_soon_hours=due_soon_hours))


def shown_countdown(shown: dict) -> str:
    """A countdown() result (or one an app adjusted, e.g. an escalated ticket) as a list cell shows it."""
    if not shown.get("text"):
        return "-"
    if shown.get("variant") == "danger":
        return badge(shown["text"], "danger")
    return shown["text"]


def stacked_cell(first, second="") -> SafeString:
    """Two lines in one list cell: the value, and a small muted line under it (a time, a countdown hint).

    The review and ticket lists' time columns (the countdown over or under the created time).
    """
    return cell_html(
        '<span class="whitespace-nowrap">{}</span><br>'
        '<span class="text-base-500 text-xs whitespace-nowrap">{}</span>',
        first,
        second,
    )


def choice_label(choices, value) -> str:
    """The label of `value` in a TextChoices class, as get_FOO_display() shows it (the value if unknown).

    For list cells: get_FOO_display() rebuilds the field's whole choices dict on every call.
    """
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def member_roles(merchant_id: int, events) -> dict[int, str]:
    """{user id: role} in the shop of the merchant actors among `events` (one query, none without any)."""
    members = {
        event.actor_id for event in events if event.actor_id and event.actor_kind == ActorKind.MERCHANT
    }
    if not members:
        return {}
    return dict(
        Membership.objects.filter(merchant_id=merchant_id, user_id__in=members).values_list("user_id", "role")
    )


def actor_parts(event, roles: dict[int, str]) -> tuple[str, str, str]:
    """(side, person, role) of a history row: the person is the full name, else the login as typed
    (never upper-cased); the role is a merchant actor's role in the shop."""
    side = str(event.get_actor_kind_display())
    if event.actor_id is None or event.actor_kind in (ActorKind.SYSTEM, ActorKind.BUYER):
        return side, "", ""
    person = event.actor.get_full_name().strip() or event.actor.get_username()
    role = roles.get(event.actor_id) if event.actor_kind == ActorKind.MERCHANT else None
    return side, person, str(Role(role).label) if role else ""
