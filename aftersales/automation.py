"""Approval automation evaluated once, when a case opens: express refund (A-11), then custom rules (A-12).

Pure reads: `evaluate()` says what fires; the caller (services.open_case) approves through the same
approve path as any system approval and names what fired in the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from aftersales.models import AfterSaleCase, AftersalesSettings, AutoRefundRule
from aftersales.transitions import CaseType
from merchants.transitions import SHIPPABLE_STATES

# Stored in case.auto_approved_by (data, like a rule's name): the marketplaces' own name for A-11.
EXPRESS_REFUND = "极速退款"


@dataclass(frozen=True)
class AutoApproval:
    label: str  # -> case.auto_approved_by
    params: dict  # the timeline sentence's key ("why") and values (CaseEvent.TEXTS)
    data: dict = field(default_factory=dict)


def express_refund_applies(case: AfterSaleCase, *, limits: AftersalesSettings) -> bool:
    """A-11: switch on, refund only, item not shipped, order paid < ¥300 and placed < 6 h before the request."""
    order = case.order
    return (
        case.merchant.express_refund_enabled
        and case.type == CaseType.REFUND_ONLY
        and order.status in SHIPPABLE_STATES
        and case.item.package_id is None
        and order.paid_amount < limits.express_max_amount
        and _shorter_than(case.created_at - order.placed_at, limits.express_max_hours)
    )


def _longer_than(elapsed: timedelta, hours: int) -> bool:
    """elapsed > `hours` hours, for any stored number: a limit too large for a timedelta is no limit.

    N-9: a rule saved with 下单后 99999999999 小时 (before the form bounded it) made timedelta() overflow
    in every open_case of its shop, so no buyer there could open a case.
    """
    try:
        return elapsed > timedelta(hours=hours)
    except OverflowError:
        return False


def _shorter_than(elapsed: timedelta, hours: int) -> bool:
    try:
        return elapsed < timedelta(hours=hours)
    except OverflowError:
        return True


def rule_matches(rule: AutoRefundRule, case: AfterSaleCase) -> bool:
    """A-12: every condition the rule sets holds (an empty list or an unset limit means 'any').

    Limits are inclusive: amount ≤ max_amount, hours since order/delivery ≤ the limit. A rule with a
    delivery limit never matches an order that has not been received.
    """
    order = case.order
    if rule.case_types and case.type not in rule.case_types:
        return False
    if rule.shipping_stages and case.shipping_stage not in rule.shipping_stages:
        return False
    if rule.reasons and case.reason not in rule.reasons:
        return False
    if rule.max_amount is not None and case.amount > rule.max_amount:
        return False
    if rule.max_hours_since_order is not None and _longer_than(
        case.created_at - order.placed_at, rule.max_hours_since_order
    ):
        return False
    if rule.max_hours_since_delivery is not None:
        if order.received_at is None:
            return False
        if _longer_than(case.created_at - order.received_at, rule.max_hours_since_delivery):
            return False
    return True


def evaluate(case: AfterSaleCase, *, limits: AftersalesSettings) -> AutoApproval | None:
    """What approves this just-opened case automatically, if anything (express refund first, then rules by priority)."""
    if express_refund_applies(case, limits=limits):
        return AutoApproval(
            label=EXPRESS_REFUND,
            params={
                "why": "express_refund",
                "amount": limits.express_max_amount,
                "hours": limits.express_max_hours,
            },
            data={"automation": "express_refund"},
        )
    rules = AutoRefundRule.objects.filter(merchant_id=case.merchant_id, enabled=True).order_by(
        "priority", "pk"
    )
    for rule in rules:
        if rule_matches(rule, case):
            return AutoApproval(
                label=rule.name,
                params={"why": "auto_rule", "name": rule.name},
                data={"automation": "rule", "rule_id": rule.pk, "rule": rule.name},
            )
    return None
