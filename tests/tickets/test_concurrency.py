"""T-3 / N-8 on PostgreSQL: real row locks, threads at once — each overdue episode acted on once."""

import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from merchants.kernel.models import Violation
from merchants.kernel.workflow import InvalidTransitionError
from tests.factories import PlatformUserFactory
from tests.tickets.factories import TicketFactory, walk_to
from tickets import services
from tickets.models import Ticket, TicketEvent
from tickets.services import _common, effects, overdue
from tickets.tasks import escalate_overdue
from tickets.transitions import TicketStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Kind = TicketEvent.Kind


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (export DATABASE_URL=$(scripts/pg.sh start))")


def together(*calls, stagger: float = 0.0):
    """Run the calls in threads released by one barrier (the n-th after n × stagger s); (ok, value) each."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            time.sleep(index * stagger)
            results[index] = (True, call())
        except Exception as exc:  # noqa: BLE001  (the outcome is what the test inspects)
            results[index] = (False, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def slow(func, seconds=0.5):
    def wrapper(*args, **kwargs):
        result = func(*args, **kwargs)
        time.sleep(seconds)
        return result

    return wrapper


def _due(*tickets):
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(due_at=timezone.now() - timedelta(minutes=1))


def test_T3_N3_two_escalations_at_once_act_on_each_due_ticket_once(shop, other_shop, settings):
    settings.SHOUHOU_SWEEP_BATCH = 10
    tickets = [TicketFactory(merchant=shop if i % 2 else other_shop) for i in range(40)]
    _due(*tickets)

    results = together(escalate_overdue, escalate_overdue)

    assert all(ok for ok, _value in results), results
    assert sum(value for _ok, value in results) == 40
    assert Ticket.objects.filter(overdue=True, overdue_count=1).count() == 40
    assert TicketEvent.objects.filter(kind=Kind.OVERDUE).count() == 40
    assert Violation.objects.filter(rule=effects.OVERDUE_RULE).count() == 40


def test_T3_N3_a_second_run_while_the_first_holds_the_ticket_skips_it(shop):
    ticket = TicketFactory(merchant=shop)
    _due(ticket)

    with mock.patch.object(overdue, "save_batch", slow(overdue.save_batch)):
        results = together(escalate_overdue, escalate_overdue, stagger=0.2)

    assert [value for _ok, value in results] == [1, 0]
    assert Violation.objects.filter(rule=effects.OVERDUE_RULE).count() == 1
    assert ticket.events.filter(kind=Kind.OVERDUE).count() == 1


def test_T3_N8_the_shop_answering_right_now_wins_and_the_sweep_skips_it(shop, clerk):
    ticket = TicketFactory(merchant=shop)
    _due(ticket)

    # submit_result holds the ticket's lock while it reads the clock: the sweep arrives meanwhile.
    with mock.patch("tickets.services.tickets.clock", slow(_common.clock)):
        results = together(
            lambda: services.submit_result(ticket, actor=clerk, text="刚好处理完"),
            escalate_overdue,
            stagger=0.2,
        )

    (person_ok, _value), (sweep_ok, changed) = results
    assert person_ok and sweep_ok and changed == 0
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_REVIEW and not ticket.overdue
    assert not Violation.objects.exists()


def test_T3_N8_a_late_answer_while_the_sweep_escalates_is_still_taken(shop, clerk):
    ticket = TicketFactory(merchant=shop)
    _due(ticket)

    with mock.patch.object(overdue, "save_batch", slow(overdue.save_batch)):
        results = together(
            escalate_overdue,
            lambda: services.submit_result(ticket, actor=clerk, text="迟到的答复"),
            stagger=0.2,
        )

    (sweep_ok, changed), (person_ok, _value) = results
    assert sweep_ok and changed == 1 and person_ok
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.IN_REVIEW
    assert [e.kind for e in ticket.events.all()] == [Kind.OVERDUE, Kind.RESULT_SUBMITTED]
    assert Violation.objects.filter(rule=effects.OVERDUE_RULE).count() == 1


def test_T2_N8_two_reviewers_at_once_one_decision_and_a_clear_message(shop, clerk):
    ticket = walk_to(TicketStatus.IN_REVIEW, shop, clerk)
    first, second = PlatformUserFactory(username="rev1"), PlatformUserFactory(username="rev2")

    results = together(
        lambda: services.review_result(ticket, actor=first, approve=True),
        lambda: services.review_result(ticket, actor=second, approve=False, reason="不同意"),
    )

    assert sorted(ok for ok, _value in results) == [False, True]
    error = next(value for ok, value in results if not ok)
    assert isinstance(error, InvalidTransitionError)
    assert ticket.events.filter(kind__in=[Kind.APPROVED, Kind.REJECTED]).count() == 1
