"""The case export (A-10, B-6): the columns people ask for, typed, streamed; small at once, large as a job.

The list's `…/export/` writes the scoped, filtered cases (at most 6 months of application dates) with
merchants.kernel.centers.exports: amounts as numbers and times as dates in XLSX, CSV with a BOM, every
text cell neutralised. Above SHOUHOU_EXPORT_SYNC_MAX_ROWS rows the export becomes a job of the download
center: the job keeps the list's query string and the worker rebuilds the same queryset through the
same admin (`build_case_export`), as the user who asked.
Rows are read with values_list over a server-side cursor in chunks of 5,000; who handled each case and
(optionally) its timeline come from one query per chunk, never one per case.
"""

from __future__ import annotations

import datetime
import re

from django.conf import settings
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aftersales.filters import EXPORT_MAX_MONTHS, add_months
from aftersales.models import AfterSaleCase, CaseEvent
from aftersales.transitions import ArbitrationOutcome, CaseStatus, CaseType, Liability, Reason
from merchants.kernel.centers import exports
from merchants.kernel.centers.exports import DATETIME, INT, MONEY, Column, ExportSpec
from merchants.transitions import Carrier

CASE_EXPORT = "aftersales.cases"
CHUNK = 5000

FIELDS = (
    "pk",
    "case_no",
    "merchant__name",
    "order_no",
    "product__name",
    "buyer_id",
    "buyer_name",
    "type",
    "reason",
    "status",
    "quantity",
    "amount",
    "refunded_amount",
    "refunded_at",
    "created_at",
    "deadline_at",
    "reject_reason",
    "arbitration_outcome",
    "liability",
    "return_carrier",
    "return_tracking_no",
    "return_shipped_at",
    "return_received_at",
    "closed_at",
    "description",
    "auto_approved_by",
)

COLUMNS = [
    Column(_("售后单号"), width=22, key="case_no"),
    Column(_("店铺"), width=16, key="shop"),
    Column(_("订单号"), width=22, key="order_no"),
    Column(_("商品"), width=30, key="product"),
    Column(_("买家ID"), width=14, key="buyer_id"),
    Column(_("买家昵称"), width=14, key="buyer_name"),
    Column(_("售后类型"), key="type"),
    Column(_("售后原因"), width=14, key="reason"),
    Column(_("售后状态"), width=12, key="status"),
    Column(_("数量"), INT, key="quantity"),
    Column(_("申请金额（元）"), MONEY, key="amount"),
    Column(_("退款金额（元）"), MONEY, key="refunded_amount"),
    Column(_("退款时间"), DATETIME, key="refunded_at"),
    Column(_("申请时间"), DATETIME, key="created_at"),
    Column(_("处理截止时间"), DATETIME, key="deadline_at"),
    Column(_("处理结果"), width=16, key="result"),
    Column(_("拒绝原因"), width=24, key="reject_reason"),
    Column(_("处理人"), width=14, key="handler"),
    Column(_("平台判定"), width=12, key="outcome"),
    Column(_("责任方"), key="liability"),
    Column(_("退货快递"), key="return_carrier"),
    Column(_("退货运单号"), width=20, key="return_tracking_no"),
    Column(_("买家寄回时间"), DATETIME, key="return_shipped_at"),
    Column(_("商家收货时间"), DATETIME, key="return_received_at"),
    Column(_("完结时间"), DATETIME, key="closed_at"),
    Column(_("买家说明"), width=30, key="description"),
    Column(_("自动同意依据"), width=16, key="auto_approved_by"),
]
TIMELINE_COLUMN = Column(_("协商记录"), width=60, key="timeline")


def sync_max_rows() -> int:
    return int(getattr(settings, "SHOUHOU_EXPORT_SYNC_MAX_ROWS", 5000))


def presets(today: datetime.date | None = None) -> list[tuple[str, datetime.date, datetime.date]]:
    """近7天 / 近30天 / 近6个月: (label, from, to) application-date ranges, today included."""
    today = today or timezone.localdate()
    return [
        (str(_("近7天")), today - datetime.timedelta(days=6), today),
        (str(_("近30天")), today - datetime.timedelta(days=29), today),
        (str(_("近6个月")), add_months(today, -EXPORT_MAX_MONTHS), today),
    ]


def _labels(choices) -> dict:
    return {value: str(label) for value, label in choices.choices}


def _handlers(ids: list[int]) -> dict[int, str]:
    """Who last acted on each case (a person, not the system or the buyer): one query per chunk."""
    handled: dict[int, str] = {}
    rows = (
        CaseEvent.objects.filter(case_id__in=ids, actor__isnull=False)
        .order_by("case_id", "created_at")  # as the COPY path's subquery orders them
        .values_list("case_id", "actor__username")
    )
    for case_id, username in rows:
        handled[case_id] = username
    return handled


