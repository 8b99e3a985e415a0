"""Running one job of the import center or the download center (B-5, B-6).

Each entry point takes a job id, claims the job with one conditional UPDATE (queued -> validating /
running), so a task delivered twice or run by two workers at once runs it once, and the second run
returns the state it found. Everything a job learns (progress, rows, errors, its file) is written to its
row, in the language of the user who started it.

A background import never holds the file as one Dataset: it reads the stored upload in chunks
(streaming.iter_chunks), each imported exactly as a small file is, inside the one all-or-nothing transaction
(B-3). How depends on the database:

- PostgreSQL: one pass. Each chunk is validated and written in the one transaction; readers never wait on it
  (MVCC), so nothing is gained by validating first. After the first bad row the remaining chunks are only
  validated (so every bad row is still listed), and the transaction is rolled back at the end.
- SQLite (the zero-setup default, one writer at a time): validation outside the write lock — a resource whose
  set-based dry run writes nothing validates outside any transaction, a row-by-row one in a short
  rolled-back transaction per chunk — the cleaned chunks staged in a file, and only then the short write
  transaction that imports the staged chunks, so the demo keeps serving pages during an import (B-5).

A file with a bad row writes nothing: the job lists every bad row and gets the error file (every uploaded
row plus an error column, read again from the stored upload) to fix and upload again.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import pickle
import tempfile
import uuid
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.contrib.admin.sites import all_sites
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.http import HttpRequest, QueryDict
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.translation import gettext

from merchants.kernel.centers import exports
from merchants.kernel.centers.models import ExportJob, ImportJob, JobStatus
from merchants.kernel.centers.streaming import iter_chunks
from merchants.kernel.importing import (
    ERROR_COLUMN,
    RowError,
    SpreadsheetResource,
    _neutralise_cell,
    _row_of,
)

log = logging.getLogger(__name__)

PAGE_ERRORS = 500  # bad rows kept on the job's page; the error file has every one
PROGRESS_EVERY = 50_000  # rows between two progress writes of an export


def export_keep() -> timedelta:
    return timedelta(days=int(getattr(settings, "SHOUHOU_EXPORT_KEEP_DAYS", 7)))


def _claim(model, job_id: int, target: str):
    now = timezone.now()
    claimed = model.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=target, started_at=now, progress=0
    )
    if not claimed:
        return None
    return model.objects.select_related("user").get(pk=job_id)


def _fail(job, message: str) -> None:
    job.status, job.message, job.finished_at = JobStatus.FAILED, message, timezone.now()
    job.save(update_fields=["status", "message", "finished_at", "progress", "rows"])


def _language(job) -> str:
    return job.language or settings.LANGUAGE_CODE


# ---------------------------------------------------------------------------------------------
# Imports


def site_admin(site_name: str, model_label: str):
    """The ModelAdmin of `model_label` on the admin site called `site_name`."""
    from django.apps import apps  # noqa: PLC0415

    model = apps.get_model(model_label)
    for site in all_sites:
        if site.name == site_name and model in site._registry:
            return site._registry[model]
    raise LookupError(f"{model_label} has no admin on site {site_name!r}")


def job_request(user, path: str = "/", params=None):
    """A GET request as `user` made it (the list's filters as its query string), for admin hooks."""
    request = HttpRequest()
    request.method, request.path = "GET", path
    request.META = {"SERVER_NAME": "localhost", "SERVER_PORT": "80", "REQUEST_METHOD": "GET"}
    query = QueryDict(mutable=True)
    for key, values in (params or {}).items():
        query.setlist(key, values if isinstance(values, list) else [values])
    request.GET = query
    request.user = user
    request.session = {}
    request._messages = _NoMessages()
    return request


class _NoMessages(list):
    level = 0

    def add(self, *args, **kwargs):
        return None


def import_resource(job: ImportJob):
    admin = site_admin(job.site, job.resource)
    request = job_request(job.user)
    resource_class = admin.get_import_resource_classes(request)[0]
    return resource_class(**admin.get_import_resource_kwargs(request))


def validates_read_only(resource) -> bool:
    """A set-based import (its own import_prepared, BatchResult) writes nothing in a dry run."""
    declared = getattr(resource, "dry_run_writes_nothing", None)
    if declared is not None:
        return bool(declared)
    return (
        isinstance(resource, SpreadsheetResource)
        and type(resource).import_prepared is not SpreadsheetResource.import_prepared
    )


def _result_errors(resource, result) -> list[RowError]:
    if getattr(result, "file_error", None) is not None:
        raise result.file_error
    if result.has_errors() or result.has_validation_errors():
        return resource.row_errors(result)
    return []


def _dataset_from_stage(record):
    import tablib  # noqa: PLC0415

    headers, body, numbers, formulas, label = record
    dataset = tablib.Dataset(headers=list(headers))
    dataset._data = list(map(_row_of, body))
    dataset.row_numbers, dataset.formula_cells, dataset.encoding_label = numbers, formulas, label
    return dataset


def _staged(path):
    with open(path, "rb") as stage:
        while True:
            try:
                yield _dataset_from_stage(pickle.load(stage))
            except EOFError:
                return


def _stage_dir() -> str:
    folder = os.path.join(tempfile.gettempdir(), "shouhou-import-staging")
    os.makedirs(folder, exist_ok=True)
    return folder


def _progress(model, job, **fields) -> None:
    model.objects.filter(pk=job.pk).update(**fields)


def run_import(job_id: int) -> str:
    """Validate, stage and import one ImportJob; returns its final state (idempotent)."""
    job = _claim(ImportJob, job_id, JobStatus.VALIDATING)
    if job is None:
        return ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or ""
    stage_path = os.path.join(_stage_dir(), f"{job.pk}-{uuid.uuid4().hex}.pickle")
    with translation.override(_language(job)):
        try:
            _run_import(job, stage_path)
        except ValidationError as exc:  # the file as a whole (ImportFileError) or a rule: say so
            job.errors = [{"row": None, "column": "", "value": "", "message": m} for m in exc.messages]
            job.error_count = len(exc.messages)
            job.save(update_fields=["errors", "error_count"])
            _fail(job, "；".join(exc.messages))
        except Exception:
            log.exception("Import job %s failed", job.pk)
            _fail(job, gettext("导入失败：系统出现意外错误，没有写入任何数据。请稍后重试或联系平台。"))
        finally:
            if os.path.exists(stage_path):
                os.remove(stage_path)
    return job.status


class _Rollback(Exception):
    pass


def _run_import(job: ImportJob, stage_path: str) -> None:
    resource = import_resource(job)
    resource.preview_rows = 0  # a job shows totals and errors, never the preview's rows
    if transaction.get_connection().vendor == "postgresql":
        _import_in_one_pass(job, resource)
    else:
        _validate_stage_then_import(job, resource, stage_path)


def _read_progress(handle, size: int, share: int) -> int:
    try:
        return min(share - 1, int(handle.tell() / size * share))
    except (OSError, ValueError):
        return 0


class _ProgressBeside:
    """The job's progress written on a connection of its own, in autocommit, while the import's one
    transaction is open (its own writes are invisible to the page polling the job until it commits).

    Best effort: it never waits for a lock on the job row (lock_timeout) and a failure only skips one
    progress update; the final state is written by the import's own connection after the commit."""

    def __init__(self, job: ImportJob):
        self.job, self.connection = job, connections.create_connection(DEFAULT_DB_ALIAS)
        qn = self.connection.ops.quote_name
        self.sql = (
            f"UPDATE {qn(ImportJob._meta.db_table)} SET {qn('rows')} = %s, {qn('progress')} = %s "
            f"WHERE {qn('id')} = %s"
        )

    def update(self, rows: int, progress: int) -> None:
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
                cursor.execute(self.sql, [rows, progress, self.job.pk])
        except DatabaseError:
            log.info("progress of import job %s not written this time", self.job.pk, exc_info=True)

    def close(self) -> None:
        self.connection.close()


def _import_in_one_pass(job: ImportJob, resource) -> None:
    """PostgreSQL: every chunk validated and written in the one transaction; after a bad row, validated only."""
    errors: list[RowError] = []
    totals: Counter = Counter()
    size = job.file.size or 1
    _progress(ImportJob, job, status=JobStatus.IMPORTING)
    beside = _ProgressBeside(job)
    try:
        with transaction.atomic(), job.file.open("rb") as handle:  # B-3: every chunk, or nothing
            together = getattr(resource, "chunk_key_index", None)
            for chunk in iter_chunks(handle, together=together):
                result = resource.import_data(chunk, dry_run=bool(errors), use_transactions=True)
                errors.extend(_result_errors(resource, result))
                if not errors:
                    totals.update({key: value for key, value in result.totals.items() if value})
                job.rows += len(chunk)
                job.progress = _read_progress(handle, size, 100)
                beside.update(job.rows, job.progress)
            if errors:
                raise _Rollback
    except _Rollback:
        _fail_with_rows(job, resource, errors)
        return
    finally:
        beside.close()
    _done(job, totals)


def _validate_stage_then_import(job: ImportJob, resource, stage_path: str) -> None:
    """SQLite: validate and stage outside the write lock, then one short write transaction (B-5)."""
    read_only = validates_read_only(resource)
    errors: list[RowError] = []
    size = job.file.size or 1
    with job.file.open("rb") as handle, open(stage_path, "wb") as stage:
        together = getattr(resource, "chunk_key_index", None)
        for chunk in iter_chunks(handle, together=together):
            record = (
                list(chunk.headers),
                [row._row for row in chunk._data],  # plain lists: Row objects pickle slower
                chunk.row_numbers,
                chunk.formula_cells,
                chunk.encoding_label,
            )
            result = resource.import_data(chunk, dry_run=True, use_transactions=not read_only)
            errors.extend(_result_errors(resource, result))
            pickle.dump(record, stage, protocol=pickle.HIGHEST_PROTOCOL)
            job.rows += len(chunk)
            job.progress = _read_progress(handle, size, 50)
            _progress(ImportJob, job, rows=job.rows, progress=job.progress)
    if errors:
        _fail_with_rows(job, resource, errors)
        return
    _progress(ImportJob, job, status=JobStatus.STAGED)
    _progress(ImportJob, job, status=JobStatus.IMPORTING, progress=60)
    totals: Counter = Counter()
    try:
        with transaction.atomic():  # B-3: every staged chunk, or nothing
            for dataset in _staged(stage_path):
                result = resource.import_data(dataset, dry_run=False, use_transactions=True)
                errors.extend(_result_errors(resource, result))
                if errors:
                    raise _Rollback
                totals.update({key: value for key, value in result.totals.items() if value})
    except _Rollback:
        _fail_with_rows(job, resource, errors)
        return
    _done(job, totals)


def _done(job: ImportJob, totals: Counter) -> None:
    job.summary = dict(totals)
    job.status, job.progress, job.finished_at = JobStatus.DONE, 100, timezone.now()
    job.save(update_fields=["summary", "status", "progress", "finished_at", "rows"])


def _fail_with_rows(job: ImportJob, resource, errors: list[RowError]) -> None:
    errors.sort(key=lambda e: e.row or 0)
    job.errors = [
        {"row": e.row, "column": e.column, "value": e.value, "message": force_str(e.message)}
        for e in errors[:PAGE_ERRORS]
    ]
    job.error_count = len(errors)
    job.error_file.save(
        f"import-errors-{job.pk}.csv", ContentFile(_error_file(errors, job, resource)), save=False
    )
    job.save(update_fields=["errors", "error_count", "error_file"])
    _fail(
        job,
        gettext(
            "导入未执行，没有写入任何数据：%(rows)d 行有 %(count)d 处错误。请下载错误文件，修改后重新导入。"
        )
        % {"rows": len({e.row for e in errors}), "count": len(errors)},
    )


def _error_file(errors: list[RowError], job: ImportJob, resource) -> bytes:
    """Every uploaded row with an error column (UTF-8 with BOM), as the synchronous path writes it: read again
    from the stored upload, in the same chunks (so with the same row numbers)."""
    by_row: dict = {}
    for err in errors:
        text = f"{err.column}：{err.message}" if err.column else err.message
        by_row.setdefault(err.row, []).append(text)
    out = io.StringIO()
    writer = csv.writer(out)
    started = False
    with job.file.open("rb") as handle:
        for dataset in iter_chunks(handle, together=getattr(resource, "chunk_key_index", None)):
            if not started:
                writer.writerow([*dataset.headers, force_str(ERROR_COLUMN)])
                if None in by_row:
                    writer.writerow([""] * len(dataset.headers) + ["；".join(by_row[None])])
                started = True
            for number, values in zip(dataset.row_numbers, dataset, strict=False):
                writer.writerow([*(_neutralise_cell(v) for v in values), "；".join(by_row.get(number, ()))])
    if not started:
        writer.writerow([force_str(ERROR_COLUMN)])
        writer.writerow(["；".join(by_row.get(None, ()))])
    return out.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------------------------------------
# Exports


def run_export(job_id: int) -> str:
    """Write one ExportJob's file; returns its final state (idempotent)."""
    job = _claim(ExportJob, job_id, JobStatus.RUNNING)
    if job is None:
        return ExportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or ""
    with translation.override(_language(job)):
        try:
            _run_export(job)
        except ValidationError as exc:
            _fail(job, "；".join(exc.messages))
        except Exception:
            log.exception("Export job %s failed", job.pk)
            _fail(job, gettext("导出失败：系统出现意外错误。请稍后重试或联系平台。"))
    return job.status


def _run_export(job: ExportJob) -> None:
    if job.user is None:
        raise ValidationError(gettext("发起导出的账号已不存在。"))
    spec = exports.export_type(job.kind).build(
        job.user, site=job.site, filters=job.filters, options=job.options
    )
    total = spec.count or 0
    last = [0]

    def progress(written: int) -> None:
        if written - last[0] >= PROGRESS_EVERY:
            last[0] = written
            percent = min(99, written * 100 // total) if total else 0
            _progress(ExportJob, job, rows=written, progress=percent)

    spec.progress = progress
    with tempfile.TemporaryFile() as handle:
        job.rows = exports.write(spec, handle, job.format)
        handle.seek(0)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        name = f"{force_str(spec.title)}-{stamp}.{job.format}"
        job.original_name = name
        job.file.save(f"export.{job.format}", File(handle), save=False)
    now = timezone.now()
    job.status, job.progress, job.finished_at, job.expires_at = JobStatus.DONE, 100, now, now + export_keep()
    job.save(
        update_fields=["file", "original_name", "rows", "status", "progress", "finished_at", "expires_at"]
    )


def cleanup_expired(now=None) -> int:
    """Delete the files of export jobs past their expiry (and old import uploads); returns files removed."""
    now = now or timezone.now()
    removed = 0
    for job in ExportJob.objects.filter(expires_at__lte=now).exclude(file=""):
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        removed += 1
    keep_imports = timedelta(days=int(getattr(settings, "SHOUHOU_IMPORT_KEEP_DAYS", 30)))
    for job in ImportJob.objects.filter(created_at__lte=now - keep_imports).exclude(file="", error_file=""):
        for field_file in (job.file, job.error_file):
            if field_file:
                field_file.delete(save=False)
                removed += 1
        ImportJob.objects.filter(pk=job.pk).update(file="", error_file="")
    return removed
