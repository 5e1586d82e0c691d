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
