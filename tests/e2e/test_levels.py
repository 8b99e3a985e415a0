"""L-8 in the browser: shop1's level dashboard draws its charts (Chart.js from our static files, no inline
script) and reads in Chinese and in English; the what-if answers."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from merchants.levels import engine
from merchants.models import Merchant, ShopDay


@pytest.fixture
def evaluated_shop1(shop1):
    Merchant.objects.filter(pk=shop1.pk).update(level_changed_at=timezone.now() - timedelta(days=40))
    today = timezone.localdate()
    for n in range(1, 30):
        ShopDay.objects.create(
            merchant=shop1, day=today - timedelta(days=n), orders=10 + n, gmv=Decimal(100 * n)
        )
    for n in range(5, 0, -1):  # a few days of history for the trend lines
        engine.run(today=today - timedelta(days=n))
    engine.run()
    return shop1


def charts_drawn(page: Page) -> int:
    """How many canvases Chart.js (unfold's app.js) turned into charts."""
    return page.evaluate(
        "() => [...document.querySelectorAll('canvas.chart')].filter(c => Chart.getChart(c)).length"
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_L8_the_dashboard_renders_its_charts_for_shop1(
    page: Page, live_server, evaluated_shop1, screenshot, language
):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    if language == "en":
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}]
        )
    page.goto(f"{live_server.url}/workbench/login/")
    field = "Username" if language == "en" else "用户名"
    page.get_by_label(re.compile(field)).fill("shop1")
    page.get_by_label(re.compile("Password" if language == "en" else "密码")).fill("shop1")
    page.get_by_role("button", name=re.compile("Log in" if language == "en" else "登录")).click()
    expect(page).to_have_url(re.compile(r"/workbench/$"))
    page.locator("#workbench-dashboard a[href*='levelevaluation/dashboard']").first.click()
    expect(page.locator("#levels-dashboard")).to_be_visible()
    expect(page.locator("#levels-checks")).to_contain_text(
        "On-time shipping rate" if language == "en" else "准时发货率"
    )
    page.wait_for_function("() => document.querySelectorAll('canvas.chart').length === 3 && window.Chart")
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas.chart')].every(c => Chart.getChart(c))"
    )
    assert charts_drawn(page) == 3
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e]
    screenshot(page, f"dashboard-{language}")

    page.locator("#what-if-form input[name='good_reviews']").fill("10")
    page.locator("#what-if-form button[type='submit']").click()
    expect(page.locator("#what-if-checks")).to_be_visible()
    screenshot(page, f"what-if-{language}")
