"""The platform's feeds (B-1, L-3, L-5, L-7): daily IM statistics and the logistics feed, staff only.

A merchant never imports what grades the shop: both imports are platform staff's (or the system's), and
every row names its shop by 店铺编码. Both follow the kernel's import kit (merchants.kernel.importing):
headers in Chinese or English, CSV in any encoding or XLSX, every bad row named, all or nothing (B-3).

- `ImDailyStatResource` — one row per shop and day: sessions, human-assigned sessions, the SUM of the
  human first-response seconds, rated sessions and 1–3-star sessions (sums and counts, never averages:
  L-3's 30-day average is a sum ÷ a count). A second import of a shop/day already stored **replaces** it
  with the feed's latest figures (the platform re-sends a corrected day) and logs the old and new values
  on the `shouhou.feeds` logger; the same file twice changes nothing the second time. Two rows for one
  shop/day in one file are an error (which one would be the day's?).
- `TrackingEventResource` — one row per carrier scan: shop, parcel kind (发货包裹 / 退货包裹, may be left
  empty when the number says it), carrier, tracking number (normalised as merchants.tracking does), stage
  (揽收 / 运输中 / 派送中 / 签收), time and text, and an optional 虚假发货 flag. An outgoing parcel is a
  package of the shop; a return parcel is a case's return carrier and number, found through the hook the
  after-sales app registers (`register_return_parcels`: merchants imports nothing above it). The same
  scan twice is one event. A return parcel's signed-for scan sets the case's return_signed_at through
  its service (aftersales.services.record_return_signed, earliest kept); 虚假发货 = 是 flags the package
  through merchants.services.flag_fake_shipping (source logistics_feed; a feed never clears a flag —
  否 or empty leaves it as it is). An unknown tracking number is a row error.
"""

from __future__ import annotations

import datetime
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import fields, widgets

from merchants import services
from merchants.kernel.checks import MIN_DATE
from merchants.kernel.importing import BatchResult, SpreadsheetResource, any_of
from merchants.kernel.scoping import scope_to_actor, sees_all
from merchants.kernel.workflow import ApplicationError
from merchants.models import FakeShippingSource, ImDailyStat, Merchant, Package, TrackingEvent
from merchants.resources.common import FALSE_WORDS, TRUE_WORDS, TextWidget
from merchants.resources.shipping import carrier_code
from merchants.tracking import normalise_tracking
from merchants.transitions import Carrier

logger = logging.getLogger("shouhou.feeds")

MAX_COUNT = 10_000_000  # sessions of one shop in one day: far above any real shop, far below the column
SECONDS_PER_DAY = 86_400
MAX_TEXT = 200


class _Rollback(Exception):
    """Leave the import's transaction without keeping anything (a dry run, or a bad row)."""


# --------------------------------------------------------------------------------------------
# Cells


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", force_str(value)).strip()


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_TIME = re.compile(r"^[T\s]*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?)?\s*秒?$")


