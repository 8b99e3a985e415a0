"""Contact details in a merchant's words (R-2): phone numbers in any disguise, WeChat / QQ ids, URLs, e-mails.

Pure functions, no database: `find_contact(text)` returns the first finding (or None), `find_all(text)`
every one, each with the words exactly as the merchant wrote them, so the refusal can say what it saw.
Reply templates (话术, T-6) pass the same check.

How disguises are undone, before anything is matched (`normalise`):
- Unicode NFKC, character by character: full-width digits and letters (１３８, ｖｘ), circled digits (①),
  the full-width @ and dot become their ASCII selves; then lower case.
- Chinese numerals used as digits (一三八, 壹叁捌, 幺, 零/〇) become digits.
A phone number may then be split by spaces, dots, dashes or any other punctuation (up to four such
characters between two digits): digits form *runs*, and a number counts only when it starts and ends at
the edges of the digit groups of its run — so an order number (fourteen digits in one group) or a date is
not a phone number, while 138 1234 5678, 138.1234.5678 or 1-3-8-1-2-3-4-5-6-7-8 are.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactKind(models.TextChoices):
    EMAIL = "email", _("邮箱")
    URL = "url", _("网址")
    WECHAT = "wechat", _("微信号")
    QQ = "qq", _("QQ号")
    PHONE = "phone", _("电话号码")


@dataclass(frozen=True)
class ContactFinding:
    kind: str  # a ContactKind value
    text: str  # as written in the original text
    start: int  # position in the original text

    @property
    def label(self) -> str:
        return str(ContactKind(self.kind).label)


CHINESE_DIGITS = {
    **dict.fromkeys("零〇○", "0"),
    **dict.fromkeys("一壹幺", "1"),
    **dict.fromkeys("二贰两", "2"),
    **dict.fromkeys("三叁", "3"),
    **dict.fromkeys("四肆", "4"),
    **dict.fromkeys("五伍", "5"),
    **dict.fromkeys("六陆", "6"),
    **dict.fromkeys("七柒", "7"),
    **dict.fromkeys("八捌", "8"),
    **dict.fromkeys("九玖", "9"),
}
MAX_SEPARATORS = 4  # punctuation / spaces allowed between two digits of one number

# After normalisation (lower case, ASCII digits and letters).
_SEP = r"[\s:=：是为號号码碼\-_]*"
_WECHAT_WORDS = r"(?:微信|威信|薇信|徽信|维信|卫信|v信|wei信|加v|\+v(?![a-z])|(?<![a-z])(?:vx|wx|weixin|wechat|vchat)(?![a-z]))"
_QQ_WORDS = r"(?:扣扣|抠抠|蔻蔻|寇寇|企鹅号?|(?<![a-z])qq|(?<![a-z])q号)"
_TLDS = "com|cn|net|org|top|xyz|cc|vip|shop|site|info|me|io|co|tv|club|link|store|online|wang|ltd|biz|ink|fun"
_DOT = r"\s*(?:\.|。|点|dot)\s*"
_EMAIL = re.compile(
    rf"[a-z0-9._%+\-]+\s*(?:@|艾特|\(at\)|\[at\])\s*[a-z0-9\-]+(?:{_DOT}[a-z0-9\-]+)*{_DOT}[a-z]{{2,}}"
)
_URL = re.compile(
    r"(?:https?|ftp)\s*[:：]\s*//\S+"
    rf"|(?<![a-z0-9\-])[a-z0-9][a-z0-9\-]*(?:{_DOT}[a-z0-9\-]+)*{_DOT}(?:{_TLDS})(?![a-z])(?:/\S*)?"
    rf"|www{_DOT}[a-z0-9\-]+"
)
_WECHAT = re.compile(rf"{_WECHAT_WORDS}{_SEP}(?P<id>[a-z][a-z0-9_\-]{{5,19}}|\d[\d\s\-.]{{4,}})")
_QQ = re.compile(rf"{_QQ_WORDS}{_SEP}(?P<id>\d)")
# Phone numbers, on the digits of one run (separators removed).
_MOBILE = re.compile(r"(?:0086|86)?1[3-9]\d{9}")
_LANDLINE = re.compile(r"0\d{9,11}")  # area code (3–4 digits with the 0) + 7–8 digits
_SERVICE = re.compile(r"[48]00\d{7}")  # 400 / 800 hotlines


def _normal_char(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).lower()
    return CHINESE_DIGITS.get(folded, folded) if len(folded) == 1 else folded


def normalise(text: str) -> tuple[str, list[int]]:
    """(the normalised text, for each of its characters the index of the original character)."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text or ""):
        folded = _normal_char(char)
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


