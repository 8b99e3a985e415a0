"""N-7 in the browser: the pages run under the content-security policy without one violation.

Chromium reports every blocked script, style, image or eval as a `securitypolicyviolation` event and a
console error; the pages of both sites (home, lists, the case page with evidence thumbnails served by
the protected file view) must produce none. The last test shows why the policy keeps 'unsafe-eval'.
"""

import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from aftersales import services
from tests.aftersales.factories import open_pending
from tests.e2e.support import login

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def png(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), (220, 90, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def watched(page: Page):
    """The page, with every CSP violation and console error it reports collected."""
    console: list[str] = []
    page.on("console", lambda message: message.type == "error" and console.append(message.text))
    page.on("pageerror", lambda error: console.append(str(error)))
    page.add_init_script(WATCH)
    page.console_errors = console
    return page


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations") + [
        text for text in page.console_errors if "Content Security Policy" in text or "EvalError" in text
    ]


@pytest.fixture
def case_with_evidence(shop1, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    case = open_pending(shop1)
    owner = shop1.memberships.get().user
    services.add_message(case, actor=owner, text="请看照片。", attachments=[png("外观.png")])
    services.file_delay_report(
        case,
        actor=owner,
        reason="仓库盘点。",
        delay_until=timezone.now() + timedelta(days=2),
        images=[png("盘点.png")],
    )
    return case


def visit(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


def test_N7_workbench_pages_run_without_csp_violations(watched, live_server, case_with_evidence):
    visit(watched, live_server.url + "/workbench/login/")
    assert violations(watched) == []
    login(watched, live_server.url, "shop1")
    case_page = live_server.url + reverse(
        "workbench:aftersales_aftersalecase_change", args=[case_with_evidence.pk]
    )

    action = "workbench:aftersales_aftersalecase_action"
    for url in (
        live_server.url + "/workbench/",
        live_server.url + reverse("workbench:aftersales_aftersalecase_changelist"),
        live_server.url + reverse("workbench:merchants_order_changelist"),
        live_server.url + reverse("workbench:aftersales_aftersalecase_export"),
        live_server.url + reverse(action, args=[case_with_evidence.pk, "reject"]),
        live_server.url + reverse(action, args=[case_with_evidence.pk, "file_delay_report"]),
        case_page,
    ):
        visit(watched, url)
        assert violations(watched) == [], url

    thumbnails = watched.locator('img[src^="/files/"]')
    expect(thumbnails.first).to_be_visible()
    assert thumbnails.count() >= 2  # the message's photo and the delay report's proof
    assert all(thumbnails.evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth === 24)"))
    # Alpine.js runs (the user menu opens), so its expressions were allowed to compile.
    assert watched.evaluate("typeof window.Alpine") == "object"


def test_N7_admin_pages_run_without_csp_violations(
    watched, live_server, case_with_evidence, django_user_model
):
    django_user_model.objects.create_superuser("csp-admin", password="csp-admin")
    watched.goto(live_server.url + "/admin/login/")
    watched.get_by_label(re.compile("用户名")).fill("csp-admin")
    watched.get_by_label(re.compile("密码")).fill("csp-admin")
    watched.get_by_role("button", name=re.compile("登录")).click()
    expect(watched).to_have_url(re.compile(r"/admin/$"))

    for url in (
        live_server.url + "/admin/",
        live_server.url + reverse("admin:aftersales_aftersalecase_changelist"),
        live_server.url + reverse("admin:aftersales_aftersalecase_change", args=[case_with_evidence.pk]),
        live_server.url + reverse("admin:aftersales_delayreport_changelist"),
    ):
        visit(watched, url)
        assert violations(watched) == [], url


def test_N7_without_unsafe_eval_the_themes_alpine_js_is_blocked(watched, live_server, settings):
    # Why the policy keeps 'unsafe-eval' (README, Security): unfold 0.91 ships the standard Alpine.js build.
    directives = dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    directives["script-src"] = [source for source in directives["script-src"] if source != "'unsafe-eval'"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": directives}

    visit(watched, live_server.url + "/workbench/login/")

    assert any("eval" in text for text in violations(watched))
