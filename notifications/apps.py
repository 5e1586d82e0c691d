from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")
    portal_nav = ((_("Messages"), "notifications:messages"),)

    def ready(self):
        from . import (
            handlers,  # noqa: F401  (routing table → event handlers)
            receivers,
        )

        receivers.connect(self)
