"""Languages in the browser (N-4): the workbench's language switch, and a translated page in English.

Simplified Chinese is the default; the switch in the user menu stores the choice (a cookie) so it outlives
the session, and the pages answer in that language wherever a translation exists.
"""

import re

from django.conf import settings
from playwright.sync_api import Page, expect

from tests.e2e.support import login


def user_menu(page: Page, username: str = "shop1"):
    """Open the user menu: a click on one's name at the bottom of the sidebar (language, password, log out)."""
    page.get_by_text(username, exact=True).click()
    return page.locator("nav").filter(has=page.get_by_role("button", name=re.compile("English")))


def test_N4_owner_switches_the_workbench_to_english_and_back(page: Page, live_server, shop1, screenshot):
    login(page, live_server.url, "shop1")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    menu = user_menu(page)
    expect(menu.get_by_text("注销")).to_be_visible()
    screenshot(page, "menu-chinese")

    menu.get_by_role("button", name=re.compile("English")).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    menu = user_menu(page)
    expect(menu.get_by_text("Log out")).to_be_visible()
    screenshot(page, "menu-english")

    # The choice outlives the session: after logging out, the login page is in English too.
    menu.get_by_text("Log out").click()
    page.goto(f"{live_server.url}/workbench/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Log in"))).to_be_visible()
    screenshot(page, "login-english")

    page.get_by_label("Username").fill("shop1")
    page.get_by_label("Password").fill("shop1")
    page.get_by_role("button", name=re.compile("Log in")).click()
    expect(page).to_have_url(re.compile(r"/workbench/$"))
    user_menu(page).get_by_role("button", name=re.compile("简体中文")).click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(user_menu(page).get_by_text("注销")).to_be_visible()


def test_N7_N4_lockout_page_speaks_the_visitors_language(page: Page, live_server, shop1, screenshot):
    """The one fully translated project page so far: five wrong passwords, read in English."""
    page.goto(f"{live_server.url}/workbench/login/")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(f"{live_server.url}/workbench/login/")
        page.get_by_label("Username").fill("shop1")
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name=re.compile("Log in")).click()

    expect(page.get_by_role("heading", name="Sign-in temporarily locked")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Try again in 15 minutes")
    screenshot(page, "lockout-english")
    page.get_by_role("link", name="Back to the sign-in page").click()
    expect(page.get_by_label("Username")).to_be_visible()
