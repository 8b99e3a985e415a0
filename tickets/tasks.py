"""Ticket tasks: the T-3 beat entry point and the owners' e-mail. Ids in, idempotent, safe twice at once."""

from celery import shared_task
from django.utils import timezone


@shared_task(acks_late=True)
def escalate_overdue() -> int:
    """T-3 beat entry point (every minute): act on every due ticket; returns how many changed.

    Overdue tickets get one violation per episode and are escalated, late reviews are raised to senior
    staff, missed ship commitments (T-7) are recorded. Two runs at once skip each other's rows.
    """
    from tickets import services

    return services.escalate_overdue(now=timezone.now())


@shared_task(acks_late=True)
def overdue_mail_task(ticket_ids: list[int]) -> int:
    """E-mail the shop owners of tickets that just went overdue (one message per ticket); how many sent."""
    from django.core.mail import EmailMessage, get_connection

    from tickets.models import Ticket
    from tickets.services import effects

    tickets = list(Ticket.objects.filter(pk__in=ticket_ids).select_related("merchant").order_by("pk"))
    addresses = effects.owner_addresses({t.merchant_id for t in tickets})
    messages = []
    for ticket in tickets:
        to = addresses.get(ticket.merchant_id)
        if to:
            subject, body = effects.overdue_mail(ticket)
            messages.append(EmailMessage(subject=subject, body=body, to=to))
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0
