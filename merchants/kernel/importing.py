"""Reading import files, once, for every import (B-2, B-3).

- `read_table(data)` turns the bytes of an upload into a tablib Dataset: CSV in UTF-8, UTF-8 with a BOM
  or GBK / GB18030 (detected without asking: UTF-8 strictly first, then GB18030, a superset of GBK), or
  XLSX read as a stream (openpyxl read-only, the sheet's declared used range ignored, blank rows
  skipped). The dataset remembers each data row's row number in the file (the header is row 1, as
  Excel counts), the encoding that was read, and which cells held a formula. A cell our own export
  neutralised (`'=…`, `'+…`, `'-…`, `'@…`) reads back as the original value.
- A file that cannot be read — empty, binary junk, an old .xls, too large, no header — raises
  `ImportFileError` with a message in the user's language.
- `SpreadsheetFormat` plugs the reader into django-import-export's admin flow (one format: the content
  says whether it is CSV or XLSX); `SpreadsheetResource` maps Chinese or English headers onto its
  fields, refuses unknown or missing columns, refuses formula cells, and turns a Result into the list
  of every bad row (row, column, value, message) and into an error file to fix and upload again.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import tablib
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.formats import base_formats
from import_export.results import Error, Result

from merchants.kernel.resources import FORMULA_PREFIXES, MerchantScopedResource

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls / other OLE2 files
ERROR_COLUMN = _("错误信息")


class ImportFileError(ValidationError):
    """The file as a whole cannot be imported (format, encoding, size, header). Shown as is."""


def max_bytes() -> int:
    return int(getattr(settings, "SHOUHOU_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "SHOUHOU_IMPORT_MAX_ROWS", 200_000))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f}"


def check_size(size: int) -> None:
    if size == 0:
        raise ImportFileError(
            _("文件是空的，请选择包含表头和数据的 CSV 或 Excel（.xlsx）文件。"), code="empty"
        )
    if size > max_bytes():
        raise ImportFileError(
            _("文件过大（%(size)s MB），单个导入文件不能超过 %(limit)s MB。请拆分后分批导入。"),
            code="too_large",
            params={"size": _megabytes(size), "limit": _megabytes(max_bytes())},
        )


# --------------------------------------------------------------------------------------------
# Cells


def restore_neutralised(value):
    """Undo our export's formula neutralisation (B-6): `'=1+1` reads back as `=1+1`."""
    if (
        isinstance(value, str)
        and len(value) > 1
        and value[0] == "'"
        and value[1:].startswith(FORMULA_PREFIXES)
    ):
        return value[1:]
    return value


def is_formula(value) -> bool:
    return isinstance(value, str) and value.startswith("=") and len(value) > 1


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise_header(text) -> str:
    """For matching only: full-width to half-width, case, spaces, underscores and a trailing '*' ignored."""
    text = unicodedata.normalize("NFKC", force_str(text or "")).casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "_-*")


# --------------------------------------------------------------------------------------------
# Files -> Dataset


@dataclass(frozen=True)
class Encoding:
    codec: str
    label: str


def decode_text(data: bytes) -> tuple[str, Encoding]:
    """UTF-8 (with or without BOM) strictly, then GB18030 (which GBK files are); never guessed silently."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = [Encoding("utf-8-sig", "UTF-8（BOM）")]
    else:
        candidates = [Encoding("utf-8", "UTF-8"), Encoding("gb18030", "GBK / GB18030")]
    for encoding in candidates:
        try:
            text = data.decode(encoding.codec)
        except UnicodeDecodeError:
            continue
        return text, encoding
    raise ImportFileError(
        _("无法识别文件编码：请用 Excel 另存为「CSV UTF-8」或 .xlsx 后再导入。"), code="encoding"
    )


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return "\x00" in sample or controls > len(sample) // 20


def csv_rows(stream, sample: str):
    """The rows of a CSV text stream, its dialect (, tab or ;) sniffed from `sample`; a malformed line
    (an unpaired quote…) is an ImportFileError naming it. Shared by read_table and the stream reader."""
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(stream, dialect)
    try:
        yield from reader
    except csv.Error as exc:
        raise ImportFileError(
            _("CSV 文件第 %(line)d 行格式有误（引号不成对等），请检查后再导入。"),
            code="csv",
            params={"line": reader.line_num},
        ) from exc


def _csv_rows(text: str):
    return csv_rows(io.StringIO(text, newline=""), text[:8192])


def xlsx_rows(source):
    """The rows of the first sheet of an XLSX file object, read-only, each as long as it really is."""
    import openpyxl  # noqa: PLC0415  (only XLSX uploads need it)

    try:
        # data_only=False: a formula cell reads as its formula text, so it can be refused by name.
        book = openpyxl.load_workbook(source, read_only=True, data_only=False)
    except Exception as exc:  # zip but not a workbook, a damaged file, an encrypted workbook...
        raise ImportFileError(
            _("无法读取该 Excel 文件：文件可能已损坏或加密。请另存为 .xlsx 或 CSV 后再导入。"), code="xlsx"
        ) from exc
    try:
        sheet = book.worksheets[0]
        # The declared used range (<dimension ref="A1:XFD1048576">) is often a lie: ignore it, read the
        # rows the sheet really has, each as long as it really is.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    finally:
        book.close()


def _xlsx_rows(data: bytes):
    return xlsx_rows(io.BytesIO(data))


def read_table(data: bytes) -> tablib.Dataset:
    """The upload as a Dataset; `dataset.row_numbers`, `.encoding_label`, `.formula_cells` describe it."""
    check_size(len(data))
    if data.startswith(XLSX_MAGIC):
        rows, label = _xlsx_rows(data), "XLSX"
    elif data.startswith(OLE_MAGIC):
        raise ImportFileError(
            _("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入。"), code="xls"
        )
    else:
        text, encoding = decode_text(data)
        if _looks_binary(text):
            raise ImportFileError(_("这不是 CSV 或 Excel（.xlsx）文件，无法导入。"), code="binary")
        rows, label = _csv_rows(text), encoding.label
        # A CSV with no apostrophe and no "=" anywhere has no neutralised cell and no formula: every
        # cell is a str, and stripping it is all there is to do (the 100k-row files' common case).
        plain = "'" not in text and "=" not in text
        return _build_dataset(rows, label, plain_text=plain)
    return _build_dataset(rows, label)


def _strip_all(raw):
    return list(map(str.strip, raw))  # a CSV row: every cell a str


def _restore_all(raw):
    return [restore_cell(value) for value in raw]


def _build_dataset(rows, label: str, *, plain_text: bool = False) -> tablib.Dataset:
    headers = None
    body, numbers, formulas = [], [], set()
    limit = max_rows()
    width = 0
    clean = _strip_all if plain_text else _restore_all
    for number, raw in enumerate(rows, start=1):
        values = clean(raw)
        if not any(values) if plain_text else all(value is None or value == "" for value in values):
            continue  # blank rows anywhere (Excel keeps formatted empty rows) are not data
        if headers is None:
            headers = [force_str(value).strip() if value is not None else "" for value in values]
            while headers and not headers[-1]:
                headers.pop()
            width = len(headers)
            continue
        if len(values) != width:
            if any(value is not None and value != "" for value in values[width:]):
                raise ImportFileError(
                    _("第 %(row)d 行的数据比表头多出了列，请检查是否有未命名的列。"),
                    code="extra_cells",
                    params={"row": number},
                )
            values = (values + [None] * width)[:width]
        if not plain_text:
            for col, original in enumerate(raw[:width]):
                if original.__class__ is str and original[:1] == "=" and len(original) > 1:
                    formulas.add((len(body), col))
        body.append(values)
        numbers.append(number)
        if len(body) > limit:
            raise ImportFileError(
                _("文件超过 %(limit)d 行数据，请拆分后分批导入。"),
                code="too_many_rows",
                params={"limit": limit},
            )
    if headers is None:
        raise ImportFileError(
            _("文件是空的，请选择包含表头和数据的 CSV 或 Excel（.xlsx）文件。"), code="empty"
        )
    if not any(headers):
        raise ImportFileError(_("找不到表头：文件第一行应为列名。"), code="no_header")
    dataset = tablib.Dataset(headers=headers)
    dataset._data = list(map(_row_of, body))  # rows already have the header's width
    dataset.row_numbers = numbers
    dataset.encoding_label = label
    dataset.formula_cells = formulas
    return dataset


def _row_of(values: list, _new=tablib.core.Row.__new__, _row=tablib.core.Row):
    """tablib's Row around a list built here (Row() copies the list, and its tags, once more)."""
    row = _new(_row)
    row._row, row.tags = values, []
    return row


def restore_cell(value):
    if value.__class__ is str:
        value = value.strip()
        if value[:1] == "'":
            return restore_neutralised(value)
    return value


class SpreadsheetFormat(base_formats.Format):
    """django-import-export's import format for every import: CSV (any of the encodings) or XLSX."""

    def __init__(self, encoding=None, **kwargs):
        self.encoding = encoding  # the admin passes one; the content decides

    def get_title(self):
        return gettext("CSV 或 Excel（自动识别）")

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, str):  # a text read of the temporary file
            in_stream = in_stream.encode("utf-8")
        return read_table(in_stream)

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def get_extension(self):
        return "csv"

    def can_import(self):
        return True


class CSVExport(base_formats.CSV):
    """CSV exports, written with a BOM by the admin (to_encoding='utf-8-sig') so Excel reads UTF-8."""


class XLSXExport(base_formats.XLSX):
    """XLSX exports (cells neutralised by MerchantScopedResource.export_field)."""


# --------------------------------------------------------------------------------------------
# Resources


@dataclass(frozen=True)
class RowError:
    row: int | None  # the row number in the file (the header is row 1); None: the file as a whole
    column: str
    value: str
    message: str


class SpreadsheetResource(MerchantScopedResource):
    """A scoped resource that reads files through `read_table` and names every bad row.

    `required_columns`: field names whose column must be in the file. `example_row`: {field name: value}
    for the template file. Headers may be each field's column name in Chinese or English, or its name.
    """

    required_columns: tuple[str, ...] = ()
    example_row: dict[str, str] = {}
    # A field whose consecutive rows with one value belong together (an order's items): the background
    # path's chunks never split them (merchants.kernel.centers.streaming.iter_chunks).
    chunk_together: str | None = None

    def chunk_key_index(self, headers) -> int | None:
        """The index in the file's own `headers` of the `chunk_together` column, if the file has it."""
        if not self.chunk_together:
            return None
        target = force_str(self.fields[self.chunk_together].column_name)
        aliases = self.header_aliases()
        for index, header in enumerate(headers):
            if aliases.get(normalise_header(header)) == target:
                return index
        return None

    # -- headers

    def header_aliases(self) -> dict[str, str]:
        """{normalised alias: the column name the resource reads (in the active language)}."""
        aliases: dict[str, str] = {}
        for name, field in self.fields.items():
            canonical = force_str(field.column_name)
            names = {name, canonical, field.attribute or name}
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    names.add(force_str(field.column_name))
            for alias in names:
                aliases.setdefault(normalise_header(alias), canonical)
        return aliases

    def ignored_headers(self) -> set[str]:
        """The error column of our own error file: a corrected error file imports as it is."""
        names = {"error", "errors"}
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names.add(force_str(ERROR_COLUMN))
        return {normalise_header(name) for name in names}

    def prepare_dataset(self, dataset: tablib.Dataset) -> tablib.Dataset:
        """Rename the file's headers to the resource's column names; unknown or missing columns refused."""
        if getattr(dataset, "prepared_for", None) is self:
            return dataset
        aliases, ignored = self.header_aliases(), self.ignored_headers()
        headers, unknown, seen = [], [], {}
        for header in dataset.headers or ():
            key = normalise_header(header)
            if key in ignored or not key:
                headers.append(f"__ignored_{len(headers)}")
                continue
            canonical = aliases.get(key)
            if canonical is None:
                unknown.append(header)
                headers.append(header)
                continue
            if canonical in seen:
                raise ImportFileError(
                    _("列「%(a)s」和「%(b)s」是同一列，请只保留一个。"),
                    code="duplicate_column",
                    params={"a": seen[canonical], "b": header},
                )
            seen[canonical] = header
            headers.append(canonical)
        if unknown:
            raise ImportFileError(
                _("无法识别的列：%(columns)s。可用的列：%(known)s。"),
                code="unknown_columns",
                params={"columns": "、".join(unknown), "known": "、".join(self.template_headers())},
            )
        missing = [
            force_str(self.fields[name].column_name)
            for name in self.required_columns
            if force_str(self.fields[name].column_name) not in seen
        ]
        if missing:
            raise ImportFileError(
                _("缺少必需的列：%(columns)s。"),
                code="missing_columns",
                params={"columns": "、".join(missing)},
            )
        dataset.headers = headers
        dataset.prepared_for = self
        return dataset

    # -- import

    def import_data(self, dataset, *args, **kwargs):
        try:
            self.prepare_dataset(dataset)
        except ImportFileError as exc:
            result = self.get_result_class()()
            result.file_error = exc
            result.append_base_error(Error(exc))
            result.dataset, result.resource = dataset, self
            return result
        result = self.import_prepared(dataset, *args, **kwargs)
        result.file_error = None
        result.dataset, result.resource = dataset, self
        return result

    def import_prepared(self, dataset, *args, **kwargs):
        """Import a dataset whose headers are the resource's: django-import-export's row-by-row path.

        A resource with a set-based path overrides this and builds the same Result (see BatchResult)."""
        return super().import_data(dataset, *args, **kwargs)

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        number = kwargs.get("row_number")
        formulas = getattr(self, "_formula_cells", set())
        headers = list(row.keys())
        errors = {}
        for index, column in enumerate(headers):
            if (number - 1, index) in formulas:
                errors[column] = [
                    gettext("单元格是公式（%(value)s），请改为数值或文本后再导入。") % {"value": row[column]}
                ]
        if errors:
            raise ValidationError(errors)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._formula_cells = getattr(dataset, "formula_cells", set())

    # -- errors

    def column_for(self, key: str) -> str:
        """The column a validation-error key names (a column name, a field name or a model attribute)."""
        if key == NON_FIELD_ERRORS:
            return ""
        for name, field in self.fields.items():
            canonical = force_str(field.column_name)
            if key in (canonical, name, field.attribute):
                return canonical
        return key

    def row_errors(self, result: Result) -> list[RowError]:
        """Every bad row of `result`, in file order: row number, column, value, message."""
        dataset = getattr(result, "dataset", None)
        numbers = getattr(dataset, "row_numbers", None) or []

        def file_row(number):
            return numbers[number - 1] if 0 < number <= len(numbers) else number + 1

        errors: list[RowError] = []
        file_error = getattr(result, "file_error", None)
        if file_error is not None:
            errors.extend(RowError(None, "", "", message) for message in file_error.messages)
        else:
            for base in result.base_errors:
                errors.append(RowError(None, "", "", self.error_message(base.error)))
        headers = list(dataset.headers) if dataset is not None else []

        def cell(number, column):
            if column not in headers or not 0 < number <= len(dataset):
                return ""
            value = dataset[number - 1][headers.index(column)]
            return "" if value is None else force_str(value)

        for number, row_errs in result.row_errors():
            for err in row_errs:
                errors.append(RowError(file_row(number), "", "", self.error_message(err.error)))
        for invalid in result.invalid_rows:
            for key, messages in invalid.error_dict.items():
                column = self.column_for(key)
                for message in messages:
                    errors.append(
                        RowError(
                            file_row(invalid.number), column, cell(invalid.number, column), force_str(message)
                        )
                    )
        errors.sort(key=lambda e: e.row or 0)
        return errors

    def error_message(self, error) -> str:
        """A readable message for an unexpected error in a row (never a traceback)."""
        if isinstance(error, ValidationError):
            return "；".join(force_str(m) for m in error.messages)
        return gettext("该行无法导入（%(kind)s），请检查数据后重试。") % {"kind": type(error).__name__}

    def error_file(self, result: Result) -> bytes:
        """CSV (UTF-8 with BOM, Excel opens it): every uploaded row, with an error column to fix and re-upload."""
        dataset = result.dataset
        numbers = getattr(dataset, "row_numbers", None) or list(range(2, len(dataset) + 2))
        by_row: dict[int | None, list[str]] = {}
        for err in self.row_errors(result):
            text = f"{err.column}：{err.message}" if err.column else err.message
            by_row.setdefault(err.row, []).append(text)
        out = io.StringIO()
        writer = csv.writer(out)
        headers = [h for h in dataset.headers if not h.startswith("__ignored_")]
        keep = [i for i, h in enumerate(dataset.headers) if not h.startswith("__ignored_")]
        writer.writerow([*headers, force_str(ERROR_COLUMN)])
        if None in by_row:
            writer.writerow([""] * len(headers) + ["；".join(by_row[None])])
        for number, values in zip(numbers, dataset, strict=False):
            cells = [_neutralise_cell(values[i]) for i in keep]
            writer.writerow([*cells, "；".join(by_row.get(number, ()))])
        return out.getvalue().encode("utf-8-sig")

    # -- template

    def template_headers(self) -> list[str]:
        return [
            force_str(self.fields[name].column_name)
            for name in self.get_import_order()
            if name in self.fields
        ]

    def template_file(self) -> bytes:
        """Headers and one example row, CSV in UTF-8 with a BOM."""
        out = io.StringIO()
        writer = csv.writer(out)
        names = [name for name in self.get_import_order() if name in self.fields]
        writer.writerow(self.template_headers())
        example = self.get_example_row()
        writer.writerow([_neutralise_cell(example.get(name, "")) for name in names])
        return out.getvalue().encode("utf-8-sig")

    def get_example_row(self) -> dict[str, str]:
        return {key: force_str(value) for key, value in self.example_row.items()}


def any_of(queryset, field: str, values):
    """`queryset` rows whose `field` is one of `values`, lazily, one query per 5,000 values, the values bound
    as one parameter (`field__any`, merchants/kernel/lookups.py: typed, never cut to the column's length)."""
    values = sorted(values)
    for start in range(0, len(values), 5000):
        yield from queryset.filter(**{f"{field}__any": values[start : start + 5000]})


def insert_rows(
    model, columns: list[str], rows: Iterable[tuple], *, with_ids: bool = False, count: int | None = None
) -> list[int] | None:
    """Insert many rows inside the caller's transaction: COPY on PostgreSQL, multi-row INSERTs elsewhere.

    `columns` are model attribute names (`merchant_id`, `name`…); every other concrete field gets its
    default, so a field added later with a default does not break an import. With `with_ids` the new
    primary keys are returned in row order (PostgreSQL: taken from the sequence first, in one query).
    `rows` may be a generator, consumed as the COPY goes (the database writes while the caller computes
    the next row); with `with_ids` it then needs `count`, the number of rows it yields at most (an
    exception it raises aborts the COPY). Only the ids of the rows written are returned.
    """
    from django.db import connection  # noqa: PLC0415
    from django.db.models import NOT_PROVIDED  # noqa: PLC0415

    opts = model._meta
    by_attname = {f.attname: f for f in opts.local_concrete_fields}
    extra_fields = [
        f
        for f in opts.local_concrete_fields
        if f.attname not in columns and not f.primary_key and f.db_default is NOT_PROVIDED and f.has_default()
    ]
    fields_ = [by_attname[name] for name in columns] + extra_fields
    extra = tuple(f.get_db_prep_save(f.get_default(), connection) for f in extra_fields)
    if count is None and not isinstance(rows, list | tuple):
        rows = list(rows) if with_ids else rows
    if count is None and isinstance(rows, list | tuple):
        count = len(rows)
    if count == 0:
        return [] if with_ids else None
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        if objs:
            model._default_manager.bulk_create(objs, batch_size=500)
        return [obj.pk for obj in objs] if with_ids else None
    ids = None
    pk = opts.pk
    cursor = connection.cursor().cursor  # psycopg's own cursor, on Django's connection and transaction
    if with_ids:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{opts.db_table}', '{pk.column}')) "
            "FROM generate_series(1, %s)",
            [count],
        )
        ids = [row[0] for row in cursor.fetchall()]
    names = ([pk.column] if with_ids else []) + [f.column for f in fields_]
    written = 0
    with cursor.copy(f"COPY {opts.db_table} ({', '.join(names)}) FROM STDIN") as copy:
        if with_ids:
            for row, new_id in zip(rows, ids, strict=False):  # rows first: a generator runs to its end
                copy.write_row((new_id, *row, *extra))
                written += 1
        else:
            for row in rows:
                copy.write_row((*row, *extra))
    return ids[:written] if with_ids else None


PREVIEW_ROWS = 1000  # rows a set-based import lists in its preview; the totals count every row


class BatchResult:
    """Build django-import-export's Result from a set-based import, so the admin's preview, totals and
    error list work as for the row-by-row path. Row numbers are 1-based data rows, as import_export's."""

    def __init__(self, resource, dataset):
        self.resource, self.dataset = resource, dataset
        self.result = resource.get_result_class()()
        self.result.diff_headers = resource.get_diff_headers()
        self.result.total_rows = len(dataset)
        self.errors: dict[int, dict[str, list[str]]] = {}

    def error(self, number: int, column: str, message) -> None:
        self.errors.setdefault(number, {}).setdefault(column, []).append(force_str(message))

    def formula_errors(self) -> None:
        headers = list(self.dataset.headers)
        for index, col in getattr(self.dataset, "formula_cells", ()):
            value = self.dataset[index][col]
            self.error(
                index + 1,
                headers[col],
                gettext("单元格是公式（%(value)s），请改为数值或文本后再导入。") % {"value": value},
            )

    def finish(self, import_types: dict[int, str], preview_values) -> Result:
        from import_export.results import RowResult  # noqa: PLC0415

        result = self.result
        headers = list(self.dataset.headers)
        for number in sorted(self.errors):
            row = dict(zip(headers, self.dataset[number - 1], strict=False))
            result.append_invalid_row(number, row, ValidationError(self.errors[number]))
        if self.errors:
            return result
        shown = getattr(self.resource, "preview_rows", PREVIEW_ROWS)  # 0 on the background path
        for number in range(1, len(self.dataset) + 1):
            import_type = import_types.get(number, RowResult.IMPORT_TYPE_SKIP)
            result.totals[import_type] += 1
            if number <= shown:
                row_result = RowResult()
                row_result.import_type = import_type
                row_result.diff = preview_values(number)
                result.append_row_result(row_result)
        return result


def _neutralise_cell(value) -> str:
    from merchants.kernel.resources import neutralise  # noqa: PLC0415

    return neutralise("" if value is None else force_str(value))
