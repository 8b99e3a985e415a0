"""Ticket tasks: the T-3 beat entry point and the owners' e-mail. Ids in, idempotent, safe twice at once."""

from celery import shared_task
from django.utils import timezone

from merchants.kernel.deadlines import requeue_rest


@shared_task(acks_late=True)
def escalate_overdue(limit: int | None = None, resume: dict | None = None) -> int:
    """T-3 beat entry point (every minute): act on every due ticket; returns how many changed.

    Overdue tickets get one violation per episode and are escalated, late reviews are raised to senior
    staff, missed ship commitments (T-7) are recorded. Two runs at once skip each other's rows. Called
    without arguments it handles every due ticket; the beat passes `limit`, and a run that hit it queues
    itself again for the rest (merchants.kernel.deadlines.requeue_rest).
    """
    from tickets import services

    run = services.escalate_overdue(now=timezone.now(), limit=limit, resume=resume)
    return requeue_rest(escalate_overdue, run, limit=limit)


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


@shared_task(acks_late=True)
def review_late_mail_task(ticket_ids: list[int]) -> int:
    """E-mail senior staff (group platform_senior) the tickets whose review went late, in one message."""
    from django.core.mail import EmailMessage, get_connection

    from tickets.models import Ticket
    from tickets.services import effects

    tickets = list(Ticket.objects.filter(pk__in=ticket_ids).select_related("merchant").order_by("pk"))
    to = effects.senior_addresses()
    if not tickets or not to:
        return 0
    subject, body = effects.review_late_mail(tickets)
    with get_connection() as connection:
        return connection.send_messages([EmailMessage(subject=subject, body=body, to=to)]) or 0
