"""What the browser tests share: people to log in as, and the login itself (through the real form)."""

import re

from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from merchants.kernel.vocabulary import Role
from tests.factories import MembershipFactory, MerchantFactory


def make_owner(username: str, *, name: str, code: str):
    """A shop and its owner, who logs in with password = username (as in the demo)."""
    merchant = MerchantFactory(name=name, code=code)
    user = get_user_model().objects.create_user(username=username, password=username)
    MembershipFactory(merchant=merchant, user=user, role=Role.OWNER)
    return merchant


def login(page: Page, base_url: str, username: str, password: str | None = None) -> None:
    """Sign in through the workbench's login form, as a person would, and land on the workbench."""
    page.goto(f"{base_url}/workbench/login/")
    page.get_by_label(re.compile("用户名")).fill(username)
    page.get_by_label(re.compile("密码")).fill(password or username)
    page.get_by_role("button", name=re.compile("登录")).click()
    expect(page).to_have_url(re.compile(r"/workbench/$"))


def open_menu(page: Page, label: str) -> None:
    """Click a sidebar entry by its label (its accessible name also carries the icon's ligature text)."""
    page.get_by_role("link", name=re.compile(rf"(^|\s){re.escape(label)}$")).first.click()


def field(page: Page, label: str):
    """A read-only field of a change page (label and value), found by its label."""
    return page.locator(".field-line").filter(has=page.locator("label").get_by_text(label, exact=True))
