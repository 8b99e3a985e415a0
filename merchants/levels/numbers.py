"""Numbers of the level engine as they are shown and stored: exact Decimals, never binary floats.

The decisions (rules.py) compare exact Fractions. What is shown or stored is a Decimal rounded half up at a
fixed number of places — a rate (0–1) to 6 places, a score to 2, a score's indicator value to 4 — and the
JSON columns of LevelEvaluation keep each Decimal as its string ("0.999500", "85.50"), which `decimal()`
reads back. Integers (counts) stay integers.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

RATE = 6  # a rate 0–1 (on-time 0.999500): 4 places of its percentage
VALUE = 4  # a score's indicator value (a percentage, hours, seconds)
SCORE = 2  # a score (0–5, 0–100), as shown


def exact(value) -> Fraction | None:
    """Any number we meet (int, Decimal, Fraction, a numeric string, a JSON float) as an exact Fraction.

    A float (old JSON rows, a curve point staff typed) is taken as the decimal it prints as: 99.9 is
    999/10, not the binary neighbour of 99.9.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int | Decimal):
        return Fraction(value)
    try:
        return Fraction(str(value) if isinstance(value, str) else repr(value))
    except (ValueError, ZeroDivisionError):
        return None


def dec(value) -> Decimal | None:
    """Any number as a Decimal for the score arithmetic (a Fraction divided out to 28 digits; a float
    as the decimal it prints as)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    try:
        return Decimal(value if isinstance(value, str) else repr(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


_STEPS = {places: Decimal(1).scaleb(-places) for places in range(0, 9)}


def quantize(value, places: int) -> Decimal | None:
    """`value` rounded half up (away from zero) to `places` decimals. A Fraction is rounded exactly (in
    integers); a Decimal or an int by Decimal.quantize."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value).quantize(_STEPS[places], rounding=ROUND_HALF_UP)
    fraction = exact(value)
    if fraction is None:
        return None
    digits, rest = divmod(abs(fraction.numerator) * 10**places, fraction.denominator)
    if 2 * rest >= fraction.denominator:
        digits += 1
    sign = "-" if fraction < 0 and digits else ""
    return Decimal(f"{sign}{digits}").scaleb(-places)


def decimal(value) -> Decimal | int | None:
    """A stored number read back: an int stays an int, anything else (a Decimal string) is a Decimal."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, Fraction):
        return quantize(value, RATE)
    try:
        return Decimal(value if isinstance(value, str) else repr(value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def stored(value):
    """A value made ready for a JSON column: Decimals as strings, Fractions as 6-place Decimal strings,
    dicts and lists walked; everything else as it is."""
    kind = type(value)
    if kind is int or kind is str or value is None or kind is bool:
        return value
    if kind is dict:
        return {key: stored(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [stored(item) for item in value]
    return _as_string(value) if isinstance(value, Decimal | Fraction) else value


def _as_string(value) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Fraction):
        return str(quantize(value, RATE))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# The same as json.dumps(stored(value)), in C but for the Decimals and Fractions (the COPY writers).
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_as_string).encode
