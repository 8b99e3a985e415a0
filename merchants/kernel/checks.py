"""Input cleaning, once (N-9): query-string values, search boxes, ids, dates, stored text and money.

Bad input anywhere gets a clear message in the user's language and changes nothing; never a 500. Every
list filter, search box and autocomplete of both sites parses its values here, and so do the services
for what they store (free text, choices, amounts, ids). One set of bounds, defined once:

- dates between `MIN_DATE` (2000-01-01: nothing in a marketplace's records is older) and `FUTURE_YEARS`
  years after today (delays, ship-by times and exports never reach further); outside that a date is a
  typo, and `datetime` arithmetic near year 1 or 9999 overflows.
- ids are ASCII digits (full-width digits, as a Chinese IME types them, are read as the same digits;
  `'²'.isdigit()` is true but it is no digit anyone means) from 1 to `MAX_ID` (2^63 − 1, a bigint).
- text never holds NUL (PostgreSQL refuses it in a string), an unpaired surrogate (no UTF-8 can carry it)
  or a Unicode noncharacter (U+FFFE, U+10FFFF …); bidi controls (the right-to-left override that makes
  `gpj.exe` read `exe.jpg`) and zero-width characters are stripped; text that was only those is empty.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.validators import EMPTY_VALUES, RegexValidator
from django.http import QueryDict
from django.utils import dateparse, formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from merchants.kernel.workflow import ApplicationError

# ---- the bounds

MIN_DATE = datetime.date(2000, 1, 1)
FUTURE_YEARS = 5
MAX_ID = 2**63 - 1  # PostgreSQL bigint / SQLite INTEGER
MAX_QUERY_CHARS = 100  # a search box or text filter: longer than any order no, buyer id or name
MAX_TEXT_CHARS = 2000  # stored free text (reasons, messages, notes) unless a field says less
MAX_AMOUNT = Decimal("9999999999.99")  # MONEY fields: 12 digits, 2 decimals
CENT = Decimal("0.01")


class BadInputError(ApplicationError):
    """A value that cannot be what it claims to be (a date, an id, text); the message names the field."""


class AmountError(BadInputError):
    """A money amount that is not a positive Decimal with at most two places (N-6)."""


# ---- characters

# Full-width ASCII (what a Chinese IME types in full-width mode) and the ideographic space.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Bidi controls (Unicode's Bidi_Control property): stripped from everything people type.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters that print as nothing: a field made only of them is empty.
INVISIBLE = frozenset("\u00ad\u034f\u180e\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff")
_STRIP = str.maketrans({ch: None for ch in BIDI_CONTROLS | INVISIBLE})
_KEEP_CONTROLS = frozenset("\t\n\r")


def fold_width(text: str) -> str:
    """Full-width letters, digits and punctuation as their ASCII selves (１２３ -> 123)."""
    return text.translate(_WIDTH)


def strip_invisible(text: str) -> str:
    """Without bidi controls and zero-width characters."""
    return text.translate(_STRIP)


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def unsafe_reason(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` cannot be stored or searched (None when it can): nul, surrogate, noncharacter, control."""
    for ch in text:
        code = ord(ch)
        if code == 0:
            return "nul"
        if 0xD800 <= code <= 0xDFFF:
            return "surrogate"
        if _is_noncharacter(code):
            return "noncharacter"
        if (code < 0x20 or 0x7F <= code < 0xA0) and not (multiline and ch in _KEEP_CONTROLS):
            return "control"
    return None


def preview(value, limit: int = 20) -> str:
    """A short, printable echo of what was typed, for a message (never the whole 2,000 characters)."""
    text = str(value)
    text = "".join(ch if unsafe_reason(ch) is None and ch not in BIDI_CONTROLS else "�" for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):  # a query parameter given twice: the last one counts, as in Django
        value = value[-1] if value else ""
    return str(value)


# ---- query-string values (filters, search boxes, autocomplete, ?package=)


def clean_query_text(value, *, label, max_length: int = MAX_QUERY_CHARS) -> str:
    """A search or text-filter value: width folded, invisible characters gone, trimmed; "" when empty."""
    text = strip_invisible(fold_width(_as_text(value))).strip()
    if unsafe_reason(text):
        raise BadInputError(
            _("%(label)s含有无法识别的字符，请重新输入。") % {"label": label}, code="bad_characters"
        )
    if len(text) > max_length:
        raise BadInputError(
            _("%(label)s最多 %(max)d 个字（您输入了 %(count)d 个）。")
            % {"label": label, "max": max_length, "count": len(text)},
            code="too_long",
        )
    return text


