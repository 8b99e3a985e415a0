"""The kernel's batch-path plumbing: `field__any=[…]` (merchants/kernel/lookups.py) and the fast fill of
MerchantOwned.from_db (merchants/kernel/models.py). Both run on every deadline sweep, import lookup and level
run; these tests pin that they give exactly what Django's own `__in` and Model.__init__ give."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import signals
from django.utils import timezone
from django_fsm import ConcurrentTransition

from merchants.models import Order, OrderItem
from tests.factories import OrderFactory, OrderItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(shop):
    return [OrderFactory(merchant=shop) for _ in range(5)]


def test_any_matches_in(orders):
    ids = [orders[0].pk, orders[2].pk, orders[4].pk, 10**9]
    assert set(Order.objects.filter(pk__any=ids)) == set(Order.objects.filter(pk__in=ids))
    nos = [orders[1].order_no, "no-such-order"]
    assert list(Order.objects.filter(order_no__any=nos)) == [orders[1]]


def test_any_never_matches_a_value_cut_or_rounded_to_the_column(orders):
    """order_no is varchar(32): a longer value must not be cut down into a match (nor an amount rounded)."""
    order = orders[0]
    longer = order.order_no + "X" * 40
    assert not Order.objects.filter(order_no__any=[longer]).exists()
    assert not Order.objects.filter(
        pk=order.pk, paid_amount__any=[order.paid_amount + Decimal("0.001")]
    ).exists()
    assert Order.objects.filter(pk=order.pk, paid_amount__any=[order.paid_amount]).exists()


def test_any_of_a_set_and_of_nothing(orders):
    assert Order.objects.filter(pk__any={orders[0].pk, orders[1].pk}).count() == 2
    assert Order.objects.filter(pk__any=[]).count() == 0
    assert Order.objects.exclude(pk__any=[orders[0].pk]).count() == 4


def test_any_binds_one_parameter_for_any_length(orders):
    """40,000 ids: one parameter (SQLite refuses more than 32,766 placeholders; `__in` would write 40,000)."""
    ids = [*range(10**8, 10**8 + 40_000), orders[3].pk]
    queryset = Order.objects.filter(pk__any=ids)
    sql, params = queryset.query.sql_with_params()
    assert len(params) == 1
    assert list(queryset) == [orders[3]]


def test_any_through_a_foreign_key(orders):
    OrderItemFactory(order=orders[2])
    expected = set(OrderItem.objects.filter(order__in=[orders[2].pk]))
    assert len(expected) >= 1
    assert set(OrderItem.objects.filter(order__any=[orders[2].pk])) == expected
    assert set(OrderItem.objects.filter(order_id__any=[orders[2].pk])) == expected
    assert set(OrderItem.objects.filter(order__any=[orders[2]])) == expected  # an instance: its key


def test_any_refuses_a_single_value():
    with pytest.raises(TypeError, match="list"):
        Order.objects.filter(order_no__any="A-1").count()


# ---- the fast fill of from_db


def _fields(obj, names):
    return {name: getattr(obj, name) for name in names}


def test_fast_fill_loads_what_init_loads(orders):
    order = orders[0]
    names = [f.attname for f in Order._meta.concrete_fields]
    loaded = Order.objects.get(pk=order.pk)
    built = Order(*[getattr(loaded, n) for n in names])  # Model.__init__, the reference
    assert _fields(loaded, names) == _fields(built, names)
    assert loaded._state.adding is False and loaded._state.db == "default"
    assert loaded.get_deferred_fields() == set()


def test_fast_fill_with_only_leaves_the_rest_deferred(orders):
    order = orders[1]
    loaded = Order.objects.only("status", "order_no").get(pk=order.pk)
    assert "buyer_name" in loaded.get_deferred_fields()
    assert loaded.status == order.status and loaded.order_no == order.order_no
    assert loaded.buyer_name == order.buyer_name  # a deferred field still loads on access


def test_fast_fill_records_the_loaded_state_for_the_concurrency_check(orders):
    """django-fsm-2's ConcurrentTransitionMixin compares the saved state with the loaded one: a row whose state
    moved since it was loaded is refused — which needs the loaded state recorded by the fast fill too."""
    stale = Order.objects.get(pk=orders[2].pk)
    Order.objects.filter(pk=stale.pk).update(status="cancelled")
    stale.updated_at = timezone.now()
    with pytest.raises(ConcurrentTransition):
        stale.save(update_fields=["updated_at"])


def test_a_post_init_receiver_turns_the_fast_fill_off(orders):
    """A model somebody listens to at init is built by Model.__init__, so the receiver sees every instance."""
    from merchants.kernel import models as kernel_models

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    signals.post_init.connect(receiver, sender=Order)
    kernel_models._LOAD_PLANS.clear()
    try:
        list(Order.objects.filter(pk__any=[orders[0].pk, orders[1].pk]))
    finally:
        signals.post_init.disconnect(receiver, sender=Order)
        kernel_models._LOAD_PLANS.clear()
    assert sorted(seen) == sorted([orders[0].pk, orders[1].pk])
    assert connection.vendor in ("sqlite", "postgresql")