def parse_day(value) -> datetime.date:
    """2026-05-01, 2026/5/1, 2026年5月1日 (full-width digits too), or an Excel date cell."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    match = _DATE.match(text)
    if not match or text[match.end() :].strip():
        raise ValueError(
            gettext("「%(value)s」不是有效的日期，请按 2026-05-01 的格式填写。") % {"value": text}
        )
    try:
        return datetime.date(*map(int, match.groups()))
    except ValueError:
        raise ValueError(gettext("「%(value)s」不是有效的日期。") % {"value": text}) from None


def parse_moment(value) -> datetime.datetime:
    """A date and time (seconds optional) in the three ways Excel users type dates, aware (Asia/Shanghai)."""
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        text = _text(value)
        match = _DATE.match(text)
        rest = _TIME.match(text[match.end() :]) if match else None
        if not match or rest is None:
            raise ValueError(
                gettext("「%(value)s」不是有效的时间，请按 2026-05-01 14:30 的格式填写。") % {"value": text}
            )
        hour, minute, second = (int(part or 0) for part in rest.groups())
        try:
            moment = datetime.datetime(*map(int, match.groups()), hour, minute, second)
        except ValueError:
            raise ValueError(gettext("「%(value)s」不是有效的时间。") % {"value": text}) from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def parse_count(value, *, maximum: int = MAX_COUNT) -> int:
    """A whole number of sessions or seconds: full-width digits and thousands commas accepted; blank is 0."""
    if isinstance(value, bool):
        raise ValueError(gettext("「%(value)s」不是有效的整数。") % {"value": value})
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = _text(value).replace(",", "").replace(" ", "")
        if not text:
            return 0
        if not text.isdigit():
            raise ValueError(gettext("「%(value)s」不是有效的非负整数。") % {"value": _text(value)})
        number = int(text)
    if number < 0:
        raise ValueError(gettext("「%(value)s」不能为负数。") % {"value": value})
    if number > maximum:
        raise ValueError(
            gettext("「%(value)s」超出范围（最大 %(max)s）。") % {"value": value, "max": maximum}
        )
    return number


class DayWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return parse_day(value)

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class MomentWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return parse_moment(value)

    def render(self, value, obj=None, **kwargs):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


class CountWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return parse_count(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


# --------------------------------------------------------------------------------------------
# The common frame: staff only, shops by code in one query, validation then one transaction


class FeedResource(SpreadsheetResource):
    """A platform feed: parse every row (`parse`), then write in one transaction (`write`), all or nothing."""

    # Its preview runs the services and rolls back: the import center validates it inside a transaction.
    dry_run_writes_nothing = False

    def _col(self, name: str) -> str:
        return force_str(self.fields[name].column_name)

    def import_prepared(self, dataset, *args, dry_run=False, **kwargs):
        batch = BatchResult(self, dataset)
        batch.formula_errors()
        headers = list(dataset.headers)
        index = {name: headers.index(self._col(name)) for name in self.fields if self._col(name) in headers}
        rows = {
            number: {name: values[i] for name, i in index.items()}
            for number, values in enumerate(dataset, start=1)
        }
        shop_col = self._col("shop")
        if not sees_all(self.actor):  # a merchant never imports what grades the shop
            for number in rows:
                batch.error(number, shop_col, gettext("只有平台可以导入此数据。"))
            return batch.finish({}, lambda number: [])
        codes = {_text(row.get("shop")) for row in rows.values()} - {""}
        shops = {m.code: m for m in any_of(scope_to_actor(Merchant.objects.all(), self.actor), "code", codes)}
        for number, row in rows.items():
            code = _text(row.get("shop"))
            if not code:
                batch.error(number, shop_col, gettext("请填写店铺编码。"))
            elif code not in shops:
                batch.error(number, shop_col, gettext("店铺编码「%(code)s」不存在。") % {"code": code})
            row["shop"] = shops.get(code)
        plan = self.parse(rows, batch)
        import_types: dict[int, str] = {}
        if not batch.errors:
            try:
                with transaction.atomic():
                    import_types = self.write(plan, batch)
                    if batch.errors or dry_run:
                        raise _Rollback
            except _Rollback:
                pass
        diff_columns = [headers.index(c) if c in headers else None for c in self.get_diff_headers()]

        def preview(number):
            values = dataset[number - 1]
            return ["" if i is None or values[i] is None else force_str(values[i]) for i in diff_columns]

        return batch.finish(import_types, preview)

    def parse(self, rows: dict[int, dict], batch: BatchResult):
        raise NotImplementedError

    def write(self, plan, batch: BatchResult) -> dict[int, str]:
        raise NotImplementedError

    def cell(self, row: dict, name: str, parser, batch: BatchResult, number: int):
        try:
            return parser(row.get(name))
        except ValueError as exc:
            batch.error(number, self._col(name), str(exc))
            return None

    def dehydrate_shop(self, obj):
        return obj.merchant.code

    def iter_queryset(self, queryset):
        yield from super().iter_queryset(queryset.select_related("merchant").order_by("pk"))


# --------------------------------------------------------------------------------------------
# Daily IM statistics (L-3 IM first response, L-6 IM dissatisfaction)

IM_COUNTS = (
    "sessions",
    "human_sessions",
    "human_first_response_seconds",
    "rated_sessions",
    "low_rated_sessions",
)


class ImDailyStatResource(FeedResource):
    shop = fields.Field(column_name=_("店铺编码"), widget=TextWidget())
    day = fields.Field(attribute="day", column_name=_("日期"), widget=DayWidget())
    sessions = fields.Field(attribute="sessions", column_name=_("咨询会话数"), widget=CountWidget())
    human_sessions = fields.Field(
        attribute="human_sessions", column_name=_("人工接待会话数"), widget=CountWidget()
    )
    human_first_response_seconds = fields.Field(
        attribute="human_first_response_seconds",
        column_name=_("人工首次响应总时长（秒）"),
        widget=CountWidget(),
    )
    rated_sessions = fields.Field(
        attribute="rated_sessions", column_name=_("评价会话数"), widget=CountWidget()
    )
    low_rated_sessions = fields.Field(
        attribute="low_rated_sessions", column_name=_("1–3星会话数"), widget=CountWidget()
    )

    required_columns = ("shop", "day", "sessions")
    example_row = {
        "shop": "shop1",
        "day": "2026-05-01",
        "sessions": "120",
        "human_sessions": "80",
        "human_first_response_seconds": "9600",
        "rated_sessions": "40",
        "low_rated_sessions": "3",
    }

    class Meta:
        model = ImDailyStat
        fields = ("shop", "day", *IM_COUNTS)
        import_order = fields
        export_order = fields
        import_id_fields = ()

    @classmethod
    def get_display_name(cls) -> str:
        return str(_("客服日报"))

    def parse(self, rows, batch):
        today = timezone.localdate()
        parsed: dict[int, tuple[Merchant, datetime.date, dict[str, int]]] = {}
        first_row: dict[tuple[int, datetime.date], int] = {}
        for number, row in rows.items():
            shop = row["shop"]
            day = None
            if _text(row.get("day")):
                day = self.cell(row, "day", parse_day, batch, number)
            else:
                batch.error(number, self._col("day"), gettext("请填写日期。"))
            if day is not None and not MIN_DATE <= day <= today:
                batch.error(
                    number,
                    self._col("day"),
                    gettext("日期应在 %(min)s 至今天（%(today)s）之间。")
                    % {"min": MIN_DATE.isoformat(), "today": today.isoformat()},
                )
                day = None
            counts = {}
            for name in IM_COUNTS:
                maximum = MAX_COUNT * SECONDS_PER_DAY if name == "human_first_response_seconds" else MAX_COUNT
                counts[name] = self.cell(
                    row, name, lambda v, m=maximum: parse_count(v, maximum=m), batch, number
                )
            if all(value is not None for value in counts.values()):
                self._consistent(counts, batch, number)
            if shop is None or day is None or number in batch.errors:
                continue
            key = (shop.pk, day)
            if key in first_row:
                batch.error(
                    number,
                    self._col("day"),
                    gettext("店铺 %(shop)s 的 %(day)s 已在第 %(row)d 行出现：每个店铺每天只能有一行。")
                    % {
                        "shop": shop.code,
                        "day": day.isoformat(),
                        "row": rows_file_row(batch, first_row[key]),
                    },
                )
                continue
            first_row[key] = number
            parsed[number] = (shop, day, counts)
        return parsed

    def _consistent(self, counts, batch, number):
        def error(name, message):
            batch.error(number, self._col(name), message)

        if counts["human_sessions"] > counts["sessions"]:
            error("human_sessions", gettext("人工接待会话数不能大于咨询会话数。"))
        if counts["rated_sessions"] > counts["sessions"]:
            error("rated_sessions", gettext("评价会话数不能大于咨询会话数。"))
        if counts["low_rated_sessions"] > counts["rated_sessions"]:
            error("low_rated_sessions", gettext("1–3星会话数不能大于评价会话数。"))
        seconds = counts["human_first_response_seconds"]
        if counts["human_sessions"] == 0 and seconds:
            error("human_first_response_seconds", gettext("没有人工接待会话时，人工首次响应总时长应为 0。"))
        elif seconds > counts["human_sessions"] * SECONDS_PER_DAY:
            error(
                "human_first_response_seconds",
                gettext("人工首次响应总时长不能超过每个人工会话 24 小时（%(max)s 秒）。")
                % {"max": counts["human_sessions"] * SECONDS_PER_DAY},
            )

    def write(self, plan, batch):
        existing = {}
        days_by_shop: dict[int, set] = {}
        for shop, day, _counts in plan.values():
            days_by_shop.setdefault(shop.pk, set()).add(day)
        for merchant_id, days in days_by_shop.items():
            # Locked: two imports of the same day serialise, the later one's figures stay.
            locked = ImDailyStat.objects.select_for_update().filter(merchant_id=merchant_id)
            for stat in any_of(locked, "day", days):
                existing[(stat.merchant_id, stat.day)] = stat
        new, changed, import_types = [], [], {}
        for number, (shop, day, counts) in plan.items():
            stat = existing.get((shop.pk, day))
            if stat is None:
                new.append(ImDailyStat(merchant=shop, day=day, **counts))
                import_types[number] = "new"
                continue
            old = {name: getattr(stat, name) for name in IM_COUNTS}
            if old == counts:
                import_types[number] = "skip"
                continue
            for name, value in counts.items():
                setattr(stat, name, value)
            changed.append((stat, shop, old, counts))
            import_types[number] = "update"
        ImDailyStat.objects.bulk_create(new, batch_size=500)
        ImDailyStat.objects.bulk_update([stat for stat, *_ in changed], list(IM_COUNTS), batch_size=500)
        actor = getattr(self.actor, "pk", None)

        def log_replaced():
            for stat, shop, old, counts in changed:
                logger.info(
                    "IM daily stat replaced by the feed: shop=%s day=%s old=%s new=%s actor=%s",
                    shop.code,
                    stat.day.isoformat(),
                    old,
                    counts,
                    actor,
                )

        transaction.on_commit(log_replaced)
        return import_types


def rows_file_row(batch: BatchResult, number: int) -> int:
    """The row number in the file (the header is row 1) of data row `number`."""
    numbers = getattr(batch.dataset, "row_numbers", None) or []
    return numbers[number - 1] if 0 < number <= len(numbers) else number + 1


# --------------------------------------------------------------------------------------------
# Return parcels: found through the after-sales app (merchants imports nothing above it)


@dataclass(frozen=True)
class ReturnParcel:
    case_id: int
    case_no: str


# find({(merchant_id, carrier, tracking_no), ...}) -> {key: [ReturnParcel, ...]}
ReturnFinder = Callable[[set[tuple[int, str, str]]], dict[tuple[int, str, str], list[ReturnParcel]]]
# signed(case_id, signed_at=...) records the signed-for time; raises ApplicationError when refused
ReturnSigned = Callable[..., object]

_return_parcels: dict[str, tuple[ReturnFinder, ReturnSigned]] = {}


def register_return_parcels(find: ReturnFinder, signed: ReturnSigned) -> None:
    """The after-sales app tells the logistics feed how to find a return parcel and record its signing."""
    _return_parcels[f"{find.__module__}.{find.__qualname__}"] = (find, signed)


def _find_returns(keys):
    found: dict[tuple[int, str, str], list[ReturnParcel]] = {}
    for find, _signed in _return_parcels.values():
        for key, parcels in find(keys).items():
            found.setdefault(key, []).extend(parcels)
    return found


def _record_signed(case_id: int, signed_at):
    for _find, signed in _return_parcels.values():
        signed(case_id, signed_at=signed_at)


def tracking_history(merchant_id: int, direction: str, parcels: Iterable[tuple[str, str]]):
    """The 物流轨迹 of a shop's parcels ((carrier, tracking_no) pairs), newest first."""
    pairs = {(carrier, number) for carrier, number in parcels if carrier and number}
    if not pairs:
        return []
    events = TrackingEvent.objects.filter(
        merchant_id=merchant_id, direction=direction, tracking_no__in={n for _c, n in pairs}
    ).order_by("-occurred_at", "-pk")
    return [event for event in events if (event.carrier, event.tracking_no) in pairs]


