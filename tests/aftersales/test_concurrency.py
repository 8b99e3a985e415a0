"""N-8 / A-6 on PostgreSQL: real row locks, two threads at once — exactly one transition, one payment."""

import threading
import time
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from aftersales import services
from aftersales.exceptions import CaseAlreadyOpenError
from aftersales.gateway import SimulatedGateway
from aftersales.models import AfterSaleCase, CaseEvent, GatewayCall, Refund
from aftersales.services import cases as case_services
from aftersales.services import deadlines as deadline_handlers
from aftersales.tasks import refund_task, run_deadlines
from aftersales.transitions import CaseStatus, CaseType, Reason
from merchants.kernel.workflow import InvalidTransitionError
from merchants.models import OrderItem
from merchants.transitions import AftersaleLock
from tests.aftersales.factories import CaseFactory, make_order, open_pending

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Kind = CaseEvent.Kind


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (export DATABASE_URL=$(scripts/pg.sh start))")


class SlowGateway(SimulatedGateway):
    """Answers after a pause, so a second worker arrives while the first is still at the bank."""

    def refund(self, **kwargs):
        time.sleep(0.3)
        return super().refund(**kwargs)


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
    """Wrap `func` so it pauses before returning: whoever calls it keeps its row locks that long."""

    def wrapper(*args, **kwargs):
        result = func(*args, **kwargs)
        time.sleep(seconds)
        return result

    return wrapper


def _due(case):
    AfterSaleCase.objects.filter(pk=case.pk).update(deadline_at=timezone.now() - timedelta(minutes=1))


@pytest.fixture
def inline_refunds(monkeypatch):
    """refund_task.delay runs the task in the committing thread (as a worker would, later)."""
    monkeypatch.setattr(refund_task, "delay", lambda case_id: refund_task(case_id))


# ---- double clicks and redeliveries


def test_A6_N8_two_concurrent_approvals_one_transition_one_payment(shop, clerk, inline_refunds):
    case = open_pending(shop, amount=Decimal("60.00"))

    results = together(
        lambda: services.approve(case, actor=clerk), lambda: services.approve(case, actor=clerk)
    )

    assert sorted(ok for ok, _value in results) == [False, True]
    error = next(value for ok, value in results if not ok)
    assert isinstance(error, InvalidTransitionError) and "当前状态" in str(error)
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDED
    assert case.events.filter(kind=Kind.APPROVED).count() == 1
    assert case.events.filter(kind=Kind.REFUNDED).count() == 1
    assert GatewayCall.objects.get().calls == 1
    assert OrderItem.objects.get(pk=case.item_id).refunded_amount == Decimal("60.00")


def test_A6_two_concurrent_refund_task_runs_call_the_gateway_once(shop, clerk, settings, refund_queue):
    settings.SHOUHOU_REFUND_GATEWAY = "tests.aftersales.test_concurrency.SlowGateway"
    case = open_pending(shop, amount=Decimal("45.00"))
    services.approve(case, actor=clerk)

    results = together(lambda: refund_task(case.pk), lambda: refund_task(case.pk))

    assert all(ok for ok, _value in results), results
    assert GatewayCall.objects.get().calls == 1
    refund = Refund.objects.get()
    assert (refund.attempts, refund.status) == (1, "succeeded")
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDED
    assert case.events.filter(kind=Kind.REFUNDED).count() == 1
    assert OrderItem.objects.get(pk=case.item_id).refunded_amount == Decimal("45.00")


def test_A1_two_buyers_opening_on_one_item_at_once_make_one_case(shop):
    item = make_order(shop).items.get()

    def open_one():
        return services.open_case(item, type=CaseType.REFUND_ONLY, reason=Reason.QUALITY, amount="10")

    results = together(open_one, open_one)

    assert sorted(ok for ok, _value in results) == [False, True]
    assert isinstance(next(v for ok, v in results if not ok), CaseAlreadyOpenError)
    assert AfterSaleCase.objects.count() == 1


