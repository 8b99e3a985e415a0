"""The demo's orders (seed_demo) and its simulator (simulate_demo, beat's simulate_demo_tick)."""

import random
from collections import defaultdict
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from demo import registry
from demo import tasks as demo_tasks
from demo.shops import SHOP_CODES, SHOPS, demo_shops
from merchants import selectors, services, tasks
from merchants.kernel.beat import sync_beat_schedule
from merchants.kernel.scoping import is_platform
from merchants.kernel.vocabulary import Role
from merchants.models import (
    Membership,
    Merchant,
    Order,
    OrderEvent,
    OrderItem,
    Package,
    PlatformSettings,
    Product,
    Sku,
)
from merchants.transitions import OrderStatus

SIZE = 50  # the command's default is 2,000; the rules below hold for any size from registry.MIN_SIZE
LOGIN_SHOPS = [spec.code for spec in SHOPS if spec.login]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    registry.seed(size=SIZE, log=lambda message: None)


def counts() -> dict[str, int]:
    models = (get_user_model(), Merchant, Membership, Product, Sku, Order, OrderItem, Package, OrderEvent)
    return {model.__name__: model.objects.count() for model in models}


def login(client, site: str, username: str, password: str):
    return client.post(
        f"/{site}/login/", {"username": username, "password": password, "next": f"/{site}/"}, follow=True
    )


# --------------------------------------------------------------------------------------------
# seed_demo


def test_seed_demo_command_creates_the_demo_logins_and_they_sign_in(db, client):
    out = StringIO()

    call_command("seed_demo", size=SIZE, stdout=out)

    assert Order.objects.filter(merchant__code__in=SHOP_CODES).count() == SIZE  # the level story adds its own
    assert "shop1/shop1" in out.getvalue()
    User = get_user_model()
    assert User.objects.get(username="admin").is_superuser
    staff = User.objects.get(username="staff")
    assert staff.is_staff and is_platform(staff) and not staff.is_superuser
    shop1, shop2 = (
        Membership.objects.get(user__username=name, role=Role.OWNER).merchant for name in ("shop1", "shop2")
    )
    assert shop1 != shop2
    assert not User.objects.get(username="shop1").is_staff
    assert Membership.objects.get(user__username="shop1_agent").role == Role.AGENT
    assert Membership.objects.get(user__username="shop2_viewer").role == Role.VIEWER

    response = login(client, "workbench", "shop1", "shop1")
    assert response.status_code == 200 and response.wsgi_request.path == "/workbench/"
    assert response.wsgi_request.user.username == "shop1"
    client.logout()
    response = login(client, "admin", "staff", "staff")
    assert response.status_code == 200 and response.wsgi_request.path == "/admin/"
    client.logout()
    response = login(client, "admin", "shop1", "shop1")  # a shop owner is not platform staff
    assert response.wsgi_request.path == "/admin/login/"


def test_seed_demo_command_refuses_a_size_too_small(db):
    with pytest.raises(CommandError):
        call_command("seed_demo", size=registry.MIN_SIZE - 1, verbosity=0)

    assert not Order.objects.exists()


def test_M1_demo_shops_have_settings_and_a_catalog(seeded):
    shops = {shop.code: shop for shop in demo_shops()}

    assert len(shops) >= 3
    assert (
        shops["chenguang-digital"].express_refund_enabled and not shops["jiangnan-tea"].express_refund_enabled
    )
    for shop in shops.values():
        assert shop.return_address and shop.return_contact and shop.settlement_cycle
        products = Product.objects.filter(merchant=shop)
        assert 15 <= products.count() <= 30
        assert Sku.objects.filter(merchant=shop).exists() or shop.code == "yuejia-home"
    assert (
        Product.objects.filter(three_guarantee=True).exists()
        and Product.objects.filter(durable=True).exists()
    )
    assert Sku.objects.filter(spec="黑色 / 128G").exists()


def test_M2_every_order_state_is_present_in_each_login_shop(seeded):
    by_shop = defaultdict(set)
    for code, status in Order.objects.values_list("merchant__code", "status"):
        by_shop[code].add(status)

    for code in LOGIN_SHOPS:
        assert by_shop[code] == set(OrderStatus.values), code
    assert Order.objects.filter(merchant__code__in=SHOP_CODES).count() == SIZE  # the level story adds its own
    assert (
        Order.objects.filter(status=OrderStatus.AWAITING_CONFIRMATION).exclude(payment_method="cod").count()
        == 0
    )


def test_M4_late_orders_exist_in_the_demo_shops(seeded):
    late = selectors.late_orders(None)

    assert late.filter(status=OrderStatus.TO_SHIP).exists()
    assert late.filter(status=OrderStatus.PARTIALLY_SHIPPED).exists()
    assert {order.merchant.code for order in late.select_related("merchant")} >= set(LOGIN_SHOPS)
    assert all(order.is_late for order in late)


