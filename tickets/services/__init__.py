"""Every write to service tickets (T-1..T-7): the only code that moves a ticket.

A package split by sub-domain (STYLE §2); callers import from here:
`from tickets import services; services.submit_result(ticket, actor=user, text=...)`.
"""

from tickets.services.overdue import escalate_overdue
from tickets.services.tickets import TicketOrderError, open_ticket, review_result, submit_result
from tickets.services.urge import answer_with_refund, answer_with_ship_time, answer_with_tracking, situation

__all__ = [
    "TicketOrderError",
    "answer_with_refund",
    "answer_with_ship_time",
    "answer_with_tracking",
    "escalate_overdue",
    "open_ticket",
    "review_result",
    "situation",
    "submit_result",
]
