from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("服务单")
    platform_app = True  # platform staff may view its models (merchants.kernel.signals)

    def ready(self):
        from tickets import registrations  # noqa: F401  (notice kinds, rule names, reply values, files)
