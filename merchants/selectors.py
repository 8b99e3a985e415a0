"""Reads of shops and orders; the public ones take `actor` and go through the tenancy layer."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from merchants.kernel.checks import BadInputError, parse_id
from merchants.kernel.scoping import get_for_actor, merchant_ids_for, roles_for, scope_to_actor, sees_all
from merchants.kernel.vocabulary import Role
from merchants.models import Merchant, Order, OrderItem, Package, Product
from merchants.transitions import SHIPPABLE_STATES


def orders_for(actor) -> QuerySet[Order]:
    """The orders the actor may see."""
    return scope_to_actor(Order.objects.all(), actor)


def member_shops(actor) -> QuerySet[Merchant]:
    """The shops the actor is a member of (not every shop, even for platform staff)."""
    return Merchant.objects.filter(pk__in=merchant_ids_for(actor))


def owned_shops(actor) -> QuerySet[Merchant]:
    """The shops the actor may configure as an owner (A-12): every shop for the system and platform staff."""
    if sees_all(actor):
        return Merchant.objects.all()
    return Merchant.objects.filter(pk__in=[pk for pk, role in roles_for(actor).items() if role == Role.OWNER])


def products_for(actor) -> QuerySet[Product]:
    """The products the actor may see, newest first."""
    return scope_to_actor(Product.objects.all(), actor).order_by("-created_at", "-pk")


def orders_with_product(product_id: int) -> QuerySet:
    """The ids of the orders with an item of this product (a subquery for a list filter on a scoped list)."""
    return OrderItem.objects.filter(product_id=product_id).values("order_id")


def order_for_update(pk: int, *, actor) -> Order:
    """Lock one order the actor may see (SELECT … FOR UPDATE); ObjectNotFoundError otherwise."""
    return get_for_actor(
        Order.objects.select_for_update(of=("self",)).select_related("merchant"), actor, pk=pk
    )


def package_for_update(pk: int, *, actor) -> Package:
    return get_for_actor(Package.objects.select_for_update(of=("self",)), actor, pk=pk)


def packages_of(order: Order) -> QuerySet[Package]:
    """The order's packages in the order they went out, with their items' products (S-1, S-4)."""
    return Package.objects.filter(order=order).prefetch_related("items__product").order_by("shipped_at", "pk")


def package_of(order: Order, pk) -> Package | None:
    """One package of `order` by id (a query parameter: anything else is None, never another order's)."""
    try:  # '²' or a 23-digit id is no package (N-9), never a 500
        pk = parse_id(pk, label="package")
    except BadInputError:
        return None
    return Package.objects.filter(order=order, pk=pk).first() if pk else None


def refundable_amounts(order: Order) -> list:
    """What is still refundable on each item of the order (paid minus refunded), in item order."""
    return [
        paid - refunded
        for paid, refunded in order.items.order_by("pk").values_list("paid_amount", "refunded_amount")
    ]


def has_packages(order: Order) -> bool:
    return order.packages.exists()


def items_for_update(order: Order, item_ids: list[int]) -> list[OrderItem]:
    """Lock the given items of `order` (the order row is already locked: order first, then items)."""
    return list(
        OrderItem.objects.select_for_update(of=("self",))
        .filter(order=order, pk__in=item_ids)
        .select_related("product")
        .order_by("pk")
    )


def late_orders(actor, *, now=None) -> QuerySet[Order]:
    """M-4: orders still owing a shipment whose promised ship-by time has passed."""
    now = now or timezone.now()
    return orders_for(actor).filter(status__in=SHIPPABLE_STATES, ship_by__lt=now)
