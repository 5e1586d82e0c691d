from django.http import Http404

from .exceptions import NotFound


class DomainNotFoundMiddleware:
    """A service's NotFound (e.g. another customer's order) is a plain 404 page in the
    portal, exactly like a missing URL: existence never leaks. (The API's exception
    handler does the same for API views.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            from .views import page_not_found

            return page_not_found(request, Http404(str(exception.message)))
        return None


class DatabaseUnavailableMiddleware:
    """A portal page whose database connection fails or is cut mid-request shows a 503
    "try again" page instead of a 500: the request's transaction rolled back, nothing was
    written. (The API's exception handler answers the same 503 in its error shape.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        import logging

        from django.db import InterfaceError, OperationalError
        from django.http import HttpResponse
        from django.template.loader import render_to_string

        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logging.getLogger(__name__).warning("database unavailable during %s: %s", request.path, exception)
        # No request context: its processors (user, nav) would need the database again.
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "5"
        return response
