from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("服务单")
    platform_app = True  # platform staff may view its models (merchants.kernel.signals)

    def ready(self):
        from tickets import (
            levels,  # noqa: F401, PLC0415  (its figures for the level engine, L-3..L-6)
            registrations,  # noqa: F401  (notice kinds, rule names, reply values, files)
            tasks,  # noqa: F401, PLC0415  (the services publish the mail tasks by name: known in every process)
        )
