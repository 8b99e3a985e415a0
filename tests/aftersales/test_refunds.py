"""A-6 refunds: the gateway interface, at most one payment per case, retries, the failure flag, stuck refunds."""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.utils import timezone

from aftersales import services
from aftersales.exceptions import GatewayError
from aftersales.gateway import FailingGateway, SimulatedGateway, get_gateway
from aftersales.models import AfterSaleCase, AftersalesSettings, CaseEvent, GatewayCall, Refund
from aftersales.tasks import REFUND_MAX_RETRIES, refund_task, retry_stuck_refunds
from aftersales.transitions import CaseStatus, RefundStatus
from merchants.kernel.workflow import ActorNotAllowedError, InvalidTransitionError
from merchants.models import ActorKind, Notice, OrderItem
from merchants.transitions import AftersaleLock
from tests.aftersales.factories import CaseFactory, open_pending, walk_to

Kind = CaseEvent.Kind
FAILING = "aftersales.gateway.FailingGateway"
SIMULATED = "aftersales.gateway.SimulatedGateway"


@pytest.fixture
def refunding(shop, clerk):
    return walk_to(CaseStatus.REFUNDING, shop, clerk, amount=Decimal("45.60"))


# ---- the gateway


def test_A6_simulated_gateway_is_idempotent_by_key(db):
    gateway = SimulatedGateway()

    first = gateway.refund(idempotency_key="refund-AS1", amount=Decimal("10.00"), case_no="AS1")
    second = gateway.refund(idempotency_key="refund-AS1", amount=Decimal("10.00"), case_no="AS1")
    other = gateway.refund(idempotency_key="refund-AS2", amount=Decimal("10.00"), case_no="AS2")

    assert first == second != other
    assert first == SimulatedGateway.reference_for("refund-AS1")
    assert GatewayCall.objects.get(idempotency_key="refund-AS1").calls == 2
    with pytest.raises(ValueError):
        gateway.refund(idempotency_key="refund-AS1", amount=Decimal("11.00"), case_no="AS1")


def test_A6_failing_gateway_raises_the_transient_error(db):
    with pytest.raises(GatewayError):
        FailingGateway().refund(idempotency_key="k", amount=Decimal("1.00"), case_no="AS1")


def test_A6_backend_is_chosen_by_setting(settings):
    assert isinstance(get_gateway(), SimulatedGateway)
    settings.SHOUHOU_REFUND_GATEWAY = FAILING

    assert isinstance(get_gateway(), FailingGateway)


# ---- paying


def test_A6_pay_refund_marks_case_refunded_once_with_the_gateway_reference(refunding):
    case = services.pay_refund(refunding.pk)

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDED
    assert case.refunded_amount == Decimal("45.60") and case.refunded_at is not None
    refund = Refund.objects.get(case=case)
    assert refund.status == RefundStatus.SUCCEEDED and refund.attempts == 1
    assert refund.idempotency_key == f"refund-{case.case_no}"
    assert refund.gateway_reference == SimulatedGateway.reference_for(refund.idempotency_key)
    event = case.events.latest("pk")
    assert (event.kind, event.actor_kind, event.amount) == (Kind.REFUNDED, ActorKind.SYSTEM, Decimal("45.60"))
    assert refund.gateway_reference in event.describe()
    item = OrderItem.objects.get(pk=case.item_id)
    assert item.refunded_amount == Decimal("45.60") and item.aftersale_lock == AftersaleLock.NONE


def test_A6_redelivered_task_pays_once(refunding):
    refund_task(refunding.pk)
    refund_task(refunding.pk)  # the broker delivered it again (acks_late + a worker restart)

    assert GatewayCall.objects.get().calls == 1
    assert refunding.events.filter(kind=Kind.REFUNDED).count() == 1
    assert OrderItem.objects.get(pk=refunding.item_id).refunded_amount == Decimal("45.60")


def test_A6_double_click_approves_and_queues_once(
    shop, clerk, refund_queue, django_capture_on_commit_callbacks
):
    case = open_pending(shop)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(case, actor=clerk)
    with pytest.raises(InvalidTransitionError), django_capture_on_commit_callbacks(execute=True):
        services.approve(case, actor=clerk)

    assert refund_queue == [case.pk]
    assert case.events.filter(kind=Kind.APPROVED).count() == 1


@pytest.mark.parametrize("status", [CaseStatus.PENDING, CaseStatus.REFUNDED, CaseStatus.AWAITING_VOUCHER])
def test_A6_pay_refund_acts_only_on_refunding_cases(shop, clerk, status):
    case = walk_to(status, shop, clerk)
    calls = sum(GatewayCall.objects.values_list("calls", flat=True))

    assert services.pay_refund(case.pk) is None

    assert sum(GatewayCall.objects.values_list("calls", flat=True)) == calls
    assert AfterSaleCase.objects.get(pk=case.pk).status == status