def test_M2_S1_each_order_history_matches_its_state(seeded):
    now = timezone.now()
    events = defaultdict(list)
    for event in OrderEvent.objects.order_by("created_at", "pk"):
        events[event.order_id].append(event)
    items = defaultdict(list)
    for item in OrderItem.objects.all():
        items[item.order_id].append(item)

    for order in Order.objects.all():
        history = events[order.pk]
        assert history[0].kind == services.EventKind.PLACED and history[0].source_status == ""
        assert history[0].created_at == order.placed_at
        for before, after in zip(history, history[1:], strict=False):
            assert after.source_status == before.target_status, order.order_no
            assert before.created_at <= after.created_at <= now
        assert history[-1].target_status == order.status, order.order_no
        assert 1 <= len(items[order.pk]) <= 3
        assert order.paid_amount == sum(item.paid_amount for item in items[order.pk])
        assert order.ship_by == order.placed_at + timedelta(hours=48)
        shipped = [item for item in items[order.pk] if item.package_id]
        if order.status in (OrderStatus.SHIPPED, OrderStatus.RECEIVED):
            assert len(shipped) == len(items[order.pk]) and order.shipped_at
            assert order.shipped_at == max(p.shipped_at for p in order.packages.all())
        elif order.status == OrderStatus.PARTIALLY_SHIPPED:
            assert 0 < len(shipped) < len(items[order.pk])
        else:
            assert not shipped
        assert (order.status == OrderStatus.RECEIVED) == (order.received_at is not None)
        assert (order.status == OrderStatus.CANCELLED) == (order.cancelled_at is not None)
        if order.status == OrderStatus.UNPAID:
            assert order.paid_at is None and order.deadline_at == order.placed_at + timedelta(hours=24)
        if order.payment_method == "online" and order.status not in (
            OrderStatus.UNPAID,
            OrderStatus.CANCELLED,
        ):
            assert order.paid_at and order.placed_at <= order.paid_at <= (order.shipped_at or now)
        shipments = [event for event in history if event.kind == services.EventKind.SHIPPED]
        assert len(shipments) == order.packages.count()


def test_M3_seeded_unpaid_orders_follow_the_limit_staff_set(db):
    limits = PlatformSettings.load()
    limits.unpaid_cancel_hours = 6  # not the default 24: a copied period would leave orders overdue
    limits.save()

    registry.seed(size=SIZE, log=lambda message: None)

    now, unpaid = timezone.now(), list(Order.objects.filter(status=OrderStatus.UNPAID))
    assert unpaid and all(now < o.deadline_at == o.placed_at + timedelta(hours=6) for o in unpaid)
    assert any(o.deadline_at <= now + timedelta(hours=2) for o in unpaid)  # some close to the limit
    auto_cancelled = Order.objects.filter(events__kind=services.EventKind.AUTO_CANCELLED)
    assert auto_cancelled and all(o.cancelled_at == o.placed_at + timedelta(hours=6) for o in auto_cancelled)


def test_seed_demo_twice_changes_nothing(seeded):
    before = counts()
    orders = dict(Order.objects.values_list("order_no", "status"))

    results = registry.seed(size=SIZE, log=lambda message: None)

    assert counts() == before
    assert dict(Order.objects.values_list("order_no", "status")) == orders
    summary = dict(results)
    assert summary["merchants.users_and_shops"] == {"users": 0, "shops": 0, "memberships": 0}
    assert summary["merchants.orders"]["orders"] == 0


def _delete_demo_rows():
    """Orders are protected by the after-sales, review and ticket rows seeded on them: remove those first."""
    from aftersales import models as aftersales_models
    from reviews.models import Review
    from tickets.models import Ticket

    for model in (
        Ticket,
        Review,
        aftersales_models.Refund,
        aftersales_models.DelayReport,
        aftersales_models.AfterSaleCase,
    ):
        model.objects.all().delete()
    Order.objects.all().delete()


def test_seed_is_deterministic_for_a_seed_and_a_clock(db):
    now = timezone.now()

    def fingerprint():
        return sorted(
            Order.objects.values_list("order_no", "status", "paid_amount", "buyer_name", "placed_at")
        ), sorted(Package.objects.values_list("order__order_no", "carrier", "tracking_no"))

    registry.seed(size=SIZE, now=now, log=lambda message: None)
    first = fingerprint()
    _delete_demo_rows()
    registry.seed(size=SIZE, now=now, log=lambda message: None)

    assert fingerprint() == first


def test_S5_M3_seeded_deadlines_make_the_worker_act(seeded):
    changed = tasks.auto_confirm_receipts()  # some shipped orders are already past 15 days

    assert changed >= 1
    soon = timezone.now() + timedelta(hours=2)
    unpaid_soon = list(Order.objects.filter(status=OrderStatus.UNPAID, deadline_at__lte=soon))
    assert unpaid_soon  # some unpaid orders are close to their 24 h limit
    with time_machine.travel(soon):
        assert tasks.cancel_unpaid_orders() == len(unpaid_soon)
    assert {o.status for o in Order.objects.filter(pk__in=[o.pk for o in unpaid_soon])} == {
        OrderStatus.CANCELLED
    }


