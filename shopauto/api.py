"""The API's shared parts: one error shape, one router, per-app registration."""

import logging
from importlib import import_module
from importlib.util import find_spec

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition
from django_fsm import TransitionNotAllowed as FSMTransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.serializers import as_serializer_error

from .exceptions import DomainError

logger = logging.getLogger(__name__)

API_APPS = ["customers", "catalog", "inventory", "orders", "quotes", "returns", "notifications", "automation"]


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten_fields(detail) -> dict:
    if isinstance(detail, dict):
        return {key: [str(item) for item in (value if isinstance(value, list) else [value])] if not isinstance(value, dict) else _flatten_fields(value)
                for key, value in detail.items()}
    return {"non_field_errors": [str(item) for item in (detail if isinstance(detail, list) else [detail])]}


def exception_handler(exc, context):
    """Map every error an API view can raise to `{"error": {"code", "message", "fields"}}`."""
    if isinstance(exc, DomainError):
        return Response({"error": exc.as_dict()}, status=exc.status)
    if isinstance(exc, FSMTransitionNotAllowed):
        return Response(error_body("transition_not_allowed", _("This action is not allowed in the current state.")),
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ConcurrentTransition):
        return Response(error_body("concurrent_update", _("Someone else changed this at the same time; try again.")),
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, (OperationalError, InterfaceError)):
        return database_unavailable_response(exc)
    if isinstance(exc, DataError):
        # A value the validators let through but the database cannot hold (a date in the
        # year 5635 at UTC-17:40, a number past 64 bits): bad input, nothing was written.
        return Response(error_body("invalid", _("A value is out of the range the shop can store.")),
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        return Response(error_body("invalid", _("Some fields are not valid."), fields), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (list, dict)) else _("The request could not be completed.")
        code = exc.get_codes() if not isinstance(detail, (list, dict)) else exc.default_code
        return Response(error_body(str(code), message), status=exc.status_code, headers=headers)
    return None  # unexpected: Django's 500 handling (and the api_server_error view)


DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable_response(exc) -> Response:
    """The database connection failed or was cut mid-request: the transaction rolled back,
    so nothing was written. A 503 the client may retry, not a 500."""
    logger.warning("database unavailable during an API request: %s", exc)
    return Response(error_body("service_unavailable", _("The database is unavailable for a moment; nothing was "
                                                        "changed. Please try again.")),
                    status=status.HTTP_503_SERVICE_UNAVAILABLE,
                    headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


def api_server_error(request, *args, **kwargs):
    return JsonResponse(error_body("server_error", _("Something went wrong on our side; nothing was changed.")), status=500)


def build_router() -> DefaultRouter:
    """Each app's `api.py` may define `register(router)`; the routes live under /api/v1/."""
    router = DefaultRouter()
    for app in API_APPS:
        if find_spec(f"{app}.api") is None:
            continue
        module = import_module(f"{app}.api")
        if hasattr(module, "register"):
            module.register(router)
    return router


def extra_urlpatterns() -> list:
    patterns = []
    for app in API_APPS:
        if find_spec(f"{app}.api") is not None:
            patterns += getattr(import_module(f"{app}.api"), "urlpatterns", [])
    return patterns

