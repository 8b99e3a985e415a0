"""Tenancy, once (SPEC §1, N-7): which shops an actor sees and what a role may do there."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from merchants import services
from merchants.kernel import scoping
from merchants.kernel.scoping import (
    ALL_ROLES,
    BUYER,
    WRITE_ROLES,
    actor_kind_of,
    get_for_actor,
    is_platform,
    merchant_id_of,
    require_role,
    scope_to_actor,
)
from merchants.kernel.vocabulary import MerchantStatus, Role
from merchants.kernel.workflow import ActorNotAllowedError, ObjectNotFoundError
from merchants.models import ActorKind, Membership, Merchant, Order, OrderEvent, OrderItem, Package
from merchants.transitions import Carrier
from tests.factories import MembershipFactory, OrderFactory, UserFactory


@pytest.fixture
def orders(shop, other_shop, clerk):
    mine = OrderFactory(merchant=shop)
    theirs = OrderFactory(merchant=other_shop)
    services.ship(
        mine, items=list(mine.items.all()), carrier=Carrier.SF, tracking_no="SF1234567890", actor=clerk
    )
    return mine, theirs


def _fresh(user):
    """The user as a new request would load it (roles are cached on the user object)."""
    return type(user).objects.get(pk=user.pk)


@pytest.mark.parametrize("who", ["clerk", "viewer", "owner"])
def test_member_sees_only_their_shops_rows(request, orders, shop, who):
    mine, _theirs = orders
    user = request.getfixturevalue(who)

    visible = {
        Order: set(scope_to_actor(Order.objects.all(), user)),
        Merchant: set(scope_to_actor(Merchant.objects.all(), user)),
        OrderItem: set(scope_to_actor(OrderItem.objects.all(), user)),
        Package: set(scope_to_actor(Package.objects.all(), user)),
        OrderEvent: set(scope_to_actor(OrderEvent.objects.all(), user)),
    }

    assert visible[Order] == {mine}
    assert visible[Merchant] == {shop}
    assert visible[OrderItem] == set(mine.items.all())
    assert visible[Package] == set(mine.packages.all())
    assert visible[OrderEvent] == set(mine.events.all())


def test_other_shops_member_sees_only_the_other_shop(orders, other_shop, other_clerk):
    _mine, theirs = orders

    assert set(scope_to_actor(Order.objects.all(), other_clerk)) == {theirs}
    assert set(scope_to_actor(Merchant.objects.all(), other_clerk)) == {other_shop}
    assert not scope_to_actor(OrderEvent.objects.all(), other_clerk).exists()


@pytest.mark.parametrize("who", ["operator", "superuser", "system"])
def test_platform_superuser_and_system_see_every_shop(request, orders, shop, other_shop, who):
    actor = None if who == "system" else request.getfixturevalue(who)

    assert set(scope_to_actor(Order.objects.all(), actor)) == set(orders)
    assert set(scope_to_actor(Merchant.objects.all(), actor)) == {shop, other_shop}


def test_member_of_two_shops_sees_both(orders, shop, other_shop):
    user = UserFactory(username="both")
    MembershipFactory(user=user, merchant=shop, role=Role.VIEWER)
    MembershipFactory(user=user, merchant=other_shop, role=Role.AGENT)

    assert set(scope_to_actor(Order.objects.all(), user)) == set(orders)
    assert scoping.role_for(user, shop.pk) == Role.VIEWER
    assert scoping.role_for(user, other_shop.pk) == Role.AGENT


@pytest.mark.parametrize(
    "make_user",
    [
        pytest.param(lambda: AnonymousUser(), id="anonymous"),
        pytest.param(lambda: UserFactory(username="nobody"), id="no-membership"),
        pytest.param(
            lambda: UserFactory(username="staffer", is_staff=True), id="staff-without-platform-group"
        ),
    ],
)
def test_users_without_membership_or_platform_role_see_nothing(orders, make_user):
    user = make_user()

    assert not scope_to_actor(Order.objects.all(), user).exists()
    assert not scope_to_actor(Merchant.objects.all(), user).exists()
    assert is_platform(user) is False


def test_platform_group_needs_staff_status(orders):
    user = UserFactory(username="grouped")
    user.groups.add(Group.objects.get_or_create(name=scoping.PLATFORM_GROUP)[0])

    assert is_platform(_fresh(user)) is False
    assert not scope_to_actor(Order.objects.all(), _fresh(user)).exists()


def test_inactive_member_or_operator_sees_nothing(orders, clerk, operator):
    type(clerk).objects.filter(pk__in=[clerk.pk, operator.pk]).update(is_active=False)

    assert not scope_to_actor(Order.objects.all(), _fresh(clerk)).exists()
    assert not scope_to_actor(Order.objects.all(), _fresh(operator)).exists()


def test_cleared_shops_members_lose_access(orders, shop, clerk, owner):
    Merchant.objects.filter(pk=shop.pk).update(status=MerchantStatus.CLEARED)
    clerk, owner = _fresh(clerk), _fresh(owner)

    assert not scope_to_actor(Order.objects.all(), clerk).exists()
    assert not scope_to_actor(Merchant.objects.all(), owner).exists()
    with pytest.raises(ObjectNotFoundError):
        require_role(owner, shop.pk, ALL_ROLES)
    assert Membership.objects.filter(user=clerk, merchant=shop).exists()  # the row stays for history


def test_cleared_shop_leaves_other_memberships_alone(orders, shop, other_shop):
    user = UserFactory(username="both")
    MembershipFactory(user=user, merchant=shop, role=Role.AGENT)
    MembershipFactory(user=user, merchant=other_shop, role=Role.AGENT)
    Merchant.objects.filter(pk=shop.pk).update(status=MerchantStatus.CLEARED)

    assert set(scope_to_actor(Order.objects.all(), _fresh(user))) == {orders[1]}


def test_cleared_shop_is_still_visible_to_platform_staff(orders, shop, operator):
    Merchant.objects.filter(pk=shop.pk).update(status=MerchantStatus.CLEARED)

    assert set(scope_to_actor(Order.objects.all(), operator)) == set(orders)


def test_model_that_is_not_merchant_owned_cannot_be_scoped(clerk):
    with pytest.raises(TypeError):
        scope_to_actor(Group.objects.all(), clerk)


def test_get_for_actor_hides_another_shops_object(orders, clerk, other_clerk):
    mine, theirs = orders

    assert get_for_actor(Order.objects.all(), clerk, pk=mine.pk) == mine
    with pytest.raises(ObjectNotFoundError) as exc:
        get_for_actor(Order.objects.all(), clerk, pk=theirs.pk)
    with pytest.raises(ObjectNotFoundError) as missing:
        get_for_actor(Order.objects.all(), clerk, pk=10**9)

    # the same words whether the row exists in another shop or not at all
    assert exc.value.messages == missing.value.messages == ["对象不存在，或不属于您的店铺。"]


def test_merchant_id_of_follows_the_models_merchant_path(orders, shop):
    mine, _theirs = orders

    assert merchant_id_of(shop) == shop.pk
    assert merchant_id_of(mine) == shop.pk
    assert merchant_id_of(mine.items.first()) == shop.pk
    assert merchant_id_of(mine.events.first()) == shop.pk
    assert merchant_id_of(Membership.objects.filter(merchant=shop).first()) == shop.pk


# --- require_role


def test_require_role_lets_writers_and_the_system_act(shop, owner, clerk):
    require_role(owner, shop.pk, WRITE_ROLES)
    require_role(clerk, shop.pk, WRITE_ROLES)
    require_role(None, shop.pk, WRITE_ROLES, platform=False)


def test_require_role_refuses_viewer_naming_the_role(shop, viewer):
    require_role(viewer, shop.pk, ALL_ROLES)  # reading is fine

    with pytest.raises(ActorNotAllowedError) as exc:
        require_role(viewer, shop.pk, WRITE_ROLES)

    assert exc.value.messages == ["您在本店的角色「只读」不能执行此操作。"]
    assert exc.value.code == "role"


def test_require_role_refuses_agent_an_owner_only_action(shop, clerk):
    with pytest.raises(ActorNotAllowedError) as exc:
        require_role(clerk, shop.pk, {Role.OWNER})

    assert exc.value.messages == ["您在本店的角色「售后客服」不能执行此操作。"]


def test_require_role_hides_another_shop(shop, other_clerk):
    with pytest.raises(ObjectNotFoundError) as exc:
        require_role(other_clerk, shop.pk, ALL_ROLES)

    assert exc.value.messages == ["对象不存在，或不属于您的店铺。"]


def test_require_role_platform_staff_only_where_allowed(shop, operator, superuser):
    require_role(operator, shop.pk, WRITE_ROLES, platform=True)
    require_role(superuser, shop.pk, WRITE_ROLES, platform=False)

    with pytest.raises(ActorNotAllowedError) as exc:
        require_role(operator, shop.pk, WRITE_ROLES, platform=False)

    assert exc.value.messages == ["平台人员不能代替商家执行此操作。"]


def test_actor_kind_names_who_acted(clerk, operator, superuser):
    assert actor_kind_of(None) == ActorKind.SYSTEM
    assert actor_kind_of(BUYER) == ActorKind.BUYER
    assert actor_kind_of(clerk) == ActorKind.MERCHANT
    assert actor_kind_of(operator) == ActorKind.PLATFORM
    assert actor_kind_of(superuser) == ActorKind.PLATFORM


def test_N7_the_buyer_and_anonymous_visitors_never_widen_a_queryset(shop, other_shop):
    OrderFactory(merchant=shop)
    OrderFactory(merchant=other_shop)

    assert scope_to_actor(Order.objects.all(), None).count() == 2  # the system sees all
    assert scope_to_actor(Order.objects.all(), BUYER).count() == 0
    assert scope_to_actor(Order.objects.all(), AnonymousUser()).count() == 0
    assert scope_to_actor(Merchant.objects.all(), BUYER).count() == 0


def test_N7_the_buyer_passes_no_role_check(shop):
    with pytest.raises(ActorNotAllowedError):
        require_role(BUYER, shop.pk, ALL_ROLES, platform=True)


def test_N7_sees_merchant_is_scope_to_actors_rule_for_one_shop(orders, shop, other_shop, clerk, operator):
    """For rows read by a number unique across shops (the orders import's existing orders): the same
    verdict as scope_to_actor, shop by shop, for every kind of actor."""
    cleared = MembershipFactory(user=clerk, role=Role.AGENT).merchant
    cleared.status = MerchantStatus.CLEARED
    cleared.save(update_fields=["status"])
    clerk = _fresh(clerk)
    for actor in (clerk, operator, None, scoping.BUYER, AnonymousUser()):
        visible = set(scope_to_actor(Merchant.objects.all(), actor).values_list("pk", flat=True))
        for merchant in (shop, other_shop, cleared):
            assert scoping.sees_merchant(actor, merchant.pk) == (merchant.pk in visible), (actor, merchant)
        assert not scoping.sees_merchant(actor, None) or scoping.sees_all(actor)