def _timelines(ids: list[int]) -> dict[int, str]:
    lines: dict[int, list[str]] = {}
    events = CaseEvent.objects.filter(case_id__in=ids).order_by("case_id", "created_at", "pk")
    for event in events.iterator(chunk_size=CHUNK):
        when = timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M")
        text = " ".join(part for part in (event.kind_label, event.describe().replace("\n", " ")) if part)
        lines.setdefault(event.case_id, []).append(f"{when} {text}")
    return {case_id: "\n".join(items) for case_id, items in lines.items()}


def _result(status, refunded_amount, arbitration, reship_label, labels) -> str:
    if arbitration:
        return labels["outcome"].get(arbitration, arbitration)
    if refunded_amount is not None:
        return labels["refunded"]
    return labels["status"].get(status, status)


def case_rows(queryset, *, timeline: bool = False):
    """The export's rows of `queryset` (already scoped and filtered), in chunks, in case order."""
    labels = {
        "type": _labels(CaseType),
        "reason": _labels(Reason),
        "status": _labels(CaseStatus),
        "outcome": _labels(ArbitrationOutcome),
        "liability": _labels(Liability),
        "carrier": _labels(Carrier),
        "refunded": str(_("已退款")),
    }
    types, reasons, statuses = labels["type"], labels["reason"], labels["status"]
    outcomes, liabilities, carriers = labels["outcome"], labels["liability"], labels["carrier"]
    source = queryset.order_by("pk").values_list(*FIELDS).iterator(chunk_size=CHUNK)
    for batch in exports._batched(source, CHUNK):
        ids = [row[0] for row in batch]
        handlers = _handlers(ids)
        notes = _timelines(ids) if timeline else None
        for (
            pk,
            case_no,
            shop,
            order_no,
            product,
            buyer_id,
            buyer_name,
            type_,
            reason,
            status,
            quantity,
            amount,
            refunded_amount,
            refunded_at,
            created_at,
            deadline_at,
            reject_reason,
            arbitration,
            liability,
            return_carrier,
            return_tracking_no,
            return_shipped_at,
            return_received_at,
            closed_at,
            description,
            auto_approved_by,
        ) in batch:
            row = (
                case_no,
                shop,
                order_no,
                product,
                buyer_id,
                buyer_name,
                types.get(type_, type_),
                reasons.get(reason, reason),
                statuses.get(status, status),
                quantity,
                amount,
                refunded_amount,
                refunded_at,
                created_at,
                deadline_at,
                _result(status, refunded_amount, arbitration, None, labels),
                reject_reason,
                handlers.get(pk, ""),
                outcomes.get(arbitration, arbitration),
                liabilities.get(liability, liability),
                carriers.get(return_carrier, return_carrier),
                return_tracking_no,
                return_shipped_at,
                return_received_at,
                closed_at,
                description,
                auto_approved_by,
            )
            yield (*row, notes.get(pk, "")) if notes is not None else row


# -- the same rows formatted by PostgreSQL, for COPY … TO STDOUT (a CSV without Python per row)


class LocalTime(models.Func):
    """The CSV's local time text, 'YYYY-MM-DD HH24:MI:SS' in TIME_ZONE (Asia/Shanghai)."""

    output_field = models.TextField()

    def as_sql(self, compiler, connection, **extra):
        zone = settings.TIME_ZONE
        if not re.fullmatch(r"[A-Za-z_/+\-0-9]+", zone):
            raise ValueError(f"TIME_ZONE {zone!r}")
        # left(…::text, 19) of a timestamp is 'YYYY-MM-DD HH24:MI:SS' (DateStyle ISO, set for the COPY),
        # truncated as strftime truncates, at a fraction of to_char's cost.
        template = f"left((%(expressions)s AT TIME ZONE '{zone}')::text, 19)"
        return super().as_sql(compiler, connection, template=template, **extra)


class Neutralised(models.Func):
    """B-6 in SQL: the value as text ('' for NULL), with an apostrophe before a leading = + - @ tab CR.

    `once`: the expression is costly (a subquery) and must appear once, in a regexp_replace.
    """

    output_field = models.TextField()

    def __init__(self, expression, *, once: bool = False):
        super().__init__(expression)
        self.once = once

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        text = f"COALESCE(({sql})::text, '')"
        if self.once or params:
            return f"regexp_replace({text}, {REGEX_FORMULA}, {REGEX_QUOTED})", params
        return (
            f"CASE WHEN left({text}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
            f"THEN '''' || {text} ELSE {text} END"
        ), params


