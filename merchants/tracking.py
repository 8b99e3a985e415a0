"""Tracking numbers as merchants paste them (S-1): one normal form, and the shape each carrier uses.

`normalise_tracking` turns what is copied from a label or a carrier's page into the stored form:
full-width characters become ASCII, spaces and dashes (ASCII, full-width, en and em dashes …) go,
letters become capitals — `ｓｆ 1234－5678 901` is `SF12345678901`. `check_tracking` then refuses a
number that cannot be one: the generic rule first (6–32 letters or digits), then, for a carrier
with a known format, its prefix and length. Those formats are lenient on purpose (real numbers vary
by year, region and product): the check is there to catch the wrong carrier picked or a paste cut
short, never to refuse a real number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from merchants.transitions import Carrier

MAX_LENGTH = 32  # Package.tracking_no
# What a form accepts before normalising: a 32-character number with a space or a dash between
# every group still fits (browsers silently cut a paste at the input's maxlength).
MAX_INPUT_LENGTH = 64

# Removed wherever they appear: whitespace (incl. no-break and ideographic spaces), zero-width
# characters, and every dash or hyphen a label or a word processor produces.
_SEPARATORS = re.compile(
    r"[\s\u00ad\u200b-\u200d\u2060\ufeff"
    r"\-\u2010-\u2015\u2212\u2e3a\u2e3b\u30fc\ufe58\ufe63\uff0d\uff70]+"
)
_GENERIC = re.compile(r"^[A-Z0-9]{6,32}$")


def normalise_tracking(value: str | None) -> str:
    """The stored form of a pasted tracking number: ASCII capitals and digits, no spaces or dashes."""
    text = unicodedata.normalize("NFKC", value or "")  # full-width Ａ１ -> A1, U+3000 -> space
    return _SEPARATORS.sub("", text).upper()


@dataclass(frozen=True)
class TrackingFormat:
    pattern: re.Pattern
    shape: object  # lazy text: what the number looks like, for the message
    example: str


FORMATS: dict[str, TrackingFormat] = {
    Carrier.SF: TrackingFormat(
        re.compile(r"^(?:SF\d{10,15}|\d{12})$"), _("SF 加 10–15 位数字，或 12 位数字"), "SF1234567890123"
    ),
    Carrier.JD: TrackingFormat(
        re.compile(r"^JD[A-Z0-9]{4,30}$"), _("JD 开头，后接字母或数字"), "JDVA12345678901"
    ),
    Carrier.YTO: TrackingFormat(re.compile(r"^YT\d{8,18}$"), _("YT 加数字"), "YT1234567890123"),
    Carrier.ZTO: TrackingFormat(
        re.compile(r"^(?:ZTO?)?\d{10,18}$"), _("10–18 位数字，可带 ZT 或 ZTO 开头"), "73123456789012"
    ),
    Carrier.JT: TrackingFormat(re.compile(r"^JT\d{13}$"), _("JT 加 13 位数字"), "JT1234567890123"),
    Carrier.EMS: TrackingFormat(
        re.compile(r"^(?:[A-Z]{2}\d{9}[A-Z]{2}|\d{13}|EM\d{9,15})$"),
        _("13 位数字、EM 加数字，或国际格式（两个字母 + 9 位数字 + 两个字母）"),
        "1123456789012",
    ),
}

# Prefixes that say which carrier a number belongs to (to name it when another carrier was picked).
_TELLING_PREFIXES = ((Carrier.SF, "SF"), (Carrier.JD, "JD"), (Carrier.YTO, "YT"), (Carrier.JT, "JT"))


def _looks_like(tracking_no: str, picked: str) -> str | None:
    """The carrier whose format the number has, when its prefix says so and it is not the one picked."""
    for carrier, prefix in _TELLING_PREFIXES:
        if (
            carrier != picked
            and tracking_no.startswith(prefix)
            and FORMATS[carrier].pattern.match(tracking_no)
        ):
            return carrier
    return None


def check_tracking(carrier: str, tracking_no: str) -> None:
    """Raise ValidationError (code "tracking_no") unless `tracking_no`, normalised, fits the carrier."""
    if not _GENERIC.match(tracking_no):
        raise ValidationError(_("运单号应为 6–32 位字母、数字或短横线。"), code="tracking_no")
    known = FORMATS.get(carrier)
    if known is None or known.pattern.match(tracking_no):
        return
    params = {
        "carrier": Carrier(carrier).label,
        "shape": known.shape,
        "example": known.example,
        "value": tracking_no,
    }
    other = _looks_like(tracking_no, carrier)
    if other is not None:
        params["other"] = Carrier(other).label
        raise ValidationError(
            _(
                "运单号 %(value)s 看起来是%(other)s的，不是%(carrier)s的：请核对快递公司"
                "（%(carrier)s的运单号为%(shape)s，例如 %(example)s）。"
            ),
            code="tracking_no",
            params=params,
        )
    raise ValidationError(
        _(
            "%(carrier)s的运单号应为%(shape)s，例如 %(example)s；您填写的 %(value)s 不符合，"
            "请核对快递公司和运单号是否完整。"
        ),
        code="tracking_no",
        params=params,
    )


__all__ = [
    "FORMATS",
    "MAX_INPUT_LENGTH",
    "MAX_LENGTH",
    "TrackingFormat",
    "check_tracking",
    "normalise_tracking",
]
