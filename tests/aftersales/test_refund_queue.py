"""N-3: a refund the broker refuses after the commit is queued again within seconds, with backoff,
and staff see the case as 退款排队中 meanwhile (not after retry_stuck_refunds' ten minutes)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from aftersales import services
from aftersales.models import AfterSaleCase
from aftersales.tasks import refund_batch_task, refund_task, requeue_refunds, run_deadlines
from aftersales.transitions import CaseStatus, CaseType
from tests.aftersales.factories import CaseFactory, open_pending

BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def broker_down(monkeypatch):
    calls: list = []

    def refuse(*args):
        calls.append(args)
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(refund_task, "delay", refuse)
    monkeypatch.setattr(refund_batch_task, "delay", refuse)
    return calls


@pytest.fixture
def broker_up(monkeypatch):
    sent: list = []
    monkeypatch.setattr(refund_task, "delay", lambda case_id: sent.append(case_id))
    monkeypatch.setattr(refund_batch_task, "delay", lambda case_ids: sent.extend(case_ids))
    return sent


def approve_with_broker_down(case, actor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(case, actor=actor)  # never raises for the broker: the approval is committed
    case.refresh_from_db()
    return case


def test_N3_refund_refused_by_the_broker_is_marked_for_requeue_in_seconds(
    shop, clerk, broker_down, django_capture_on_commit_callbacks
):
    case = open_pending(shop, type=CaseType.REFUND_ONLY)
    before = timezone.now()

    case = approve_with_broker_down(case, clerk, django_capture_on_commit_callbacks)

    assert broker_down == [(case.pk,)]
    assert case.status == CaseStatus.REFUNDING
    assert case.refund_queue_failures == 1
    assert timedelta(0) < case.refund_requeue_at - before <= timedelta(seconds=15)


def test_N3_requeue_publishes_once_the_wait_is_over_and_clears_the_mark(
    shop, clerk, broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    case = approve_with_broker_down(open_pending(shop), clerk, django_capture_on_commit_callbacks)
    sent = []
    monkeypatch.setattr(refund_task, "delay", lambda case_id: sent.append(case_id))

    assert requeue_refunds() == 0  # not yet: its backoff has not passed
    with time_machine.travel(case.refund_requeue_at + timedelta(seconds=1)):
        assert requeue_refunds() == 1

    assert sent == [case.pk]
    case.refresh_from_db()
    assert case.refund_requeue_at is None
    assert case.refund_queue_failures == 0
    assert requeue_refunds() == 0  # done: nothing queued twice by the next tick


def test_N3_requeue_backs_off_while_the_broker_stays_down(
    shop, clerk, broker_down, django_capture_on_commit_callbacks
):
    case = approve_with_broker_down(open_pending(shop), clerk, django_capture_on_commit_callbacks)
    broker_down.clear()
    waits = []

    for _ in range(4):
        now = AfterSaleCase.objects.get(pk=case.pk).refund_requeue_at + timedelta(seconds=1)
        with time_machine.travel(now):
            assert requeue_refunds() == 0
        waits.append(AfterSaleCase.objects.get(pk=case.pk).refund_requeue_at - now)

    assert broker_down == [(case.pk,)] * 4
    assert waits == [timedelta(seconds=s) for s in (20, 40, 80, 160)]  # doubling
    assert AfterSaleCase.objects.get(pk=case.pk).refund_queue_failures == 5


def test_N3_a_tick_stops_at_the_first_refusal(shop, clerk, broker_down, django_capture_on_commit_callbacks):
    first = approve_with_broker_down(open_pending(shop), clerk, django_capture_on_commit_callbacks)
    second = approve_with_broker_down(open_pending(shop), clerk, django_capture_on_commit_callbacks)
    broker_down.clear()

    with time_machine.travel(second.refund_requeue_at + timedelta(seconds=1)):
        assert requeue_refunds() == 0

    assert broker_down == [(first.pk,)]  # the broker is still down: the second waits for the next tick
    assert AfterSaleCase.objects.get(pk=second.pk).refund_queue_failures == 1


def test_N3_backoff_is_capped_at_five_minutes():
    assert services.requeue_refunds.__module__ == "aftersales.services._common"
    from aftersales.services._common import requeue_delay

    assert requeue_delay(1) == timedelta(seconds=10)
    assert requeue_delay(6) == timedelta(seconds=300)
    assert requeue_delay(60) == timedelta(minutes=5)


def test_N3_a_sweeps_batch_refused_by_the_broker_is_marked_too(
    shop, broker_down, django_capture_on_commit_callbacks
):
    past = timezone.now() - timedelta(hours=1)
    case = CaseFactory(merchant=shop, type=CaseType.REFUND_ONLY, status=CaseStatus.PENDING, deadline_at=past)

    with django_capture_on_commit_callbacks(execute=True):
        assert run_deadlines() >= 1

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert case.refund_requeue_at is not None


def test_N3_a_case_that_left_refunding_is_not_requeued(shop, broker_up):
    case = CaseFactory(merchant=shop, status=CaseStatus.REFUNDED)
    AfterSaleCase.objects.filter(pk=case.pk).update(refund_requeue_at=timezone.now(), refund_queue_failures=1)

    assert requeue_refunds() == 0
    assert broker_up == []


def test_N3_requeue_runs_from_beat_every_few_seconds():
    entry = settings.SHOUHOU_BEAT_SCHEDULE["aftersales.requeue_refunds"]

    assert entry["task"] == "aftersales.tasks.requeue_refunds"
    assert entry["schedule"] <= timedelta(seconds=30)


def test_N3_staff_see_the_case_as_waiting_for_the_queue(
    client, shop, clerk, operator, broker_down, django_capture_on_commit_callbacks
):
    case = approve_with_broker_down(open_pending(shop), clerk, django_capture_on_commit_callbacks)
    client.force_login(operator, backend=BACKEND)

    listing = client.get(reverse("admin:aftersales_aftersalecase_changelist")).content.decode()
    page = client.get(reverse("admin:aftersales_aftersalecase_change", args=[case.pk])).content.decode()

    assert "退款排队中" in listing
    assert "退款排队中" in page
    assert "系统每隔几秒自动重试" in page


def test_A6_the_services_publish_the_refund_tasks_by_their_registered_names():
    from celery import current_app

    from aftersales.services import _common

    assert current_app.tasks[_common.REFUND_TASK].name == refund_task.name
    assert current_app.tasks[_common.REFUND_BATCH_TASK].name == refund_batch_task.name
