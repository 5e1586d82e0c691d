from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from customers.views import set_language

from . import views
from .api import build_router, extra_urlpatterns

api_v1 = [
    path("auth/token/", views.RateLimitedObtainToken.as_view(), name="api-token"),
    *extra_urlpatterns(),
    path("", include(build_router().urls)),
]

urlpatterns = [
    path("", include(("shopauto.portal_urls", "portal"))),
    path("account/", include("customers.urls")),
    path("catalog/", include("catalog.urls")),
    path("stock/", include("inventory.urls")),
    path("orders/", include("orders.urls")),
    path("quotes/", include("quotes.urls")),
    path("returns/", include("returns.urls")),
    path("notifications/", include("notifications.urls")),
    path("automation/", include("automation.urls")),
    # Before Django's own i18n URLs: the switcher also saves a signed-in customer's language.
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", views.health, name="health"),
]

handler404 = "shopauto.views.page_not_found"
handler500 = "shopauto.views.server_error"
