"""The import center (导入中心) and the download center (下载中心) on both sites (B-5, B-6).

Read-only change lists of ImportJob / ExportJob, scoped by the tenancy layer like every shop row (a
member sees the own shop's jobs, platform staff all of them; another shop's job id is a 404). A job's
page shows its state with a progress bar that polls `…/<id>/status/` (JSON) through
static/kernel/job-progress.js (no inline script: CSP), and then its result: the rows written or every
bad row with the error file (`…/<id>/errors/`), or the export's file (the protected file view).

An empty center says what comes to it and from where (nothing is created here: unfold's "create a new
item" and "reset filters" would mislead), and, when a filter or search left nothing, offers the whole list
(EmptyStateChangeList, as on the order and case lists).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import FileResponse, Http404, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from merchants.kernel import files, registry
from merchants.kernel.admin.base import MerchantScopedAdmin
from merchants.kernel.admin.changelist import EmptyState, EmptyStateChangeList
from merchants.kernel.admin.display import badge, local_time
from merchants.kernel.admin.readonly import ReadOnlyAdminMixin
from merchants.kernel.admin.sites import workbench_site
from merchants.kernel.centers import exports
from merchants.kernel.centers.models import ExportJob, ImportJob, JobStatus
from merchants.kernel.centers.runner import export_keep
from merchants.kernel.scoping import merchant_ids_for

files.register(ImportJob, kind="import-file")
files.register(ExportJob, kind="export-file")

STATUS_TONES = {JobStatus.DONE: "success", JobStatus.FAILED: "danger"}


class JobAdmin(ReadOnlyAdminMixin, MerchantScopedAdmin):
    list_display_links = ("job",)
    list_select_related = ("user", "merchant")
    list_filter = ("status",)
    ordering = ("-created_at", "-pk")
    list_per_page = 50
    template_name = "kernel/job_center.html"

    def get_changelist(self, request, **kwargs):
        return EmptyStateChangeList

    def empty_state(self, request, cl) -> EmptyState:
        """What an empty center says (read by templates/unfold/helpers/empty_results.html)."""
        if cl.is_narrowed:
            return EmptyState(
                gettext("没有符合条件的任务"),
                gettext("请换个筛选条件，或清除筛选后查看全部任务。"),
                "?",
                gettext("查看全部任务"),
            )
        return self.nothing_yet()

    def nothing_yet(self) -> EmptyState:
        raise NotImplementedError

    @display(description=_("状态"))
    def status_badge(self, job):
        return badge(job.get_status_display(), STATUS_TONES.get(job.status, "info"))

    def get_list_display(self, request):
        """Whose job it is, where the list holds more than one shop's (staff, a member of several shops)."""
        columns = list(super().get_list_display(request))
        if self.is_platform_site() or len(merchant_ids_for(request.user)) > 1:
            columns.insert(1, "shop")
        return columns

    @display(description=_("店铺"))
    def shop(self, job):
        if job.merchant_id:
            return job.merchant.name
        # No shop: platform staff's job across shops, or a job of a member of several shops.
        return gettext("多个店铺") if job.site == workbench_site.name else gettext("平台")

    @display(description=_("进度"))
    def progress_display(self, job):
        # A failed job wrote nothing (all or nothing): where it stopped is no progress.
        return "-" if job.status == JobStatus.FAILED else f"{job.progress}%"

    @display(description=_("操作人"))
    def who(self, job):
        return job.user.get_username() if job.user else "-"

    @display(description=_("创建时间"), ordering="created_at")
    def created(self, job):
        return local_time(job.created_at)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:object_id>/status/",
                self.admin_site.admin_view(self.status_view),
                name="{}_{}_status".format(*info),
            ),
            *self.extra_urls(info),
            *super().get_urls(),
        ]

    def extra_urls(self, info):
        return []

    def visible_job(self, request, object_id):
        job = self.get_object(request, object_id)  # scoped; a malformed id is simply not found
        if job is None or not self.has_view_permission(request, job):
            raise Http404()
        return job

    def status_payload(self, request, job) -> dict:
        return {
            "id": job.pk,
            "status": job.status,
            "status_label": str(job.get_status_display()),
            "progress": job.progress,
            "rows": job.rows,
            "finished": job.finished,
            "message": job.message,
        }

    def status_view(self, request, object_id):
        job = self.visible_job(request, object_id)
        return JsonResponse(self.status_payload(request, job))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.visible_job(request, object_id)
        info = self.opts.app_label, self.opts.model_name
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(job),
            "job": job,
            "status_url": reverse(f"{self.admin_site.name}:%s_%s_status" % info, args=[job.pk]),
            "changelist_url": reverse(f"{self.admin_site.name}:%s_%s_changelist" % info),
            **self.job_context(request, job),
        }
        return TemplateResponse(request, self.template_name, context)

    def job_context(self, request, job) -> dict:
        return {}