# --------------------------------------------------------------------------------------------
# The logistics feed

DIRECTION_WORDS = {
    TrackingEvent.Direction.OUTGOING: {
        "发货",
        "发货包裹",
        "包裹",
        "发出",
        "outgoing",
        "outgoingparcel",
        "package",
    },
    TrackingEvent.Direction.RETURN: {"退货", "退货包裹", "退回", "退件", "return", "returnparcel"},
}
STAGE_WORDS = {
    TrackingEvent.Stage.COLLECTED: {"揽收", "已揽收", "揽件", "collected", "pickedup"},
    TrackingEvent.Stage.IN_TRANSIT: {"运输中", "在途", "运输", "intransit", "transit"},
    TrackingEvent.Stage.DELIVERING: {"派送", "派送中", "派件", "outfordelivery", "delivering"},
    TrackingEvent.Stage.SIGNED: {"签收", "已签收", "妥投", "signed", "signedfor", "delivered"},
}


def _key(text) -> str:
    return "".join(ch for ch in _text(text).casefold() if not ch.isspace() and ch not in "_-")


def _choice(value, choices, words) -> str:
    key = _key(value)
    for choice in choices:
        names = {_key(choice.value), *(_key(w) for w in words[choice])}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names.add(_key(force_str(choice.label)))
        if key in names:
            return choice.value
    raise ValueError(
        gettext("「%(value)s」无法识别，可填写：%(choices)s。")
        % {"value": _text(value), "choices": "、".join(force_str(c.label) for c in choices)}
    )


