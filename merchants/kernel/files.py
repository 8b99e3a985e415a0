"""The protected file view (N-7, SPEC R-8): every uploaded file is served here, to those who may see it.

Nothing under MEDIA_ROOT is ever served by URL (config/urls.py mounts no /media/). An attachment model
(a concrete `AttachmentBase` with a `merchant_path`) registers itself under a short kind:

    from merchants.kernel import files
    files.register(CaseAttachment, kind="evidence")

and its rows are then reachable at `/files/<kind>/<pk>/` (`attachment.url`). The view answers a row
only to whom `scope_to_actor` shows it — platform staff and superusers every shop, a member their own
shops, a visitor nothing — or when the model's `public_queryset()` holds it (the review images the
public product page shows). Anything else is a 404 that looks exactly like a missing id.

The bytes come from the field's storage (`FileSystemStorage` by default, any Django storage such as an
S3-compatible one), streamed by Django; or, when SHOUHOU_FILES_ACCEL says so, handed to the proxy in
front (nginx `X-Accel-Redirect`, Apache/lighttpd `X-Sendfile`) after the same check.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponse
from django.urls import path
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe

from merchants.kernel.models import AttachmentBase
from merchants.kernel.scoping import scope_to_actor

log = logging.getLogger(__name__)

# Shown in the page (an <img> or a new tab); anything else is offered as a download, so a stored
# HTML or SVG file could never run as a page of this site.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"})
# The largest id a database integer column holds: a longer number is simply "not found" (never an
# OverflowError from SQLite).
MAX_ID = 2**63 - 1
# The file itself runs nothing and embeds nothing, whatever a browser makes of it.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"

_models: dict[str, type[AttachmentBase]] = {}


def register(model: type[AttachmentBase], *, kind: str) -> type[AttachmentBase]:
    """Serve `model`'s files under /files/<kind>/<pk>/ (idempotent for the same pair)."""
    if not (isinstance(model, type) and issubclass(model, AttachmentBase)):
        raise ImproperlyConfigured(f"{model!r} is not an AttachmentBase model.")
    if getattr(model, "merchant_path", None) is None:
        raise ImproperlyConfigured(
            f"{model.__name__} has no merchant_path: nobody could be allowed to see it."
        )
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", kind):
        raise ImproperlyConfigured(f"File kind {kind!r}: lower-case letters, digits and dashes only.")
    known = _models.get(kind)
    if known is not None and known._meta.label != model._meta.label:
        raise ImproperlyConfigured(f"File kind {kind!r} is already {known._meta.label}.")
    _models[kind] = model
    model.file_kind = kind  # AttachmentBase.url reads it
    return model


def registered() -> dict[str, type[AttachmentBase]]:
    return dict(_models)


def visible_row(model: type[AttachmentBase], user, pk: int) -> AttachmentBase | None:
    """The row if `user` may fetch it: through the tenancy layer, or because the model declares it public."""
    rows = model._default_manager.filter(pk=pk)
    if user is not None and getattr(user, "is_authenticated", False):
        row = scope_to_actor(rows, user).first()
        if row is not None:
            return row
    return model.public_queryset().filter(pk=pk).first()


@require_safe
def serve(request, kind: str, pk: int):
    """One stored file, after the visibility check; 404 for an unknown kind, id, row or missing file."""
    model = _models.get(kind)
    if model is None or pk > MAX_ID:
        raise Http404()
    row = visible_row(model, request.user, pk)
    if row is None or not row.file:
        raise Http404()
    return _file_response(row)


def _file_response(row: AttachmentBase) -> HttpResponse:
    field_file = row.file
    name = field_file.name
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    accel = settings.SHOUHOU_FILES_ACCEL
    response = None
    if accel == "nginx":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.SHOUHOU_FILES_ACCEL_PREFIX.rstrip("/") + "/" + quote(name)
    elif accel == "sendfile":
        if isinstance(field_file.storage, FileSystemStorage):
            response = HttpResponse(content_type=content_type)
            response["X-Sendfile"] = field_file.storage.path(name)
        # any other storage (S3, memory) has no file on this disk to hand over: it is streamed below
    elif accel:
        raise ImproperlyConfigured(f"SHOUHOU_FILES_ACCEL={accel!r}: use '', 'nginx' or 'sendfile'.")
    if response is None:
        try:
            handle = field_file.storage.open(name, "rb")
        except OSError as exc:
            log.warning("Stored file %s of %s #%s is missing: %s", name, row._meta.label, row.pk, exc)
            raise Http404() from exc
        response = FileResponse(handle, content_type=content_type)
    disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    response["Content-Disposition"] = content_disposition(disposition, row.display_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    # The address is the same for everyone but the answer depends on who asks: browsers may keep it
    # (names are random, a row's file never changes), shared caches never.
    patch_cache_control(response, private=True, max_age=settings.SHOUHOU_FILES_CACHE_SECONDS)
    patch_vary_headers(response, ("Cookie",))
    return response


def content_disposition(disposition: str, filename: str) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the exact UTF-8 name in `filename*`."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename) or "file"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


urlpatterns = [path("<slug:kind>/<int:pk>/", serve, name="protected_file")]

__all__ = ["content_disposition", "register", "registered", "serve", "visible_row"]