class ImportJobAdmin(JobAdmin):
    list_display = ("job", "resource_name", "status_badge", "progress_display", "rows", "who", "created")

    @display(description=_("文件"))
    def job(self, job):
        return job.display_name

    @display(description=_("导入类型"))
    def resource_name(self, job):
        # Stored in the starter's language; the source (Chinese) label reads in the reader's.
        return gettext(job.resource_label) if job.resource_label else job.resource

    def nothing_yet(self) -> EmptyState:
        return EmptyState(
            gettext("还没有导入任务"),
            gettext(
                "在列表的「导入」页上传的大文件会在这里后台导入：可以查看进度和结果，有出错的行时可下载错误文件。"
            ),
        )

    def extra_urls(self, info):
        return [
            path(
                "<int:object_id>/errors/",
                self.admin_site.admin_view(self.error_file_view),
                name="{}_{}_errors".format(*info),
            )
        ]

    def error_file_view(self, request, object_id):
        job = self.visible_job(request, object_id)
        if not job.error_file:
            raise Http404()
        try:
            handle = job.error_file.open("rb")
        except OSError as exc:
            raise Http404() from exc
        response = FileResponse(handle, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = files.content_disposition(
            "attachment", f"import-errors-{job.pk}.csv"
        )
        return response

    def job_context(self, request, job) -> dict:
        info = self.opts.app_label, self.opts.model_name
        return {
            "kind": "import",
            "type_label": self.resource_name(job),
            "errors": job.errors,
            "error_file_url": reverse(f"{self.admin_site.name}:%s_%s_errors" % info, args=[job.pk])
            if job.error_file
            else "",
            "summary": job.summary,
        }

    def status_payload(self, request, job) -> dict:
        return {**super().status_payload(request, job), "error_count": job.error_count}


class ExportJobAdmin(JobAdmin):
    list_display = ("job", "format", "status_badge", "progress_display", "rows", "who", "created", "download")

    @display(description=_("导出内容"))
    def job(self, job):
        known = exports.registered().get(job.kind)  # its label in the reader's language
        return str(known.label) if known else (job.kind_label or job.kind)

    def nothing_yet(self) -> EmptyState:
        days = export_keep().days
        text = ngettext(
            "在列表上「导出」的数据较多时，文件会在这里后台生成；生成后 %(days)s 天内都可以下载，过期后自动删除。",
            "在列表上「导出」的数据较多时，文件会在这里后台生成；生成后 %(days)s 天内都可以下载，过期后自动删除。",
            days,
        )
        return EmptyState(gettext("还没有导出文件"), text % {"days": days})

    @display(description=_("下载"))
    def download(self, job):
        from django.utils.html import format_html  # noqa: PLC0415

        if job.status != JobStatus.DONE:
            return "-"
        if not job.file or job.expired:
            return gettext("已过期")
        return format_html(
            '<a class="font-semibold text-primary-600" href="{}">{}</a>', job.url, gettext("下载")
        )

    def job_context(self, request, job) -> dict:
        return {
            "kind": "export",
            "type_label": self.job(job),
            "download_url": job.url if job.file and not job.expired else "",
            "filters": {k: v for k, v in job.filters.items() if v and any(v)},
        }


for site in (workbench_site, admin.site):
    site.register(ImportJob, ImportJobAdmin)
    site.register(ExportJob, ExportJobAdmin)
registry.nav_icon("merchants.importjob", "upload_file", priority=95)
registry.nav_icon("merchants.exportjob", "download", priority=96)
