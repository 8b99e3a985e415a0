"""Tenancy of the after-sales pages over HTTP (SPEC §1, A-4, A-10, A-12): another shop's case is a 404, never data."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from aftersales import services
from aftersales.admin.actions import CASE_ACTIONS, actions_for_site
from aftersales.models import AfterSaleCase, DelayReport, RejectReason, ReturnAddress
from aftersales.transitions import CaseStatus, CaseType
from merchants.kernel.admin.sites import workbench_site
from tests.aftersales.factories import AutoRefundRuleFactory, open_pending, walk_to

BACKEND = "django.contrib.auth.backends.ModelBackend"
WB = "workbench"


@pytest.fixture(autouse=True)
def _fast_hashing_and_media(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def url(name, *args, site=WB):
    return reverse(f"{site}:aftersales_{name}", args=args)


@pytest.fixture
def mine(shop, clerk):
    return open_pending(shop)


@pytest.fixture
def theirs(other_shop, other_clerk):
    return open_pending(other_shop)


def test_A10_list_shows_only_the_users_shop(client, clerk, mine, theirs):
    response = login(client, clerk).get(url("aftersalecase_changelist"))

    assert response.status_code == 200
    listed = {case.pk for case in response.context["cl"].result_list}
    assert listed == {mine.pk}
    assert theirs.case_no not in response.content.decode()


def test_A10_case_page_of_another_shop_is_404(client, clerk, mine, theirs):
    login(client, clerk)

    assert client.get(url("aftersalecase_change", mine.pk)).status_code == 200
    assert client.get(url("aftersalecase_change", theirs.pk)).status_code == 404
    assert client.get(url("aftersalecase_history", theirs.pk)).status_code == 404
    assert client.get(url("aftersalecase_change", "not-a-number")).status_code == 404


@pytest.mark.parametrize("action", sorted(actions_for_site(platform_site=False)))
def test_A4_every_action_url_with_another_shops_id_is_404(client, clerk, theirs, action):
    login(client, clerk)
    target = url("aftersalecase_action", theirs.pk, action)

    get = client.get(target)
    post = client.post(target, {"reason": "x", "text": "x", "type": CaseType.REFUND_ONLY, "amount": "1"})

    assert get.status_code == 404
    assert post.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == CaseStatus.PENDING
    assert theirs.events.count() == 1  # only "opened"


def test_A4_platform_only_actions_do_not_exist_on_the_workbench(client, clerk, mine):
    login(client, clerk)

    for action in ("arbitrate", "retry_refund", "no-such-action"):
        assert client.get(url("aftersalecase_action", mine.pk, action)).status_code == 404
    assert set(CASE_ACTIONS) - set(actions_for_site(platform_site=False)) == {"arbitrate", "retry_refund"}


def test_A10_autocomplete_returns_only_the_users_cases(client, clerk, mine, theirs):
    login(client, clerk)
    params = {"app_label": "aftersales", "model_name": "delayreport", "field_name": "case"}

    by_prefix = client.get(reverse("workbench:autocomplete"), {**params, "term": mine.case_no[:8]})
    by_their_no = client.get(reverse("workbench:autocomplete"), {**params, "term": theirs.case_no})

    assert by_prefix.status_code == 200
    assert {row["id"] for row in by_prefix.json()["results"]} == {str(mine.pk)}
    assert by_their_no.json()["results"] == []


def test_A10_search_by_another_shops_case_or_order_no_finds_nothing(client, clerk, mine, theirs):
    login(client, clerk)

    for term in (theirs.case_no, theirs.order_no, theirs.order_no[:6], theirs.case_no[:10]):
        response = client.get(url("aftersalecase_changelist"), {"q": term})
        assert theirs.pk not in {case.pk for case in response.context["cl"].result_list}
    own = client.get(url("aftersalecase_changelist"), {"q": mine.order_no})
    assert [case.pk for case in own.context["cl"].result_list] == [mine.pk]


def test_A10_product_filter_offers_only_the_users_products(client, clerk, mine, theirs):
    login(client, clerk)

    response = client.get(url("aftersalecase_changelist"))
    forced = client.get(url("aftersalecase_changelist"), {"product": theirs.product_id})

    page = response.content.decode()
    assert mine.product.name in page
    assert theirs.product.name not in page
    assert list(forced.context["cl"].result_list) == []


def test_A10_order_and_buyer_filters_stay_in_the_shop(client, clerk, mine, theirs):
    login(client, clerk)

    by_order = client.get(url("aftersalecase_changelist"), {"order_no": theirs.order_no})
    by_buyer = client.get(url("aftersalecase_changelist"), {"buyer": theirs.buyer_id})

    assert list(by_order.context["cl"].result_list) == []
    assert list(by_buyer.context["cl"].result_list) == []


def test_A10_bulk_approve_with_another_shops_ids_changes_nothing(client, clerk, mine, theirs):
    login(client, clerk)

    response = client.post(
        url("aftersalecase_changelist"),
        {"action": "bulk_approve_selected", ACTION_CHECKBOX_NAME: [theirs.pk], "post": "yes"},
    )

    theirs.refresh_from_db()
    assert theirs.status == CaseStatus.PENDING
    assert theirs.events.count() == 1
    assert response.status_code in (200, 302)
    assert theirs.case_no not in response.content.decode()


def test_A10_export_contains_only_the_users_cases(client, clerk, mine, theirs):
    login(client, clerk)
    today = timezone.localtime(mine.created_at).date().isoformat()
    export = url("aftersalecase_export") + f"?created_at_from={today}&created_at_to={today}"

    response = client.post(export, {"format": "0", "resource": "0"})

    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    assert mine.case_no in body
    assert theirs.case_no not in body


def test_A9_delay_reports_of_another_shop_are_404(client, shop, clerk, other_shop, other_clerk, mine, theirs):

    until = timezone.now() + timezone.timedelta(days=2)
    report = services.file_delay_report(theirs, actor=other_clerk, reason="物流停运", delay_until=until)
    login(client, clerk)

    listing = client.get(url("delayreport_changelist"))
    change = client.get(url("delayreport_change", report.pk))
    decide = client.post(url("delayreport_decide", report.pk), {"decision": "approve"})

    assert list(listing.context["cl"].result_list) == []
    assert change.status_code == 404
    assert decide.status_code == 404
    assert DelayReport.objects.get(pk=report.pk).status == "pending"


def test_A9_merchants_cannot_decide_their_own_delay_report(client, clerk, mine):

    report = services.file_delay_report(
        mine, actor=clerk, reason="物流停运", delay_until=timezone.now() + timezone.timedelta(days=2)
    )
    login(client, clerk)

    response = client.post(url("delayreport_decide", report.pk), {"decision": "approve"})

    assert response.status_code == 403
    report.refresh_from_db()
    assert report.status == "pending"


def test_A12_rules_of_another_shop_are_hidden_and_404(client, shop, other_shop, owner):
    own_rule = AutoRefundRuleFactory(merchant=shop, max_amount="50.00")
    their_rule = AutoRefundRuleFactory(merchant=other_shop, max_amount="50.00")
    login(client, owner)

    listing = client.get(url("autorefundrule_changelist"))
    change = client.get(url("autorefundrule_change", their_rule.pk))
    delete = client.post(url("autorefundrule_delete", their_rule.pk), {"post": "yes"})

    assert {rule.pk for rule in listing.context["cl"].result_list} == {own_rule.pk}
    assert change.status_code == 404
    assert delete.status_code == 404
    assert type(their_rule).objects.filter(pk=their_rule.pk).exists()


def test_A12_an_owner_cannot_put_a_rule_into_another_shop(client, shop, other_shop, owner):
    login(client, owner)

    response = client.post(
        url("autorefundrule_add"),
        {"merchant": other_shop.pk, "name": "越权规则", "enabled": "on", "priority": 1, "max_amount": "10"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert "merchant" in response.context["adminform"].form.errors
    assert not other_shop.autorefundrule_set.exists()


def test_tenancy_every_aftersales_workbench_page_hides_the_other_shop(
    client, shop, other_shop, owner, other_clerk
):
    """The registry walk, for this app: every after-sales model on the workbench lists only the own shop."""

    mine_case = walk_to(CaseStatus.RETURN_IN_TRANSIT, shop, owner)
    their_case = walk_to(CaseStatus.RETURN_IN_TRANSIT, other_shop, other_clerk)
    rows = {
        AfterSaleCase: (mine_case, their_case),
        DelayReport: tuple(
            services.file_delay_report(
                case, actor=actor, reason="报备", delay_until=timezone.now() + timezone.timedelta(days=1)
            )
            for case, actor in ((mine_case, owner), (their_case, other_clerk))
        ),
    }
    rows[type(AutoRefundRuleFactory._meta.model())] = (
        AutoRefundRuleFactory(merchant=shop, max_amount="5"),
        AutoRefundRuleFactory(merchant=other_shop, max_amount="5"),
    )
    for model, values in (
        (ReturnAddress, {"contact": "甲", "phone": "13800138000", "address": "仓"}),
        (RejectReason, {"text": "商品已使用"}),
    ):
        rows[model] = (
            model.objects.create(merchant=shop, **values),
            model.objects.create(merchant=other_shop, **values),
        )
    login(client, owner)
    models = [model for model in workbench_site._registry if model._meta.app_label == "aftersales"]

    assert set(models) == set(rows)
    for model in models:
        own, other = rows[model]
        info = (model._meta.app_label, model._meta.model_name)
        listing = client.get(reverse("workbench:{}_{}_changelist".format(*info)))
        assert {obj.pk for obj in listing.context["cl"].result_list} == {own.pk}, model
        assert client.get(reverse("workbench:{}_{}_change".format(*info), args=[other.pk])).status_code == 404
