"""The demo's member of two shops, `ops` (SPEC §1 Membership; B-5's jobs of no one shop).

seed_demo makes `ops`/`ops` an agent of shop1's and shop2's shops; on the workbench they see both shops'
orders (with the shop column) and none of a third shop's, may import, and a job they start for no one shop
is theirs alone in the import center.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from demo import registry
from demo.shops import MULTI_SHOP_LOGIN, SHOPS
from merchants.kernel.centers.models import ImportJob
from merchants.kernel.scoping import WRITE_ROLES, merchant_ids_for
from merchants.kernel.vocabulary import Role
from merchants.models import Membership, Merchant, Order

SIZE = 50  # as tests/demo/test_orders.py: the rules hold for any size from registry.MIN_SIZE
LOGIN_SHOPS = {spec.code for spec in SHOPS if spec.login}


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def seeded(db):
    registry.seed(size=SIZE, log=lambda message: None)


def sign_in(client, username: str, password: str):
    return client.post(
        "/workbench/login/", {"username": username, "password": password, "next": "/workbench/"}, follow=True
    )


def test_seed_demo_makes_ops_a_writing_member_of_shop1s_and_shop2s_shops(db):
    out = StringIO()

    call_command("seed_demo", size=SIZE, stdout=out)

    ops = get_user_model().objects.get(username=MULTI_SHOP_LOGIN)
    memberships = Membership.objects.filter(user=ops).select_related("merchant")
    assert {m.merchant.code for m in memberships} == LOGIN_SHOPS and len(LOGIN_SHOPS) == 2
    assert all(m.role in WRITE_ROLES and m.role == Role.AGENT for m in memberships)
    assert not ops.is_staff and not ops.is_superuser and ops.check_password("ops")
    assert "ops/ops" in out.getvalue()


def test_seed_demo_twice_keeps_one_ops_with_two_memberships(seeded):
    registry.seed(size=SIZE, log=lambda message: None)

    assert get_user_model().objects.filter(username=MULTI_SHOP_LOGIN).count() == 1
    assert Membership.objects.filter(user__username=MULTI_SHOP_LOGIN).count() == 2


def test_ops_signs_in_to_the_workbench_and_sees_both_shops_orders_and_no_other(seeded, client):
    shops = {m.code: m for m in Merchant.objects.filter(code__in=LOGIN_SHOPS)}
    others = Order.objects.exclude(merchant__code__in=LOGIN_SHOPS)
    assert others.exists()  # the small shops' orders, which ops must not see

    response = sign_in(client, MULTI_SHOP_LOGIN, "ops")
    assert response.status_code == 200 and response.wsgi_request.path == "/workbench/"
    assert set(merchant_ids_for(response.wsgi_request.user)) == {shop.pk for shop in shops.values()}

    listing = client.get(reverse("workbench:merchants_order_changelist"), {"all": ""})
    assert listing.status_code == 200
    listed = {order.merchant_id for order in listing.context["cl"].queryset}
    assert listed == {shop.pk for shop in shops.values()}
    both = Order.objects.filter(merchant__code__in=LOGIN_SHOPS)
    assert listing.context["cl"].queryset.count() == both.count()
    body = listing.content.decode()
    assert all(shop.name in body for shop in shops.values())  # the shop column says whose order it is


def test_B5_a_job_ops_starts_for_no_one_shop_is_seen_by_ops_alone(seeded, client):
    ops = get_user_model().objects.get(username=MULTI_SHOP_LOGIN)
    job = ImportJob.objects.create(
        user=ops, merchant=None, site="workbench", resource="merchants.product", original_name="两店商品.csv"
    )
    centers = reverse("workbench:merchants_importjob_changelist")

    sign_in(client, MULTI_SHOP_LOGIN, "ops")
    mine = client.get(centers)
    client.logout()
    sign_in(client, "shop1", "shop1")
    owners = client.get(centers)
    job_page = client.get(reverse("workbench:merchants_importjob_change", args=[job.pk]))

    assert "两店商品.csv" in mine.content.decode() and "多个店铺" in mine.content.decode()  # whose: none
    assert "两店商品.csv" not in owners.content.decode() and "还没有导入任务" in owners.content.decode()
    assert job_page.status_code == 404
