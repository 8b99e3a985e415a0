"""The state machine is the only source of buttons (A-4, M-2, M-3, S-1, S-4): for every state and every role,
the buttons the case page and the order page show are exactly the moves their services accept.

Each page is rendered as the person would see it; then every move the site offers is tried through its
service in a savepoint that is rolled back (the services' own checks stay the authority): a shown button
must be accepted, a hidden one refused.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from aftersales import services as case_services
from aftersales.admin.actions import actions_for_site
from aftersales.models import AfterSaleCase
from aftersales.transitions import ArbitrationOutcome, CaseStatus, Liability
from merchants import services as order_services
from merchants.admin.orders.actions import ORDER_ACTIONS
from merchants.kernel.vocabulary import Role
from merchants.models import OrderItem
from merchants.transitions import AftersaleLock, Carrier, OrderStatus, PaymentMethod
from tests.aftersales.conftest import make_png
from tests.aftersales.factories import make_order, tracking_no, walk_to
from tests.factories import MembershipFactory, UserFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
# Who looks, and on which site: shop members on the workbench, platform people on /admin/ (a superuser
# on both: on the workbench the platform's own moves are not offered at all).
ROLES = (
    ("owner", "workbench"),
    ("agent", "workbench"),
    ("viewer", "workbench"),
    ("other_shop", "workbench"),
    ("staff", "admin"),
    ("superuser", "admin"),
    ("superuser", "workbench"),
)


class _Rollback(Exception):
    pass


def accepted(call) -> bool:
    """Whether the service accepts the move; nothing it did survives."""
    try:
        with transaction.atomic():
            call()
            raise _Rollback
    except _Rollback:
        return True
    except ValidationError:
        return False


@pytest.fixture
def people(shop, other_shop, owner, clerk, viewer, other_clerk, operator, superuser):
    return {
        "owner": owner,
        "agent": clerk,
        "viewer": viewer,
        "other_shop": other_clerk,
        "staff": operator,
        "superuser": superuser,
    }


def shown_on_page(client, user, url, read) -> set[str] | None:
    client.force_login(user, backend=BACKEND)
    response = client.get(url)
    if response.status_code == 404:
        return set()  # another shop's object: no page, no buttons
    assert response.status_code == 200, (url, response.status_code)
    return read(response)


# --------------------------------------------------------------------------------------------
# Cases


def case_moves(case, actor) -> dict:
    """One valid call per move the case pages offer (what a filled-in form would send)."""
    return {
        "approve": lambda: case_services.approve(case, actor=actor),
        "reject": lambda: case_services.reject(case, actor=actor, reason="商品已使用"),
        "propose": lambda: case_services.propose(
            case, actor=actor, type=case.type, amount=Decimal("1.00"), text="补偿 1 元"
        ),
        "revise_proposal": lambda: case_services.revise_proposal(
            case, actor=actor, type=case.type, amount=Decimal("2.00"), text="补偿 2 元"
        ),
        "withdraw_proposal": lambda: case_services.withdraw_proposal(case, actor=actor),
        "confirm_return": lambda: case_services.confirm_return(case, actor=actor),
        "refuse_return": lambda: case_services.refuse_return(case, actor=actor, reason="商品不一致"),
        "reship": lambda: case_services.reship(
            case, actor=actor, carrier=Carrier.SF, tracking_no=tracking_no()
        ),
        "upload_voucher": lambda: case_services.upload_voucher(case, actor=actor, file=make_png()),
        "file_delay_report": lambda: case_services.file_delay_report(
            case, actor=actor, reason="物流停运", delay_until=timezone.now() + timedelta(days=2)
        ),
        "add_message": lambda: case_services.add_message(case, actor=actor, text="请尽快处理"),
        "arbitrate": lambda: case_services.arbitrate(
            case, actor=actor, outcome=ArbitrationOutcome.REFUND, liability=Liability.MERCHANT
        ),
        "retry_refund": lambda: case_services.retry_refund(case, actor=actor),
    }


CASE_STATES = [(status, "") for status in CaseStatus] + [
    (CaseStatus.REFUNDING, "refund_failed"),
    (CaseStatus.PENDING, "delay_reported"),
]


@pytest.mark.parametrize(
    ("status", "variant"), CASE_STATES, ids=[f"{s}{'-' + v if v else ''}" for s, v in CASE_STATES]
)
def test_A4_case_buttons_are_the_moves_the_services_accept_in_every_state_for_every_role(
    client, shop, people, settings, tmp_path, status, variant
):
    settings.MEDIA_ROOT = str(tmp_path)
    case = walk_to(status, shop, people["owner"], platform_user=people["staff"])
    if variant == "refund_failed":
        AfterSaleCase.objects.filter(pk=case.pk).update(refund_failed=True)
    if variant == "delay_reported":
        case_services.file_delay_report(
            case, actor=people["agent"], reason="仓库停电", delay_until=timezone.now() + timedelta(days=1)
        )
    case.refresh_from_db()

    for role, site in ROLES:
        user = people[role]
        url = reverse(f"{site}:aftersales_aftersalecase_change", args=[case.pk])
        shown = shown_on_page(client, user, url, lambda r: {b["name"] for b in r.context["case_actions"]})
        offered = actions_for_site(platform_site=site == "admin")
        moves = case_moves(case, user)

        took = {name for name in offered if accepted(moves[name])}

        assert shown == took, (status, variant, role, site, sorted(shown), sorted(took))


def test_A4_the_walk_sees_every_case_move_shown_somewhere(client, shop, people):
    """The walk above is not vacuous: in some state every move is both shown and accepted for someone."""
    seen = set()
    for status, variant in CASE_STATES:
        if variant:
            continue
        case = walk_to(status, shop, people["owner"], platform_user=people["staff"])
        if status == CaseStatus.REFUNDING:
            AfterSaleCase.objects.filter(pk=case.pk).update(refund_failed=True)
        for role, site in (("owner", "workbench"), ("staff", "admin")):
            url = reverse(f"{site}:aftersales_aftersalecase_change", args=[case.pk])
            seen |= shown_on_page(
                client, people[role], url, lambda r: {b["name"] for b in r.context["case_actions"]}
            )

    assert seen == set(actions_for_site(platform_site=True))


# --------------------------------------------------------------------------------------------
# Orders


def order_moves(order, actor) -> dict:
    def ship():
        items = [item for item in order.items.all() if item.package_id is None] or list(order.items.all())
        return order_services.ship(
            order, items=items, carrier=Carrier.SF, tracking_no=tracking_no(), actor=actor
        )

    def change_tracking():
        package = order.packages.first()
        if package is None:
            raise ValidationError("no package to change")  # the form would offer nothing to pick
        return order_services.update_tracking(
            package, carrier=Carrier.SF, tracking_no=tracking_no(), actor=actor
        )

    return {
        "ship": ship,
        "change_tracking": change_tracking,
        "confirm_cod": lambda: order_services.confirm_cod(order, actor=actor),
        "cancel": lambda: order_services.cancel_order(order, actor=actor, reason="买家电话确认不要了"),
    }


ORDER_STATES = [
    (OrderStatus.UNPAID, PaymentMethod.ONLINE, ""),
    (OrderStatus.AWAITING_CONFIRMATION, PaymentMethod.COD, ""),
    (OrderStatus.TO_SHIP, PaymentMethod.ONLINE, ""),
    (OrderStatus.TO_SHIP, PaymentMethod.COD, ""),
    (OrderStatus.TO_SHIP, PaymentMethod.ONLINE, "in_aftersales"),
    (OrderStatus.PARTIALLY_SHIPPED, PaymentMethod.ONLINE, ""),
    (OrderStatus.SHIPPED, PaymentMethod.ONLINE, ""),
    (OrderStatus.SHIPPED, PaymentMethod.COD, ""),
    (OrderStatus.RECEIVED, PaymentMethod.ONLINE, ""),
    (OrderStatus.CANCELLED, PaymentMethod.COD, ""),
]


def order_buttons(order, site):
    paths = {
        reverse(f"{site}:merchants_order_{action.name}", args=[order.pk]): action.name
        for action in ORDER_ACTIONS
    }
    return lambda response: {paths[item["path"]] for item in response.context["actions_detail"]}


@pytest.mark.parametrize(
    ("status", "payment_method", "variant"),
    ORDER_STATES,
    ids=[f"{s}-{p}{'-' + v if v else ''}" for s, p, v in ORDER_STATES],
)
def test_S1_M3_order_buttons_are_the_moves_the_services_accept_in_every_state_for_every_role(
    client, shop, people, status, payment_method, variant
):
    order = make_order(shop, status=status, payment_method=payment_method, items=2)
    if variant == "in_aftersales":
        OrderItem.objects.filter(order=order).update(aftersale_lock=AftersaleLock.OPEN)

    for role, site in ROLES:
        user = people[role]
        url = reverse(f"{site}:merchants_order_change", args=[order.pk])
        shown = shown_on_page(client, user, url, order_buttons(order, site))
        moves = order_moves(order, user)

        took = {action.name for action in ORDER_ACTIONS if accepted(moves[action.name])}

        assert shown == took, (status, payment_method, variant, role, site, sorted(shown), sorted(took))


def test_S1_the_order_walk_sees_every_order_move_shown_somewhere(client, shop, people):
    seen = set()
    for status, payment_method, _variant in ORDER_STATES:
        order = make_order(shop, status=status, payment_method=payment_method, items=2)
        for role, site in (("owner", "workbench"), ("staff", "admin")):
            url = reverse(f"{site}:merchants_order_change", args=[order.pk])
            seen |= shown_on_page(client, people[role], url, order_buttons(order, site))

    assert seen == {action.name for action in ORDER_ACTIONS}


def test_M3_a_member_added_as_viewer_later_sees_no_order_buttons(client, shop, db):
    """The role is read per request: the same person, once a viewer, gets no buttons and a 403."""
    person = UserFactory(username="member1")
    membership = MembershipFactory(merchant=shop, role=Role.AGENT, user=person)
    order = make_order(shop, status=OrderStatus.TO_SHIP)
    url = reverse("workbench:merchants_order_change", args=[order.pk])
    ship = reverse("workbench:merchants_order_ship", args=[order.pk])

    as_agent = shown_on_page(client, person, url, order_buttons(order, "workbench"))
    membership.role = Role.VIEWER
    membership.save()
    person.refresh_from_db()
    as_viewer = shown_on_page(client, person, url, order_buttons(order, "workbench"))

    assert as_agent == {"ship"}
    assert as_viewer == set()
    assert client.get(ship).status_code == 403
