from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")
    portal_nav = (
        (_("Cart"), "orders:cart"),
        (_("Orders"), "orders:list"),
    )

    def ready(self):
        from . import handlers  # noqa: F401