def test_A6_pay_refund_of_a_vanished_case_is_a_no_op(db):
    assert services.pay_refund(987654) is None


def test_A6_crash_after_the_gateway_paid_is_finished_without_paying_again(refunding):
    from aftersales.services import refunds

    with (
        mock.patch.object(refunds, "_finish", side_effect=RuntimeError("worker killed")),
        pytest.raises(RuntimeError),
    ):
        services.pay_refund(refunding.pk)
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert AfterSaleCase.objects.get(pk=refunding.pk).status == CaseStatus.REFUNDING

    services.pay_refund(refunding.pk)

    assert AfterSaleCase.objects.get(pk=refunding.pk).status == CaseStatus.REFUNDED
    assert GatewayCall.objects.get().calls == 1


def test_A6_never_more_than_refundable(refunding):
    # Something else refunded the item meanwhile (cannot happen through the services: one open case per item).
    OrderItem.objects.filter(pk=refunding.item_id).update(refunded_amount=Decimal("90.00"))

    assert services.pay_refund(refunding.pk) is None

    case = AfterSaleCase.objects.get(pk=refunding.pk)
    assert case.status == CaseStatus.REFUNDING and case.refund_failed is True
    assert not GatewayCall.objects.exists()
    assert case.events.latest("pk").kind == Kind.REFUND_FAILED


# ---- failures: retry, then flag


def test_A6_failing_gateway_counts_attempts_then_flags_the_case(refunding, settings):
    settings.SHOUHOU_REFUND_GATEWAY = FAILING
    limit = AftersalesSettings.load().refund_max_attempts

    for attempt in range(1, limit):
        with pytest.raises(GatewayError):
            services.pay_refund(refunding.pk)
        refund = Refund.objects.get()
        assert (refund.attempts, refund.status) == (attempt, RefundStatus.FAILED)
        assert refund.last_error
        assert AfterSaleCase.objects.get(pk=refunding.pk).refund_failed is False
    assert services.pay_refund(refunding.pk) is None  # the last attempt flags instead of raising

    case = AfterSaleCase.objects.get(pk=refunding.pk)
    assert case.status == CaseStatus.REFUNDING and case.refund_failed is True
    assert Refund.objects.get().attempts == limit
    event = case.events.latest("pk")
    assert (event.kind, event.actor_kind) == (Kind.REFUND_FAILED, ActorKind.SYSTEM)
    notice = Notice.objects.get()
    assert notice.audience == Notice.Audience.PLATFORM and case.case_no in notice.title
    # Flagged: further deliveries do nothing until staff retry.
    assert services.pay_refund(refunding.pk) is None
    assert Refund.objects.get().attempts == limit


def test_A6_refund_task_retries_through_celery_then_stops_at_the_flag(refunding, settings):
    # Celery's eager apply() runs each autoretry at once (no countdown): the whole retry chain in one call.
    settings.SHOUHOU_REFUND_GATEWAY = FAILING
    limit = AftersalesSettings.load().refund_max_attempts
    assert REFUND_MAX_RETRIES >= limit  # Celery must not give up before the business limit flags the case

    result = refund_task.apply(args=[refunding.pk])

    assert result.state == "SUCCESS"
    assert Refund.objects.get().attempts == limit
    assert AfterSaleCase.objects.get(pk=refunding.pk).refund_failed is True


def test_A6_refund_task_retries_a_transient_failure_until_it_succeeds(refunding, settings):
    calls = []

    def flaky(self, *, idempotency_key, amount, case_no):
        calls.append(idempotency_key)
        if len(calls) < 3:
            raise GatewayError("timeout")
        return "REF-OK"

    with mock.patch.object(SimulatedGateway, "refund", flaky):
        result = refund_task.apply(args=[refunding.pk])

    assert result.state == "SUCCESS"
    assert len(set(calls)) == 1 and len(calls) == 3  # the same idempotency key every time
    refund = Refund.objects.get()
    assert (refund.attempts, refund.gateway_reference) == (3, "REF-OK")
    assert AfterSaleCase.objects.get(pk=refunding.pk).status == CaseStatus.REFUNDED


def test_A6_transient_failure_then_success(refunding, settings):
    settings.SHOUHOU_REFUND_GATEWAY = FAILING
    with pytest.raises(GatewayError):
        services.pay_refund(refunding.pk)
    settings.SHOUHOU_REFUND_GATEWAY = SIMULATED

    services.pay_refund(refunding.pk)

    refund = Refund.objects.get()
    assert (refund.status, refund.attempts, refund.last_error) == (RefundStatus.SUCCEEDED, 2, "")
    assert AfterSaleCase.objects.get(pk=refunding.pk).status == CaseStatus.REFUNDED