def parse_id(value, *, label) -> int | None:
    """A positive integer id from 1 to MAX_ID, or None when empty; anything else is BadInputError."""
    if isinstance(value, bool):
        raise BadInputError(_("%(label)s无效。") % {"label": label}, code="invalid_id")
    if isinstance(value, int):
        number = value
    else:
        text = clean_query_text(value, label=label)
        if not text:
            return None
        # str.isdigit() is true for '²' and '٣'; only the ten ASCII digits make an id.
        if not text.isascii() or not text.isdigit() or len(text) > 19:
            raise BadInputError(
                _("%(label)s「%(value)s」不是有效的编号。") % {"label": label, "value": preview(text)},
                code="invalid_id",
            )
        number = int(text)
    if not 1 <= number <= MAX_ID:
        raise BadInputError(
            _("%(label)s「%(value)s」不是有效的编号。") % {"label": label, "value": preview(number)},
            code="invalid_id",
        )
    return number


def pk_of(obj) -> int:
    """A model instance or an id (forms, imports and tasks pass ids), as a bounded positive integer."""
    value = getattr(obj, "pk", obj)
    try:
        number = parse_id(value, label=_("编号"))
    except BadInputError:
        number = None
    if number is None:
        raise ApplicationError(_("无效的编号：%(value)s") % {"value": preview(value)}, code="invalid_id")
    return number


def max_date(today: datetime.date | None = None) -> datetime.date:
    """The latest date any input may name: FUTURE_YEARS after today (29 February falls back a day)."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + FUTURE_YEARS)
    except ValueError:
        return today.replace(year=today.year + FUTURE_YEARS, day=28)


def check_date_range(day: datetime.date, *, label, today: datetime.date | None = None) -> datetime.date:
    """`day` itself when it lies between MIN_DATE and max_date(); BadInputError otherwise."""
    latest = max_date(today)
    if not MIN_DATE <= day <= latest:
        raise BadInputError(
            _("%(label)s应在 %(min)s 至 %(max)s 之间。")
            % {"label": label, "min": MIN_DATE.isoformat(), "max": latest.isoformat()},
            code="date_out_of_range",
        )
    return day


def _date_formats() -> list[str]:
    return list(dict.fromkeys([*formats.get_format("DATE_INPUT_FORMATS"), *settings.DATE_INPUT_FORMATS]))


def parse_date(value, *, label, today: datetime.date | None = None) -> datetime.date | None:
    """A date typed or picked (any DATE_INPUT_FORMATS, full-width digits too) within the bounds; None if empty."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return check_date_range(value, label=label, today=today)
    text = clean_query_text(value, label=label, max_length=40)
    if text in EMPTY_VALUES:
        return None
    for fmt in _date_formats():
        try:
            day = datetime.datetime.strptime(text, fmt).date()
        except (ValueError, OverflowError):
            continue
        return check_date_range(day, label=label, today=today)
    raise BadInputError(
        _("%(label)s格式不正确，请按 %(example)s 的格式填写。")
        % {"label": label, "example": timezone.localdate().isoformat()},
        code="bad_date",
    )


def parse_datetime(value, *, label, today: datetime.date | None = None) -> datetime.datetime | None:
    """A date or date-time (ISO 8601, as Django's own filter links write them) within the bounds, aware."""
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        text = clean_query_text(value, label=label, max_length=40)
        if text in EMPTY_VALUES:
            return None
        try:
            moment = dateparse.parse_datetime(text)
        except (ValueError, OverflowError):
            moment = None
        if moment is None:
            day = parse_date(text, label=label, today=today)
            moment = datetime.datetime.combine(day, datetime.time.min)
    day = moment.date() if timezone.is_naive(moment) else moment.astimezone(datetime.UTC).date()
    check_date_range(day, label=label, today=today)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def parse_decimal(value, *, label, max_value: Decimal = MAX_AMOUNT, places: int = 2) -> Decimal | None:
    """A number typed in an amount filter (may be 0 or negative: it is a bound, not a payment); None if empty."""
    text = clean_query_text(value, label=label, max_length=30).replace(",", "").removeprefix("¥")
    if not text:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or abs(number) > max_value:
        raise BadInputError(
            _("%(label)s「%(value)s」不是有效的数字。") % {"label": label, "value": preview(text)},
            code="bad_number",
        )
    return number.quantize(Decimal(1).scaleb(-places))


def next_prefix(prefix: str) -> str | None:
    """The smallest string after every string that starts with `prefix` (for an index range), or None.

    None when no such string exists (the prefix ends in the last code point, U+10FFFF, all the way).
    """
    text = prefix
    while text:
        last = ord(text[-1])
        if last < 0x10FFFF:
            following = last + 1
            if 0xD800 <= following <= 0xDFFF:  # skip the surrogate block: no str holds it
                following = 0xE000
            return text[:-1] + chr(following)
        text = text[:-1]
    return None


# ---- what services store


def clean_text(value, *, label, required: bool = True, max_length: int = MAX_TEXT_CHARS) -> str:
    """Free text to store: trimmed, bidi controls and zero-width characters stripped, no NUL or surrogates.

    Text made only of invisible characters counts as empty (a required field refuses it).
    """
    text = strip_invisible(_as_text(value)).strip()
    if unsafe_reason(text, multiline=True):
        raise BadInputError(
            _("%(label)s含有无法识别的字符，请删除后重试。") % {"label": label}, code="bad_characters"
        )
    if required and not text:
        raise ApplicationError(_("请填写%(label)s。") % {"label": label}, code="required")
    if len(text) > max_length:
        raise ApplicationError(
            _("%(label)s不能超过 %(max)d 个字。") % {"label": label, "max": max_length}, code="too_long"
        )
    return text


