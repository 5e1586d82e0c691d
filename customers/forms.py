from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class PortalLoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "staff_account": _("This is a staff account: please sign in to the back-office."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not hasattr(user, "customer_profile") and user.is_staff:
            raise forms.ValidationError(self.error_messages["staff_account"], code="staff_account")


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    marketing_consent = forms.BooleanField(
        label=_("Email me offers, back-in-stock alerts and cart reminders"), required=False,
    )
