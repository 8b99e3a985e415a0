"""A-5 deadlines: run_deadlines acts on due cases only, as the system, through the FSM, once."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from aftersales import services
from aftersales.models import AfterSaleCase, AftersalesSettings, CaseEvent
from aftersales.tasks import run_deadlines
from aftersales.transitions import CaseStatus, CaseType
from merchants.kernel.violations import episode_key
from merchants.kernel.workflow import InvalidTransitionError
from merchants.models import ActorKind, Notice, OrderItem, Violation
from merchants.transitions import AftersaleLock, OrderStatus, PaymentMethod
from tests.aftersales.factories import CaseFactory, open_pending, walk_to

Kind = CaseEvent.Kind
MINUTE = timedelta(minutes=1)

# state -> (case type, payment, the state the system moves it to, the event kind it records)
AUTO_ACTIONS = {
    CaseStatus.PENDING: (
        CaseType.RETURN_REFUND,
        PaymentMethod.ONLINE,
        CaseStatus.AWAITING_RETURN,
        Kind.APPROVED,
    ),
    CaseStatus.NEGOTIATING: (
        CaseType.REFUND_ONLY,
        PaymentMethod.ONLINE,
        CaseStatus.PENDING,
        Kind.PROPOSAL_EXPIRED,
    ),
    CaseStatus.REJECTED: (CaseType.RETURN_REFUND, PaymentMethod.ONLINE, CaseStatus.CLOSED, Kind.CLOSED),
    CaseStatus.AWAITING_RETURN: (
        CaseType.RETURN_REFUND,
        PaymentMethod.ONLINE,
        CaseStatus.CLOSED,
        Kind.CLOSED,
    ),
    CaseStatus.RETURN_IN_TRANSIT: (
        CaseType.RETURN_REFUND,
        PaymentMethod.ONLINE,
        CaseStatus.REFUNDING,
        Kind.RETURN_CONFIRMED,
    ),
    CaseStatus.AWAITING_VOUCHER: (
        CaseType.REFUND_ONLY,
        PaymentMethod.COD,
        CaseStatus.REFUNDED,
        Kind.ADVANCE_PAID,
    ),
    CaseStatus.EXCHANGE_SHIPPED: (
        CaseType.EXCHANGE,
        PaymentMethod.ONLINE,
        CaseStatus.EXCHANGED,
        Kind.EXCHANGE_CONFIRMED,
    ),
    CaseStatus.ARBITRATION: (
        CaseType.RETURN_REFUND,
        PaymentMethod.ONLINE,
        CaseStatus.ARBITRATION,
        Kind.ESCALATED,
    ),
}
# A-5 defaults, per waiting state.
PERIODS = {
    CaseStatus.PENDING: timedelta(hours=48),
    CaseStatus.NEGOTIATING: timedelta(hours=48),
    CaseStatus.REJECTED: timedelta(days=7),
    CaseStatus.AWAITING_RETURN: timedelta(days=7),
    CaseStatus.RETURN_IN_TRANSIT: timedelta(days=7),
    CaseStatus.AWAITING_VOUCHER: timedelta(hours=48),
    CaseStatus.EXCHANGE_SHIPPED: timedelta(days=15),
    CaseStatus.ARBITRATION: timedelta(hours=72),
}


def _walked(status, shop, clerk):
    case_type, payment, _target, _kind = AUTO_ACTIONS[status]
    return walk_to(status, shop, clerk, type=case_type, payment_method=payment)


@pytest.mark.parametrize("status", list(AUTO_ACTIONS))
def test_A5_nothing_happens_one_minute_before_the_deadline(shop, clerk, status, refund_queue):
    case = _walked(status, shop, clerk)
    assert case.deadline_at == case.events.latest("pk").created_at + PERIODS[status]
    events = case.events.count()

    with time_machine.travel(case.deadline_at - MINUTE, tick=False):
        assert run_deadlines() == 0

    case.refresh_from_db()
    assert case.status == status and case.events.count() == events


@pytest.mark.parametrize("status", list(AUTO_ACTIONS))
def test_A5_system_acts_one_minute_after_the_deadline_and_only_once(
    shop, clerk, status, refund_queue, django_capture_on_commit_callbacks
):
    case = _walked(status, shop, clerk)
    _type, _payment, target, kind = AUTO_ACTIONS[status]
    # Keep the merchant's own clock in the future so the expired proposal is not due again at once.
    AfterSaleCase.objects.filter(pk=case.pk).update(merchant_deadline_at=case.deadline_at + timedelta(days=1))

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert run_deadlines() == 1
        assert run_deadlines() == 0

    case.refresh_from_db()
    assert case.status == target
    event = case.events.latest("pk")
    assert (event.kind, event.actor_kind, event.actor_id) == (kind, ActorKind.SYSTEM, None)
    assert (event.source_status, event.target_status) == (status, target)
    assert event.describe()  # the timeline says why the system acted
    assert refund_queue == ([case.pk] if target == CaseStatus.REFUNDING else [])


def test_A5_pending_refund_only_is_approved_and_its_refund_queued(
    shop, refund_queue, django_capture_on_commit_callbacks
):
    case = open_pending(shop)

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            run_deadlines()

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING and case.deadline_at is None
    assert refund_queue == [case.pk]
    assert case.events.latest("pk").amount == case.amount


def test_A5_closing_releases_the_item(shop, clerk):
    case = walk_to(CaseStatus.AWAITING_RETURN, shop, clerk)
    assert OrderItem.objects.get(pk=case.item_id).aftersale_lock == AftersaleLock.OPEN

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        run_deadlines()

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert OrderItem.objects.get(pk=case.item_id).aftersale_lock == AftersaleLock.NONE


def test_A5_expired_proposal_whose_merchant_clock_already_ran_out_is_approved_next_run(shop, clerk):
    case = walk_to(CaseStatus.NEGOTIATING, shop, clerk, type=CaseType.REFUND_ONLY)
    merchant_deadline = case.merchant_deadline_at  # 48 h after opening, the proposal's 48 h end later

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        assert run_deadlines() == 1
        case.refresh_from_db()
        assert case.status == CaseStatus.PENDING and case.deadline_at == merchant_deadline
        assert run_deadlines() == 1

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDING
    assert [e.kind for e in case.events.all()][-2:] == [Kind.PROPOSAL_EXPIRED, Kind.APPROVED]


def test_A5_cod_voucher_timeout_pays_in_advance_records_violation_and_notice_once(shop, clerk):
    case = walk_to(CaseStatus.AWAITING_VOUCHER, shop, clerk, amount=Decimal("100.00"))

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        run_deadlines()
        run_deadlines()

    case.refresh_from_db()
    assert case.status == CaseStatus.REFUNDED
    assert case.advance_paid is True and case.refunded_amount == Decimal("100.00")
    violation = Violation.objects.get()
    assert (violation.merchant_id, violation.rule, violation.points) == (
        shop.pk,
        "aftersales_voucher_timeout",
        2,
    )
    assert (violation.source_type, violation.source_id, violation.excluded) == (
        "aftersales.aftersalecase",
        case.pk,
        False,
    )
    assert violation.episode == episode_key(
        case.events.get(kind=Kind.APPROVED).created_at + PERIODS[CaseStatus.AWAITING_VOUCHER]
    )
    notice = Notice.objects.get()
    assert notice.audience == Notice.Audience.MERCHANT and notice.merchant_id == shop.pk
    assert case.case_no in notice.title
    item = OrderItem.objects.get(pk=case.item_id)
    assert item.refunded_amount == Decimal("100.00") and item.aftersale_lock == AftersaleLock.REFUNDED
    # The item was never shipped and is now refunded in full: the order closes (S-2).
    assert item.order.status == OrderStatus.CANCELLED


def test_A5_A9_voucher_violation_of_an_excluded_case_does_not_count(shop, clerk):
    case = walk_to(CaseStatus.AWAITING_VOUCHER, shop, clerk)
    AfterSaleCase.objects.filter(pk=case.pk).update(excluded_from_assessment=True)

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        run_deadlines()

    assert Violation.objects.get().excluded is True


def test_A5_partial_advance_payment_keeps_item_shippable(shop, clerk):
    case = walk_to(CaseStatus.AWAITING_VOUCHER, shop, clerk, amount=Decimal("30.00"))

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        run_deadlines()

    item = OrderItem.objects.get(pk=case.item_id)
    assert item.refunded_amount == Decimal("30.00") and item.aftersale_lock == AftersaleLock.NONE
    assert item.order.status == OrderStatus.TO_SHIP


def test_A5_arbitration_escalates_once_with_one_platform_notice(shop, clerk, operator):
    case = walk_to(CaseStatus.ARBITRATION, shop, clerk)

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        assert run_deadlines() == 1
    with time_machine.travel(case.arbitration_started_at + timedelta(days=30), tick=False):
        assert run_deadlines() == 0

    case.refresh_from_db()
    assert case.escalated is True and case.deadline_at is None
    notice = Notice.objects.get()
    assert notice.audience == Notice.Audience.PLATFORM and case.case_no in notice.title
    services.arbitrate(case, actor=operator, outcome="refund", liability="merchant")  # still decidable


def test_A5_deadline_follows_the_setting(shop):
    limits = AftersalesSettings.load()
    limits.merchant_response_hours = 24
    limits.save()

    case = open_pending(shop)

    assert case.deadline_at == case.created_at + timedelta(hours=24)
    with time_machine.travel(case.created_at + timedelta(hours=24) + MINUTE, tick=False):
        assert run_deadlines() == 1


def test_A5_only_due_cases_are_touched(shop):
    due = CaseFactory(merchant=shop, status=CaseStatus.PENDING)
    later = CaseFactory(merchant=shop, status=CaseStatus.PENDING)
    AfterSaleCase.objects.filter(pk=later.pk).update(deadline_at=due.deadline_at + timedelta(hours=1))
    finished = CaseFactory(merchant=shop, status=CaseStatus.CLOSED)
    AfterSaleCase.objects.filter(pk=finished.pk).update(deadline_at=due.deadline_at - timedelta(days=1))

    with time_machine.travel(due.deadline_at + MINUTE, tick=False):
        assert run_deadlines() == 1

    statuses = dict(AfterSaleCase.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: CaseStatus.REFUNDING,
        later.pk: CaseStatus.PENDING,
        finished.pk: CaseStatus.CLOSED,
    }


@pytest.mark.parametrize("status", list(AUTO_ACTIONS))
def test_A5_sweep_runs_a_constant_number_of_queries_whatever_the_batch_size(shop, status, refund_queue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case_type, payment, _target, _kind = AUTO_ACTIONS[status]

    def run(count):
        # Half the item's price: a partial advance payment (a full one on an unshipped item also settles
        # the order's shipping, the one per-order step, S-2).
        cases = [
            CaseFactory(
                merchant=shop, status=status, type=case_type, payment_method=payment, amount=Decimal("50.00")
            )
            for _i in range(count)
        ]
        later = max(c.deadline_at for c in cases) + timedelta(days=60)  # an expired proposal is not due again
        AfterSaleCase.objects.filter(pk__in=[c.pk for c in cases]).update(merchant_deadline_at=later)
        with time_machine.travel(max(c.deadline_at for c in cases) + MINUTE, tick=False):
            with CaptureQueriesContext(connection) as queries:
                assert run_deadlines() == count
        return len(queries)

    assert run(3) == run(12)


def test_A5_person_first_then_sweep_skips(shop, clerk):
    case = open_pending(shop, type=CaseType.RETURN_REFUND, order_status=OrderStatus.SHIPPED)

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        services.reject(case, actor=clerk, reason="已过无理由退货期")
        assert run_deadlines() == 0

    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED
    assert [e.kind for e in case.events.all()] == [Kind.OPENED, Kind.REJECTED]


def test_A5_N8_sweep_first_then_person_gets_a_clear_message(shop, clerk):
    case = open_pending(shop, type=CaseType.RETURN_REFUND, order_status=OrderStatus.SHIPPED)

    with time_machine.travel(case.deadline_at + MINUTE, tick=False):
        assert run_deadlines() == 1
        with pytest.raises(InvalidTransitionError, match="当前状态「待买家退货」不能执行「拒绝申请」"):
            services.reject(case, actor=clerk, reason="已过无理由退货期")

    assert [e.kind for e in case.events.all()] == [Kind.OPENED, Kind.APPROVED]


def test_A5_one_bad_row_does_not_stop_the_batch(shop):
    good = CaseFactory(merchant=shop, status=CaseStatus.PENDING)
    # Over-refundable: approve's condition refuses it, the sweep leaves it and goes on.
    bad = CaseFactory(merchant=shop, status=CaseStatus.PENDING)
    OrderItem.objects.filter(pk=bad.item_id).update(refunded_amount=Decimal("90.00"))

    with time_machine.travel(good.deadline_at + MINUTE, tick=False):
        assert run_deadlines() == 1

    assert AfterSaleCase.objects.get(pk=good.pk).status == CaseStatus.REFUNDING
    assert AfterSaleCase.objects.get(pk=bad.pk).status == CaseStatus.PENDING


def test_A5_many_due_cases_in_several_batches(shop, settings):
    settings.SHOUHOU_SWEEP_BATCH = 4
    cases = [
        CaseFactory(merchant=shop, status=CaseStatus.AWAITING_RETURN, type=CaseType.RETURN_REFUND)
        for _i in range(10)
    ]

    with time_machine.travel(max(c.deadline_at for c in cases) + MINUTE, tick=False):
        assert run_deadlines() == 10

    assert set(AfterSaleCase.objects.values_list("status", flat=True)) == {CaseStatus.CLOSED}
    assert CaseEvent.objects.filter(kind=Kind.CLOSED, actor_kind=ActorKind.SYSTEM).count() == 10
    assert not OrderItem.objects.filter(aftersale_lock=AftersaleLock.OPEN).exists()


# --------------------------------------------------------------------------------------------
# A bounded beat run and its follow-ups (issue 6 §5): every due case handled exactly once


def _run_chain(django_capture_on_commit_callbacks, monkeypatch, **kwargs) -> list[int]:
    """Run the task as the beat entry does, then each follow-up it queues; what each run changed."""
    queued: list[dict] = []
    monkeypatch.setattr(
        run_deadlines, "apply_async", lambda *args, **options: queued.append(options["kwargs"])
    )
    changed = []
    while True:
        with django_capture_on_commit_callbacks(execute=True):
            changed.append(run_deadlines(**kwargs))
        if not queued:
            return changed
        kwargs = queued.pop()
        assert not queued and kwargs["limit"] == 3  # one follow-up per run, with the beat's limit


def test_A5_bounded_run_requeues_itself_and_its_follow_ups_handle_every_due_case_once(
    shop, refund_queue, django_capture_on_commit_callbacks, monkeypatch
):
    mix = [CaseStatus.PENDING] * 3 + [CaseStatus.AWAITING_RETURN] * 2 + [CaseStatus.EXCHANGE_SHIPPED] * 2
    cases = [
        CaseFactory(
            merchant=shop,
            status=s,
            type=CaseType.REFUND_ONLY if s == CaseStatus.PENDING else CaseType.EXCHANGE,
        )
        for s in mix
    ]

    with time_machine.travel(max(c.deadline_at for c in cases) + MINUTE, tick=False):
        changed = _run_chain(django_capture_on_commit_callbacks, monkeypatch, limit=3)

    assert changed == [3, 3, 1]
    for case in cases:
        assert case.events.filter(actor_kind=ActorKind.SYSTEM).count() == 1
    assert not AfterSaleCase.objects.filter(status__in=mix).exists()


def test_A5_bounded_chain_takes_a_case_that_stays_due_once_and_goes_on_past_it(
    shop, refund_queue, django_capture_on_commit_callbacks, monkeypatch
):
    # The oldest due case is one approve refuses (over-refundable): it stays due, but a chain that kept
    # taking it first would never reach the others.
    stuck = CaseFactory(merchant=shop, status=CaseStatus.PENDING)
    OrderItem.objects.filter(pk=stuck.item_id).update(refunded_amount=Decimal("90.00"))
    AfterSaleCase.objects.filter(pk=stuck.pk).update(deadline_at=stuck.deadline_at - timedelta(hours=1))
    others = [CaseFactory(merchant=shop, status=CaseStatus.PENDING) for _i in range(5)]

    with time_machine.travel(max(c.deadline_at for c in others) + MINUTE, tick=False):
        changed = _run_chain(django_capture_on_commit_callbacks, monkeypatch, limit=3)

    assert changed == [2, 3]  # the stuck case and two others, then the last three
    assert AfterSaleCase.objects.get(pk=stuck.pk).status == CaseStatus.PENDING
    assert set(
        AfterSaleCase.objects.filter(pk__in=[c.pk for c in others]).values_list("status", flat=True)
    ) == {CaseStatus.REFUNDING}


def test_A5_direct_call_handles_every_due_case_whatever_the_beat_limit(
    shop, settings, refund_queue, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SHOUHOU_SWEEP_LIMIT = 2
    queued = []
    monkeypatch.setattr(run_deadlines, "apply_async", lambda *args, **options: queued.append(options))
    cases = [CaseFactory(merchant=shop, status=CaseStatus.PENDING) for _i in range(5)]

    with time_machine.travel(max(c.deadline_at for c in cases) + MINUTE, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert run_deadlines() == 5

    assert queued == []
