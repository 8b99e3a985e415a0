"""N-9: no hostile query-string value makes any change list, filter, search or autocomplete answer ≥ 500.

The pages, their filters and the query parameters are discovered, not listed: every ModelAdmin registered
on both sites (/admin/ and /workbench/), every parameter its list filters expect (the filters are
instantiated on a real ChangeList to learn them), the search `q`, the ordering `o`, the page `p`, the
date hierarchy, and the autocomplete view for every foreign key whose target is searchable on that site.
Each parameter gets every value of the corpus, one request each, as the user who would use that site:
a shop owner on the workbench, platform staff on /admin/ (and a superuser for the admin-only pages
staff cannot open). It runs on SQLite and, in CI, on PostgreSQL (where a NUL byte used to be a DataError).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.signals import got_request_exception
from django.db import models
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from aftersales.transitions import CaseStatus, CaseType
from merchants.kernel.admin.sites import workbench_site
from merchants.kernel.vocabulary import Role
from merchants.models import OrderStatus
from tests.aftersales.factories import AutoRefundRuleFactory, CaseFactory, DelayReportFactory, make_order
from tests.factories import MembershipFactory, MerchantFactory, PlatformUserFactory, UserFactory

BACKEND = "django.contrib.auth.backends.ModelBackend"
RAW = object()  # marks a value already percent-encoded (bytes that no str can hold)

# Each value once broke something somewhere, or is the kind of thing that does (issue 8, N-9).
CORPUS: dict[str, str | tuple] = {
    "far_future": "9999-12-31",
    "year_one": "0001-01-01",
    "nul": "a\x00b",
    "huge_int": "99999999999999999999999",
    "superscript_two": "²",
    "max_code_point": "A\U0010ffff",
    "rtl_override": "\u202eabc",
    "fullwidth_digits": "１２３",
    "two_thousand_chars": "8" * 2000,
    "sql": "1' OR '1'='1'; --",
    "emoji": "😀🧧",
    "negative": "-1",
    "lone_surrogate": (RAW, "%ED%A0%80"),
}

SITES = {"admin": admin.site, "workbench": workbench_site}


@pytest.fixture
def fuzz_client(client):
    """A client that returns a 500 as a response (the fuzz goes on) and remembers why it happened."""
    client.raise_request_exception = False
    client.errors = []

    def remember(sender, request=None, **kwargs):
        import sys

        exc = sys.exc_info()[1]
        client.errors.append(f"{type(exc).__name__}: {exc}"[:200])

    got_request_exception.connect(remember, weak=False, dispatch_uid="fuzz")
    yield client
    got_request_exception.disconnect(dispatch_uid="fuzz")


def failure(client, response, what: str) -> str | None:
    if response.status_code < 500:
        return None
    why = client.errors[-1] if client.errors else ""
    return f"{what}: {response.status_code} {why}"


def encoded(value) -> str:
    if isinstance(value, tuple) and value[0] is RAW:
        return value[1]
    return quote(value, safe="")


# --------------------------------------------------------------------------------------------
# Data: one of everything the lists show, in the owner's shop and in another


@pytest.fixture
def world(db):
    shop, other = MerchantFactory(code="fz1"), MerchantFactory(code="fz2")
    owner = MembershipFactory(merchant=shop, role=Role.OWNER, user=UserFactory(username="fz-owner")).user
    staff = PlatformUserFactory(username="fz-staff")
    root = UserFactory(username="fz-root", is_staff=True, is_superuser=True)
    for merchant in (shop, other):
        make_order(merchant, status=OrderStatus.SHIPPED, items=2)
        make_order(merchant, status=OrderStatus.UNPAID, paid_amount=Decimal("9.90"))
        CaseFactory(merchant=merchant, type=CaseType.REFUND_ONLY, status=CaseStatus.PENDING)
        CaseFactory(merchant=merchant, type=CaseType.RETURN_REFUND, status=CaseStatus.ARBITRATION)
        DelayReportFactory(merchant=merchant, delay_until=timezone.now() + timedelta(days=2))
        AutoRefundRuleFactory(merchant=merchant, max_amount=Decimal("50.00"))
    return {"owner": owner, "staff": staff, "root": root}


def users_for(site_name: str, world, model_admin) -> list:
    """Who would use the page: the owner on the workbench; platform staff on /admin/, or a superuser
    for the admin-only pages staff cannot open (users, schedules, login logs)."""
    if site_name == "workbench":
        return [world["owner"]]
    staff = world["staff"]
    return [staff] if model_admin.has_view_permission(_request(staff)) else [world["root"]]


# --------------------------------------------------------------------------------------------
# Discovery


def _request(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


SEARCH_PARAMS = ("q", "o")  # search and ordering: asked together with the filters
PAGE_PARAM = "p"  # a page past the end redirects (Django's ?e=1), hiding the others: asked on its own


def filter_params(model_admin, user) -> list[str]:
    """Every query parameter the list filters read, learned from a real ChangeList, and the date hierarchy."""
    params = []
    if model_admin.date_hierarchy:
        params += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    changelist = model_admin.get_changelist_instance(_request(user))
    for spec in changelist.filter_specs:
        params += [name for name in spec.expected_parameters() if name]
    return list(dict.fromkeys(params))


def autocomplete_sources(site) -> list[tuple[str, str, str]]:
    """(app_label, model_name, field_name): one foreign key per target that the site can search."""
    sources, seen = [], set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, (models.ForeignKey, models.ManyToManyField)) or field.auto_created:
                continue
            target = field.remote_field.model
            target_admin = site._registry.get(target)
            if target in seen or target_admin is None or not target_admin.search_fields:
                continue
            seen.add(target)
            sources.append((model._meta.app_label, model._meta.model_name, field.name))
    return sources


def test_N9_fuzz_discovery_finds_the_filters_of_both_sites(world):
    """The walk must see the filters that once broke, or a green fuzz run would prove nothing."""
    orders = filter_params(workbench_site._registry[apps.get_model("merchants", "Order")], world["owner"])
    cases = filter_params(admin.site._registry[apps.get_model("aftersales", "AfterSaleCase")], world["staff"])
    searchable = {model for _app, model, _field in autocomplete_sources(admin.site)}

    assert {"placed_at_from", "placed_at_to", "product", "buyer", "late", "status__exact"} <= set(orders)
    assert {"created_at_from", "created_at_to", "amount_from", "order_no", "buyer", "product", "tab"} <= set(
        cases
    )
    assert autocomplete_sources(workbench_site)
    assert searchable  # e.g. a case's order: the order search is what autocomplete runs


# --------------------------------------------------------------------------------------------
# The fuzz


def _pages(site_name: str):
    site = SITES[site_name]
    return sorted(site._registry.items(), key=lambda pair: pair[0]._meta.label)


@pytest.mark.parametrize(
    "site_name,label",
    [(name, model._meta.label) for name in SITES for model, _admin in _pages(name)],
)
def test_N9_fuzz_no_change_list_answers_5xx(fuzz_client, world, site_name, label):
    """Each hostile value goes to every filter parameter, the search and the ordering at once (each
    parses its own; one request renders them all), then to each of them alone whenever that request
    was not a plain 200 (a refusal that redirects would hide the others), and alone to the page."""
    client = fuzz_client
    site = SITES[site_name]
    model = apps.get_model(label)
    model_admin = site._registry[model]
    url = reverse(f"{site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")
    failures, exercised = [], 0

    def ask(user, pairs, what) -> int:
        nonlocal exercised
        query = "&".join(f"{quote(param, safe='')}={encoded(value)}" for param, value in pairs)
        response = client.get(f"{url}?{query}")
        exercised += 1
        if problem := failure(client, response, f"{user.username} {what}"):
            failures.append(problem)
        return response.status_code

    for user in users_for(site_name, world, model_admin):
        if not model_admin.has_view_permission(_request(user)):
            continue
        client.force_login(user, backend=BACKEND)
        params = [*filter_params(model_admin, user), *SEARCH_PARAMS]
        for name, value in CORPUS.items():
            if ask(user, [(param, value) for param in params], f"all filters={name}") != 200:
                for param in params:
                    ask(user, [(param, value)], f"{param}={name}")
            ask(user, [(PAGE_PARAM, value)], f"{PAGE_PARAM}={name}")

    assert not failures, "\n".join(failures)
    if site_name == "workbench" or model._meta.app_label in ("merchants", "aftersales"):
        assert exercised, f"{label}: nobody could open the list, so nothing was fuzzed"


@pytest.mark.parametrize("site_name", list(SITES))
def test_N9_fuzz_no_autocomplete_answers_5xx(fuzz_client, world, site_name):
    client = fuzz_client
    site = SITES[site_name]
    url = reverse(f"{site.name}:autocomplete")
    failures = []

    for user in [world["owner"]] if site_name == "workbench" else [world["staff"], world["root"]]:
        client.force_login(user, backend=BACKEND)
        for app_label, model_name, field_name in autocomplete_sources(site):
            for name, value in CORPUS.items():
                for param in ("term", "page"):
                    query = f"app_label={app_label}&model_name={model_name}&field_name={field_name}"
                    response = client.get(f"{url}?{query}&{param}={encoded(value)}")
                    if problem := failure(
                        client, response, f"{user.username} {model_name}.{field_name} {param}={name}"
                    ):
                        failures.append(problem)
        for name, value in CORPUS.items():  # hostile names of the model and field themselves
            response = client.get(
                f"{url}?app_label={encoded(value)}&model_name={encoded(value)}&field_name=x"
            )
            if problem := failure(client, response, f"{user.username} app_label={name}"):
                failures.append(problem)

    assert not failures, "\n".join(failures)


def test_N9_fuzz_anonymous_gets_the_login_page_not_an_error(client, db):
    for name, value in CORPUS.items():
        response = client.get(f"{reverse('workbench:merchants_order_changelist')}?q={encoded(value)}")
        assert response.status_code == 302, name
    assert AnonymousUser().is_authenticated is False


def object_urls(site, model, model_admin) -> list[str]:
    """Every URL of the admin that takes an object id (change, history, delete, action pages), as a
    template with {id}: the patterns come from the ModelAdmin's own get_urls()."""
    prefix = reverse(f"{site.name}:{model._meta.app_label}_{model._meta.model_name}_changelist")
    urls = []
    for pattern in model_admin.get_urls():
        route = str(pattern.pattern)
        if "<path:object_id>" not in route:
            continue
        route = route.replace("<path:object_id>", "{id}")
        route = re.sub(r"<slug:\w+>", "approve", route)  # an action page: a real action's slug
        urls.append(prefix + route)
    return urls


ID_CORPUS = (
    "huge_int",
    "superscript_two",
    "fullwidth_digits",
    "negative",
    "nul",
    "two_thousand_chars",
    "emoji",
)
OUR_APPS = ("merchants", "aftersales", "reviews", "tickets")


@pytest.mark.parametrize("site_name", list(SITES))
def test_N9_fuzz_no_object_page_answers_5xx(fuzz_client, world, site_name):
    """A hostile id in the path of every object page of our apps (change, history, delete, ship,
    tracking, case actions, delay decisions); the packages' pages share Django's own get_object."""
    client = fuzz_client
    site = SITES[site_name]
    failures, pages = [], 0
    for model, model_admin in _pages(site_name):
        if model._meta.app_label not in OUR_APPS:
            continue
        user = users_for(site_name, world, model_admin)[0]
        client.force_login(user, backend=BACKEND)
        for template in object_urls(site, model, model_admin):
            pages += 1
            for name in ID_CORPUS:
                value = CORPUS[name]
                response = client.get(template.format(id=encoded(value)))
                if problem := failure(client, response, f"{template} id={name}"):
                    failures.append(problem)

    assert not failures, "\n".join(failures)
    assert pages > len(site._registry)  # change, history and delete at least, plus the action pages
