"""Where review and appeal images are served from (R-8, N-7): the kernel's protected file view.

`/files/review-image/<id>/` answers a ReviewImage to anyone while `ReviewImage.public_queryset()` holds it
(its review is on the product page), and to the shop and platform staff always; `/files/appeal-image/<id>/`
answers only the shop and platform staff. `image_url` is the one place the pages take an image's address.
"""

from __future__ import annotations

from merchants.kernel import files as _files

FILE_KINDS = {"review-image": "reviews.ReviewImage", "appeal-image": "reviews.AppealImage"}


def register() -> None:
    """Make review and appeal images reachable through the protected file view (AppConfig.ready)."""
    from django.apps import apps

    for kind, label in FILE_KINDS.items():
        _files.register(apps.get_model(label), kind=kind)


def image_url(image) -> str:
    """The address of a review or appeal image for <img src> and links."""
    return image.url
