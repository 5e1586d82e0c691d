from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views import i18n as django_i18n
from django_ratelimit.decorators import ratelimit

from . import services
from .decorators import customer_required
from .forms import PortalLoginForm, PreferencesForm
from .selectors import address_list_for_customer

login_limits = [
    ratelimit(key="ip", rate=lambda group, request: settings.LOGIN_RATE_LIMIT, method="POST", block=True),
    ratelimit(key="post:username", rate=lambda group, request: settings.LOGIN_RATE_LIMIT, method="POST", block=True),
]


@method_decorator(login_limits, name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = "customers/login.html"
    authentication_form = PortalLoginForm
    redirect_authenticated_user = True


@method_decorator(
    ratelimit(key="ip", rate=lambda group, request: settings.PUBLIC_LOOKUP_RATE_LIMIT, method="POST", block=True),
    name="dispatch",
)
class PasswordResetView(auth_views.PasswordResetView):
    template_name = "customers/password_reset_form.html"
    email_template_name = "customers/email/password_reset.txt"
    subject_template_name = "customers/email/password_reset_subject.txt"
    success_url = reverse_lazy("customers:password_reset_done")


@customer_required
def account(request):
    customer = request.customer
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            services.customer_update_preferences(
                customer=customer, language=form.cleaned_data["language"],
                marketing_consent=form.cleaned_data["marketing_consent"],
            )
            translation.activate(form.cleaned_data["language"])
            messages.success(request, _("Your preferences were saved."))
            response = redirect("customers:account")
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            return response
    else:
        form = PreferencesForm(initial={"language": customer.language, "marketing_consent": customer.marketing_consent})
    return render(request, "customers/account.html", {
        "form": form, "customer": customer, "addresses": address_list_for_customer(customer=customer),
    })


def set_language(request):
    """The portal's language switcher: Django's set_language (cookie + safe redirect), and for
    a signed-in customer also their profile, so the choice sticks on every device and in
    their emails. Mounted at /i18n/setlang/ under the name "set_language"."""
    response = django_i18n.set_language(request)
    language = request.POST.get(django_i18n.LANGUAGE_QUERY_PARAMETER) if request.method == "POST" else None
    profile = getattr(request.user, "customer_profile", None) if request.user.is_authenticated else None
    if profile is not None and language and language in dict(settings.LANGUAGES) and check_for_language(language):
        services.customer_set_language(customer=profile, language=language)
    return response