# SQL literals: a leading formula character, and the same with an apostrophe before it.
REGEX_FORMULA = r"'^([=+@\t\r-])'"
REGEX_QUOTED = r"'''\1'"


def _label(field: str, choices):
    whens = [When(**{field: value}, then=Value(str(label))) for value, label in choices.choices]
    return Case(*whens, default=F(field), output_field=models.TextField())


def _money(field: str):
    return Cast(field, models.TextField())


def copy_queryset(queryset):
    """`queryset`'s export rows as text columns in COLUMNS order, for PostgreSQL's COPY."""
    handler = (
        # Newest first straight off caseevent_case_idx (case, created_at): no sort per case.
        CaseEvent.objects.filter(case_id=OuterRef("pk"), actor__isnull=False)
        .order_by("-created_at")
        .values("actor__username")[:1]
    )
    refunded = str(_("已退款"))
    status_label = _label("status", CaseStatus)
    outcome_label = _label("arbitration_outcome", ArbitrationOutcome)
    text_fields = {
        "x_shop": F("merchant__name"),
        "x_product": F("product__name"),
        "x_buyer_id": F("buyer_id"),
        "x_buyer_name": F("buyer_name"),
        "x_reject_reason": F("reject_reason"),
        "x_handler": Subquery(handler),
        "x_tracking": F("return_tracking_no"),
        "x_description": F("description"),
        "x_auto": F("auto_approved_by"),
    }
    annotations = {
        name: Neutralised(expression, once=name == "x_handler") for name, expression in text_fields.items()
    }
    rows = queryset.order_by("pk").annotate(
        x_type=_label("type", CaseType),
        x_reason=_label("reason", Reason),
        x_status=status_label,
        x_quantity=Cast("quantity", models.TextField()),
        x_amount=_money("amount"),
        x_refunded_amount=_money("refunded_amount"),
        x_refunded_at=LocalTime("refunded_at"),
        x_created_at=LocalTime("created_at"),
        x_deadline_at=LocalTime("deadline_at"),
        x_result=Case(
            When(~Q(arbitration_outcome=""), then=outcome_label),
            When(refunded_amount__isnull=False, then=Value(refunded)),
            default=status_label,
            output_field=models.TextField(),
        ),
        x_outcome=outcome_label,
        x_liability=_label("liability", Liability),
        x_carrier=_label("return_carrier", Carrier),
        x_return_shipped_at=LocalTime("return_shipped_at"),
        x_return_received_at=LocalTime("return_received_at"),
        x_closed_at=LocalTime("closed_at"),
        **annotations,
    )
    return rows.values_list(
        "case_no", "x_shop", "order_no", "x_product", "x_buyer_id", "x_buyer_name", "x_type", "x_reason",
        "x_status", "x_quantity", "x_amount", "x_refunded_amount", "x_refunded_at", "x_created_at",
        "x_deadline_at", "x_result", "x_reject_reason", "x_handler", "x_outcome", "x_liability", "x_carrier",
        "x_tracking", "x_return_shipped_at", "x_return_received_at", "x_closed_at", "x_description", "x_auto",
    )  # fmt: skip


def case_export_spec(
    queryset, *, timeline: bool = False, count: int | None = None, columns=None
) -> ExportSpec:
    """The case export; `columns`: the keys of the columns the export form's checkboxes chose (all if none)."""
    spec = ExportSpec(
        title=_("售后单"),
        columns=[*COLUMNS, TIMELINE_COLUMN] if timeline else list(COLUMNS),
        rows=case_rows(queryset, timeline=timeline),
        count=count,
        copy_queryset=None if timeline else copy_queryset(queryset),
    )
    chosen = [*columns, *(["timeline"] if timeline else [])] if columns else None
    return exports.select_columns(spec, chosen)


def build_case_export(actor, *, site: str, filters: dict, options: dict) -> ExportSpec:
    """The download center's builder: the same admin, the same filters, as the user who asked."""
    from merchants.kernel.centers.runner import job_request, site_admin  # noqa: PLC0415

    admin = site_admin(site, AfterSaleCase._meta.label_lower)
    request = job_request(actor, params=filters)
    queryset = admin.get_export_queryset(request)
    return case_export_spec(
        queryset,
        timeline=bool(options.get("timeline")),
        count=queryset.count(),
        columns=options.get("columns"),
    )


exports.register(CASE_EXPORT, label=_("售后单"), build=build_case_export)
