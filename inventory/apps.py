from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")
    portal_nav = ((_("Stock alerts"), "inventory:alerts"),)

    def ready(self):
        from . import handlers  # noqa: F401  (registers the event handlers)
