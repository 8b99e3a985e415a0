"""The rows of the import center and the download center (B-5, B-6), registered under `merchants`.

A job belongs to the shop it was started for (`merchant`; none for platform staff's jobs across shops),
so the tenancy layer scopes it like any shop row: a member sees the own shop's jobs and files, platform
staff every job. Its file (the uploaded file of an import, the written file of an export) is stored under
a random name and served only by the protected file view (merchants.kernel.files), after the same check.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from merchants.kernel.models import AttachmentBase, Merchant, attachment_upload_to


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    VALIDATING = "validating", _("校验中")
    STAGED = "staged", _("校验通过")
    IMPORTING = "importing", _("写入中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


FINISHED = (JobStatus.DONE, JobStatus.FAILED)


class JobBase(AttachmentBase):
    """Who started what, on which site, when; its state, progress (0-100) and rows."""

    merchant_path = "merchant"
    # A member of several shops starts jobs for no one shop (their file may hold rows of each): such a job,
    # with no shop, is seen by the member who started it (merchants.kernel.scoping.scope_to_actor).
    starter_path = "user"

    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("店铺")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("操作人"),
    )
    site = models.CharField(_("站点"), max_length=20)
    language = models.CharField(_("语言"), max_length=10, blank=True)  # messages are written in it
    status = models.CharField(_("状态"), max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    message = models.TextField(_("说明"), blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ("-created_at", "-pk")

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


class ImportJob(JobBase):
    """One background import (B-5): the uploaded file, its rows, the result or every bad row."""

    upload_folder = "imports"

    # file / original_name / created_at (AttachmentBase): the uploaded file, as the user named it, when
    resource = models.CharField(_("导入内容"), max_length=80)  # "app_label.model_name" of the import page
    resource_label = models.CharField(_("导入类型"), max_length=80, blank=True)
    summary = models.JSONField(_("结果"), default=dict, blank=True)  # {"new": n, "update": n, "skip": n}
    errors = models.JSONField(_("错误"), default=list, blank=True)  # the first PAGE_ERRORS, for the page
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    error_file = models.FileField(_("错误文件"), upload_to=attachment_upload_to, max_length=200, blank=True)

    class Meta(JobBase.Meta):
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入中心")
        indexes = [models.Index(fields=["merchant", "-created_at"], name="importjob_shop_idx")]


class ExportJob(JobBase):
    """One background export (B-6): the list's filters, the written file and until when it is kept."""

    upload_folder = "exports"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    kind = models.CharField(_("导出类型"), max_length=60)  # a key of merchants.kernel.centers.exports
    kind_label = models.CharField(_("导出内容"), max_length=80, blank=True)
    format = models.CharField(_("格式"), max_length=8, choices=Format.choices, default=Format.CSV)
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)  # the list's query string, as lists
    options = models.JSONField(_("选项"), default=dict, blank=True)  # e.g. {"timeline": true}
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)

    class Meta(JobBase.Meta):
        verbose_name = _("导出任务")
        verbose_name_plural = _("下载中心")
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="exportjob_shop_idx"),
            models.Index(fields=["expires_at"], name="exportjob_expiry_idx"),
        ]

    def __str__(self) -> str:
        return self.original_name or self.kind_label or self.kind

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()