def clean_choice(value, choices, label) -> str:
    """One of a TextChoices' values, or ApplicationError naming the field and what was given."""
    value = _as_text(value).strip()
    if value not in choices.values:
        raise ApplicationError(
            _("%(label)s「%(value)s」无效。") % {"label": label, "value": preview(value) or "—"},
            code="invalid_choice",
        )
    return value


def clean_amount(value, *, label=None, error: type[ApplicationError] = AmountError) -> Decimal:
    """A positive money amount with at most two decimals, at most MAX_AMOUNT (floats are refused: N-6)."""
    label = label or _("金额")
    if isinstance(value, float):
        value = repr(value)
    text = fold_width(_as_text(value)).strip().replace(",", "").removeprefix("¥")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError) as exc:
        raise error(
            _("%(label)s「%(value)s」不是有效的金额。") % {"label": label, "value": preview(value)}
        ) from exc
    if not amount.is_finite() or amount <= 0:
        raise error(_("%(label)s必须大于 0。") % {"label": label}, code="amount_not_positive")
    if amount > MAX_AMOUNT:
        raise error(
            _("%(label)s不能超过 ¥%(max)s。") % {"label": label, "max": MAX_AMOUNT}, code="amount_too_large"
        )
    if amount != amount.quantize(CENT):
        raise error(_("%(label)s最多两位小数。") % {"label": label}, code="amount_precision")
    return amount.quantize(CENT)


# A phone number people can call back: a mainland mobile (138 0013 8000), a landline with its area code
# (0571-8888 6666, extension allowed) or a 400/800 service number; spaces and dashes as people write them.
PHONE_RE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?|[48]00-?\d{3}-?\d{4})$")


def normalize_phone(value) -> str:
    return re.sub(r"[\s\u3000]+", "", fold_width(strip_invisible(_as_text(value)))).replace("－", "-")


class PhoneValidator(RegexValidator):
    """A return-address or contact phone number (model and form validator)."""

    regex = PHONE_RE
    message = gettext_lazy(
        "请填写有效的电话号码：手机号（如 13800138000）或带区号的座机（如 0571-88886666）。"
    )
    code = "invalid_phone"

    def __call__(self, value):
        super().__call__(normalize_phone(value))


phone_validator = PhoneValidator()


# ---- the guard on every request (the net under third-party pages: auth, beat, axes)


GUARDED_PREFIXES = ("/admin/", "/workbench/")
# Django's date hierarchy turns these into datetime(...) without catching OverflowError.
_DATE_PART = re.compile(r"__(year|month|day)$")


def _guard_reason(key: str, value: str) -> str | None:
    reason = unsafe_reason(key) or unsafe_reason(value, multiline=True)
    if reason in ("nul", "surrogate"):
        return reason
    if _DATE_PART.search(key) and value and not (value.isascii() and value.isdigit() and len(value) <= 4):
        return "date_part"
    return None


def guard_query(query: QueryDict) -> tuple[QueryDict, list[str]]:
    """The query without the parameters no page can use (NUL bytes, surrogates, absurd date parts)."""
    dropped = [key for key, values in query.lists() if any(_guard_reason(key, v) for v in values)]
    if not dropped:
        return query, []
    cleaned = query.copy()
    for key in dropped:
        del cleaned[key]
    cleaned._mutable = False
    return cleaned, dropped


class QueryGuardMiddleware:
    """Drop query parameters that would crash any page (a NUL byte is a DataError on PostgreSQL) and say so.

    Our own filters parse their values with the functions above and name the filter in their message;
    this is the net under every other page of both sites (Django's user admin, beat schedules, axes logs).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(GUARDED_PREFIXES) and request.GET:
            request.GET, dropped = guard_query(request.GET)
            if dropped and hasattr(request, "_messages"):
                from django.contrib import messages

                for key in dropped:
                    messages.error(
                        request,
                        _("网址参数「%(name)s」含有无效的值，已忽略。") % {"name": preview(key)},
                    )
        return self.get_response(request)


__all__ = [
    "FUTURE_YEARS",
    "MAX_ID",
    "MAX_QUERY_CHARS",
    "MIN_DATE",
    "AmountError",
    "BadInputError",
    "PhoneValidator",
    "QueryGuardMiddleware",
    "check_date_range",
    "clean_amount",
    "clean_choice",
    "clean_query_text",
    "clean_text",
    "fold_width",
    "guard_query",
    "max_date",
    "next_prefix",
    "normalize_phone",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_id",
    "phone_validator",
    "pk_of",
    "preview",
    "strip_invisible",
]
