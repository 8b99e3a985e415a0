"""N-8 on PostgreSQL (issue 11 §6): the merchant withdrawing or changing a proposal while the buyer accepts it.

Real row locks, two threads released together: exactly one of the two moves happens, the other gets a clear
refusal, and the case, its amount and its timeline agree with the move that won.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from aftersales import services
from aftersales.models import AfterSaleCase, CaseEvent
from aftersales.transitions import CaseStatus, CaseType
from tests.aftersales.factories import walk_to
from tests.aftersales.test_concurrency import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Kind = CaseEvent.Kind


@pytest.fixture(autouse=True)
def _postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (export DATABASE_URL=$(scripts/pg.sh start))")


@pytest.fixture
def no_refunds(monkeypatch):
    from aftersales.tasks import refund_batch_task, refund_task

    monkeypatch.setattr(refund_task, "delay", lambda case_id: None)
    monkeypatch.setattr(refund_batch_task, "delay", lambda case_ids: None)


@pytest.mark.parametrize("stagger", [0.0, 0.05])
def test_N8_A3_withdraw_against_accept_ends_in_exactly_one_move(shop, clerk, no_refunds, stagger):
    case = walk_to(CaseStatus.NEGOTIATING, shop, clerk)

    results = together(
        lambda: services.withdraw_proposal(case.pk, actor=clerk),
        lambda: services.accept_proposal(case.pk),
        stagger=stagger,
    )

    won = [ok for ok, _value in results]
    assert won.count(True) == 1, results
    loser = next(value for ok, value in results if not ok)
    assert isinstance(loser, ValidationError) and "当前状态" in " ".join(loser.messages)
    case.refresh_from_db()
    kinds = set(case.events.values_list("kind", flat=True))
    if won[0]:
        assert case.status == CaseStatus.PENDING and Kind.PROPOSAL_ACCEPTED not in kinds
    else:
        assert case.status != CaseStatus.PENDING and case.negotiated and Kind.PROPOSAL_WITHDRAWN not in kinds


@pytest.mark.parametrize("stagger", [0.0, 0.05])
def test_N8_A3_revise_against_accept_never_pays_terms_the_buyer_did_not_accept(
    shop, clerk, no_refunds, stagger
):
    case = walk_to(CaseStatus.NEGOTIATING, shop, clerk)
    accepted_terms = case.proposed_amount

    results = together(
        lambda: services.revise_proposal(
            case.pk, actor=clerk, type=CaseType.REFUND_ONLY, amount=Decimal("3.00"), text="改为 3 元"
        ),
        lambda: services.accept_proposal(case.pk),
        stagger=stagger,
    )

    case.refresh_from_db()
    revised, accepted = (ok for ok, _value in results)
    if accepted and not revised:
        assert case.amount == accepted_terms  # the buyer got what they accepted, not the later change
    if revised and accepted:
        # The revision came first under the lock: the buyer accepted the revised terms, recorded in order.
        kinds = list(case.events.order_by("pk").values_list("kind", flat=True))
        assert kinds.index(Kind.PROPOSAL_REVISED) < kinds.index(Kind.PROPOSAL_ACCEPTED)
        assert case.amount == Decimal("3.00")
    assert accepted or revised
    assert AfterSaleCase.objects.filter(pk=case.pk, status=CaseStatus.NEGOTIATING).exists() == (not accepted)