def test_A6_platform_retries_a_flagged_refund(
    refunding, settings, operator, clerk, refund_queue, django_capture_on_commit_callbacks
):
    settings.SHOUHOU_REFUND_GATEWAY = FAILING
    limits = AftersalesSettings.load()
    limits.refund_max_attempts = 1
    limits.save()
    services.pay_refund(refunding.pk)
    settings.SHOUHOU_REFUND_GATEWAY = SIMULATED

    with pytest.raises(ActorNotAllowedError):
        services.retry_refund(refunding, actor=clerk)
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_refund(refunding, actor=operator)
    services.pay_refund(refunding.pk)

    assert refund_queue == [refunding.pk]
    case = AfterSaleCase.objects.get(pk=refunding.pk)
    assert case.status == CaseStatus.REFUNDED and case.refund_failed is False
    kinds = [e.kind for e in case.events.all()]
    assert kinds[-3:] == [Kind.REFUND_FAILED, Kind.REFUND_RETRIED, Kind.REFUNDED]


def test_A6_retry_refused_when_nothing_failed(refunding, operator):
    with pytest.raises(InvalidTransitionError, match="没有失败"):
        services.retry_refund(refunding, actor=operator)


# ---- stuck refunds


def test_A6_stuck_refunds_are_requeued_but_not_fresh_flagged_or_finished_ones(shop, refund_queue):
    now = timezone.now()
    with time_machine.travel(now - timedelta(minutes=30), tick=False):
        never_started = CaseFactory(merchant=shop, status=CaseStatus.REFUNDING)
        failed = CaseFactory(merchant=shop, status=CaseStatus.REFUNDING)
        Refund.objects.create(
            case=failed,
            idempotency_key="k-failed",
            amount=failed.amount,
            status=RefundStatus.FAILED,
            attempts=2,
        )
        paid_not_marked = CaseFactory(merchant=shop, status=CaseStatus.REFUNDING)
        Refund.objects.create(
            case=paid_not_marked,
            idempotency_key="k-paid",
            amount=paid_not_marked.amount,
            status=RefundStatus.SUCCEEDED,
            attempts=1,
        )
        flagged = CaseFactory(merchant=shop, status=CaseStatus.REFUNDING, refund_failed=True)
        CaseFactory(merchant=shop, status=CaseStatus.REFUNDED)
    CaseFactory(merchant=shop, status=CaseStatus.REFUNDING)  # just approved: its task is on its way

    with time_machine.travel(now, tick=False):
        assert retry_stuck_refunds() == 3

    assert sorted(refund_queue) == sorted([never_started.pk, failed.pk, paid_not_marked.pk])
    assert flagged.pk not in refund_queue


def test_A6_requeued_refund_completes(shop):
    with time_machine.travel(timezone.now() - timedelta(hours=1), tick=False):
        case = CaseFactory(merchant=shop, status=CaseStatus.REFUNDING)

    with mock.patch.object(refund_task, "delay", side_effect=lambda pk: refund_task(pk)):
        assert retry_stuck_refunds() == 1

    assert AfterSaleCase.objects.get(pk=case.pk).status == CaseStatus.REFUNDED
    assert retry_stuck_refunds() == 0


def test_A6_broker_down_after_commit_does_not_undo_the_approval(
    shop, clerk, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(case_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(refund_task, "delay", broker_down)
    case = open_pending(shop)

    with django_capture_on_commit_callbacks(execute=True):
        services.approve(case, actor=clerk)

    assert (
        AfterSaleCase.objects.get(pk=case.pk).status == CaseStatus.REFUNDING
    )  # retry_stuck_refunds takes it


def test_A6_sweep_batch_pays_each_refund_once_and_hands_failures_to_the_retrying_task(
    shop, clerk, settings, refund_queue
):
    from aftersales.tasks import refund_batch_task

    first = walk_to(CaseStatus.REFUNDING, shop, clerk, amount=Decimal("10.00"))
    second = walk_to(CaseStatus.REFUNDING, shop, clerk, amount=Decimal("20.00"))

    assert refund_batch_task([first.pk, second.pk]) == 2
    assert refund_batch_task([first.pk, second.pk]) == 2  # redelivered: pay_refund is a no-op now
    assert GatewayCall.objects.count() == 2
    assert {c.status for c in AfterSaleCase.objects.filter(pk__in=[first.pk, second.pk])} == {
        CaseStatus.REFUNDED
    }

    third = walk_to(CaseStatus.REFUNDING, shop, clerk, amount=Decimal("30.00"))
    settings.SHOUHOU_REFUND_GATEWAY = FAILING

    assert refund_batch_task([third.pk]) == 0
    assert refund_queue == [third.pk]  # the single-case task owns the retries and backoff
    assert AfterSaleCase.objects.get(pk=third.pk).status == CaseStatus.REFUNDING
