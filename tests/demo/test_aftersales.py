"""The after-sales demo data (seeded through the services, every state) and the simulator's moves."""

import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aftersales.models import AfterSaleCase, AftersalesSettings, CaseEvent, DelayReport
from aftersales.transitions import CaseStatus, CaseType
from demo import registry
from demo.aftersales.plans import SCENARIOS, TRANSITIONS, Scenario, case_transitions, plan_timeline
from merchants.models import ActorKind, Order, OrderItem, Violation
from merchants.transitions import PaymentMethod

SIZE = 400


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    return dict(registry.seed(size=SIZE, log=lambda message: None))


def test_demo_seeds_cases_in_every_state_and_type_with_timelines(seeded):
    statuses = Counter(AfterSaleCase.objects.values_list("status", flat=True))
    types = Counter(AfterSaleCase.objects.values_list("type", flat=True))

    assert set(statuses) == set(CaseStatus.values)
    assert set(types) == set(CaseType.values)
    # besides the refunds shops start themselves from an urge-shipment ticket (T-7, demo/tickets.py)
    by_buyers = AfterSaleCase.objects.exclude(events__kind="opened", events__params__why="merchant_opened")
    assert seeded["aftersales.cases"]["cases"] == by_buyers.count() >= 50
    for case in AfterSaleCase.objects.prefetch_related("events"):
        events = list(case.events.all())
        assert events[0].kind == CaseEvent.Kind.OPENED
        assert events[-1].target_status == case.status or events[-1].kind in (
            CaseEvent.Kind.MESSAGE,
            CaseEvent.Kind.DELAY_REPORTED,
            CaseEvent.Kind.DELAY_APPROVED,
            CaseEvent.Kind.REFUND_FAILED,
        )
    kinds = set(CaseEvent.objects.values_list("kind", flat=True))
    assert set(CaseEvent.Kind.values) - kinds <= {
        CaseEvent.Kind.DELAY_REJECTED,
        CaseEvent.Kind.PROPOSAL_DECLINED,
        CaseEvent.Kind.PROPOSAL_EXPIRED,
        CaseEvent.Kind.REVISED,
        CaseEvent.Kind.REFUND_RETRIED,
        CaseEvent.Kind.RETURN_SIGNED,  # written by the logistics feed, which the demo does not import
        CaseEvent.Kind.PROPOSAL_REVISED,  # issue 11 §6: the demo does not seed them (yet)
        CaseEvent.Kind.PROPOSAL_WITHDRAWN,
    }
    assert CaseEvent.objects.filter(actor_kind=ActorKind.SYSTEM).exists()
    assert AfterSaleCase.objects.exclude(auto_approved_by="").exists()
    assert AfterSaleCase.objects.filter(refund_failed=True).exists()
    assert DelayReport.objects.exists()
    assert Violation.objects.filter(rule="aftersales_voucher_timeout").exists()


def test_demo_seed_is_idempotent(seeded):
    before = AfterSaleCase.objects.count(), CaseEvent.objects.count()

    results = dict(registry.seed(size=SIZE, log=lambda message: None))

    assert (AfterSaleCase.objects.count(), CaseEvent.objects.count()) == before
    assert results["aftersales.cases"]["cases"] == 0


def test_demo_simulator_moves_cases_through_the_services(seeded):
    events = CaseEvent.objects.count()

    for seed in range(12):
        registry.simulate_tick(rng=random.Random(seed))

    assert CaseEvent.objects.count() > events


# --------------------------------------------------------------------------------------------
# The plans come from the case FSM and AftersalesSettings, not from a copy of them

RO, RR, EX = CaseType.REFUND_ONLY, CaseType.RETURN_REFUND, CaseType.EXCHANGE
SHORT_PERIODS = {  # far from the defaults (48 h, 7 days, 15 days…): a copied period would show
    "merchant_response_hours": 5,
    "negotiation_hours": 4,
    "buyer_return_days": 2,
    "merchant_receipt_days": 3,
    "voucher_hours": 6,
    "rejected_idle_days": 2,
    "exchange_delivery_days": 4,
    "arbitration_hours": 10,
}


def scripted(*steps: str) -> Scenario:
    return Scenario(1, (), None, ("open", *steps))


def unsaved_item(payment: str = PaymentMethod.ONLINE) -> OrderItem:
    return OrderItem(order=Order(payment_method=payment), paid_amount=Decimal("100.00"))


def test_every_scripted_step_runs_a_transition_of_the_case_fsm():
    unscripted = {
        "open",
        "timeout",
        "msg_merchant",
        "msg_buyer",
        "delay_report",
        "delay_approve",
        "fail_refund",
    }

    assert set(TRANSITIONS.values()) <= set(case_transitions())
    assert {step for scenario in SCENARIOS for step in scenario.steps} <= set(TRANSITIONS) | unscripted


@pytest.mark.parametrize("hours", [5, 48, 100])
def test_a_planned_timeout_waits_the_answer_period_staff_set(hours):
    limits = AftersalesSettings(merchant_response_hours=hours)

    plan = plan_timeline(scripted("timeout", "pay"), RO, unsaved_item(), limits, random.Random(1))

    assert timedelta(hours=hours, minutes=1) <= plan.gaps[0] <= timedelta(hours=hours, minutes=30)


def test_each_planned_state_and_its_deadline_come_from_the_fsm_and_the_settings():
    limits, rng = AftersalesSettings(**SHORT_PERIODS), random.Random(2)

    for _attempt in range(20):
        approved = plan_timeline(scripted("approve"), RR, unsaved_item(), limits, rng)  # -> awaiting_return
        assert approved.gaps[0] < timedelta(hours=5) and approved.age < timedelta(days=2)
        cod = plan_timeline(
            scripted("approve"), RO, unsaved_item(PaymentMethod.COD), limits, rng
        )  # -> voucher
        assert cod.age < timedelta(hours=6)
        online = plan_timeline(scripted("approve"), RO, unsaved_item(), limits, rng)  # -> refunding, minutes
        assert online.age <= timedelta(minutes=30)
        exchange = plan_timeline(
            scripted("approve", "ship_return", "confirm_return", "reship"), EX, unsaved_item(), limits, rng
        )  # reshipping has no deadline (hours), then exchange_shipped waits 4 days
        assert exchange.gaps[1] < timedelta(days=2) and exchange.gaps[2] < timedelta(days=3)
        assert exchange.age < timedelta(days=4)
        proposal = plan_timeline(scripted("propose"), RO, unsaved_item(), limits, rng)  # -> negotiating, 4 h
        assert proposal.age < timedelta(hours=4)


def test_a_plan_that_waits_for_a_deadline_where_there_is_none_does_not_fit():
    limits = AftersalesSettings()

    assert plan_timeline(scripted("approve", "timeout"), RO, unsaved_item(), limits, random.Random(3)) is None


def test_seeded_cases_follow_the_deadline_periods_staff_set(db):
    limits = AftersalesSettings.load()
    for name, value in SHORT_PERIODS.items():
        setattr(limits, name, value)
    limits.save()

    results = dict(registry.seed(size=registry.MIN_SIZE, log=lambda message: None))

    assert results["aftersales.cases"]["cases"] >= 10
    assert AfterSaleCase.objects.filter(deadline_at__isnull=False).exists()
    assert not AfterSaleCase.objects.filter(deadline_at__lte=timezone.now()).exists()  # none left overdue
