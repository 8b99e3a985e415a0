from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = _("店铺与订单")
    platform_app = True  # platform staff may view its models (merchants.kernel.signals)

    def ready(self) -> None:
        from merchants.kernel import lookups  # noqa: PLC0415

        lookups.register()  # field__any=[…]: a list bound as one parameter
        from merchants import registrations  # noqa: F401  (reply-template values of an order)
        from merchants.kernel import signals  # noqa: F401  (post_migrate: beat schedule, platform group)
        from merchants.levels import (
            metrics,  # noqa: F401, PLC0415  (the shop's own level figures)
            notices,  # noqa: F401, PLC0415  (the level-change notice)
        )
