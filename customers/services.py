from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from automation.services import emit
from shopauto.exceptions import InvalidInput

from .models import Company, CustomerProfile

User = get_user_model()


@transaction.atomic
def customer_create(
    *, email: str, password: str | None, first_name: str = "", last_name: str = "", company: Company | None = None,
    role: str = CustomerProfile.Role.BUYER, language: str = "en", marketing_consent: bool = False,
    username: str | None = None,
) -> CustomerProfile:
    """Create a portal customer (a user without staff rights, plus their profile)."""
    user = User.objects.create_user(
        username=username or email.lower(), email=email.lower(), password=password,
        first_name=first_name, last_name=last_name,
    )
    profile = CustomerProfile.objects.create(
        user=user, company=company, role=role, language=language, marketing_consent=marketing_consent,
        marketing_consent_at=timezone.now() if marketing_consent else None,
    )
    emit("customer.created", subject=profile, payload=customer_payload(profile))
    return profile


@transaction.atomic
def customer_update_preferences(*, customer: CustomerProfile, language: str, marketing_consent: bool) -> CustomerProfile:
    """Change the customer's language and marketing consent; records when consent was given."""
    customer = CustomerProfile.objects.select_for_update().get(pk=customer.pk)
    consent_changed = customer.marketing_consent != marketing_consent
    customer.language = language
    customer.marketing_consent = marketing_consent
    if consent_changed:
        customer.marketing_consent_at = timezone.now() if marketing_consent else None
    customer.save(update_fields=["language", "marketing_consent", "marketing_consent_at"])
    if consent_changed:
        emit("customer.consent_changed", subject=customer, payload=customer_payload(customer))
    return customer


def customer_payload(customer: CustomerProfile) -> dict:
    return {
        "id": customer.pk,
        "email": customer.user.email,
        "name": customer.display_name,
        "company": customer.company.code if customer.company_id else None,
        "role": customer.role,
        "language": customer.language,
        "marketing_consent": customer.marketing_consent,
    }


@transaction.atomic
def customer_set_language(*, customer: CustomerProfile, language: str) -> CustomerProfile:
    """Remember the language a customer picked (switcher, account page) on their profile, so
    the portal and their emails follow them to any device."""
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(fields={"language": [_("Unknown language.")]})
    updated = CustomerProfile.objects.filter(pk=customer.pk).exclude(language=language).update(language=language)
    if updated:
        customer.language = language
    return customer
