"""Starting jobs of the import center and the download center (B-5, B-6): the only writers of new jobs.

A job is created in the caller's transaction and its task is queued once that commits. The shop on the
job is the one shop the user belongs to; platform staff's jobs (across shops) carry none and are seen by
platform staff only.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.utils import translation

from merchants.kernel.centers.models import ExportJob, ImportJob
from merchants.kernel.scoping import merchant_ids_for, sees_all


def _shop_id(user) -> int | None:
    if sees_all(user):
        return None
    shops = merchant_ids_for(user)
    return shops[0] if len(shops) == 1 else None


@transaction.atomic
def start_import(upload, *, actor, site: str, resource: str, label: str = "") -> ImportJob:
    """Store the upload as a queued ImportJob and queue its task after the commit."""
    from merchants.kernel.centers.tasks import run_import_job  # noqa: PLC0415

    job = ImportJob(
        user=actor,
        merchant_id=_shop_id(actor),
        site=site,
        language=translation.get_language() or "",
        resource=resource,
        resource_label=str(label)[:80],
        file=upload,
        original_name=(getattr(upload, "name", "") or "")[:200],
    )
    job.save()
    transaction.on_commit(partial(run_import_job.delay, job.pk))
    return job


@transaction.atomic
def start_export(
    *, actor, site: str, kind: str, label: str, fmt: str, filters: dict, options: dict | None = None
) -> ExportJob:
    """Record a queued ExportJob for the list's filters and queue its task after the commit."""
    from merchants.kernel.centers.tasks import run_export_job  # noqa: PLC0415

    job = ExportJob.objects.create(
        user=actor,
        merchant_id=_shop_id(actor),
        site=site,
        language=translation.get_language() or "",
        kind=kind,
        kind_label=str(label)[:80],
        format=fmt,
        filters=filters,
        options=options or {},
    )
    transaction.on_commit(partial(run_export_job.delay, job.pk))
    return job


def query_filters(querydict) -> dict:
    """A QueryDict as plain JSON ({name: [values]}), without the export form's own fields."""
    return {key: querydict.getlist(key) for key in querydict if key not in {"csrfmiddlewaretoken"}}
