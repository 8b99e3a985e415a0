from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "aftersales"
    verbose_name = _("售后")
    platform_app = True  # platform staff may view its models (merchants.kernel.signals)

    def ready(self):
        from aftersales import (
            dashboard,  # noqa: F401, PLC0415  (the home-page cards; it reads the express-refund admin page)
            feeds,  # noqa: F401, PLC0415  (return parcels for the logistics feed)
            levels,  # noqa: F401, PLC0415  (its figures for the level engine, L-3..L-6)
            registrations,  # noqa: F401, PLC0415  (notice kinds, rule names, reply-template values)
            tasks,  # noqa: F401, PLC0415  (the services publish the refund tasks by name: known in every process)
        )

        # M-3: the refund of a cancelled paid order, registered with merchants.services.cancel_order
        # (merchants imports nothing above it). Registered here, not on first use, so that no cancel
        # can ever run before it: without a hook a paid order refuses to be cancelled.
        from aftersales.services import cancellations  # noqa: F401, PLC0415
