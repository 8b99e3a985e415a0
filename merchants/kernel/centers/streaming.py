"""An import file read as a stream of small Datasets (B-5): the large-file path never holds one.

`iter_chunks(handle)` reads a stored upload (a binary file object) and yields tablib Datasets of at most
`chunk_rows` data rows each, with the same header and the same attributes `read_table` gives a whole
file (`row_numbers` as in the file, `encoding_label`, `formula_cells` local to the chunk), so a
resource imports a chunk exactly as it imports a small file. CSV is decoded incrementally (the
encoding found in a first pass that keeps nothing: UTF-8 strictly, else GB18030); XLSX is read with
openpyxl's read-only mode, row by row.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator

import tablib
from django.conf import settings
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from merchants.kernel.importing import (
    OLE_MAGIC,
    XLSX_MAGIC,
    Encoding,
    ImportFileError,
    _looks_binary,
    _row_of,
    csv_rows,
    restore_cell,
    xlsx_rows,
)


def job_max_rows() -> int:
    return int(getattr(settings, "SHOUHOU_IMPORT_JOB_MAX_ROWS", 2_000_000))


def chunk_rows() -> int:
    return int(getattr(settings, "SHOUHOU_IMPORT_CHUNK_ROWS", 5000))


def detect_encoding(handle) -> Encoding:
    """The file's encoding, read through once in blocks (nothing kept); the handle is rewound."""
    handle.seek(0)
    head = handle.read(3)
    handle.seek(0)
    if head == b"\xef\xbb\xbf":
        return Encoding("utf-8-sig", "UTF-8（BOM）")
    for encoding in (Encoding("utf-8", "UTF-8"), Encoding("gb18030", "GBK / GB18030")):
        decoder = codecs.getincrementaldecoder(encoding.codec)("strict")
        try:
            while block := handle.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            handle.seek(0)
            continue
        handle.seek(0)
        return encoding
    raise ImportFileError(
        _("无法识别文件编码：请用 Excel 另存为「CSV UTF-8」或 .xlsx 后再导入。"), code="encoding"
    )


def _csv_rows(handle, encoding: Encoding):
    text = io.TextIOWrapper(handle, encoding=encoding.codec, newline="")
    try:
        sample = text.read(8192)
        if _looks_binary(sample):
            raise ImportFileError(_("这不是 CSV 或 Excel（.xlsx）文件，无法导入。"), code="binary")
        text.seek(0)
        yield from csv_rows(text, sample)
    finally:
        if not text.closed:  # a reader dropped after its file was closed has nothing left to give back
            text.detach()


def open_rows(handle) -> tuple[Iterator, str]:
    """(the raw rows of the file, the encoding label) for a binary handle at any position."""
    handle.seek(0)
    magic = handle.read(4)
    handle.seek(0)
    if not magic:
        raise ImportFileError(
            _("文件是空的，请选择包含表头和数据的 CSV 或 Excel（.xlsx）文件。"), code="empty"
        )
    if magic.startswith(XLSX_MAGIC):
        return xlsx_rows(handle), "XLSX"
    if magic.startswith(OLE_MAGIC):
        raise ImportFileError(
            _("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入。"), code="xls"
        )
    encoding = detect_encoding(handle)
    return _csv_rows(handle, encoding), encoding.label


def _dataset(headers, body, numbers, formulas, label) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=list(headers))
    dataset._data = list(map(_row_of, body))
    dataset.row_numbers = numbers
    dataset.encoding_label = label
    dataset.formula_cells = formulas
    return dataset


def iter_chunks(handle, *, size: int | None = None, together=None) -> Iterator[tablib.Dataset]:
    """The data rows of the file in Datasets of about `size` rows (blank rows skipped, as read_table).

    `together(headers)` may name the index of a column whose consecutive equal cells stay in one chunk
    (an order's item rows: a chunk never ends inside an order), so a chunk may run a little over `size`.
    """
    size = size or chunk_rows()
    limit = job_max_rows()
    rows, label = open_rows(handle)
    headers, width, total = None, 0, 0
    key_index = None
    body, numbers, formulas = [], [], set()
    csv_text = label != "XLSX"  # every cell a str
    for number, raw in enumerate(rows, start=1):
        plain = False
        if csv_text:
            joined = "".join(raw)
            # No apostrophe and no "=" in the whole row: no neutralised cell, no formula; stripping
            # each cell is all there is to do (the common row of a large file), in C.
            plain = "'" not in joined and "=" not in joined
        if plain:
            if not joined.strip():
                continue
            values = list(map(str.strip, raw))
        else:
            values = [restore_cell(value) for value in raw]
            if not any(value is not None and value != "" for value in values):
                continue
        if headers is None:
            headers = [force_str(value).strip() if value is not None else "" for value in values]
            while headers and not headers[-1]:
                headers.pop()
            if not any(headers):
                raise ImportFileError(_("找不到表头：文件第一行应为列名。"), code="no_header")
            width = len(headers)
            key_index = together(headers) if together is not None else None
            continue
        if len(values) != width:
            if any(value is not None and value != "" for value in values[width:]):
                raise ImportFileError(
                    _("第 %(row)d 行的数据比表头多出了列，请检查是否有未命名的列。"),
                    code="extra_cells",
                    params={"row": number},
                )
            values = (values + [None] * width)[:width]
        if len(body) >= size and (key_index is None or values[key_index] != body[-1][key_index]):
            yield _dataset(headers, body, numbers, formulas, label)
            body, numbers, formulas = [], [], set()
        if not plain:
            for col, original in enumerate(raw[:width]):
                if original.__class__ is str and original[:1] == "=" and len(original) > 1:
                    formulas.add((len(body), col))
        body.append(values)
        numbers.append(number)
        total += 1
        if total > limit:
            raise ImportFileError(
                _("文件超过 %(limit)d 行数据，请拆分后分批导入。"),
                code="too_many_rows",
                params={"limit": limit},
            )
    if headers is None:
        raise ImportFileError(
            _("文件是空的，请选择包含表头和数据的 CSV 或 Excel（.xlsx）文件。"), code="empty"
        )
    if body or total == 0:
        yield _dataset(headers, body, numbers, formulas, label)
