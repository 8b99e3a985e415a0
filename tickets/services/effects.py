"""What a ticket's overdue episode does outside the ticket row — each in one small function, so it can be
repointed as the kernel's writers change: the violation (T-3), the in-app notices, the e-mail.

- Violations are recorded once per *episode*: the episode key is the due time that was missed, so a
  sweep running twice records one row, and a ticket rejected and overdue again records a second one.
  The per-episode writer (merchants.kernel.violations) is being added to the kernel; until it is there
  the episode's own log row stands as the source (one OVERDUE event per episode, so the unique key
  (rule, source) holds per episode too).
- Notices are kind + params (merchants.kernel.notices; kinds in tickets.registrations), one INSERT.
- E-mail goes to the shop's owners (an overdue ticket) or to senior staff (a late review, group
  platform_senior) through Django's mail backend, from a task queued on commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from merchants.kernel import notices
from merchants.kernel.models import Membership, Notice, Role, Violation
from merchants.kernel.scoping import SENIOR_GROUP
from merchants.kernel.tasks import enqueue
from tickets.models import Ticket, TicketEvent
from tickets.services._common import local

User = get_user_model()

OVERDUE_RULE = "ticket_overdue"  # 服务单超时未处理 (商家违规行为管理规则)
SHIP_COMMIT_RULE = "ticket_ship_commit_missed"  # 催发货承诺发货时间到期未发货 (late shipping)
# Notice kinds (their texts: tickets.registrations)
OPENED_NOTICE = "tickets.opened"
REJECTED_NOTICE = "tickets.rejected"
APPROVED_NOTICE = "tickets.approved"
OVERDUE_NOTICE = "tickets.overdue"
REVIEW_LATE_NOTICE = "tickets.review_late"
SHIP_COMMIT_NOTICE = "tickets.ship_commit_missed"

try:  # the per-episode writer (kernel "violations per episode"); see the module docstring
    from merchants.kernel.violations import record_violations as _record_per_episode
except ImportError:  # pragma: no cover - depends on the kernel version
    _record_per_episode = None


def record_episode_violations(
    tickets: Sequence[Ticket],
    events: Sequence[TicketEvent],
    *,
    rule: str,
    points: int,
    episode: dict[int, datetime],
    note: str,
    at: datetime,
) -> None:
    """One violation per ticket and episode (`episode[ticket.pk]`: the missed time), in one INSERT.

    `events` are the episode's log rows, in the order of `tickets`. Already recorded: ignored.
    """
    if not tickets:
        return
    if _record_per_episode is not None:
        _record_per_episode(
            list(tickets), rule=rule, points=points, episode=lambda t: episode[t.pk], note=note, at=at
        )
        return
    # TODO(kernel violations per episode): drop this branch once merchants.kernel.violations is merged.
    Violation.objects.bulk_create(
        [
            Violation(
                merchant_id=ticket.merchant_id,
                rule=rule,
                points=points,
                source_type=TicketEvent._meta.label_lower,
                source_id=event.pk,
                note=note,
                created_at=at,
            )
            for ticket, event in zip(tickets, events, strict=True)
        ],
        ignore_conflicts=True,
    )


def notify_shops(tickets: Sequence[Ticket], kind: str, *, at: datetime, message: str = "", **params) -> None:
    """A notice of `kind` (registered in tickets.registrations) for each ticket's shop, in one INSERT.

    `message`: people's words as typed (a rejection's reason); `params`: the kind's values beyond the ticket.
    """
    notices.notify_many(
        [
            notices.build(
                kind,
                audience=Notice.Audience.MERCHANT,
                merchant_id=ticket.merchant_id,
                params={"ticket_id": ticket.pk, "no": ticket.ticket_no, **params},
                message=message,
                at=at,
            )
            for ticket in tickets
        ]
    )


# tasks.py calls these services; the services publish its tasks by their Celery names (no import circle).
OVERDUE_MAIL_TASK = "tickets.tasks.overdue_mail_task"
REVIEW_LATE_MAIL_TASK = "tickets.tasks.review_late_mail_task"


def notify_senior_staff(tickets: Sequence[Ticket], kind: str, *, at: datetime) -> None:
    """Raise each ticket to senior staff (group platform_senior): a platform notice, in one INSERT, and
    an e-mail to the group's members, queued on commit (T-2: a late review)."""
    ids = [ticket.pk for ticket in tickets]
    if ids:
        # robust: a broker hiccup is logged; the notice in /admin/ is already written.
        transaction.on_commit(lambda: enqueue(REVIEW_LATE_MAIL_TASK, ids), robust=True)
    notices.notify_many(
        [
            notices.build(
                kind,
                audience=Notice.Audience.PLATFORM,
                merchant_id=ticket.merchant_id,
                params={"ticket_id": ticket.pk, "no": ticket.ticket_no},
                at=at,
            )
            for ticket in tickets
        ]
    )


