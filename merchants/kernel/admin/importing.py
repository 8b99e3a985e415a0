"""django-import-export's admin flow with our reader, our messages and our error file (B-2, B-3).

`SpreadsheetImportExportAdmin` is `MerchantScopedImportExportAdmin` (the actor reaches every resource)
with: one import format that reads CSV in any of the encodings or XLSX (merchants.kernel.importing);
a file that cannot be read, is too large or has the wrong columns answered by a message on the form,
never a 500; every bad row listed on the page (row, column, value, message) and downloadable as an
error file (the uploaded rows plus an error column, UTF-8 with BOM) to fix and upload again; a
template file (headers and an example row) linked from the import page; CSV (with BOM) and XLSX
exports that import back. A file above SHOUHOU_IMPORT_SYNC_MAX_BYTES (and within the hard limit) is
not read here: it becomes a job of the import center (merchants.kernel.centers, B-5) and the user is
sent to the job's page, whose progress bar follows it to its result.
"""

from __future__ import annotations

import os
import tempfile
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.results import RowResult
from unfold.contrib.import_export.forms import ImportForm, SelectableFieldsExportForm

from merchants.kernel.admin.base import is_workbench, member_may
from merchants.kernel.admin.importexport import MerchantScopedImportExportAdmin
from merchants.kernel.importing import (
    CSVExport,
    ImportFileError,
    SpreadsheetFormat,
    XLSXExport,
    check_size,
    max_bytes,
)
from merchants.kernel.scoping import WRITE_ROLES, is_platform

ERROR_FILES_SESSION_KEY = "shouhou_import_error_files"


def _field_lister(resource):
    """`resource` as import_export's selectable export form builds it (`resource()`, to read its export
    order): our resources need `actor=`, and the form only lists the fields — the export itself is
    built by the admin, with the request's user. Same class name, so the checkbox names are the same."""
    return type(
        resource.__name__,
        (resource,),
        {"__init__": lambda self, **kwargs: resource.__init__(self, actor=None, **kwargs)},
    )


class ColumnsExportForm(SelectableFieldsExportForm):
    """The export page with a checkbox per column (all checked); the admin exports only those checked."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, [_field_lister(resource) for resource in resources], **kwargs)

    def _get_field_label(self, resource, field_name: str):
        """The column's own header, in the reader's language (not "Order No (订单号)")."""
        field = resource.fields.get(field_name)
        return field.column_name if field is not None and field.column_name else field_name

    def _validate_any_field_selected(self, resource) -> None:
        """No column checked (a form posted by a script with just the format): every column, as before
        the checkboxes — the export that imports back."""


PAGE_ERRORS = 500  # shown on the page; the error file always has every one


def _error_dir() -> str:
    folder = os.path.join(tempfile.gettempdir(), "shouhou-import-errors")
    os.makedirs(folder, exist_ok=True)
    return folder


class SpreadsheetImportForm(ImportForm):
    """The upload step: the size limit and an empty file checked before anything is read."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["import_file"].allow_empty_file = True  # refused below, in our words

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        check_size(upload.size)  # ImportFileError is a ValidationError: shown on the field
        return upload


