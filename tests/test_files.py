"""N-7, SPEC R-8: uploaded files are served only by the kernel's protected file view, to who may see them."""

from __future__ import annotations

import importlib
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.test import override_settings
from django.urls import Resolver404, clear_url_caches, get_resolver, reverse
from django.utils import timezone
from PIL import ExifTags, Image

from aftersales import services
from aftersales.models import AfterSaleCase, CaseAttachment, DelayReportImage
from aftersales.transitions import CaseType, Reason
from merchants.kernel import files
from tests.aftersales.factories import make_order

BACKEND = "django.contrib.auth.backends.ModelBackend"
RANDOM_NAME = re.compile(r"^evidence/\d{4}/\d{2}/[0-9a-f]{32}\.(png|jpg)$")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def png_upload(name="划痕 photo.png", color=(200, 30, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def gps_jpeg(name="IMG_0001.jpg", *, orientation=6) -> SimpleUploadedFile:
    """A phone photo: 40×20 pixels, taken sideways (Orientation 6), with camera and GPS tags."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "ShouhouPhone"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (39.0, 54.0, 27.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (116.0, 23.0, 17.0),
    }
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (30, 120, 200)).save(buffer, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def open_with_evidence(shop, *uploads) -> AfterSaleCase:
    order = make_order(shop)
    return services.open_case(
        order.items.get(),
        type=CaseType.REFUND_ONLY,
        reason=Reason.QUALITY,
        amount="30.00",
        description="外壳有裂纹。",
        attachments=list(uploads),
    )


def evidence_of(case) -> CaseAttachment:
    return CaseAttachment.objects.get(event__case=case)


def stored_bytes(attachment) -> bytes:
    with attachment.file.open("rb") as handle:
        return handle.read()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def evidence(shop):
    return evidence_of(open_with_evidence(shop, png_upload()))


# --------------------------------------------------------------------------------------------
# Who gets the file


def test_N7_owner_shop_member_gets_the_file_bytes(client, clerk, evidence):
    client.force_login(clerk, backend=BACKEND)

    response = client.get(evidence.url)

    assert response.status_code == 200
    assert body(response) == stored_bytes(evidence)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        "inline; filename=\"__ photo.png\"; filename*=UTF-8''" + quote("划痕 photo.png", safe="")
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]
    assert "sandbox" in response["Content-Security-Policy"]


def test_N7_file_of_another_shop_is_404(client, other_clerk, evidence):
    client.force_login(other_clerk, backend=BACKEND)

    response = client.get(evidence.url)

    assert response.status_code == 404
    assert client.get(f"/files/evidence/{evidence.pk + 1000}/").status_code == 404  # looks the same


def test_N7_anonymous_visitor_gets_404(client, evidence):
    response = client.get(evidence.url)

    assert response.status_code == 404
    assert stored_bytes(evidence) not in response.content


@pytest.mark.parametrize("who", ["operator", "superuser"])
def test_N7_platform_staff_get_any_shops_file(client, request, who, evidence):
    client.force_login(request.getfixturevalue(who), backend=BACKEND)

    response = client.get(evidence.url)

    assert response.status_code == 200
    assert body(response) == stored_bytes(evidence)


def test_N7_staff_flag_without_platform_role_sees_nothing(client, evidence, django_user_model):
    loose = django_user_model.objects.create_user("loose", password="x", is_staff=True)
    client.force_login(loose, backend=BACKEND)

    assert client.get(evidence.url).status_code == 404


@override_settings(DEBUG=False)
def test_N7_files_are_served_with_debug_off(client, clerk, evidence):
    client.force_login(clerk, backend=BACKEND)

    response = client.get(evidence.url)

    assert response.status_code == 200
    assert body(response) == stored_bytes(evidence)


def test_N7_delay_report_images_are_served_to_the_shop_only(client, shop, clerk, other_clerk):
    case = open_with_evidence(shop)
    report = services.file_delay_report(
        case,
        actor=clerk,
        reason="春节物流停运。",
        delay_until=timezone.now() + timedelta(days=2),
        images=[png_upload("证明.png")],
    )
    image = DelayReportImage.objects.get(report=report)
    assert image.url == f"/files/delay-proof/{image.pk}/"

    client.force_login(other_clerk, backend=BACKEND)
    assert client.get(image.url).status_code == 404
    client.force_login(clerk, backend=BACKEND)
    assert body(client.get(image.url)) == stored_bytes(image)


@pytest.mark.parametrize("path", ["/files/evidence/99999999999999999999999/", "/files/nothing/1/"])
def test_N7_unknown_kind_or_oversized_id_is_404(client, clerk, path):
    client.force_login(clerk, backend=BACKEND)

    assert client.get(path).status_code == 404


def test_N7_file_view_refuses_writes(client, clerk, evidence):
    client.force_login(clerk, backend=BACKEND)

    assert client.post(evidence.url).status_code == 405


def test_N7_missing_stored_file_is_404_not_500(client, clerk, evidence):
    evidence.file.storage.delete(evidence.file.name)
    client.force_login(clerk, backend=BACKEND)

    assert client.get(evidence.url).status_code == 404


# --------------------------------------------------------------------------------------------
# Proxy hand-over and pluggable storage


@override_settings(SHOUHOU_FILES_ACCEL="nginx", SHOUHOU_FILES_ACCEL_PREFIX="/protected-files/")
def test_N7_nginx_mode_answers_with_x_accel_redirect(client, clerk, other_clerk, evidence):
    client.force_login(clerk, backend=BACKEND)

    response = client.get(evidence.url)

    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-files/{evidence.file.name}"
    assert response.content == b""
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    client.force_login(other_clerk, backend=BACKEND)
    assert client.get(evidence.url).status_code == 404  # the check comes first


@override_settings(SHOUHOU_FILES_ACCEL="sendfile")
def test_N7_sendfile_mode_answers_with_the_absolute_path(client, clerk, evidence):
    client.force_login(clerk, backend=BACKEND)

    response = client.get(evidence.url)

    assert response.status_code == 200
    assert response["X-Sendfile"] == evidence.file.path
    assert response.content == b""


IN_MEMORY = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@pytest.mark.parametrize("accel", ["", "sendfile"])
def test_N7_files_come_from_any_storage_backend(client, shop, clerk, settings, tmp_path, accel):
    # A storage with no files on this disk (as an S3-compatible one): the view reads through the storage
    # API; in sendfile mode, having no path to hand over, it streams instead.
    settings.STORAGES = IN_MEMORY
    settings.SHOUHOU_FILES_ACCEL = accel
    attachment = evidence_of(open_with_evidence(shop, png_upload()))
    assert not any((tmp_path / "media").rglob("*.png"))
    client.force_login(clerk, backend=BACKEND)

    response = client.get(attachment.url)

    assert response.status_code == 200
    assert body(response) == stored_bytes(attachment)
    assert "X-Sendfile" not in response


# --------------------------------------------------------------------------------------------
# Public rows: the hook the reviews app uses for review images


def test_R8_rows_a_model_declares_public_are_served_to_visitors(client, shop, monkeypatch):
    case = open_with_evidence(shop, png_upload("a.png"), png_upload("b.png", color=(1, 2, 3)))
    public, private = CaseAttachment.objects.filter(event__case=case).order_by("pk")
    monkeypatch.setattr(
        CaseAttachment,
        "public_queryset",
        classmethod(lambda cls: cls._default_manager.filter(Q(pk=public.pk))),
    )

    assert body(client.get(public.url)) == stored_bytes(public)
    assert client.get(private.url).status_code == 404


def test_N7_nothing_is_public_by_default():
    assert not CaseAttachment.public_queryset().exists()
    assert not DelayReportImage.public_queryset().exists()


def test_N7_registry_refuses_models_without_tenancy():
    with pytest.raises(ImproperlyConfigured):
        files.register(AfterSaleCase, kind="cases")
    with pytest.raises(ImproperlyConfigured):
        files.register(DelayReportImage, kind="evidence")  # taken by CaseAttachment


# --------------------------------------------------------------------------------------------
# What is stored


def test_N7_stored_name_is_random_and_original_name_is_kept(shop):
    case = open_with_evidence(shop, png_upload("../../发票 2024.png"))

    attachment = evidence_of(case)

    assert RANDOM_NAME.match(attachment.file.name), attachment.file.name
    assert "发票" not in attachment.file.name
    assert attachment.original_name == "发票 2024.png"
    assert str(attachment) == "发票 2024.png"


def test_N7_exif_and_gps_are_gone_after_upload_and_the_photo_stays_upright(shop):
    upload = gps_jpeg()
    assert b"ShouhouPhone" in upload.read()
    upload.seek(0)

    attachment = evidence_of(open_with_evidence(shop, upload))

    data = stored_bytes(attachment)
    assert b"ShouhouPhone" not in data
    assert b"Exif" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
        assert image.size == (20, 40)  # Orientation 6 applied to the pixels before the tag went


def test_N7_metadata_is_stripped_from_png_too(shop):
    exif = Image.Exif()
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (1.0, 2.0, 3.0),
    }
    exif[ExifTags.Base.Make] = "ShouhouPhone"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (5, 5, 5)).save(buffer, format="PNG", exif=exif.tobytes())

    attachment = evidence_of(open_with_evidence(shop, SimpleUploadedFile("shot.png", buffer.getvalue())))

    data = stored_bytes(attachment)
    assert b"ShouhouPhone" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        assert dict(image.getexif()) == {}


# --------------------------------------------------------------------------------------------
# Every link goes through the view; /media/ is never mounted


def test_N7_case_page_links_attachments_through_the_file_view(client, clerk, shop, evidence):
    client.force_login(clerk, backend=BACKEND)

    page = client.get(reverse("workbench:aftersales_aftersalecase_change", args=[evidence.event.case_id]))

    html = page.content.decode()
    assert page.status_code == 200
    assert f'src="/files/evidence/{evidence.pk}/"' in html
    assert "/media/" not in html
    assert evidence.file.name not in html


def test_N7_media_is_not_mounted_even_with_debug_on():
    import config.urls

    try:
        with override_settings(DEBUG=True):
            module = importlib.reload(config.urls)
            clear_url_caches()
            with pytest.raises(Resolver404):
                get_resolver(module).resolve("/media/evidence/2026/01/a.png")
    finally:
        importlib.reload(config.urls)
        clear_url_caches()


def test_N7_media_url_answers_404(client, clerk, evidence):
    client.force_login(clerk, backend=BACKEND)

    assert client.get(f"/media/{evidence.file.name}").status_code == 404


# --------------------------------------------------------------------------------------------
# Rows stored before the random names keep working


def test_N7_rows_stored_under_their_original_names_get_original_name_and_are_served(
    client, operator, evidence
):
    from django.apps import apps
    from django.core.files.storage import default_storage

    migrations = Path(__file__).resolve().parent.parent / "aftersales" / "migrations"
    (module,) = migrations.glob("*_attachments_fill_original_name.py")  # whatever its number after merges
    fill = importlib.import_module(f"aftersales.migrations.{module.stem}").fill
    old_name = default_storage.save("evidence/2025/11/旧照片.png", png_upload())
    CaseAttachment.objects.filter(pk=evidence.pk).update(file=old_name, original_name="")

    fill(apps, None)

    row = CaseAttachment.objects.get(pk=evidence.pk)
    assert row.original_name == "旧照片.png"
    assert row.file.name == old_name  # the file stays where it is
    client.force_login(operator, backend=BACKEND)
    response = client.get(row.url)
    assert response.status_code == 200
    assert body(response) == stored_bytes(row)


def test_N7_no_template_or_module_links_a_storage_url():
    # Every attachment link is `attachment.url` (the file view); a storage URL (/media/…, or an S3 address
    # that skips the check) must not come back in a template or an admin cell.
    root = Path(__file__).resolve().parent.parent
    offenders = [
        str(path.relative_to(root))
        for folder in ("templates", "merchants", "aftersales", "reviews", "tickets")
        for path in (root / folder).rglob("*")
        if path.suffix in {".html", ".py"}
        and "migrations" not in path.parts
        and re.search(r"\.file\.url|MEDIA_URL", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
