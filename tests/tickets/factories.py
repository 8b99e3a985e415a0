"""Factories for ticket tests: tickets written directly in a state (with that state's clocks), or walked
there through the services (`walk_to`), with the full log."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from tests.factories import MerchantFactory, OrderFactory, PlatformUserFactory
from tickets import services
from tickets.models import Ticket, TicketSettings
from tickets.transitions import Liability, TicketCategory, TicketStatus


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket in `status` (default pending, due 48 h after `created_at`), with no log rows.

    `with_order=True` adds an order of the same shop.
    """

    class Meta:
        model = Ticket

    class Params:
        with_order = False

    merchant = factory.SubFactory(MerchantFactory)
    category = TicketCategory.OTHER
    demand = "买家反映商品迟迟未收到，要求尽快处理。"
    status = TicketStatus.PENDING
    created_at = factory.LazyFunction(timezone.now)
    order = factory.Maybe(
        "with_order", factory.SubFactory(OrderFactory, merchant=factory.SelfAttribute("..merchant")), None
    )
    order_no = factory.LazyAttribute(lambda t: t.order.order_no if t.order else "")
    due_at = factory.LazyAttribute(
        lambda t: t.created_at + timedelta(hours=48) if t.status == TicketStatus.PENDING else None
    )
    review_due_at = factory.LazyAttribute(
        lambda t: t.created_at + timedelta(hours=24) if t.status == TicketStatus.IN_REVIEW else None
    )
    result_text = factory.LazyAttribute(
        lambda t: "已联系快递加急处理。" if t.status != TicketStatus.PENDING else ""
    )
    closed_at = factory.LazyAttribute(lambda t: t.created_at if t.status == TicketStatus.CLOSED else None)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # `status` is a protected FSM field: write the row, then set the state with an UPDATE.
        status = kwargs.pop("status", TicketStatus.PENDING)
        obj = model_class(*args, **kwargs)
        obj.save(force_insert=True)
        if status != TicketStatus.PENDING:
            model_class.objects.filter(pk=obj.pk).update(status=status)
            obj = model_class.objects.get(pk=obj.pk)
        return obj


def staff():
    return PlatformUserFactory(username="ticket-staff")


def raise_ticket(
    merchant, *, category=TicketCategory.URGE_SHIPMENT, order=None, demand="买家催发货", actor=None
):
    """A pending ticket raised through the service, as platform staff do (T-1)."""
    return services.open_ticket(
        merchant, actor=actor or staff(), category=category, demand=demand, order=order
    )


def walk_to(status: str, merchant, member, *, category=TicketCategory.OTHER, order=None) -> Ticket:
    """A ticket brought to `status` through the services (full log): pending, in_review or closed."""
    reviewer = staff()
    ticket = raise_ticket(merchant, category=category, order=order, actor=reviewer)
    if status == TicketStatus.PENDING:
        return ticket
    ticket = services.submit_result(ticket, actor=member, text="已与买家沟通并处理。")
    if status == TicketStatus.IN_REVIEW:
        return ticket
    liability = Liability.MERCHANT if category == TicketCategory.COMPLAINT else None
    return services.review_result(ticket, actor=reviewer, approve=True, liability=liability)


def settings_row(**values) -> TicketSettings:
    row = TicketSettings.load()
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    return row
