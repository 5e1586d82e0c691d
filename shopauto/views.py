from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle

from .api import api_server_error, error_body


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def home(request):
    user = request.user
    if user.is_authenticated and getattr(user, "customer_profile", None) is not None:
        return render(request, "portal/home.html", {"profile": user.customer_profile})
    if user.is_authenticated and user.is_staff:
        return redirect("admin:index")
    return render(request, "portal/landing.html")


@never_cache
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def rate_limited(request, exception=None):
    message = _("Too many attempts. Please wait a minute and try again.")
    if _wants_json(request):
        return JsonResponse(error_body("rate_limited", message), status=429)
    return render(request, "429.html", {"message": message}, status=429)


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _wants_json(request):
        return api_server_error(request)
    return render(request, "500.html", status=500)


class RateLimitedObtainToken(ObtainAuthToken):
    """POST username + password → {"token": ...}; rate-limited per client address."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
