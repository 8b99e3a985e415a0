"""The demo as a merchant reads it (issue 11 §14, §16): no rule ids on any workbench page, negotiations that
were revised or withdrawn, late shipping at a realistic few percent, and a seed summary in words."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from aftersales.models import AfterSaleCase, CaseEvent
from demo import registry
from demo.management.commands.seed_demo import summary_line, totals_line
from demo.shops import SHOPS
from merchants.kernel.admin.sites import workbench_site
from merchants.kernel.scoping import scope_to_actor
from merchants.models import Order
from merchants.transitions import OrderStatus

SIZE = 400
RULE_ID = re.compile(r"\b[A-Z]{1,2}-\d+\b")  # SPEC's rule ids, T-7, L-7 …
CJK = re.compile(r"[\u3400-\u9fff]")
PAGES_PER_LIST = (
    4  # change pages opened per workbench list (each in a different state where there are states)
)


@pytest.fixture
def seeded(db):
    return dict(registry.seed(size=SIZE, log=lambda message: None))


class _VisibleText(HTMLParser):
    """What a reader sees: text outside scripts and styles, and the titles, placeholders and labels."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        self.parts += [
            value for name, value in attrs if name in ("title", "placeholder", "aria-label") and value
        ]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def workbench_urls(user) -> list[str]:
    """The home, every list of the workbench and a few of each list's change pages, in several states."""
    urls = [reverse("workbench:index")]
    for model in workbench_site._registry:
        meta = model._meta
        try:
            urls.append(reverse(f"workbench:{meta.app_label}_{meta.model_name}_changelist"))
        except NoReverseMatch:
            continue
        if not hasattr(model, "merchant_path"):
            continue
        rows = scope_to_actor(model._default_manager.all(), user).order_by("-pk")
        if any(field.name == "status" for field in meta.fields):
            picks = {}
            for pk, status in rows.values_list("pk", "status")[:400]:
                picks.setdefault(status, pk)
            pks = list(picks.values())[:PAGES_PER_LIST]
        else:
            pks = list(rows.values_list("pk", flat=True)[:PAGES_PER_LIST])
        urls += [reverse(f"workbench:{meta.app_label}_{meta.model_name}_change", args=[pk]) for pk in pks]
    return urls


def test_N4_no_rule_ids_on_the_demo_merchants_pages_in_either_language(seeded):
    owner = get_user_model().objects.get(username="shop1")
    negotiated = AfterSaleCase.objects.filter(
        merchant__code=SHOPS[0].code, events__kind=CaseEvent.Kind.PROPOSAL_WITHDRAWN
    ).first()
    urls = workbench_urls(owner)
    if negotiated is not None:  # a timeline with the A-3 negotiation in it
        urls.append(reverse("workbench:aftersales_aftersalecase_change", args=[negotiated.pk]))
    found: dict[str, str] = {}
    opened = 0
    for language in ("zh-hans", "en"):
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
        actions: list[str] = []
        for url in urls + actions:
            response = client.get(url)
            assert response.status_code < 500, url
            if response.status_code != 200:
                continue
            opened += 1
            html = response.content.decode()
            if "/change/" in url and len(actions) < 40:  # the action pages (forms) the change page offers
                actions += [
                    link
                    for link in dict.fromkeys(re.findall(r'href="(/workbench/[^"]+/action/[^"]+)"', html))
                    if link not in actions
                ]
            for match in RULE_ID.finditer(text := visible_text(html)):
                found.setdefault(text[max(0, match.start() - 40) : match.end() + 10], url)

    assert opened > 60  # the walk really saw the demo's pages
    assert not found, found


def test_A3_M4_demo_negotiations_late_shipping_and_summary_read_true(seeded):
    """One seed for three checks (seeding is the slow part): A-3's revised and withdrawn proposals with
    their timeline, late shipping at a few percent (M-4), and the summary in words in both languages."""
    kinds = CaseEvent.Kind
    revised = AfterSaleCase.objects.filter(events__kind=kinds.PROPOSAL_REVISED).distinct()
    withdrawn = AfterSaleCase.objects.filter(events__kind=kinds.PROPOSAL_WITHDRAWN).distinct()

    assert revised.exists() and withdrawn.exists()
    for case, kind in [
        *((c, kinds.PROPOSAL_REVISED) for c in revised[:3]),
        *((c, kinds.PROPOSAL_WITHDRAWN) for c in withdrawn[:3]),
    ]:
        steps = list(case.events.order_by("created_at", "pk").values_list("kind", flat=True))
        assert steps.index(kinds.PROPOSED) < steps.index(kind), steps
    # Some are still waiting: a revised proposal the buyer has not answered, a withdrawn one back with the shop.
    assert revised.filter(status="negotiating").exists() and withdrawn.filter(status="pending").exists()

    now = timezone.now()
    for spec in SHOPS:
        due = Order.objects.filter(merchant__code=spec.code, ship_by__lt=now).exclude(
            status=OrderStatus.CANCELLED
        )
        late = due.filter(
            Q(shipped_at__gt=F("ship_by"))
            | Q(
                status__in=(
                    OrderStatus.TO_SHIP,
                    OrderStatus.PARTIALLY_SHIPPED,
                    OrderStatus.AWAITING_CONFIRMATION,
                )
            )
        )
        share = late.count() / due.count()
        assert 0 < share <= 0.06, (spec.code, late.count(), due.count())

    for language in ("zh-hans", "en"):
        with translation.override(language):
            lines = [summary_line(name, summary) for name, summary in seeded.items()] + [totals_line()]

        for line in lines:
            assert not re.search(r"\b[a-z]+_[a-z_]+\b|\b(pinned|deleted|escalated|changed) \d", line), line
            if language == "en":
                assert not CJK.search(line), line
