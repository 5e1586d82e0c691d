from django.apps import apps
from django.conf import settings


def portal(request):
    """The portal's navigation, gathered from each app's `portal_nav` (label, url name)
    so an app adds its own pages without touching the layout."""
    nav = []
    user = getattr(request, "user", None)
    is_customer = bool(user and user.is_authenticated and getattr(user, "customer_profile", None))
    if is_customer:
        for config in apps.get_app_configs():
            nav.extend(getattr(config, "portal_nav", ()))
    return {
        "portal_nav": nav,
        "is_customer": is_customer,
        "LANGUAGES": settings.LANGUAGES,
        "SITE_URL": settings.SITE_URL,
    }
