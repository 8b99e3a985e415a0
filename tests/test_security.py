"""N-7 security baseline: deploy checks, login throttling, CSP, HTTPS settings, upload checks."""

import io
import json
import os
import re
import secrets
import string
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from merchants.kernel.uploads import EvidenceImageField, EvidenceImagesField, validate_image_upload
from tests.factories import PlatformUserFactory

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pass-word-123"  # tests.factories.UserFactory


# --------------------------------------------------------------------------------------------
# Production settings, checked in a fresh interpreter (settings are read once, at import)


def _production_env(tmp_path) -> dict[str, str]:
    # A clean environment, not this test process's (which carries test-only switches such as
    # DJANGO_ALLOW_ASYNC_UNSAFE from the browser tests, or CI's DATABASE_URL).
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    alphabet = string.ascii_letters + string.digits + string.punctuation.replace("'", "").replace('"', "")
    env.update(
        DEBUG="0",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        ALLOWED_HOSTS="example.com",
        SHOUHOU_VAR_DIR=str(tmp_path),
        CELERY_BROKER_URL="memory://",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def _run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_N7_check_deploy_is_clean_under_production_settings(tmp_path):
    result = _run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        _production_env(tmp_path),
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_N7_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = _production_env(tmp_path)
    del env["SECRET_KEY"]

    result = _run([sys.executable, "manage.py", "check"], env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SECURE_SSL_REDIRECT",
         "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER",
         "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS", "DEBUG"]
out = {name: getattr(settings, name) for name in names}
client = Client(HTTP_HOST="example.com")
plain = client.get("/workbench/login/")
out["plain_status"] = plain.status_code
out["plain_location"] = plain.headers.get("Location", "")
behind_proxy = client.get("/healthz", HTTP_X_FORWARDED_PROTO="https")
out["proxied_hsts"] = behind_proxy.headers.get("Strict-Transport-Security", "")
out["proxied_csp"] = behind_proxy.headers.get("Content-Security-Policy", "")
print(json.dumps(out))
"""


def _probe(env) -> dict:
    result = _run([sys.executable, "-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_N7_secure_cookies_hsts_and_https_redirect_when_debug_is_off(tmp_path):
    seen = _probe(_production_env(tmp_path))

    assert seen["DEBUG"] is False
    assert seen["SESSION_COOKIE_SECURE"] is True
    assert seen["CSRF_COOKIE_SECURE"] is True
    assert seen["SESSION_COOKIE_HTTPONLY"] is True
    assert seen["SECURE_SSL_REDIRECT"] is True
    assert seen["SECURE_HSTS_SECONDS"] >= 31536000
    assert seen["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert seen["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert seen["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert seen["X_FRAME_OPTIONS"] == "DENY"
    # Plain HTTP is sent to HTTPS; behind the TLS proxy the answer carries HSTS and the CSP.
    assert seen["plain_status"] == 301
    assert seen["plain_location"] == "https://example.com/workbench/login/"
    assert "max-age=31536000" in seen["proxied_hsts"]
    assert "includeSubDomains" in seen["proxied_hsts"]
    assert "default-src 'self'" in seen["proxied_csp"]


def test_N7_laptop_mode_keeps_cookies_usable_over_http(tmp_path):
    env = _production_env(tmp_path)
    env.update(DEBUG="1", ALLOWED_HOSTS="example.com")

    seen = _probe(env)

    assert seen["SESSION_COOKIE_SECURE"] is False
    assert seen["SECURE_SSL_REDIRECT"] is False
    assert seen["SECURE_HSTS_SECONDS"] == 0
    assert seen["plain_status"] == 200


# --------------------------------------------------------------------------------------------
# Content-security policy


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/workbench/login/", "/admin/login/", "/healthz"])
def test_N7_pages_carry_a_content_security_policy(client, url):
    response = client.get(url)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/workbench/login/", "/admin/login/"])
def test_N7_scripts_are_same_origin_or_nonced_never_inline(client, url):
    directives = _directives(client.get(url)["Content-Security-Policy"])

    assert "'self'" in directives["script-src"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert directives["script-src-attr"] == ["'none'"]  # no onclick= handlers
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert not any(source.startswith(("http:", "https:", "*")) for source in directives["script-src"])


def test_N7_an_inline_script_runs_only_with_the_requests_nonce(rf):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    middleware = CSPMiddleware(lambda request: HttpResponse())
    request = rf.get("/")
    middleware.process_request(request)
    nonce = str(request.csp_nonce)  # what a template writes as <script nonce="{{ request.csp_nonce }}">

    policy = middleware.process_response(request, HttpResponse())["Content-Security-Policy"]

    assert f"'nonce-{nonce}'" in _directives(policy)["script-src"]


def test_N7_every_inline_script_in_our_templates_carries_the_nonce():
    scripts = [
        (path.name, tag)
        for path in (ROOT / "templates").rglob("*.html")
        for tag in re.findall(r"<script\b[^>]*>", path.read_text(encoding="utf-8"))
    ]
    inline = [(name, tag) for name, tag in scripts if "src=" not in tag and "application/json" not in tag]

    assert [item for item in inline if "csp_nonce" not in item[1] and "CSP_NONCE" not in item[1]] == []


# --------------------------------------------------------------------------------------------
# Login throttling (django-axes) on both sites' unfold login forms


@pytest.fixture
def staff_user(db):
    return PlatformUserFactory(username="operator-login")


SITES = [
    pytest.param("/workbench/login/", "/workbench/", "clerk", id="workbench"),
    pytest.param("/admin/login/", "/admin/", "staff_user", id="admin"),
]


def _login(client, url, username, password, **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


@pytest.mark.parametrize(("login_url", "index_url", "user_fixture"), SITES)
def test_N7_correct_login_is_refused_after_five_failures(client, request, login_url, index_url, user_fixture):
    user = request.getfixturevalue(user_fixture)
    for _ in range(4):
        response = _login(client, login_url, user.username, "wrong-password")
        assert response.status_code == 200  # the form again, with its error
        assert "_auth_user_id" not in client.session
    _login(client, login_url, user.username, "wrong-password")

    response = _login(client, login_url, user.username, PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert "登录已被暂时锁定" in page
    assert "连续 5 次登录失败" in page
    assert "请在 15 分钟后重试" in page
    assert "_auth_user_id" not in client.session
    assert client.get(index_url).status_code == 302  # still sent to the login page


@pytest.mark.parametrize(("login_url", "index_url", "user_fixture"), SITES)
def test_N7_four_failures_still_let_the_right_password_in(
    client, request, login_url, index_url, user_fixture
):
    user = request.getfixturevalue(user_fixture)
    for _ in range(4):
        _login(client, login_url, user.username, "wrong-password")

    response = _login(client, login_url, user.username, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get(index_url).status_code == 200


def test_N7_lockout_is_per_user_and_address(client, clerk, owner):
    for _ in range(5):
        _login(client, "/workbench/login/", clerk.username, "wrong-password")

    assert _login(client, "/workbench/login/", owner.username, PASSWORD).status_code == 302
    other_address = _login(client, "/workbench/login/", clerk.username, PASSWORD, REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 302


def test_N7_lockout_page_is_translated(client, clerk):
    for _ in range(5):
        _login(client, "/workbench/login/", clerk.username, "wrong-password")

    response = _login(client, "/workbench/login/", clerk.username, PASSWORD, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Sign-in temporarily locked" in page
    assert "登录已被暂时锁定" not in page


# --------------------------------------------------------------------------------------------
# Password spraying and one account attacked from many addresses (merchants/kernel/logins.py)

SPRAY = 20  # SHOUHOU_LOGIN_ADDRESS_FAILURE_LIMIT and SHOUHOU_LOGIN_USERNAME_FAILURE_LIMIT by default


def test_N7_one_address_trying_many_usernames_is_locked(client, clerk):
    for i in range(SPRAY - 1):
        assert _login(client, "/workbench/login/", f"guess{i}", "Summer2026!").status_code == 200
    assert _login(client, "/workbench/login/", "guess-last", "Summer2026!").status_code == 429

    locked = _login(client, "/workbench/login/", clerk.username, PASSWORD)

    assert locked.status_code == 429
    assert "此网络地址" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    elsewhere = _login(client, "/workbench/login/", clerk.username, PASSWORD, REMOTE_ADDR="10.0.0.9")
    assert elsewhere.status_code == 302


def test_N7_fewer_guesses_from_one_address_still_let_people_in(client, clerk):
    for i in range(SPRAY - 1):
        _login(client, "/workbench/login/", f"guess{i}", "Summer2026!")

    assert _login(client, "/workbench/login/", clerk.username, PASSWORD).status_code == 302


def test_N7_one_username_from_many_addresses_is_locked(client, clerk, owner):
    for i in range(SPRAY):
        _login(
            client, "/workbench/login/", clerk.username, "wrong-password", REMOTE_ADDR=f"198.51.100.{i + 1}"
        )

    locked = _login(client, "/workbench/login/", clerk.username, PASSWORD, REMOTE_ADDR="192.0.2.1")

    assert locked.status_code == 429
    assert "从多个地址" in locked.content.decode()
    assert (
        _login(client, "/workbench/login/", owner.username, PASSWORD, REMOTE_ADDR="192.0.2.1").status_code
        == 302
    )


def test_N7_logging_into_ones_own_account_does_not_clear_the_addresss_failures(client, clerk, owner):
    for i in range(SPRAY - 1):
        _login(client, "/workbench/login/", f"guess{i}", "Summer2026!")
    assert _login(client, "/workbench/login/", owner.username, PASSWORD).status_code == 302
    client.logout()

    _login(client, "/workbench/login/", "guess-last", "Summer2026!")

    assert _login(client, "/workbench/login/", clerk.username, PASSWORD).status_code == 429


def test_N7_forwarded_for_is_not_believed_without_trusted_proxies(client, clerk):
    for i in range(SPRAY):
        _login(client, "/workbench/login/", f"guess{i}", "x", HTTP_X_FORWARDED_FOR=f"203.0.113.{i + 1}")

    locked = _login(
        client, "/workbench/login/", clerk.username, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99"
    )

    assert locked.status_code == 429  # a header anyone can set changes nothing


def test_N7_behind_one_trusted_proxy_the_client_is_the_address_it_appended(client, clerk, settings):
    settings.SHOUHOU_TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(5):
        _login(
            client,
            "/workbench/login/",
            clerk.username,
            "wrong",
            HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7",
            **proxy,
        )

    # The attacker's forged left-hand entry changes nothing: the proxy's own entry is the client.
    same_client = _login(
        client,
        "/workbench/login/",
        clerk.username,
        PASSWORD,
        HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7",
        **proxy,
    )
    assert same_client.status_code == 429
    other_client = _login(
        client, "/workbench/login/", clerk.username, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy
    )
    assert other_client.status_code == 302


@pytest.mark.parametrize(
    ("count", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}, "10.0.0.2"),
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}, "203.0.113.7"),
        (
            2,
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7, 10.0.0.1"},
            "203.0.113.7",
        ),
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.7:51234"}, "203.0.113.7"),
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "[2001:db8::7]:443"}, "2001:db8::7"),
        (
            2,
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.7"},
            "10.0.0.2",
        ),  # header too short
        (1, {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "not-an-address"}, "10.0.0.2"),
        (1, {"REMOTE_ADDR": "10.0.0.2"}, "10.0.0.2"),
    ],
)
def test_N7_client_address_trusts_exactly_the_configured_proxies(rf, settings, count, meta, expected):
    from merchants.kernel.logins import client_ip

    settings.SHOUHOU_TRUSTED_PROXY_COUNT = count

    assert client_ip(rf.get("/", **meta)) == expected


# --------------------------------------------------------------------------------------------
# The login pages' own words, and where a login lands


@pytest.mark.parametrize(("login_url", "index_url", "user_fixture"), SITES)
def test_N7_login_error_says_five_failures_lock_for_15_minutes(
    client, request, login_url, index_url, user_fixture
):
    user = request.getfixturevalue(user_fixture)

    page = _login(client, login_url, user.username, "wrong-password").content.decode()

    assert "用户名或密码不正确" in page
    assert "连续 5 次登录失败后，登录将被锁定 15 分钟" in page
    assert "工作人员" not in page


def test_N7_login_error_numbers_come_from_the_lockout_settings(client, clerk, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)

    page = _login(client, "/workbench/login/", clerk.username, "wrong-password").content.decode()

    assert "连续 3 次登录失败后，登录将被锁定 30 分钟" in page


def test_N7_login_error_is_translated(client, clerk):
    page = _login(
        client, "/workbench/login/", clerk.username, "wrong", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert "5 failed" in page
    assert "15 minutes" in page


def test_N7_a_shop_member_on_the_admin_login_is_sent_to_the_workbench(client, clerk):
    page = _login(client, "/admin/login/", clerk.username, PASSWORD).content.decode()

    assert "该账号不是平台人员账号。商家请使用 /workbench/ 登录。" in page
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("login_url", "index_url", "user_fixture"), SITES)
@pytest.mark.parametrize("next_url", ["https://evil.example/steal", "//evil.example/", "", None])
def test_N7_rejected_or_missing_next_lands_on_the_sites_home(
    client, request, login_url, index_url, user_fixture, next_url
):
    user = request.getfixturevalue(user_fixture)
    data = {"username": user.username, "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url

    response = client.post(login_url, data)

    assert response.status_code == 302
    assert response["Location"] == index_url


def test_N7_a_safe_next_is_still_followed(client, clerk):
    response = client.post(
        "/workbench/login/?next=/workbench/aftersales/aftersalecase/",
        {"username": clerk.username, "password": PASSWORD},
    )

    assert response["Location"] == "/workbench/aftersales/aftersalecase/"


# --------------------------------------------------------------------------------------------
# Another shop's id on a change or delete page: 404 for every method, like a GET


def _other_shops_objects(other_shop, other_clerk):
    from merchants.models import Membership
    from tests.aftersales.factories import DelayReportFactory, make_order, open_pending

    case = open_pending(other_shop)
    return {
        "aftersales_aftersalecase": case,
        "merchants_order": make_order(other_shop),
        "aftersales_delayreport": DelayReportFactory(merchant=other_shop),
        "merchants_membership": Membership.objects.get(user=other_clerk),
    }


@pytest.mark.parametrize(
    "name", ["aftersales_aftersalecase", "merchants_order", "aftersales_delayreport", "merchants_membership"]
)
@pytest.mark.parametrize("who", ["owner", "clerk", "viewer"])
def test_N7_another_shops_id_on_change_or_delete_is_404_for_every_method(
    client, request, other_shop, other_clerk, name, who
):
    from django.urls import reverse

    obj = _other_shops_objects(other_shop, other_clerk)[name]
    client.force_login(request.getfixturevalue(who), backend="django.contrib.auth.backends.ModelBackend")
    change = reverse(f"workbench:{name}_change", args=[obj.pk])
    delete = reverse(f"workbench:{name}_delete", args=[obj.pk])

    assert client.get(change).status_code == 404
    assert client.post(change, {"anything": "1"}).status_code == 404
    assert client.get(delete).status_code == 404
    assert client.post(delete, {"post": "yes"}).status_code == 404
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_N7_own_objects_keep_their_permission_answers(client, shop, viewer):
    from django.urls import reverse

    from tests.aftersales.factories import open_pending

    case = open_pending(shop)
    client.force_login(viewer, backend="django.contrib.auth.backends.ModelBackend")

    assert client.get(reverse("workbench:aftersales_aftersalecase_change", args=[case.pk])).status_code == 200
    assert (
        client.post(reverse("workbench:aftersales_aftersalecase_delete", args=[case.pk])).status_code == 403
    )


# --------------------------------------------------------------------------------------------
# Upload checks (merchants/uploads.py)


def _image_bytes(fmt: str, size=(8, 6), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color=(200, 80, 20) if mode == "RGB" else 1).save(buffer, format=fmt)
    return buffer.getvalue()


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("evidence.png", "PNG"),
        ("photo.JPG", "JPEG"),
        ("photo.jpeg", "JPEG"),
        ("a.webp", "WEBP"),
        ("a.gif", "GIF"),
    ],
)
def test_N7_real_images_pass_and_stay_readable(name, fmt):
    upload = _upload(name, _image_bytes(fmt))

    assert validate_image_upload(upload) == fmt

    assert upload.tell() == 0  # ready to be saved whole
    assert upload.read() == _image_bytes(fmt)


def _error(upload) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_image_upload(upload)
    return caught.value


def test_N7_text_file_renamed_to_png_is_refused():
    error = _error(_upload("invoice.png", b"#!/bin/sh\necho this is not a picture\n" * 20))

    assert error.code == "invalid_image"
    assert "不是有效的图片" in error.messages[0]


def test_N7_truncated_png_is_refused():
    whole = _image_bytes("PNG", size=(64, 64))

    error = _error(_upload("cut.png", whole[: len(whole) // 2]))

    assert error.code == "invalid_image"


def test_N7_truncated_jpeg_is_refused():
    buffer = io.BytesIO()
    Image.effect_noise((128, 128), 60).convert("RGB").save(buffer, format="JPEG", quality=95)
    whole = buffer.getvalue()

    error = _error(_upload("cut.jpg", whole[: len(whole) * 2 // 3]))

    assert error.code == "invalid_image"


def test_N7_oversized_file_is_refused_before_decoding():
    content = _image_bytes("PNG")

    with override_settings(SHOUHOU_UPLOAD_MAX_BYTES=len(content) - 1):
        error = _error(_upload("big.png", content))

    assert error.code == "file_too_large"
    assert "超过上限" in error.messages[0]


def test_N7_default_size_limit_applies_to_a_real_upload():
    content = _image_bytes("PNG") + b"\0" * (5 * 1024 * 1024)

    assert _error(_upload("padded.png", content)).code == "file_too_large"


def test_N7_extension_must_match_the_decoded_format():
    error = _error(_upload("photo.png", _image_bytes("JPEG")))

    assert error.code == "extension_mismatch"
    assert "JPEG" in error.messages[0]


def test_N7_formats_outside_the_allowed_list_are_refused():
    assert _error(_upload("scan.bmp", _image_bytes("BMP"))).code == "invalid_extension"
    assert (
        _error(_upload("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")).code
        == "invalid_extension"
    )

    with override_settings(SHOUHOU_UPLOAD_IMAGE_FORMATS=("JPEG", "PNG")):
        assert _error(_upload("a.gif", _image_bytes("GIF"))).code == "invalid_extension"


def test_N7_decompression_bomb_is_refused_from_its_header():
    content = _image_bytes("PNG", size=(400, 300), mode="1")

    with override_settings(SHOUHOU_UPLOAD_MAX_PIXELS=100_000):
        error = _error(_upload("bomb.png", content))

    assert error.code == "too_many_pixels"
    assert "400×300" in error.messages[0]


def test_N7_pillow_bomb_limit_is_an_error_not_a_warning(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 8x6 < 1000 < 40x30 < 2000: Pillow only warns

    assert _error(_upload("bomb.png", _image_bytes("PNG", size=(40, 30)))).code == "too_many_pixels"


def test_N7_evidence_field_cleans_good_files_and_reports_bad_ones_in_chinese():
    field = EvidenceImageField()
    good = _upload("ok.png", _image_bytes("PNG"))

    assert field.clean(good) is good
    with pytest.raises(ValidationError) as caught:
        field.clean(_upload("bad.jpg", b"not an image"))
    assert "不是有效的图片" in caught.value.messages[0]
    assert ".png" in field.widget.attrs["accept"]


def test_N7_multiple_evidence_field_checks_each_file_and_the_count():
    field = EvidenceImagesField(max_files=2, required=False)
    good = [_upload("1.png", _image_bytes("PNG")), _upload("2.jpg", _image_bytes("JPEG"))]

    assert field.clean(good) == good
    assert field.clean([]) == []
    with pytest.raises(ValidationError) as too_many:
        field.clean([*good, _upload("3.png", _image_bytes("PNG"))])
    assert too_many.value.code == "too_many_files"
    with pytest.raises(ValidationError) as one_bad:
        field.clean([good[0], _upload("x.png", b"nope")])
    assert len(one_bad.value.messages) == 1
