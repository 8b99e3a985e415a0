from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("服务单")
    platform_app = True  # platform staff may view its models (merchants.kernel.signals)

    def ready(self):
        # Ticket attachments are served by the kernel's protected file view (N-7, R-8) once it exists;
        # tickets.admin.display.file_url asks it for their addresses.
        try:
            from merchants.kernel import files
        except ImportError:
            return
        from tickets.models import TicketAttachment

        files.register(TicketAttachment, kind="ticket")
