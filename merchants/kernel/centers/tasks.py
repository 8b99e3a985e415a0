"""Celery tasks of the import center and the download center (B-5, B-6): ids in, idempotent."""

from celery import shared_task


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> str:
    """Run one queued import job; a second delivery finds it claimed and does nothing."""
    from merchants.kernel.centers import runner

    return runner.run_import(job_id)


@shared_task(acks_late=True)
def run_export_job(job_id: int) -> str:
    """Write one queued export job's file; a second delivery finds it claimed and does nothing."""
    from merchants.kernel.centers import runner

    return runner.run_export(job_id)


@shared_task
def cleanup_expired_exports() -> int:
    """Daily (beat): delete expired export files and old import files; returns how many were removed."""
    from merchants.kernel.centers import runner

    return runner.cleanup_expired()