class SpreadsheetImportExportAdmin(MerchantScopedImportExportAdmin):
    import_formats = [SpreadsheetFormat]
    export_formats = [CSVExport, XLSXExport]
    import_form_class = SpreadsheetImportForm
    export_form_class = ColumnsExportForm  # the columns to export are checkboxes, honoured
    import_template_name = "kernel/import.html"
    to_encoding = "utf-8-sig"  # CSV exports with a BOM: Excel then reads the UTF-8 correctly
    skip_admin_log = True  # an import of 100k rows is not 100k admin log entries; the events record it

    # -- permissions: on the workbench an owner or agent imports; on /admin/ platform staff

    def has_import_permission(self, request):
        if is_workbench(self.admin_site):
            return member_may(request, None, WRITE_ROLES)
        return is_platform(request.user)

    # -- URLs: the template file and the error file next to …/import/

    def get_urls(self):
        info = self.get_model_info()
        urls = [
            path(
                "import/template/",
                self.admin_site.admin_view(self.import_template_view),
                name="{}_{}_import_template".format(*info),
            ),
            path(
                "import/errors/<str:token>/",
                self.admin_site.admin_view(self.import_errors_view),
                name="{}_{}_import_errors".format(*info),
            ),
        ]
        return urls + super().get_urls()

    def _url(self, suffix, *args):
        info = self.get_model_info()
        return reverse(f"{self.admin_site.name}:%s_%s_{suffix}" % info, args=args)

    def _resource(self, request):
        resource_class = self.get_import_resource_classes(request)[0]
        return resource_class(**self.get_import_resource_kwargs(request))

    def import_template_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        resource = self._resource(request)
        response = HttpResponse(resource.template_file(), content_type="text/csv; charset=utf-8")
        name = f"{self.model._meta.model_name}-import-template.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def import_errors_view(self, request, token):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if token not in request.session.get(ERROR_FILES_SESSION_KEY, []):
            raise Http404(_("错误文件不存在或已过期。"))
        file_path = os.path.join(_error_dir(), f"{uuid.UUID(hex=token).hex}.csv")
        try:
            with open(file_path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise Http404(_("错误文件不存在或已过期。")) from exc
        response = HttpResponse(data, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-errors-{token[:8]}.csv"'
        return response

    def _save_error_file(self, request, data: bytes) -> str:
        token = uuid.uuid4().hex
        with open(os.path.join(_error_dir(), f"{token}.csv"), "wb") as handle:
            handle.write(data)
        tokens = [*request.session.get(ERROR_FILES_SESSION_KEY, [])[-19:], token]
        request.session[ERROR_FILES_SESSION_KEY] = tokens
        return token

    # -- the upload / preview step

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, ImportFileError):
            for message in e.messages:
                form.add_error("import_file", message)
            return
        form.add_error("import_file", gettext("无法读取该文件，请上传 CSV 或 Excel（.xlsx）文件。"))

    def get_export_filename(self, request, queryset, file_format):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        return f"{self.model._meta.model_name}-{stamp}.{file_format.get_extension()}"

    def import_action(self, request, **kwargs):
        upload = request.FILES.get("import_file") if request.method == "POST" else None
        if (
            upload is not None
            and sync_max_bytes() < upload.size <= max_bytes()
            and self.has_import_permission(request)
        ):
            return self.start_background_import(request, upload)
        response = super().import_action(request, **kwargs)
        if not isinstance(response, TemplateResponse):
            return response
        context = response.context_data
        context["import_template_url"] = self._url("import_template")
        context["import_columns"] = self._resource(request).template_headers()
        result = context.get("result")
        if result is None:
            return response
        file_error = getattr(result, "file_error", None)
        if file_error is not None:  # wrong or missing columns: a message on the form, like a bad file
            for message in file_error.messages:
                context["form"].add_error("import_file", message)
            context["result"] = None
            return response
        dataset = getattr(result, "dataset", None)
        context["import_encoding"] = getattr(dataset, "encoding_label", "")
        if result.has_errors() or result.has_validation_errors():
            resource = result.resource
            errors = resource.row_errors(result)
            context["import_errors"] = errors[:PAGE_ERRORS]
            context["import_error_count"] = len(errors)
            context["import_bad_rows"] = len({e.row for e in errors})
            token = self._save_error_file(request, resource.error_file(result))
            context["import_error_file_url"] = self._url("import_errors", token)
        return response

    # -- the background path (B-5)

    def start_background_import(self, request, upload):
        from merchants.kernel.centers.services import start_import  # noqa: PLC0415

        label = self._resource(request).get_display_name()
        job = start_import(
            upload,
            actor=request.user,
            site=self.admin_site.name,
            resource=self.model._meta.label_lower,
            label=label,
        )
        messages.info(
            request,
            gettext("文件较大，已转为后台导入：进度和结果（或错误列表）见导入中心。"),
        )
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:merchants_importjob_change", args=[job.pk])
        )

    # -- the confirm step

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            # Something changed between preview and confirm (another user shipped an order...): nothing
            # was written (B-3); say so, and send the user back to upload again.
            errors = result.resource.row_errors(result)
            messages.error(
                request,
                gettext("导入未执行，没有写入任何数据：%(count)d 处错误，例如：%(first)s")
                % {"count": len(errors), "first": _describe(errors[0]) if errors else ""},
            )
            return HttpResponseRedirect(self._url("import"))
        self.generate_log_entries(result, request)
        totals = result.totals
        messages.success(
            request,
            gettext("导入完成：新增 %(new)d 行，更新 %(updated)d 行，未变化跳过 %(skipped)d 行。")
            % {
                "new": totals[RowResult.IMPORT_TYPE_NEW],
                "updated": totals[RowResult.IMPORT_TYPE_UPDATE],
                "skipped": totals[RowResult.IMPORT_TYPE_SKIP],
            },
        )
        return HttpResponseRedirect(self._url("changelist"))


def sync_max_bytes() -> int:
    """Uploads up to this size are read at once (preview, confirm); larger ones go to the import center."""
    return int(getattr(settings, "SHOUHOU_IMPORT_SYNC_MAX_BYTES", 2 * 1024 * 1024))


def _describe(error) -> str:
    if error.row is None:
        return error.message
    return gettext("第 %(row)d 行「%(column)s」：%(message)s") % {
        "row": error.row,
        "column": error.column or "-",
        "message": error.message,
    }
