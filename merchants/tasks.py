"""Periodic order tasks (beat entry points). Each returns how many orders it changed; safe to run twice."""

from celery import shared_task
from django.utils import timezone

from merchants.kernel.centers.tasks import (  # noqa: F401  (the workers find the centers' tasks here)
    cleanup_expired_exports,
    run_export_job,
    run_import_job,
)
from merchants.kernel.deadlines import requeue_rest


@shared_task(acks_late=True)
def cancel_unpaid_orders(limit: int | None = None, resume: dict | None = None) -> int:
    """M-3: cancel online orders unpaid past their deadline (due rows only, by index); a bounded run goes on later."""
    from merchants import services

    run = services.cancel_due_unpaid(now=timezone.now(), limit=limit, resume=resume)
    return requeue_rest(cancel_unpaid_orders, run, limit=limit)


@shared_task(acks_late=True)
def auto_confirm_receipts(limit: int | None = None, resume: dict | None = None) -> int:
    """S-5: shipped orders the buyer has not confirmed become received after the platform's period."""
    from merchants import services

    run = services.confirm_due_receipts(now=timezone.now(), limit=limit, resume=resume)
    return requeue_rest(auto_confirm_receipts, run, limit=limit)


@shared_task
def nightly_housekeeping() -> int:
    """Forget login failures older than the lock-out period (django-axes); returns rows removed."""
    from axes.models import AccessAttempt
    from django.conf import settings

    return AccessAttempt.objects.filter(
        attempt_time__lt=timezone.now() - settings.AXES_COOLOFF_TIME
    ).delete()[0]


@shared_task(acks_late=True)
def evaluate_levels(limit: int | None = None) -> int:
    """L-2, L-4: evaluate every active shop not yet evaluated today; returns how many shops changed.

    A direct call handles every shop; `limit` bounds a beat run (the rest follow in another run the same
    day, since a shop evaluated today is not looked at again).
    """
    from merchants.levels import engine

    changed = engine.run(limit=limit)
    if limit is not None and engine.due_shops(timezone.localdate()).exists():
        evaluate_levels.apply_async(kwargs={"limit": limit}, countdown=1)
    return changed