# ---- a person and the deadline sweep on the same case (N-8, A-5)


def test_A5_N8_person_holding_the_case_wins_and_the_sweep_skips_it(shop, clerk, refund_queue):
    case = open_pending(shop, type=CaseType.RETURN_REFUND, order_status="shipped")
    _due(case)

    with mock.patch.object(case_services, "clock", slow(case_services.clock)):
        results = together(
            lambda: services.reject(case, actor=clerk, reason="已过无理由期"), run_deadlines, stagger=0.2
        )

    (person_ok, _person), (sweep_ok, changed) = results
    assert person_ok and sweep_ok and changed == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED
    assert [e.kind for e in case.events.all()] == [Kind.OPENED, Kind.REJECTED]


def test_A5_N8_sweep_holding_the_case_wins_and_the_person_gets_a_clear_message(shop, clerk, refund_queue):
    case = open_pending(shop, type=CaseType.RETURN_REFUND, order_status="shipped")
    _due(case)

    # The sweep approves through approve's batch form, beside approve in services/cases.py.
    with mock.patch.object(case_services, "save_batch", slow(case_services.save_batch)):
        results = together(
            run_deadlines, lambda: services.reject(case, actor=clerk, reason="已过无理由期"), stagger=0.2
        )

    (sweep_ok, changed), (person_ok, error) = results
    assert sweep_ok and changed == 1
    assert not person_ok and isinstance(error, InvalidTransitionError)
    assert "待买家退货" in str(error)
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RETURN
    assert [e.kind for e in case.events.all()] == [Kind.OPENED, Kind.APPROVED]


def test_A5_N8_buyer_cancelling_while_the_sweep_closes_never_deadlocks(shop, clerk):
    # The person locks order -> item -> case; the sweep holds the case and needs the item: it skips instead
    # of waiting, so the two never wait for each other.
    case = CaseFactory(merchant=shop, status=CaseStatus.AWAITING_RETURN, type=CaseType.RETURN_REFUND)
    _due(case)

    with mock.patch.object(case_services, "clock", slow(case_services.clock)):
        results = together(lambda: services.cancel(case), run_deadlines, stagger=0.2)

    (person_ok, _case), (sweep_ok, changed) = results
    assert person_ok and sweep_ok and changed == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.CANCELLED
    assert OrderItem.objects.get(pk=case.item_id).aftersale_lock == AftersaleLock.NONE


def test_A5_sweep_closing_while_the_buyer_cancels_gives_the_buyer_a_message(shop):
    case = CaseFactory(merchant=shop, status=CaseStatus.AWAITING_RETURN, type=CaseType.RETURN_REFUND)
    _due(case)

    with mock.patch.object(deadline_handlers, "save_batch", slow(deadline_handlers.save_batch)):
        results = together(run_deadlines, lambda: services.cancel(case), stagger=0.2)

    (sweep_ok, changed), (person_ok, error) = results
    assert sweep_ok and changed == 1
    assert not person_ok and isinstance(error, InvalidTransitionError)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.events.filter(kind=Kind.CLOSED).count() == 1


def test_A5_N3_two_sweeps_at_once_act_on_each_case_once(shop, settings, refund_queue):
    settings.SHOUHOU_SWEEP_BATCH = 10
    cases = [
        CaseFactory(merchant=shop, status=CaseStatus.PENDING, type=CaseType.RETURN_REFUND) for _i in range(40)
    ]
    AfterSaleCase.objects.filter(pk__in=[c.pk for c in cases]).update(
        deadline_at=timezone.now() - timedelta(hours=1)
    )

    results = together(run_deadlines, run_deadlines)

    assert all(ok for ok, _value in results), results
    assert sum(value for _ok, value in results) == 40
    assert CaseEvent.objects.filter(kind=Kind.APPROVED).count() == 40
    assert set(AfterSaleCase.objects.values_list("status", flat=True)) == {CaseStatus.AWAITING_RETURN}
