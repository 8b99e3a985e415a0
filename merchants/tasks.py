"""Periodic order tasks (beat entry points). Each returns how many orders it changed; safe to run twice."""

from celery import shared_task
from django.utils import timezone


@shared_task(acks_late=True)
def cancel_unpaid_orders() -> int:
    """M-3: cancel online orders unpaid past their deadline (due rows only, by index)."""
    from merchants import services
    from merchants.kernel.deadlines import sweep
    from merchants.models import Order
    from merchants.transitions import OrderStatus

    return sweep(
        Order.objects.filter(status=OrderStatus.UNPAID), services.auto_cancel_unpaid, now=timezone.now()
    )


@shared_task(acks_late=True)
def auto_confirm_receipts() -> int:
    """S-5: shipped orders the buyer has not confirmed become received after the platform's period."""
    from merchants import services
    from merchants.kernel.deadlines import sweep
    from merchants.models import Order
    from merchants.transitions import OrderStatus

    return sweep(
        Order.objects.filter(status=OrderStatus.SHIPPED), services.auto_confirm_receipt, now=timezone.now()
    )


@shared_task
def nightly_housekeeping() -> int:
    """Forget login failures older than the lock-out period (django-axes); returns rows removed."""
    from axes.models import AccessAttempt
    from django.conf import settings

    return AccessAttempt.objects.filter(
        attempt_time__lt=timezone.now() - settings.AXES_COOLOFF_TIME
    ).delete()[0]
