"""Cells people type in Excel, read the way they meant them (B-3): dates, counts, choices.

- `parse_moment`: 2026-05-01, 2026/5/1, 2026年5月1日, 2026.5.1, each optionally with a time
  (10:30, 10:30:15, 10时30分), full-width digits too, or a date / datetime cell of an XLSX file;
  an aware datetime in the project's time zone (Asia/Shanghai).
- `parse_count`: a positive whole number (3, ３, 3.0 from an XLSX number cell).
Each raises ValueError with the message for the cell.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata

from django.utils import timezone
from django.utils.translation import gettext

_MOMENT = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]+(?P<H>\d{1,2})\s*[:时點点]\s*(?P<M>\d{1,2})\s*(?:[:分]\s*(?P<S>\d{1,2})\s*秒?|分)?)?$"
)
MIN_YEAR, MAX_YEAR = 2000, 2100


def _text(value) -> str:
    if value is None:
        return ""
    text = value if value.__class__ is str else str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.strip()


def _bad_moment(value) -> ValueError:
    return ValueError(
        gettext("「%(value)s」不是有效的日期时间，请按 2026-05-01 10:00、2026/5/1 或 2026年5月1日 填写。")
        % {"value": value}
    )


def parse_moment(value) -> datetime.datetime | None:
    """A date or date-time cell as an aware datetime (a bare date is its midnight); None when empty."""
    if value.__class__ is str:
        return _parse_text_moment(value)  # files repeat their dates: each distinct text is parsed once
    return _parse_moment(value)


@functools.lru_cache(maxsize=65536)
def _parse_text_moment(value: str) -> datetime.datetime | None:
    return _parse_moment(value)


def _parse_moment(value) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, datetime.date):
        moment = datetime.datetime.combine(value, datetime.time.min)
    else:
        text = _text(value)
        if not text:
            return None
        found = _MOMENT.match(text)
        if found is None:
            raise _bad_moment(value)
        parts = found.groupdict()
        try:
            moment = datetime.datetime(
                int(parts["y"]),
                int(parts["m"]),
                int(parts["d"]),
                int(parts["H"] or 0),
                int(parts["M"] or 0),
                int(parts["S"] or 0),
            )
        except ValueError:
            raise _bad_moment(value) from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(
            gettext("日期「%(value)s」超出范围（%(min)d–%(max)d 年）。")
            % {"value": value, "min": MIN_YEAR, "max": MAX_YEAR}
        )
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def parse_count(value) -> int | None:
    """A positive whole number; None when empty."""
    if isinstance(value, bool):
        raise ValueError(gettext("「%(value)s」不是有效的数量。") % {"value": value})
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(gettext("数量须为整数：%(value)s") % {"value": value})
        number = int(value)
    else:
        text = _text(value).replace(",", "")
        if not text:
            return None
        if text.endswith(".0"):
            text = text[:-2]
        if not text.isascii() or not text.isdigit() or len(text) > 9:
            raise ValueError(gettext("「%(value)s」不是有效的数量，请填写正整数。") % {"value": value})
        number = int(text)
    if number < 1:
        raise ValueError(gettext("数量须至少为 1。"))
    return number


def local_text(moment) -> str:
    """An export's date-time cell: local time, to the second (reads back through parse_moment)."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""
