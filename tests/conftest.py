"""Shared fixtures: two shops with their members, and a platform operator (STYLE §8)."""

import os
from pathlib import Path

import pytest
from django.utils import translation

from merchants.kernel.vocabulary import Role
from tests.factories import MembershipFactory, MerchantFactory, PlatformUserFactory, UserFactory


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request with Accept-Language: en (LocaleMiddleware)
    leaves English active in the test thread, and code called directly afterwards would speak it."""
    translation.deactivate()
    yield
    translation.deactivate()


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


# --------------------------------------------------------------------------------------------
# Browser tests need Debian's Chromium (SPEC N-1): skipped with the reason on a laptop without it,
# a hard error in CI (CI=true), where a silently skipped browser suite would hide a broken install.

CHROMIUM = "/usr/bin/chromium"
E2E_DIR = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(config, items):
    e2e = [item for item in items if "e2e" in item.keywords or E2E_DIR in item.path.parents]
    for item in e2e:
        item.add_marker(pytest.mark.e2e)
    if not e2e or os.access(CHROMIUM, os.X_OK):
        return
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(f"{CHROMIUM} is missing and CI=true: {len(e2e)} browser tests cannot run.")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not found: apt-get install chromium to run the browser tests")
    for item in e2e:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 is slow on purpose; tests log in hundreds of times and only need a working hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _data_migration_rows(request):
    """Rows seeded by data migrations (the platform's reply templates, T-6; the platform_senior group) are there in every database test.

    A transactional test (row-lock races, the browser, the worker) ends with a flush that deletes them on
    PostgreSQL, and the tests after it would otherwise run without what every installation has.
    """
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not uses_db:
        return
    request.getfixturevalue("db")
    import importlib

    from django.apps import apps

    for migration in (
        "merchants.migrations.0008_reply_template_defaults",
        "tickets.migrations.0002_urge_reply_templates",
    ):
        importlib.import_module(migration).add_defaults(apps, None)
    from django.contrib.auth.models import Group

    if not Group.objects.filter(name="platform_senior").exists():
        importlib.import_module("tickets.migrations.0003_platform_senior_group").add_group(apps, None)