def test_registered_seeders_run_in_order_after_the_merchants_ones(db, monkeypatch):
    seen = []

    def aftersales_like(ctx):
        seen.append((Order.objects.count(), ctx.size, ctx.rng.random()))
        return {"cases": 0}

    monkeypatch.setitem(
        registry.DEMO_SEEDERS, "tests.after", registry.Hook("tests.after", aftersales_like, 50)
    )

    results = registry.seed(size=SIZE, log=lambda message: None)

    names = [name for name, _summary in results]
    assert names.index("tests.after") > max(
        # the merchants' data seeders; the level story (merchants.levels, 80) reads everyone's data, so comes last
        i
        for i, name in enumerate(names)
        if name.startswith("merchants.") and name != "merchants.levels"
    )
    assert names.index("tests.after") < names.index("reviews.reviews")  # order 60 comes after 50
    assert seen[0][:2] == (SIZE, SIZE)


# --------------------------------------------------------------------------------------------
# The simulator


def test_simulator_tick_acts_through_services_and_records_events(seeded):
    from aftersales.models import CaseEvent
    from reviews.models import ReviewEvent
    from tickets.models import TicketEvent

    def events():
        return sum(model.objects.count() for model in (OrderEvent, CaseEvent, ReviewEvent, TicketEvent))

    before_orders, before_events = Order.objects.count(), events()

    result = registry.simulate_tick(rng=random.Random(7))

    assert result.changed >= 1 and result.changed == len(result.done)
    assert Order.objects.count() > before_orders  # every tick places at least one order
    assert events() >= before_events + result.changed  # each action leaves an event row
    new = Order.objects.order_by("-pk").first()
    assert new.events.first().kind == services.EventKind.PLACED
    assert new.ship_by == new.placed_at + timedelta(hours=48)


def test_simulator_notes_a_refused_action_instead_of_raising(seeded):
    paid = Order.objects.filter(status=OrderStatus.TO_SHIP, payment_method="online").first()
    tick = registry.TickContext(rng=random.Random(1), shops=demo_shops())

    result = tick.attempt("pay again", services.pay_order, paid)  # the state moved meanwhile

    assert result is None and tick.done == []
    assert tick.refused and tick.refused[0].startswith("pay again")
    paid.refresh_from_db()
    assert paid.status == OrderStatus.TO_SHIP


def test_simulator_without_demo_shops_does_nothing(db):
    result = registry.simulate_tick(rng=random.Random(1))

    assert result.changed == 0 and result.refused
    assert not Order.objects.exists()


def test_registered_actions_run_in_every_tick(seeded, monkeypatch):
    calls = []
    monkeypatch.setitem(
        registry.DEMO_ACTIONS, "tests.action", registry.Hook("tests.action", calls.append, 60)
    )

    registry.simulate_tick(rng=random.Random(3))

    assert len(calls) == 1 and calls[0].shops


def test_simulate_demo_tick_task_runs_only_when_the_demo_simulator_is_on(seeded, settings):
    before = counts()
    settings.SHOUHOU_DEMO_SIMULATOR = False

    assert demo_tasks.simulate_demo_tick() == 0
    assert counts() == before

    settings.SHOUHOU_DEMO_SIMULATOR = True
    assert demo_tasks.simulate_demo_tick() >= 1
    assert Order.objects.count() > before["Order"]


def test_simulate_demo_command_prints_each_tick(seeded):
    out = StringIO()

    call_command("simulate_demo", ticks=2, interval=0, seed=5, stdout=out)

    text = out.getvalue()
    assert "第 1 轮" in text and "第 2 轮" in text and "✓" in text


def test_simulator_beat_entry_follows_the_setting(db, settings):
    name = "merchants.simulate_demo_tick"
    entry = settings.SHOUHOU_BEAT_SCHEDULE[name]
    assert entry["task"] == "demo.tasks.simulate_demo_tick"
    assert entry["schedule"] == timedelta(seconds=30)
    assert PeriodicTask.objects.get(name=name).enabled is settings.SHOUHOU_DEMO_SIMULATOR is False

    settings.SHOUHOU_BEAT_SCHEDULE = {**settings.SHOUHOU_BEAT_SCHEDULE, name: {**entry, "enabled": True}}
    sync_beat_schedule()
    assert PeriodicTask.objects.get(name=name).enabled

    settings.SHOUHOU_BEAT_SCHEDULE = {**settings.SHOUHOU_BEAT_SCHEDULE, name: {**entry, "enabled": False}}
    sync_beat_schedule()
    assert not PeriodicTask.objects.get(name=name).enabled


def test_seeded_orders_spread_over_about_sixty_days(seeded):
    oldest = Order.objects.order_by("placed_at").first().placed_at
    per_status = dict(Order.objects.values_list("status").annotate(n=Count("pk")))

    assert timedelta(days=30) < timezone.now() - oldest <= timedelta(days=61)
    assert per_status[OrderStatus.RECEIVED] == max(per_status.values())
