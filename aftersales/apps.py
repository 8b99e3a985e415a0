from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("售后")
    platform_app = True  # platform staff may view its models (merchants.kernel.signals)

    def ready(self) -> None:
        from aftersales import registrations  # noqa: F401  (notice kinds, rule names, reply-template values)
