"""The after-sales demo data (seeded through the services, every state) and the simulator's moves."""

import random
from collections import Counter

import pytest

from aftersales.models import AfterSaleCase, CaseEvent, DelayReport
from aftersales.transitions import CaseStatus, CaseType
from demo import registry
from merchants.models import ActorKind, Violation

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
    assert seeded["aftersales.cases"]["cases"] == AfterSaleCase.objects.count() >= 50
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
