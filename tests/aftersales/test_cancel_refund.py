"""M-3 with A-6: who cancels which order, and a paid online order is never cancelled without its refund.

Every actor (buyer, system, owner, agent, viewer, another shop's agent, platform staff) × payment method
(online, cod) × state (unpaid, awaiting_confirmation, to_ship, partially_shipped, shipped) through
merchants.services.cancel_order: the resulting state, the refund cases and amounts, and what a second
cancel does (it refuses: nothing is refunded twice).
"""

from __future__ import annotations

from decimal import Decimal
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from aftersales import services as case_services
from aftersales.models import AfterSaleCase, CaseEvent
from aftersales.transitions import CaseStatus, CaseType
from merchants import services, transitions
from merchants.kernel.workflow import InvalidTransitionError, ObjectNotFoundError
from merchants.models import ActorKind, Order, OrderItem
from merchants.services import BUYER, EventKind
from merchants.transitions import AftersaleLock, OrderStatus, PaymentMethod
from tests.aftersales.factories import CaseFactory, make_order

ONLINE, COD = PaymentMethod.ONLINE, PaymentMethod.COD
BACKEND = "django.contrib.auth.backends.ModelBackend"

# (payment method, state) -> who may cancel. Online orders have no awaiting_confirmation, cod no unpaid.
ALLOWED = {
    (ONLINE, OrderStatus.UNPAID): {"buyer", "system", "staff"},
    (ONLINE, OrderStatus.TO_SHIP): {"staff"},
    (ONLINE, OrderStatus.PARTIALLY_SHIPPED): set(),
    (ONLINE, OrderStatus.SHIPPED): set(),
    (COD, OrderStatus.AWAITING_CONFIRMATION): {"owner", "agent", "staff"},
    (COD, OrderStatus.TO_SHIP): {"owner", "agent", "staff"},
    (COD, OrderStatus.PARTIALLY_SHIPPED): {"staff"},
    (COD, OrderStatus.SHIPPED): {"staff"},
}
ACTORS = ("buyer", "system", "owner", "agent", "viewer", "other_shop", "staff")


def actor_for(request, who):
    return {
        "buyer": lambda: BUYER,
        "system": lambda: None,
        "owner": lambda: request.getfixturevalue("owner"),
        "agent": lambda: request.getfixturevalue("clerk"),
        "viewer": lambda: request.getfixturevalue("viewer"),
        "other_shop": lambda: request.getfixturevalue("other_clerk"),
        "staff": lambda: request.getfixturevalue("operator"),
    }[who]()


def two_item_order(shop, payment_method, status) -> Order:
    return make_order(
        shop,
        status=status,
        payment_method=payment_method,
        items=2,
        paid_amount=Decimal("100.00"),
        shipped_items=1 if status == OrderStatus.PARTIALLY_SHIPPED else None,
    )


