from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = _("评价")
    platform_app = True  # platform staff may view its models (merchants.kernel.signals)

    def ready(self):
        from reviews import files, registrations  # noqa: F401  (notice kinds, reply-template source)

        files.register()
        from reviews import levels  # noqa: F401, PLC0415  (its figures for the level engine, L-3..L-6)
