"""The after-sales scenarios, and when each step comes: read from the case FSM and AftersalesSettings."""

from __future__ import annotations

import functools
import inspect
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import django_fsm as fsm
from django.utils import timezone

from aftersales.models import AfterSaleCase, AftersalesSettings
from aftersales.transitions import ArbitrationOutcome, CaseStatus, CaseType, Liability
from merchants.models import OrderItem
from merchants.transitions import PaymentMethod

# ---- scenarios: (weight, case types, payment needed, steps). Actions run in order; "timeout" lets the
# real deadline sweep act when the state's deadline passes; "pay" runs the refund as the worker would.

ONLINE, COD, ANY = PaymentMethod.ONLINE, PaymentMethod.COD, None
RO, RR, EX = CaseType.REFUND_ONLY, CaseType.RETURN_REFUND, CaseType.EXCHANGE


@dataclass(frozen=True)
class Scenario:
    weight: int
    types: tuple[str, ...]
    payment: str | None
    steps: tuple[str, ...]
    automated: bool = False  # approved at opening by express refund or a shop rule


SCENARIOS = (
    # waiting for the merchant
    Scenario(10, (RO, RR), ANY, ("open",)),
    Scenario(3, (RR, EX), ANY, ("open", "msg_merchant", "msg_buyer")),
    Scenario(2, (RO, RR), ANY, ("open", "delay_report")),
    Scenario(4, (RO, RR), ANY, ("open", "propose")),
    # A-3 negotiation: the merchant changes a proposal the buyer has not answered, or takes it back
    Scenario(2, (RO, RR), ANY, ("open", "propose", "revise_proposal")),
    Scenario(2, (RO, RR), ANY, ("open", "propose", "withdraw_proposal")),
    Scenario(4, (RO, RR, EX), ANY, ("open", "reject")),
    # waiting for goods
    Scenario(6, (RR, EX), ANY, ("open", "approve")),
    Scenario(6, (RR, EX), ANY, ("open", "approve", "msg_merchant", "ship_return")),
    Scenario(1, (RR,), ANY, ("open", "approve", "ship_return", "delay_report", "delay_approve")),
    Scenario(2, (RO,), COD, ("open", "approve")),
    Scenario(2, (EX,), ANY, ("open", "approve", "ship_return", "confirm_return")),
    Scenario(2, (EX,), ANY, ("open", "approve", "ship_return", "confirm_return", "reship")),
    # platform
    Scenario(3, (RO, RR), ANY, ("open", "reject", "escalate")),
    Scenario(2, (RR,), ANY, ("open", "approve", "ship_return", "refuse_return")),
    Scenario(1, (RO, RR), ANY, ("open", "reject", "escalate", "timeout")),
    # finished
    Scenario(10, (RO,), ONLINE, ("open", "approve", "pay")),
    Scenario(8, (RR,), ONLINE, ("open", "approve", "ship_return", "confirm_return", "pay")),
    Scenario(3, (RO,), ONLINE, ("open", "propose", "accept", "pay")),
    Scenario(2, (RO,), ONLINE, ("open", "propose", "revise_proposal", "accept", "pay")),
    Scenario(1, (RO, RR), ANY, ("open", "propose", "withdraw_proposal", "approve")),
    Scenario(3, (RO,), ONLINE, ("open", "timeout", "pay")),
    Scenario(3, (RO,), ONLINE, ("open", "pay"), automated=True),
    Scenario(2, (RO,), COD, ("open", "approve", "voucher")),
    Scenario(1, (RO,), COD, ("open", "approve", "timeout")),
    Scenario(2, (RO, RR), ONLINE, ("open", "reject", "escalate", "arbitrate_refund", "pay")),
    Scenario(1, (RR,), ONLINE, ("open", "approve", "ship_return", "timeout", "pay")),
    Scenario(
        3, (EX,), ANY, ("open", "approve", "ship_return", "confirm_return", "reship", "confirm_exchange")
    ),
    Scenario(1, (EX,), ANY, ("open", "approve", "ship_return", "confirm_return", "reship", "timeout")),
    Scenario(3, (RO, RR), ANY, ("open", "reject", "timeout")),
    Scenario(2, (RR, EX), ANY, ("open", "approve", "timeout")),
    Scenario(2, (RO, RR), ANY, ("open", "reject", "escalate", "arbitrate_reject")),
    Scenario(4, (RO, RR, EX), ANY, ("open", "cancel")),
    Scenario(2, (RO, RR), ANY, ("open", "reject", "cancel")),
    # a refund the gateway keeps refusing: flagged for platform staff
    Scenario(1, (RO,), ONLINE, ("open", "approve", "fail_refund")),
)

# The first pass places the scenarios that need scarce items (cod orders, fresh unshipped orders, shipped
# items for exchanges) while there are still many candidates to choose from.
FIRST_PASS = tuple(sorted(SCENARIOS, key=lambda s: (s.payment != COD, not s.automated, s.types != (EX,))))

# ---- planning a scenario: when each step happens, read from the case FSM and AftersalesSettings

