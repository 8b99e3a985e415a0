"""T-3: overdue tickets (one violation per episode, escalated, owners notified), late reviews, T-7 watch."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from merchants.kernel.models import Notice, Violation
from merchants.kernel.vocabulary import Role
from tests.factories import MembershipFactory, OrderFactory, UserFactory
from tests.tickets.factories import TicketFactory, raise_ticket, settings_row, walk_to
from tickets import selectors, services
from tickets.models import Ticket, TicketEvent
from tickets.services import effects
from tickets.tasks import escalate_overdue
from tickets.transitions import TicketStatus

Kind = TicketEvent.Kind


def overdue_violations(shop):
    return Violation.objects.filter(merchant=shop, rule=effects.OVERDUE_RULE)


@pytest.fixture
def owner_with_mail(shop):
    user = UserFactory(username="boss1", email="boss1@example.com")
    MembershipFactory(merchant=shop, user=user, role=Role.OWNER)
    return user


def test_T3_one_second_before_the_due_time_nothing_happens(shop, operator):
    ticket = raise_ticket(shop, actor=operator)

    with time_machine.travel(ticket.due_at - timedelta(seconds=1), tick=False):
        changed = escalate_overdue()

    ticket.refresh_from_db()
    assert changed == 0
    assert not ticket.overdue
    assert not overdue_violations(shop).exists()


def test_T3_one_second_after_the_due_time_it_is_overdue_violated_and_escalated(shop, operator):
    settings_row(overdue_points=3)
    ticket = raise_ticket(shop, actor=operator)
    due = ticket.due_at

    with time_machine.travel(due + timedelta(seconds=1), tick=False):
        changed = escalate_overdue()

    ticket.refresh_from_db()
    assert changed == 1
    assert (ticket.status, ticket.overdue, ticket.overdue_count) == (TicketStatus.PENDING, True, 1)
    assert ticket.due_at == due  # the due time stays: it names the episode
    violation = overdue_violations(shop).get()
    assert violation.points == 3
    event = ticket.events.get(kind=Kind.OVERDUE)
    assert event.actor is None and event.actor_kind == "system"
    assert "扣 3 分" in event.sentence()
    assert ticket in selectors.tickets_for(operator).filter(selectors.tab_q("overdue"))


def test_T3_escalation_run_twice_records_one_violation(shop, operator):
    ticket = raise_ticket(shop, actor=operator)

    with time_machine.travel(ticket.due_at + timedelta(minutes=1), tick=False):
        first = escalate_overdue()
        second = escalate_overdue()

    assert (first, second) == (1, 0)
    assert overdue_violations(shop).count() == 1
    assert ticket.events.filter(kind=Kind.OVERDUE).count() == 1


def test_T3_a_second_overdue_episode_records_a_second_violation(shop, clerk, operator):
    ticket = raise_ticket(shop, actor=operator)
    with time_machine.travel(ticket.due_at + timedelta(seconds=30), tick=False):
        escalate_overdue()
        services.submit_result(ticket, actor=clerk, text="迟到的处理结果")
        services.review_result(ticket, actor=operator, approve=False, reason="不合格")
    ticket.refresh_from_db()
    assert not ticket.overdue  # a new episode begins with the rejection

    with time_machine.travel(ticket.due_at + timedelta(seconds=30), tick=False):
        escalate_overdue()
        escalate_overdue()

    ticket.refresh_from_db()
    assert (ticket.overdue, ticket.overdue_count) == (True, 2)
    assert overdue_violations(shop).count() == 2
    assert ticket.events.filter(kind=Kind.OVERDUE).count() == 2


def test_T3_answering_in_time_stops_the_clock(shop, clerk, operator):
    ticket = raise_ticket(shop, actor=operator)
    services.submit_result(ticket, actor=clerk, text="及时处理")

    with time_machine.travel(timezone.now() + timedelta(hours=20), tick=False):
        changed = escalate_overdue()

    assert changed == 0
    assert not overdue_violations(shop).exists()


def test_T3_owners_are_notified_in_the_workbench_and_by_mail_on_commit(
    shop, operator, owner_with_mail, clerk, mail_inline, django_capture_on_commit_callbacks
):
    clerk.email = "clerk@example.com"
    clerk.save()
    ticket = raise_ticket(shop, actor=operator)
    Notice.objects.all().delete()

    with (
        time_machine.travel(ticket.due_at + timedelta(seconds=5), tick=False),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        escalate_overdue()
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()

    notice = Notice.objects.get()
    assert (notice.merchant_id, notice.audience) == (shop.pk, Notice.Audience.MERCHANT)
    assert ticket.ticket_no in notice.title
    assert mail_inline == [[ticket.pk]]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["boss1@example.com"]  # owners only, not the agent
    assert ticket.ticket_no in mail.outbox[0].subject


def test_T3_every_due_ticket_is_handled_by_one_direct_call(shop, other_shop, operator, settings):
    settings.SHOUHOU_SWEEP_BATCH = 2
    tickets = [raise_ticket(shop if i % 2 else other_shop, actor=operator) for i in range(5)]
    not_due = TicketFactory(merchant=shop, due_at=timezone.now() + timedelta(hours=60))

    with time_machine.travel(tickets[-1].due_at + timedelta(seconds=1), tick=False):
        changed = escalate_overdue()

    assert changed == 5
    assert Ticket.objects.filter(overdue=True).count() == 5
    assert not Ticket.objects.get(pk=not_due.pk).overdue
    assert Violation.objects.filter(rule=effects.OVERDUE_RULE).count() == 5


def test_T3_only_pending_tickets_go_overdue(shop, clerk, operator):
    closed = walk_to(TicketStatus.CLOSED, shop, clerk)
    Ticket.objects.filter(pk=closed.pk).update(due_at=timezone.now() - timedelta(hours=1))

    changed = escalate_overdue()

    assert changed == 0
    assert not overdue_violations(shop).exists()


# ---- the platform's own clock


def test_T2_a_late_review_is_raised_to_senior_staff(shop, clerk, operator):
    settings_row(review_hours=6)
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)
    Notice.objects.all().delete()

    with time_machine.travel(ticket.review_due_at - timedelta(seconds=1), tick=False):
        assert escalate_overdue() == 0
    with time_machine.travel(ticket.review_due_at + timedelta(seconds=1), tick=False):
        assert escalate_overdue() == 1
        assert escalate_overdue() == 0

    ticket.refresh_from_db()
    assert ticket.review_late
    assert ticket.events.filter(kind=Kind.REVIEW_LATE).count() == 1
    notice = Notice.objects.get()
    assert notice.audience == Notice.Audience.PLATFORM and ticket.ticket_no in notice.title
    assert not Violation.objects.exists()  # the shop did nothing wrong
    assert ticket in selectors.tickets_for(operator).filter(selectors.tab_q("review_late"))


def test_T2_reviewing_clears_the_late_review_flag(shop, clerk, operator):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)
    with time_machine.travel(ticket.review_due_at + timedelta(seconds=1), tick=False):
        escalate_overdue()

    services.review_result(ticket, actor=operator, approve=True)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.review_late, ticket.review_due_at) == (TicketStatus.CLOSED, False, None)


# ---- T-7: a committed ship time is watched


def _committed(shop, clerk, operator, *, hours=5):
    order = OrderFactory(merchant=shop)
    ticket = raise_ticket(shop, order=order, actor=operator)
    ship_at = timezone.localtime() + timedelta(hours=hours)
    services.answer_with_ship_time(ticket, actor=clerk, ship_at=ship_at)
    ticket.refresh_from_db()
    return ticket, order


def test_T7_a_missed_ship_commitment_is_recorded_once(shop, clerk, operator):
    ticket, _order = _committed(shop, clerk, operator)

    with time_machine.travel(ticket.ship_commit_at - timedelta(seconds=1), tick=False):
        assert escalate_overdue() == 0
    with time_machine.travel(ticket.ship_commit_at + timedelta(seconds=1), tick=False):
        assert escalate_overdue() == 1
        assert escalate_overdue() == 0

    ticket.refresh_from_db()
    assert ticket.ship_commit_due_at is None and ticket.ship_commit_at is not None
    assert Violation.objects.filter(merchant=shop, rule=effects.SHIP_COMMIT_RULE).count() == 1
    assert ticket.events.filter(kind=Kind.SHIP_COMMIT_MISSED).count() == 1


def test_T7_a_kept_ship_commitment_records_nothing(shop, clerk, operator):
    ticket, order = _committed(shop, clerk, operator)
    from merchants import services as merchant_services

    merchant_services.ship(
        order, items=list(order.items.all()), carrier="sf", tracking_no="SF9988776655", actor=clerk
    )

    with time_machine.travel(ticket.ship_commit_at + timedelta(minutes=1), tick=False):
        escalate_overdue()

    ticket.refresh_from_db()
    assert ticket.ship_commit_due_at is None
    assert not Violation.objects.filter(rule=effects.SHIP_COMMIT_RULE).exists()
    assert not ticket.events.filter(kind=Kind.SHIP_COMMIT_MISSED).exists()


def test_T3_the_sweep_costs_the_same_queries_for_2_or_8_due_tickets(shop, other_shop, operator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run(count):
        Ticket.objects.all().delete()
        for i in range(count):
            TicketFactory(
                merchant=shop if i % 2 else other_shop, due_at=timezone.now() - timedelta(minutes=1)
            )
        with CaptureQueriesContext(connection) as queries:
            assert escalate_overdue() == count
        return len(queries)

    settings_row()  # the settings row exists (its first read inserts it)

    assert run(2) == run(8)


# ---- a bounded beat run and its follow-ups (the kernel deadline engine): every due ticket once


def _chain(django_capture_on_commit_callbacks, monkeypatch, **kwargs) -> list[int]:
    """Run the task as its beat entry does, then each follow-up it queues; what each run changed."""
    queued: list[dict] = []
    monkeypatch.setattr(
        escalate_overdue, "apply_async", lambda *args, **options: queued.append(options["kwargs"])
    )
    changed = []
    while True:
        with django_capture_on_commit_callbacks(execute=True):
            changed.append(escalate_overdue(**kwargs))
        if not queued:
            return changed
        kwargs = queued.pop()
        assert not queued and kwargs["limit"] == 2  # one follow-up per run, with the beat's limit


def test_T3_bounded_run_requeues_itself_and_its_follow_ups_handle_every_due_ticket_once(
    shop, other_shop, clerk, django_capture_on_commit_callbacks, monkeypatch
):
    now = timezone.now()
    overdue = [
        TicketFactory(merchant=shop if i % 2 else other_shop, due_at=now - timedelta(minutes=10 - i))
        for i in range(3)
    ]
    late = [
        TicketFactory(merchant=shop, status=TicketStatus.IN_REVIEW, review_due_at=now - timedelta(minutes=i))
        for i in range(2)
    ]

    changed = _chain(django_capture_on_commit_callbacks, monkeypatch, limit=2)

    assert changed == [2, 2, 1]
    assert overdue_violations(shop).count() + overdue_violations(other_shop).count() == 3
    for ticket in overdue:
        assert ticket.events.filter(kind=Kind.OVERDUE).count() == 1
    for ticket in late:
        assert ticket.events.filter(kind=Kind.REVIEW_LATE).count() == 1


def test_T3_bounded_run_that_took_the_last_due_ticket_queues_nothing(
    shop, django_capture_on_commit_callbacks, monkeypatch
):
    TicketFactory.create_batch(2, merchant=shop, due_at=timezone.now() - timedelta(minutes=1))

    assert _chain(django_capture_on_commit_callbacks, monkeypatch, limit=2) == [2]


def test_T3_direct_call_handles_every_due_ticket_whatever_the_beat_limit(
    shop, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SHOUHOU_SWEEP_LIMIT = 1
    queued = []
    monkeypatch.setattr(escalate_overdue, "apply_async", lambda *args, **options: queued.append(options))
    TicketFactory.create_batch(3, merchant=shop, due_at=timezone.now() - timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        changed = escalate_overdue()

    assert (changed, queued) == (3, [])


def test_T3_the_beat_entry_passes_the_sweep_limit(settings):
    entry = settings.SHOUHOU_BEAT_SCHEDULE["tickets.escalate_overdue"]

    assert entry["task"] == "tickets.tasks.escalate_overdue"
    assert entry["kwargs"] == {"limit": settings.SHOUHOU_SWEEP_LIMIT}


# ---- senior staff (group platform_senior, SPEC §1)


def test_T2_the_platform_senior_group_exists_with_what_escalations_need(db):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="platform_senior")
    codenames = set(group.permissions.values_list("codename", flat=True))

    assert {
        "view_ticket",
        "change_ticket",
        "view_notice",
        "view_violation",
        "change_aftersalecase",
    } <= codenames
    assert not any(code.startswith("delete_") for code in codenames)


def test_T2_a_late_review_is_mailed_to_senior_staff_on_commit_and_only_to_them(
    shop, clerk, operator, django_capture_on_commit_callbacks, monkeypatch
):
    from django.contrib.auth.models import Group

    from tests.factories import PlatformUserFactory
    from tickets.tasks import review_late_mail_task

    senior = PlatformUserFactory(username="senior1", email="senior1@example.com")
    senior.groups.add(Group.objects.get(name="platform_senior"))
    PlatformUserFactory(username="plain1", email="plain1@example.com")
    sent = []
    monkeypatch.setattr(review_late_mail_task, "delay", lambda ids: sent.append(review_late_mail_task(ids)))
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)

    with (
        time_machine.travel(ticket.review_due_at + timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        escalate_overdue()
    assert mail.outbox == []
    for callback in callbacks:
        callback()

    assert sent == [1]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["senior1@example.com"]
    assert ticket.ticket_no in mail.outbox[0].subject and shop.name in mail.outbox[0].body
    assert not [m for m in mail.outbox if shop.code in " ".join(m.to)]  # the shop is not told