def mail_owners_on_commit(tickets: Sequence[Ticket]) -> None:
    """Once this transaction commits, e-mail each ticket's shop owners that it went overdue (T-3)."""
    ids = [ticket.pk for ticket in tickets]
    if not ids:
        return
    # robust: a broker hiccup is logged; the notice in the workbench is already written.
    transaction.on_commit(lambda: enqueue(OVERDUE_MAIL_TASK, ids), robust=True)


def owner_addresses(merchant_ids) -> dict[int, list[str]]:
    """{merchant id: e-mail addresses of its active owners} in one query."""
    addresses: dict[int, list[str]] = {}
    rows = Membership.objects.filter(
        merchant_id__in=list(merchant_ids), role=Role.OWNER, user__is_active=True
    ).exclude(user__email="")
    for merchant_id, email in rows.values_list("merchant_id", "user__email").order_by("merchant_id", "pk"):
        addresses.setdefault(merchant_id, []).append(email)
    return addresses


def senior_addresses() -> list[str]:
    """E-mail addresses of the active members of group platform_senior (SPEC §1), in one query."""
    rows = (
        User.objects.filter(groups__name=SENIOR_GROUP, is_active=True, is_staff=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
        .distinct()
    )
    return list(rows)


def review_late_mail(tickets: Sequence[Ticket]) -> tuple[str, str]:
    """(subject, body) of the senior staff's e-mail about tickets whose review is late."""
    numbers = "、".join(ticket.ticket_no for ticket in tickets[:3])
    if len(tickets) > 3:
        numbers = _("%(numbers)s 等 %(count)d 张") % {"numbers": numbers, "count": len(tickets)}
    subject = _("服务单审核超时：%(numbers)s") % {"numbers": numbers}
    lines = [_("以下服务单的商家处理结果超过平台审核时限仍未审核，已上报高级客服，请尽快处理：")]
    lines += [
        _("%(no)s（%(shop)s，%(category)s），审核截止 %(due)s")
        % {
            "no": ticket.ticket_no,
            "shop": ticket.merchant.name,
            "category": ticket.get_category_display(),
            "due": local(ticket.review_due_at) if ticket.review_due_at else "-",
        }
        for ticket in tickets
    ]
    return subject, "\n".join(str(line) for line in lines)


def overdue_mail(ticket: Ticket) -> tuple[str, str]:
    """(subject, body) of the owners' e-mail about an overdue ticket."""
    subject = _("服务单 %(no)s 已超时未处理") % {"no": ticket.ticket_no}
    body = _(
        "您的店铺「%(shop)s」的服务单 %(no)s（%(category)s）已超过处理时限，平台已记录违规并升级处理。\n"
        "请尽快登录商家售后工作台处理。"
    ) % {"shop": ticket.merchant.name, "no": ticket.ticket_no, "category": ticket.get_category_display()}
    return subject, body
