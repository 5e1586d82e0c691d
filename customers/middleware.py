from django.conf import settings
from django.utils import translation

# The back-office is English for everybody: its strings are not in the shop's catalogs.
ADMIN_LANGUAGE = "en"


class ProfileLanguageMiddleware:
    """The portal's language: a signed-in customer's profile language (the switcher and the
    account page write it, so it follows them to every device); otherwise what
    LocaleMiddleware found (the switcher's cookie, then the browser's Accept-Language).
    The admin (/admin/) is always English, whatever the cookie or the browser says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/"):
            translation.activate(ADMIN_LANGUAGE)
            request.LANGUAGE_CODE = ADMIN_LANGUAGE
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "customer_profile", None)
            if profile is not None and profile.language and profile.language in dict(settings.LANGUAGES):
                translation.activate(profile.language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
