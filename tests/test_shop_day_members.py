"""Issue 11 §10: the owner edits the shop's members (SPEC §1) — services and the workbench pages."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from merchants import services
from merchants.kernel.vocabulary import Role
from merchants.kernel.workflow import ActorNotAllowedError, ObjectNotFoundError
from merchants.members import LastOwnerError, MemberExistsError
from merchants.models import Membership
from tests.factories import MembershipFactory, UserFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
MEMBERS = reverse("workbench:merchants_membership_changelist")
ADD = reverse("workbench:merchants_membership_add")


def action_url(membership, name):
    return reverse(f"workbench:merchants_membership_{name}", args=[membership.pk])


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


# --------------------------------------------------------------------------------------------
# Services


def test_actors_owner_adds_an_existing_login_with_a_role(shop, owner, caplog):
    UserFactory(username="newbie")

    with caplog.at_level("INFO", logger="shouhou.members"):
        added = services.add_member(shop, actor=owner, username="newbie", role=Role.VIEWER)

    assert added.password == ""
    assert Membership.objects.get(merchant=shop, user__username="newbie").role == Role.VIEWER
    assert "member added: shop=shop1 user=newbie role=viewer" in caplog.text
    assert "by=owner1" in caplog.text


def test_actors_owner_creates_a_login_whose_one_time_password_works(shop, owner):
    added = services.add_member(shop, actor=owner, username="helper", role=Role.AGENT, new_login=True)

    user = get_user_model().objects.get(username="helper")
    assert len(added.password) >= 10
    assert user.password != added.password  # stored hashed
    assert user.check_password(added.password)
    assert not user.is_staff
    assert added.membership.role == Role.AGENT


def test_actors_a_new_login_cannot_take_a_used_name(shop, owner, clerk):
    with pytest.raises(ValidationError, match="CLERK1 已被使用"):
        services.add_member(shop, actor=owner, username="CLERK1", role=Role.AGENT, new_login=True)


def test_actors_an_existing_login_must_exist_and_not_be_a_member_yet(shop, owner, clerk):
    with pytest.raises(ValidationError, match="没有登录名为 ghost 的账号"):
        services.add_member(shop, actor=owner, username="ghost", role=Role.AGENT)
    with pytest.raises(MemberExistsError):
        services.add_member(shop, actor=owner, username="clerk1", role=Role.AGENT)


def test_actors_an_agent_is_refused_with_their_role_named(shop, clerk):
    UserFactory(username="newbie")

    with pytest.raises(ActorNotAllowedError, match="只有店主可以管理成员；您在本店的角色是「售后客服」"):
        services.add_member(shop, actor=clerk, username="newbie", role=Role.AGENT)

    assert not Membership.objects.filter(user__username="newbie").exists()


def test_actors_another_shops_owner_cannot_touch_our_members(shop, other_shop, clerk):
    their_owner = MembershipFactory(merchant=other_shop, role=Role.OWNER).user
    ours = Membership.objects.get(user=clerk)

    with pytest.raises(ObjectNotFoundError):
        services.remove_member(ours, actor=their_owner)
    with pytest.raises(ObjectNotFoundError):
        services.add_member(shop, actor=their_owner, username="clerk1", role=Role.OWNER)

    assert Membership.objects.filter(pk=ours.pk).exists()


def test_actors_owner_changes_a_role_and_removes_a_member(shop, owner, clerk):
    membership = Membership.objects.get(user=clerk)

    services.change_role(membership, actor=owner, role=Role.VIEWER)
    membership.refresh_from_db()
    assert membership.role == Role.VIEWER

    services.remove_member(membership, actor=owner)
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert get_user_model().objects.filter(pk=clerk.pk).exists()  # the login stays


def test_actors_the_last_owner_can_neither_leave_nor_be_demoted(shop, owner):
    mine = Membership.objects.get(user=owner)

    with pytest.raises(LastOwnerError, match="唯一的店主"):
        services.remove_member(mine, actor=owner)
    with pytest.raises(LastOwnerError):
        services.change_role(mine, actor=owner, role=Role.AGENT)

    mine.refresh_from_db()
    assert mine.role == Role.OWNER


def test_actors_with_a_second_owner_the_first_may_step_down(shop, owner):
    second = MembershipFactory(merchant=shop, role=Role.OWNER)
    mine = Membership.objects.get(user=owner)

    services.change_role(mine, actor=owner, role=Role.AGENT)

    assert Membership.objects.get(pk=mine.pk).role == Role.AGENT
    with pytest.raises(LastOwnerError):
        services.remove_member(second, actor=second.user)


def test_actors_platform_staff_may_edit_members(shop, owner, clerk, operator):
    services.change_role(Membership.objects.get(user=clerk), actor=operator, role=Role.OWNER)

    assert Membership.objects.get(user=clerk).role == Role.OWNER


def test_actors_a_bad_role_is_refused(shop, owner, clerk):
    with pytest.raises(ValidationError, match="请选择成员的角色"):
        services.change_role(Membership.objects.get(user=clerk), actor=owner, role="boss")


# --------------------------------------------------------------------------------------------
# Workbench pages


def test_actors_owner_adds_a_new_login_and_sees_its_password_once(client, shop, owner):
    login(client, owner)

    page = client.get(ADD)
    assert page.status_code == 200
    response = client.post(
        ADD, {"merchant": shop.pk, "login": "new", "username": "helper", "role": Role.AGENT}
    )

    assert response.status_code == 200
    password = response.context["added"].password
    assert password and password in response.content.decode()
    assert get_user_model().objects.get(username="helper").check_password(password)
    assert password not in client.get(MEMBERS).content.decode()


def test_actors_a_refused_add_says_why_on_the_page(client, shop, owner, clerk):
    login(client, owner)

    response = client.post(
        ADD, {"merchant": shop.pk, "login": "existing", "username": "clerk1", "role": Role.AGENT}, follow=True
    )

    assert "clerk1 已经是本店成员" in response.content.decode()
    assert Membership.objects.filter(merchant=shop).count() == 2


def test_actors_owner_changes_a_role_and_removes_a_member_on_their_pages(client, shop, owner, clerk):
    membership = Membership.objects.get(user=clerk)
    login(client, owner)

    change_page = client.get(reverse("workbench:merchants_membership_change", args=[membership.pk]))
    assert action_url(membership, "change_role") in change_page.content.decode()
    client.post(action_url(membership, "change_role"), {"role": Role.VIEWER})
    assert Membership.objects.get(pk=membership.pk).role == Role.VIEWER

    response = client.post(action_url(membership, "remove"))
    assert response.status_code == 302 and response.url == MEMBERS
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_actors_removing_the_last_owner_on_the_page_changes_nothing(client, shop, owner):
    mine = Membership.objects.get(user=owner)
    login(client, owner)

    response = client.post(action_url(mine, "remove"))

    assert response.status_code == 200
    assert "唯一的店主" in response.content.decode()
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_actors_an_agent_reads_the_members_with_their_role_said_and_no_buttons(client, shop, owner, clerk):
    login(client, clerk)
    membership = Membership.objects.get(user=owner)

    page = client.get(MEMBERS).content.decode()

    assert "只有店主可以添加、修改或移除成员；您在本店的角色是「售后客服」" in page
    assert ADD not in page
    assert client.get(ADD).status_code == 403
    assert client.post(action_url(membership, "remove")).status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_actors_owner_adds_only_to_their_own_shops(client, shop, other_shop, owner):
    UserFactory(username="newbie")
    login(client, owner)

    response = client.post(
        ADD, {"merchant": other_shop.pk, "login": "existing", "username": "newbie", "role": Role.AGENT}
    )

    assert response.status_code == 200
    assert not Membership.objects.filter(user__username="newbie").exists()