def parse_fake_flag(value) -> bool | None:
    text = _text(value).casefold()
    if not text:
        return None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(gettext("「%(value)s」不是有效的是/否值，请填写“是”或“否”。") % {"value": _text(value)})


@dataclass
class _Scan:
    shop: Merchant
    direction: str
    carrier: str
    tracking_no: str
    stage: str
    occurred_at: datetime.datetime | None
    text: str
    fake: bool | None


class TrackingEventResource(FeedResource):
    shop = fields.Field(column_name=_("店铺编码"), widget=TextWidget())
    direction = fields.Field(attribute="direction", column_name=_("包裹类型"), widget=TextWidget())
    carrier = fields.Field(attribute="carrier", column_name=_("快递公司"), widget=TextWidget())
    tracking_no = fields.Field(attribute="tracking_no", column_name=_("运单号"), widget=TextWidget())
    stage = fields.Field(attribute="stage", column_name=_("物流节点"), widget=TextWidget())
    occurred_at = fields.Field(attribute="occurred_at", column_name=_("发生时间"), widget=MomentWidget())
    text = fields.Field(attribute="text", column_name=_("轨迹描述"), widget=TextWidget())
    fake_shipping = fields.Field(column_name=_("虚假发货"), widget=TextWidget())

    required_columns = ("shop", "carrier", "tracking_no", "stage", "occurred_at")
    example_row = {
        "shop": "shop1",
        "direction": _("发货包裹"),
        "carrier": _("顺丰速运"),
        "tracking_no": "SF1234567890123",
        "stage": _("已揽收"),
        "occurred_at": "2026-05-01 14:30:00",
        "text": _("【深圳市】顺丰速运 已收取快件"),
        "fake_shipping": "",
    }

    class Meta:
        model = TrackingEvent
        fields = (
            "shop",
            "direction",
            "carrier",
            "tracking_no",
            "stage",
            "occurred_at",
            "text",
            "fake_shipping",
        )
        import_order = fields
        export_order = fields
        import_id_fields = ()

    @classmethod
    def get_display_name(cls) -> str:
        return str(_("物流轨迹"))

    # -- parse: every cell, then every parcel in one lookup per kind

    def parse(self, rows, batch):
        now = timezone.now()
        scans: dict[int, _Scan] = {}
        for number, row in rows.items():
            direction = ""
            if _text(row.get("direction")):
                direction = self.cell(
                    row,
                    "direction",
                    lambda v: _choice(v, TrackingEvent.Direction, DIRECTION_WORDS),
                    batch,
                    number,
                )
            carrier = carrier_code(row.get("carrier"))
            if not carrier:
                batch.error(number, self._col("carrier"), gettext("请填写快递公司。"))
            elif carrier not in Carrier.values:
                batch.error(
                    number, self._col("carrier"), gettext("未知的快递公司：%(value)s") % {"value": carrier}
                )
            tracking_no = normalise_tracking(_text(row.get("tracking_no")))
            if not tracking_no:
                batch.error(number, self._col("tracking_no"), gettext("请填写运单号。"))
            elif len(tracking_no) > 32:
                batch.error(number, self._col("tracking_no"), gettext("运单号最多 32 个字符。"))
            stage = None
            if _text(row.get("stage")):
                stage = self.cell(
                    row, "stage", lambda v: _choice(v, TrackingEvent.Stage, STAGE_WORDS), batch, number
                )
            else:
                batch.error(number, self._col("stage"), gettext("请填写物流节点。"))
            occurred_at = None
            if _text(row.get("occurred_at")):
                occurred_at = self.cell(row, "occurred_at", parse_moment, batch, number)
            else:
                batch.error(number, self._col("occurred_at"), gettext("请填写发生时间。"))
            if occurred_at is not None and not (
                MIN_DATE <= timezone.localtime(occurred_at).date() and occurred_at <= now
            ):
                batch.error(
                    number,
                    self._col("occurred_at"),
                    gettext("发生时间应在 %(min)s 至现在之间。") % {"min": MIN_DATE.isoformat()},
                )
            text = force_str(row.get("text") or "").strip()
            if len(text) > MAX_TEXT:
                batch.error(
                    number, self._col("text"), gettext("轨迹描述最多 %(max)d 个字符。") % {"max": MAX_TEXT}
                )
            fake = self.cell(row, "fake_shipping", parse_fake_flag, batch, number)
            if number in batch.errors or row["shop"] is None:
                continue
            scans[number] = _Scan(
                row["shop"], direction, carrier, tracking_no, stage, occurred_at, text, fake
            )
        keys = {(s.shop.pk, s.carrier, s.tracking_no) for s in scans.values()}
        packages: dict[tuple[int, str, str], list[Package]] = {}
        by_shop: dict[int, set[str]] = {}
        for merchant_id, _carrier, number in keys:
            by_shop.setdefault(merchant_id, set()).add(number)
        for merchant_id, numbers in by_shop.items():
            for package in any_of(Package.objects.filter(merchant_id=merchant_id), "tracking_no", numbers):
                packages.setdefault((package.merchant_id, package.carrier, package.tracking_no), []).append(
                    package
                )
        returns = _find_returns(keys)
        outgoing, back = TrackingEvent.Direction.OUTGOING, TrackingEvent.Direction.RETURN
        for number, scan in list(scans.items()):
            key = (scan.shop.pk, scan.carrier, scan.tracking_no)
            found = {outgoing: key in packages, back: key in returns}
            label = {
                "carrier": force_str(Carrier(scan.carrier).label),
                "no": scan.tracking_no,
                "shop": scan.shop.code,
            }
            if not scan.direction:
                if found[outgoing] and found[back]:
                    batch.error(
                        number,
                        self._col("direction"),
                        gettext("运单号 %(no)s 既是发货包裹也是退货包裹，请填写包裹类型。") % label,
                    )
                    continue
                scan.direction = outgoing if found[outgoing] else back if found[back] else ""
            if not scan.direction or not found[scan.direction]:
                message = {
                    "": gettext("店铺 %(shop)s 没有%(carrier)s运单号 %(no)s 的发货包裹或退货包裹。"),
                    outgoing: gettext("店铺 %(shop)s 没有%(carrier)s运单号 %(no)s 的发货包裹。"),
                    back: gettext("店铺 %(shop)s 没有%(carrier)s运单号 %(no)s 的退货包裹。"),
                }[scan.direction]
                batch.error(number, self._col("tracking_no"), message % label)
                continue
            if scan.fake and scan.direction == back:
                batch.error(number, self._col("fake_shipping"), gettext("虚假发货只能标记在发货包裹上。"))
        return {"scans": scans, "packages": packages, "returns": returns}

    # -- write: new scans, the return's signed-for time, the fake-shipping flag

    def write(self, plan, batch):
        scans: dict[int, _Scan] = plan["scans"]
        seen = set()
        by_shop: dict[int, set[str]] = {}
        for scan in scans.values():
            by_shop.setdefault(scan.shop.pk, set()).add(scan.tracking_no)
        for merchant_id, numbers in by_shop.items():
            stored = TrackingEvent.objects.filter(merchant_id=merchant_id).values_list(
                "merchant_id", "direction", "carrier", "tracking_no", "stage", "occurred_at"
            )
            seen.update(any_of(stored, "tracking_no", numbers))
        new, import_types, signed, flags = [], {}, {}, {}
        for number, scan in scans.items():
            key = (scan.shop.pk, scan.direction, scan.carrier, scan.tracking_no, scan.stage, scan.occurred_at)
            parcel = (scan.shop.pk, scan.carrier, scan.tracking_no)
            import_types[number] = "skip"
            if key not in seen:
                seen.add(key)
                new.append(
                    TrackingEvent(
                        merchant=scan.shop,
                        direction=scan.direction,
                        carrier=scan.carrier,
                        tracking_no=scan.tracking_no,
                        stage=scan.stage,
                        occurred_at=scan.occurred_at,
                        text=scan.text,
                    )
                )
                import_types[number] = "new"
            if scan.direction == TrackingEvent.Direction.RETURN and scan.stage == TrackingEvent.Stage.SIGNED:
                for parcel_case in plan["returns"][parcel]:
                    earliest = signed.get(parcel_case.case_id)
                    if earliest is None or scan.occurred_at < earliest[0]:
                        signed[parcel_case.case_id] = (scan.occurred_at, number, parcel_case)
            if scan.fake:
                for package in plan["packages"][parcel]:
                    flags.setdefault(package.pk, (package, number))
        TrackingEvent.objects.bulk_create(new, batch_size=500)
        for case_id, (signed_at, number, parcel_case) in signed.items():
            try:
                _record_signed(case_id, signed_at)
            except (ApplicationError, ValidationError) as exc:
                batch.error(
                    number,
                    self._col("occurred_at"),
                    gettext("售后单 %(no)s：%(message)s")
                    % {"no": parcel_case.case_no, "message": "；".join(exc.messages)},
                )
        for package, number in flags.values():
            if package.fake_shipping:
                continue
            try:
                services.flag_fake_shipping(package, actor=None, source=FakeShippingSource.LOGISTICS_FEED)
            except (ApplicationError, ValidationError) as exc:
                batch.error(number, self._col("fake_shipping"), "；".join(exc.messages))
                continue
            if import_types[number] == "skip":
                import_types[number] = "update"
        return import_types

    # -- export: the scans, which import back (each one then already stored: skipped)

    def dehydrate_direction(self, event):
        return force_str(event.get_direction_display())

    def dehydrate_carrier(self, event):
        return force_str(event.get_carrier_display())

    def dehydrate_stage(self, event):
        return force_str(event.get_stage_display())

    def dehydrate_fake_shipping(self, event):
        if event.direction != TrackingEvent.Direction.OUTGOING:
            return ""
        flagged = getattr(self, "_flagged", None)
        if flagged is None:
            flagged = self._flagged = set(
                scope_to_actor(Package.objects.filter(fake_shipping=True), self.actor).values_list(
                    "merchant_id", "carrier", "tracking_no"
                )
            )
        return gettext("是") if (event.merchant_id, event.carrier, event.tracking_no) in flagged else ""


__all__ = [
    "ImDailyStatResource",
    "ReturnParcel",
    "TrackingEventResource",
    "register_return_parcels",
    "tracking_history",
]