# The model transition each step runs (its service wraps it under the same verb, STYLE §4). Steps not listed
# leave the state as it is (messages, delay reports, a refund the gateway refuses); "timeout" is the sweep's.
TRANSITIONS = {
    "approve": "approve",
    "reject": "reject",
    "propose": "propose",
    "accept": "accept_proposal",
    "revise_proposal": "revise_proposal",
    "withdraw_proposal": "withdraw_proposal",
    "ship_return": "buyer_ship_return",
    "confirm_return": "confirm_return",
    "refuse_return": "refuse_return",
    "reship": "reship",
    "confirm_exchange": "confirm_exchange",
    "escalate": "escalate",
    "arbitrate_refund": "arbitrate",
    "arbitrate_reject": "arbitrate",
    "pay": "mark_refunded",
    "voucher": "upload_voucher",
    "cancel": "cancel",
}
ARBITRATIONS = {  # (outcome, liability)
    "arbitrate_refund": (ArbitrationOutcome.REFUND, Liability.MERCHANT),
    "arbitrate_reject": (ArbitrationOutcome.REJECT, Liability.BUYER),
}

# How long a step waits after the one before it, as a share (lo, hi) of the time left on the case's
# deadline: whatever periods staff set in /admin/, a person's step comes before the sweep would act.
SHARE_OF_TIME_LEFT = {
    "approve": (0.01, 0.8),
    "reject": (0.02, 0.9),
    "propose": (0.02, 0.6),
    "accept": (0.01, 0.6),
    "revise_proposal": (0.02, 0.4),
    "withdraw_proposal": (0.02, 0.4),
    "ship_return": (0.02, 0.6),
    "confirm_return": (0.1, 0.7),
    "refuse_return": (0.1, 0.7),
    "confirm_exchange": (0.07, 0.55),
    "escalate": (0.01, 0.6),
    "arbitrate_refund": (0.03, 0.8),
    "arbitrate_reject": (0.03, 0.8),
    "voucher": (0.04, 0.8),
    "cancel": (0.01, 0.5),
    "msg_merchant": (0.005, 0.25),
    "msg_buyer": (0.005, 0.4),
    "delay_report": (0.02, 0.6),
    "delay_approve": (0.01, 0.15),
}
# Hours (lo, hi) for a step in a state with no deadline (reshipping, refunding: the worker pays in seconds).
HOURS_WITHOUT_DEADLINE = {"reship": (2, 40), "pay": (0.005, 0.05), "fail_refund": (0.005, 0.05)}


@functools.cache
def case_transitions() -> dict[str, fsm.Transition]:
    """The case FSM's transitions by method name (django-fsm-2's metadata: sources, target, the method)."""
    return {transition.name: transition for transition in AfterSaleCase().get_all_status_transitions()}


@dataclass(frozen=True)
class Timeline:
    gaps: list[timedelta]  # before each step after the opening
    age: timedelta  # from the last step to now


def plan_timeline(
    scenario: Scenario, case_type: str, item: OrderItem, limits: AftersalesSettings, rng: random.Random
) -> Timeline | None:
    """When each step of `scenario` comes, so no person acts after a deadline and a waiting case's is ahead.

    The states and deadlines are the model's own: each step runs its transition's body on an unsaved copy
    of the case (a body only sets fields, STYLE §5), which yields the target state and sets the deadline
    from `limits`. None when the scenario waits for a deadline where the case has none.
    """
    clock = timezone.now()  # any instant: only the differences count
    probe = AfterSaleCase(type=case_type, amount=item.refundable_amount(), order=item.order, item=item)
    probe.deadline_at = clock + timedelta(hours=limits.merchant_response_hours)  # as open_case sets it
    probe.merchant_deadline_at = probe.deadline_at  # withdrawing a proposal goes back to this clock
    status = probe.status  # the field's default: where every case starts
    if scenario.automated:  # express refund or a shop rule approves at opening
        status = _run(probe, "approve", clock, limits)
    gaps = []
    for action in scenario.steps[1:]:
        left = probe.deadline_at - clock if probe.deadline_at else None
        if action == "timeout":
            if left is None:
                return None
            gap = left + timedelta(minutes=rng.uniform(1, 30))
        elif left is not None:
            gap = left * rng.uniform(*SHARE_OF_TIME_LEFT.get(action, (0.05, 0.5)))
        else:
            gap = timedelta(hours=rng.uniform(*HOURS_WITHOUT_DEADLINE.get(action, (1, 24))))
        gaps.append(gap)
        clock += gap
        if action == "timeout":  # the sweep's move; the plan needs no deadline after it
            status, probe.deadline_at = None, None
        elif action in TRANSITIONS:
            status = _run(probe, action, clock, limits)
    if probe.deadline_at is not None:  # still waiting: the deadline is still ahead, sometimes due soon
        age = (probe.deadline_at - clock) * rng.uniform(0.05, 0.95)
    elif status == CaseStatus.REFUNDING:  # the worker pays within minutes
        age = timedelta(minutes=rng.uniform(2, 30))
    else:
        age = timedelta(hours=rng.uniform(1, 24 * 20))
    return Timeline(gaps, age)


def _run(probe: AfterSaleCase, action: str, now: datetime, limits: AftersalesSettings) -> str:
    """Run the step's transition body on the unsaved probe; returns the state the FSM would move it to."""
    transition = case_transitions()[TRANSITIONS[action]]
    outcome, liability = ARBITRATIONS.get(action, ("", ""))
    arguments = {
        "now": now,
        "limits": limits,
        "reason": "",
        "type": probe.type,
        "amount": probe.amount,
        "text": "",
        "carrier": "",
        "tracking_no": "",
        "outcome": outcome,
        "liability": liability,
    }
    accepted = inspect.signature(transition.method).parameters
    result = transition.method(
        probe, **{name: value for name, value in arguments.items() if name in accepted}
    )
    # RETURN_VALUE: the body chooses among the allowed states (by type, payment, outcome).
    return result if isinstance(transition.target, fsm.State) else transition.target
