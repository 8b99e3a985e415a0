"""Delay reports (延迟售后报备, A-9): the merchant files, platform staff decide; approval takes the case
out of assessment (durations, timeouts, violations — L-7)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import DelayReportError
from aftersales.models import MAX_DELAY_DAYS, AfterSaleCase, DelayReport, DelayReportImage
from aftersales.registrations import DELAY_APPROVED, DELAY_REJECTED
from aftersales.services._common import (
    Kind,
    clean_files,
    clean_text,
    lock_case,
    pk_of,
    record,
    require_merchant,
    require_platform,
)
from aftersales.transitions import OPEN_STATES, CaseStatus, DelayReportStatus
from merchants.kernel.notices import notify
from merchants.kernel.scoping import get_for_actor
from merchants.kernel.violations import exclude_violations
from merchants.models import Notice


def _clean_until(value, now: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise DelayReportError(_("请填写预计处理时间。"), code="delay_until")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value <= now:
        raise DelayReportError(_("预计处理时间必须晚于现在。"), code="delay_until_past")
    if value > now + timedelta(days=MAX_DELAY_DAYS):
        raise DelayReportError(
            _("预计处理时间最多可报备到 %(days)d 天后。") % {"days": MAX_DELAY_DAYS}, code="delay_until_far"
        )
    return value


@transaction.atomic
def file_delay_report(
    case: AfterSaleCase | int, *, actor, reason: str, delay_until: datetime, images: Iterable = ()
) -> DelayReport:
    """The merchant reports that an open case will take longer (A-9); at most one pending report per case."""
    reason = clean_text(reason, label=_("报备原因"))
    files = clean_files(images)
    now = timezone.now()
    delay_until = _clean_until(delay_until, now)
    case = lock_case(case, actor)
    require_merchant(actor, case)
    if case.status not in OPEN_STATES or case.status == CaseStatus.REFUNDING:
        raise DelayReportError(
            _("售后单状态为「%(state)s」，不需要报备。") % {"state": case.get_status_display()},
            code="not_open",
        )
    if case.delay_reports.filter(status=DelayReportStatus.PENDING).exists():
        raise DelayReportError(_("该售后单已有待审核的报备，请等待平台审核。"), code="pending_exists")
    try:
        with transaction.atomic():
            report = DelayReport.objects.create(
                merchant_id=case.merchant_id,
                case=case,
                reason=reason,
                delay_until=delay_until,
                filed_by=actor if getattr(actor, "pk", None) else None,
                created_at=now,
            )
    except IntegrityError as exc:  # the partial unique index: a concurrent report won
        raise DelayReportError(
            _("该售后单已有待审核的报备，请等待平台审核。"), code="pending_exists"
        ) from exc
    for f in files:
        DelayReportImage.objects.create(report=report, file=f)
    record(
        case,
        Kind.DELAY_REPORTED,
        source=case.status,
        actor=actor,
        message=reason,
        data={"report": report.pk, "delay_until": delay_until.isoformat()},
        files=(),
        at=now,
    )
    return report


@transaction.atomic
def decide_delay_report(report: DelayReport | int, *, actor, approve: bool, note: str = "") -> DelayReport:
    """Platform staff approve or reject a pending report; approval excludes the case from assessment (A-9)."""
    require_platform(actor)
    note = clean_text(note, label=_("审核意见"), required=not approve)
    ref = get_for_actor(DelayReport.objects.only("pk", "case_id"), actor, pk=pk_of(report))
    case = lock_case(ref.case_id, actor)  # the case first, as file_delay_report does: no lock cycle
    report = DelayReport.objects.select_for_update().get(pk=ref.pk)
    if report.status != DelayReportStatus.PENDING:
        raise DelayReportError(
            _("该报备已审核（%(state)s），不能重复审核。") % {"state": report.get_status_display()},
            code="decided",
        )
    now = timezone.now()
    report.status = DelayReportStatus.APPROVED if approve else DelayReportStatus.REJECTED
    report.decided_by, report.decided_at, report.decision_note = actor, now, note
    report.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if approve:
        case.excluded_from_assessment = True
        case.save(update_fields=["excluded_from_assessment", "updated_at"])
        # L-7: violations this case already caused stop counting too.
        exclude_violations(case)
    record(
        case,
        Kind.DELAY_APPROVED if approve else Kind.DELAY_REJECTED,
        source=case.status,
        actor=actor,
        message=note,
        data={"report": report.pk},
        at=now,
    )
    notify(
        DELAY_APPROVED if approve else DELAY_REJECTED,
        audience=Notice.Audience.MERCHANT,
        merchant_id=case.merchant_id,
        params={"case_id": case.pk, "no": case.case_no},
        message=note,
        at=now,
    )
    return report