def snapshot(order):
    order.refresh_from_db()
    return (
        order.status,
        order.cancelled_at,
        list(order.items.values_list("refunded_amount", "aftersale_lock")),
    )


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize(("payment_method", "status"), list(ALLOWED), ids=lambda v: str(v))
def test_M3_cancel_matrix(request, shop, who, payment_method, status, django_capture_on_commit_callbacks):
    order = two_item_order(shop, payment_method, status)
    actor = actor_for(request, who)
    before = snapshot(order)
    allowed = who in ALLOWED[(payment_method, status)]

    with (
        patch("aftersales.tasks.refund_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        if allowed:
            services.cancel_order(order, actor=actor, reason="买家来电申请取消")
        else:
            with pytest.raises(ObjectNotFoundError if who == "other_shop" else ValidationError):
                services.cancel_order(order, actor=actor, reason="买家来电申请取消")

    cases = list(AfterSaleCase.objects.filter(order=order).order_by("item_id"))
    if not allowed:
        assert snapshot(order) == before
        assert cases == []
        delay.assert_not_called()
        return
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    if payment_method == ONLINE and status != OrderStatus.UNPAID:  # paid: refunded in full, per item
        items = list(order.items.order_by("pk"))
        assert [(c.item_id, c.type, c.status, c.amount) for c in cases] == [
            (item.pk, CaseType.REFUND_ONLY, CaseStatus.REFUNDING, item.paid_amount) for item in items
        ]
        assert sum(c.amount for c in cases) == order.paid_amount
        assert sorted(call.args[0] for call in delay.call_args_list) == [c.pk for c in cases]
    else:  # unpaid, or cash on delivery: no money has moved, nothing to refund
        assert cases == []
        delay.assert_not_called()


@pytest.mark.parametrize(
    ("payment_method", "status"), [(ONLINE, OrderStatus.TO_SHIP), (COD, OrderStatus.SHIPPED)]
)
def test_M3_cancelling_twice_refunds_once(shop, operator, payment_method, status):
    order = two_item_order(shop, payment_method, status)
    services.cancel_order(order, actor=operator, reason="买家申请取消")
    cases_after_first = AfterSaleCase.objects.filter(order=order).count()

    with pytest.raises(InvalidTransitionError):
        services.cancel_order(order, actor=operator, reason="买家申请取消")

    assert AfterSaleCase.objects.filter(order=order).count() == cases_after_first
    assert order.events.filter(kind=EventKind.CANCELLED).count() == 1


def test_M3_the_refund_hook_itself_is_idempotent(shop, operator):
    order = two_item_order(shop, ONLINE, OrderStatus.TO_SHIP)
    first = case_services.refund_cancelled_order(order, actor=operator, reason="x", at=order.placed_at)

    again = case_services.refund_cancelled_order(order, actor=operator, reason="x", at=order.placed_at)

    assert len(first) == 2
    assert again == []
    assert AfterSaleCase.objects.filter(order=order).count() == 2


def test_M3_staff_cancel_pays_the_refund_through_the_gateway_in_full(shop, operator):
    order = two_item_order(shop, ONLINE, OrderStatus.TO_SHIP)

    services.cancel_order(order, actor=operator, reason="买家申请取消")
    for case in AfterSaleCase.objects.filter(order=order):
        case_services.pay_refund(case.pk)  # the refund task's body

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert set(AfterSaleCase.objects.filter(order=order).values_list("status", flat=True)) == {
        CaseStatus.REFUNDED
    }
    assert [(i.refunded_amount, i.aftersale_lock) for i in order.items.order_by("pk")] == [
        (Decimal("50.00"), AftersaleLock.REFUNDED),
        (Decimal("50.00"), AftersaleLock.REFUNDED),
    ]


def test_M3_a_partly_refunded_item_refunds_its_remainder_and_a_refunded_one_nothing(shop, operator):
    order = make_order(shop, items=3, paid_amount=Decimal("90.00"))
    first, second, third = order.items.order_by("pk")
    OrderItem.objects.filter(pk=first.pk).update(refunded_amount=Decimal("12.50"))
    OrderItem.objects.filter(pk=second.pk).update(
        refunded_amount=second.paid_amount, aftersale_lock="refunded"
    )

    services.cancel_order(order, actor=operator, reason="买家申请取消")

    amounts = dict(AfterSaleCase.objects.filter(order=order).values_list("item_id", "amount"))
    assert amounts == {first.pk: Decimal("17.50"), third.pk: Decimal("30.00")}
    refund_event = order.events.get(kind=EventKind.CANCEL_REFUNDED)
    assert refund_event.data["total"] == "47.50"


def test_M3_an_item_with_an_open_case_stops_the_cancel(shop, operator):
    order = make_order(shop, items=2)
    item = order.items.order_by("pk").first()
    CaseFactory(
        merchant=shop, item=item, type=CaseType.REFUND_ONLY, status=CaseStatus.PENDING, amount=Decimal("10")
    )
    before = snapshot(order)

    with pytest.raises(ValidationError, match="有进行中的售后"):
        services.cancel_order(order, actor=operator, reason="买家申请取消")

    assert snapshot(order) == before
    assert AfterSaleCase.objects.filter(order=order).count() == 1


def test_M3_the_refund_is_in_the_timeline_of_the_order_and_of_each_case(shop, operator):
    order = two_item_order(shop, ONLINE, OrderStatus.TO_SHIP)

    services.cancel_order(order, actor=operator, reason="买家来电申请取消")

    cancelled, refunded = order.events.order_by("pk").filter(
        kind__in=[EventKind.CANCELLED, EventKind.CANCEL_REFUNDED]
    )
    assert (cancelled.kind, cancelled.actor, cancelled.actor_kind) == (
        EventKind.CANCELLED,
        operator,
        ActorKind.PLATFORM,
    )
    assert (refunded.kind, refunded.actor_kind) == (EventKind.CANCEL_REFUNDED, ActorKind.SYSTEM)
    assert "¥100.00" in refunded.describe()
    for case in AfterSaleCase.objects.filter(order=order):
        opened, approved = case.events.order_by("pk")
        assert (opened.kind, opened.actor_kind, opened.message) == (
            CaseEvent.Kind.OPENED,
            ActorKind.SYSTEM,
            "买家来电申请取消",
        )
        assert (approved.kind, approved.actor_kind) == (CaseEvent.Kind.APPROVED, ActorKind.SYSTEM)
        assert approved.data["decided_by"] == operator.pk
        assert order.order_no in approved.describe()


def test_M3_without_the_refund_hook_a_paid_order_is_not_cancelled(shop, operator, monkeypatch):
    monkeypatch.setattr(transitions, "_paid_cancel_hooks", {})
    order = two_item_order(shop, ONLINE, OrderStatus.TO_SHIP)

    with pytest.raises(ValidationError, match="退款服务不可用"):
        services.cancel_order(order, actor=operator, reason="买家申请取消")

    order.refresh_from_db()
    assert order.status == OrderStatus.TO_SHIP


def test_M3_staff_cancel_a_paid_order_from_the_order_page(client, shop, operator):
    order = two_item_order(shop, ONLINE, OrderStatus.TO_SHIP)
    client.force_login(operator, backend=BACKEND)
    url = reverse("admin:merchants_order_cancel", args=[order.pk])

    page = client.get(url)
    response = client.post(url, {"reason": "买家来电申请取消"})

    assert 'id="cancel-refund"' in page.content.decode() and "¥100.00" in page.content.decode()
    assert response.status_code == 302
    assert AfterSaleCase.objects.filter(order=order, status=CaseStatus.REFUNDING).count() == 2


def test_M3_staff_see_the_cancel_button_on_a_shipped_cod_order_not_on_a_shipped_online_one(
    client, shop, operator
):
    cod = two_item_order(shop, COD, OrderStatus.SHIPPED)
    online = two_item_order(shop, ONLINE, OrderStatus.SHIPPED)
    client.force_login(operator, backend=BACKEND)

    cod_page = client.get(reverse("admin:merchants_order_change", args=[cod.pk])).content.decode()
    online_page = client.get(reverse("admin:merchants_order_change", args=[online.pk])).content.decode()

    assert reverse("admin:merchants_order_cancel", args=[cod.pk]) in cod_page
    assert reverse("admin:merchants_order_cancel", args=[online.pk]) not in online_page