def _is_separator(char: str) -> bool:
    return not char.isalnum()


@dataclass
class _Run:
    start: int  # normalised positions
    end: int
    digits: str
    groups: list[tuple[int, int]]  # (start, end) in `digits` of each contiguous group
    positions: list[int]  # the normalised position of each digit


def _digit_runs(text: str, start: int = 0) -> list[_Run]:
    """Digits joined by at most MAX_SEPARATORS separator characters, from `start` on."""
    runs: list[_Run] = []
    i, n = start, len(text)
    while i < n:
        if not text[i].isdigit():
            i += 1
            continue
        run = _Run(start=i, end=i, digits="", groups=[], positions=[])
        while True:
            group_start = len(run.digits)
            while i < n and text[i].isdigit():
                run.digits += text[i]
                run.positions.append(i)
                i += 1
            run.groups.append((group_start, len(run.digits)))
            run.end = i
            gap = i
            while gap < n and _is_separator(text[gap]) and gap - i < MAX_SEPARATORS + 1:
                gap += 1
            if gap < n and text[gap].isdigit() and gap - i <= MAX_SEPARATORS:
                i = gap
                continue
            break
        runs.append(run)
    return runs


def _phone_in(run: _Run) -> tuple[int, int] | None:
    """(start, end) normalised positions of a phone number that starts and ends at group edges of the run."""
    starts = {start for start, _end in run.groups}
    ends = {end for _start, end in run.groups}
    for begin in sorted(starts):
        rest = run.digits[begin:]
        for pattern in (_MOBILE, _LANDLINE, _SERVICE):
            match = pattern.match(rest)
            if match is None:
                continue
            # A longer match may end inside a group: try every end the pattern allows, shortest first.
            for stop in range(len(match.group()), 0, -1):
                if begin + stop in ends and pattern.fullmatch(rest[:stop]):
                    return run.positions[begin], run.positions[begin + stop - 1] + 1
    return None


def find_all(text: str) -> list[ContactFinding]:
    """Every contact detail in `text`, in order of appearance (one finding per place)."""
    normal, origin = normalise(text)
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, kind: str) -> None:
        if any(start < b and a < end for a, b in taken):
            return  # already reported as something else (an e-mail's domain is not also a URL)
        taken.append((start, end))
        found.append((start, end, kind))

    for match in _EMAIL.finditer(normal):
        add(match.start(), match.end(), ContactKind.EMAIL)
    for match in _URL.finditer(normal):
        add(match.start(), match.end(), ContactKind.URL)
    for match in _WECHAT.finditer(normal):
        add(match.start(), match.end(), ContactKind.WECHAT)
    for match in _QQ.finditer(normal):
        runs = _digit_runs(normal, match.start("id"))
        if runs and runs[0].start == match.start("id") and len(runs[0].digits) >= 5:
            add(match.start(), runs[0].end, ContactKind.QQ)
    for run in _digit_runs(normal):
        span = _phone_in(run)
        if span is not None:
            add(*span, ContactKind.PHONE)

    findings = []
    for start, end, kind in sorted(found):
        first, last = origin[start], origin[end - 1] + 1
        findings.append(ContactFinding(kind=kind, text=text[first:last].strip(), start=first))
    return findings


def find_contact(text: str) -> ContactFinding | None:
    """The first contact detail in `text`, or None."""
    findings = find_all(text)
    return findings[0] if findings else None


def fold(text: str) -> str:
    """The normalised text without separators: what banned words are looked for in (违 禁 词 is 违禁词)."""
    normal, _origin = normalise(text)
    return "".join(char for char in normal if not _is_separator(char))
