"""N-7 security baseline: deploy checks, login throttling, CSP, HTTPS settings, upload checks."""

import io
import json
import os
import secrets
import string
import subprocess
import sys
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
