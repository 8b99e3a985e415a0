"""Shared fixtures: two shops with their members, and a platform operator (STYLE §8)."""

import pytest

from merchants.transitions import Role
from tests.factories import MembershipFactory, MerchantFactory, PlatformUserFactory, UserFactory


@pytest.fixture
def shop(db):
    return MerchantFactory(name="一号店", code="shop1")


@pytest.fixture
def other_shop(db):
    return MerchantFactory(name="二号店", code="shop2")


@pytest.fixture
def owner(shop):
    return MembershipFactory(merchant=shop, role=Role.OWNER, user=UserFactory(username="owner1")).user


@pytest.fixture
def clerk(shop):
    return MembershipFactory(merchant=shop, role=Role.AGENT, user=UserFactory(username="clerk1")).user


@pytest.fixture
def viewer(shop):
    return MembershipFactory(merchant=shop, role=Role.VIEWER, user=UserFactory(username="viewer1")).user


@pytest.fixture
def other_clerk(other_shop):
    return MembershipFactory(merchant=other_shop, role=Role.AGENT, user=UserFactory(username="clerk2")).user


@pytest.fixture
def operator(db):
    return PlatformUserFactory(username="operator")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)
