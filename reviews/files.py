"""Where review and appeal images are served from (R-8, N-7): one helper, so the address changes in one place.

The kernel's protected file view (`merchants.kernel.files`, /files/<kind>/<id>/) answers a ReviewImage to
anyone while `ReviewImage.public_queryset()` holds it — its review is on the product page — and an
AppealImage only to the shop and platform staff. Until that view is installed, the storage's own URL is
used (/media/ in DEBUG), and nothing is registered.
"""

from __future__ import annotations

try:  # the protected file view may not be installed yet (another branch builds it)
    from merchants.kernel import files as _files
except ImportError:  # pragma: no cover - depends on which kernel is installed
    _files = None

FILE_KINDS = {"review-image": "reviews.ReviewImage", "appeal-image": "reviews.AppealImage"}


def register() -> None:
    """Make review and appeal images reachable through the protected file view (AppConfig.ready)."""
    if _files is None:
        return
    from django.apps import apps

    for kind, label in FILE_KINDS.items():
        _files.register(apps.get_model(label), kind=kind)


def image_url(image) -> str:
    """The address of a review or appeal image for <img src> and links."""
    if _files is not None:
        return _files.url_for(image)
    return image.file.url if image.file else ""
