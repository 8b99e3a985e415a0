"""Export types and the writers of the download center (B-6).

An app registers each export it offers (the kernel imports no app):

    exports.register("aftersales.cases", label=_("售后单"), build=build_case_export)

`build(actor, filters, options)` returns an `ExportSpec`: the sheet's title, its typed columns and an
iterator of rows (tuples of str / Decimal / aware datetime / date / int / None), read in chunks from the
database (values_list over a server-side cursor), so a million rows never sit in memory at once.
`write_csv` and `write_xlsx` stream the rows out: CSV in UTF-8 with a BOM (Excel then reads the Chinese),
XLSX in openpyxl's write-only mode with amounts as numbers and times as dates (SUM and date filters work),
a named sheet and columns as wide as their Chinese headers. Every text cell is neutralised against
formula injection (merchants.kernel.resources.neutralise) in both formats.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.encoding import force_str

from merchants.kernel.resources import FORMULA_PREFIXES

TEXT, MONEY, DATETIME, DATE, INT = "text", "money", "datetime", "date", "int"
XLSX_MAX_ROWS = 1_048_575  # one sheet's rows, less the header


@dataclass(frozen=True)
class Column:
    header: Any  # a lazy string: rendered in the active language when written
    kind: str = TEXT
    width: int | None = None  # characters; default: the header's width, at least 10
    key: str = ""  # what the export form's column checkbox and a job's options name it by


@dataclass
class ExportSpec:
    title: Any  # the sheet's name (and the file name's stem)
    columns: list[Column]
    rows: Iterable[tuple]
    count: int | None = None  # rows to expect, when known: the progress bar's total
    progress: Callable[[int], None] | None = field(default=None, repr=False)
    # The same rows as text, one value per column already formatted and neutralised by the database
    # (a values_list queryset): on PostgreSQL a CSV is then written by COPY … TO STDOUT, with no Python
    # per row (1M rows in seconds). Anything else uses `rows`.
    copy_queryset: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class ExportType:
    kind: str
    label: Any
    build: Callable[..., ExportSpec]


_types: dict[str, ExportType] = {}


def register(kind: str, *, label, build: Callable[..., ExportSpec]) -> ExportType:
    """Offer an export to the download center under `kind` (idempotent for the same builder)."""
    known = _types.get(kind)
    if known is not None and known.build is not build:
        raise ImproperlyConfigured(f"Export type {kind!r} is already registered.")
    _types[kind] = ExportType(kind, label, build)
    return _types[kind]


def select_columns(spec: ExportSpec, keys) -> ExportSpec:
    """`spec` with only the columns whose key is in `keys` (the export form's checkboxes), in the spec's
    order; no `keys` (nothing chosen, or an older job): every column. The rows are cut to match, and the
    COPY queryset re-projected onto the same columns, so the database still writes the CSV."""
    from operator import itemgetter  # noqa: PLC0415

    wanted = set(keys or ())
    indexes = [i for i, column in enumerate(spec.columns) if column.key in wanted]
    if not wanted or not indexes or len(indexes) == len(spec.columns):
        return spec
    pick = itemgetter(*indexes)
    if len(indexes) == 1:
        rows = ((pick(row),) for row in spec.rows)
    else:
        rows = map(pick, spec.rows)
    copy_queryset = spec.copy_queryset
    if copy_queryset is not None:
        names = list(copy_queryset._fields or ())
        if len(names) == len(spec.columns):
            copy_queryset = copy_queryset.values_list(*[names[i] for i in indexes])
        else:
            copy_queryset = None  # not a projection we can cut: the rows path writes it
    return ExportSpec(
        title=spec.title,
        columns=[spec.columns[i] for i in indexes],
        rows=rows,
        count=spec.count,
        progress=spec.progress,
        copy_queryset=copy_queryset,
    )


def column_choices(columns: Iterable[Column]) -> list[tuple[str, str]]:
    """(key, header) of each column that has a key: the export form's column checkboxes."""
    return [(c.key, force_str(c.header)) for c in columns if c.key]


def export_type(kind: str) -> ExportType:
    try:
        return _types[kind]
    except KeyError as exc:
        raise ImproperlyConfigured(f"No export type {kind!r} is registered.") from exc


def registered() -> dict[str, ExportType]:
    return dict(_types)


# ---------------------------------------------------------------------------------------------
# Cells


def _text(value) -> str:
    if value is None:
        return ""
    value = value if value.__class__ is str else force_str(value)
    if value[:1] in FORMULA_PREFIXES and value:
        return "'" + value
    return value


def _csv_formatter(kind: str) -> Callable[[Any], str]:
    if kind == MONEY:
        return lambda v: "" if v is None else f"{v:.2f}"
    if kind == DATETIME:
        zone = timezone.get_current_timezone()
        return lambda v: "" if v is None else v.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if kind == DATE:
        return lambda v: "" if v is None else v.isoformat()
    if kind == INT:
        return lambda v: "" if v is None else str(v)
    return _text


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a Chinese character is two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_width(column: Column) -> int:
    wanted = column.width or 10
    if column.kind == DATETIME:
        wanted = max(wanted, 20)
    return max(wanted, display_width(force_str(column.header)) + 2)


def _batched(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_csv(spec: ExportSpec, handle) -> int:
    """Write `spec` to the binary `handle` as CSV (UTF-8 with BOM); returns the rows written."""
    from django.db import connections  # noqa: PLC0415

    if spec.copy_queryset is not None and connections[spec.copy_queryset.db].vendor == "postgresql":
        return _copy_csv(spec, handle)
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=False)
    try:
        writer = csv.writer(text)
        writer.writerow([force_str(c.header) for c in spec.columns])
        formatters = [_csv_formatter(c.kind) for c in spec.columns]
        written = 0
        for batch in _batched(spec.rows, 5000):
            writer.writerows([[f(v) for f, v in zip(formatters, row, strict=True)] for row in batch])
            written += len(batch)
            if spec.progress is not None:
                spec.progress(written)
        text.flush()
    finally:
        text.detach()
    return written


def _copy_csv(spec: ExportSpec, handle) -> int:
    """PostgreSQL writes the rows (COPY (SELECT …) TO STDOUT, CSV); the header is ours, with a BOM."""
    from django.db import connections, transaction  # noqa: PLC0415

    queryset = spec.copy_queryset
    out = io.StringIO()
    csv.writer(out).writerow([_text(force_str(c.header)) for c in spec.columns])
    handle.write(out.getvalue().encode("utf-8-sig"))
    query, params = queryset.query.sql_with_params()
    lines, step = 0, 0  # newlines seen: rows, near enough for a progress bar
    connection = connections[queryset.db]
    with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, on Django's connection
        # One long scan: JIT-compiling its many CASE labels costs seconds and saves nothing.
        raw.execute("SET LOCAL jit = off")
        raw.execute("SET LOCAL DateStyle = 'ISO, YMD'")  # timestamps as text read YYYY-MM-DD HH:MM:SS
        with raw.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for data in copy:
                handle.write(data)
                if spec.progress is not None:
                    lines += bytes(data).count(b"\n")
                    if lines - step >= 5000:
                        step = lines
                        spec.progress(lines)
    return spec.count if spec.count is not None else queryset.count()


def write_xlsx(spec: ExportSpec, handle) -> int:
    """Write `spec` to the binary `handle` as an XLSX workbook (write-only: rows stream to disk)."""
    from openpyxl import Workbook  # noqa: PLC0415  (only XLSX exports need it)
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    book = Workbook(write_only=True)
    title = force_str(spec.title)
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    sheet = book.create_sheet(title=title[:31] or "Sheet1")
    for index, column in enumerate(spec.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column_width(column)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in spec.columns:
        cell = WriteOnlyCell(sheet, value=_text(force_str(column.header)))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = {MONEY: "#,##0.00", DATETIME: "yyyy-mm-dd hh:mm:ss", DATE: "yyyy-mm-dd", INT: "0"}
    kinds = [c.kind for c in spec.columns]

    # One styled cell per typed column, reused row after row: write-only mode serialises each row as it
    # is appended, and registering a style per cell would cost more than the rest of the row.
    styled = {}
    for index, kind in enumerate(kinds):
        if kind != TEXT:
            styled[index] = WriteOnlyCell(sheet)
            styled[index].number_format = formats[kind]
    zone = timezone.get_current_timezone()

    def cells(row):
        out = []
        for index, (kind, value) in enumerate(zip(kinds, row, strict=True)):
            if value is None:
                out.append(None)
            elif kind == TEXT:
                out.append(_text(value))
            else:
                if kind == DATETIME:
                    value = value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value
                elif kind == MONEY:
                    value = Decimal(value)
                cell = styled[index]
                cell.value = value
                out.append(cell)
        return out

    written = 0
    for batch in _batched(spec.rows, 5000):
        for row in batch:
            if written >= XLSX_MAX_ROWS:
                break
            sheet.append(cells(row))
            written += 1
        if spec.progress is not None:
            spec.progress(written)
    book.save(handle)
    return written


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def write(spec: ExportSpec, handle, fmt: str) -> int:
    try:
        writer = WRITERS[fmt]
    except KeyError as exc:
        raise ImproperlyConfigured(f"Unknown export format {fmt!r}.") from exc
    return writer(spec, handle)
