from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CURRENCY_HELP = _("ISO 4217 code, e.g. EUR, USD, BRL.")


class CustomerGroup(models.Model):
    """A set of customers priced alike (e.g. "Retail", "Wholesale", "VIP")."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Company(models.Model):
    """A B2B account: its buyers order on its behalf, on its terms and limits."""

    class PaymentTerms(models.TextChoices):
        PREPAID = "prepaid", _("Prepaid")
        NET_15 = "net15", _("Net 15 days")
        NET_30 = "net30", _("Net 30 days")
        NET_60 = "net60", _("Net 60 days")

    name = models.CharField(_("name"), max_length=200)
    code = models.SlugField(_("code"), max_length=50, unique=True, help_text=_("Short reference, e.g. ACME."))
    vat_number = models.CharField(_("VAT number"), max_length=50, blank=True)
    group = models.ForeignKey(
        CustomerGroup, verbose_name=_("customer group"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="companies",
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR", help_text=CURRENCY_HELP)
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=12, decimal_places=2, default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Open invoices may not exceed this amount. 0 means no credit: prepaid only."),
    )
    payment_terms = models.CharField(_("payment terms"), max_length=10, choices=PaymentTerms.choices,
                                     default=PaymentTerms.NET_30)
    approval_threshold = models.DecimalField(
        _("approval threshold"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Orders above this total wait for a company approver. Empty: no approval needed."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="company_credit_limit_not_negative"),
        ]

    def __str__(self):
        return self.name

    @property
    def payment_days(self) -> int:
        return {"prepaid": 0, "net15": 15, "net30": 30, "net60": 60}[self.payment_terms]


class CustomerProfile(models.Model):
    """What makes a user a customer: portal access, their company and preferences.
    Staff users have no profile and cannot use the portal as customers."""

    class Role(models.TextChoices):
        BUYER = "buyer", _("Buyer")
        APPROVER = "approver", _("Approver")
        ADMIN = "admin", _("Company administrator")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer_profile")
    company = models.ForeignKey(
        Company, verbose_name=_("company"), null=True, blank=True, on_delete=models.PROTECT, related_name="members",
        help_text=_("Empty for consumers (B2C)."),
    )
    group = models.ForeignKey(
        CustomerGroup, verbose_name=_("customer group"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="customers", help_text=_("For consumers; company members are priced by their company's group."),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.BUYER)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    marketing_consent = models.BooleanField(_("marketing email consent"), default=False)
    marketing_consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")
        ordering = ["user__username"]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.username

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def effective_group(self) -> CustomerGroup | None:
        if self.company_id:
            return self.company.group
        return self.group

    @property
    def can_approve(self) -> bool:
        return self.company_id is not None and self.role in (self.Role.APPROVER, self.Role.ADMIN)


class Address(models.Model):
    """A shipping or billing address, owned by a company (shared by its members) or by
    a single consumer."""

    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses")
    profile = models.ForeignKey(
        CustomerProfile, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    label = models.CharField(_("label"), max_length=60, blank=True, help_text=_("e.g. Head office, Warehouse"))
    name = models.CharField(_("recipient"), max_length=200)
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    postal_code = models.CharField(_("postal code"), max_length=20)
    region = models.CharField(
        _("region"), max_length=50, blank=True,
        help_text=_("Shipping region code used to pick the warehouse and carrier transit days, e.g. EU-WEST."),
    )
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code, e.g. ES, BR, IT."))
    is_default_shipping = models.BooleanField(_("default shipping address"), default=False)
    is_default_billing = models.BooleanField(_("default billing address"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False, profile__isnull=True) | Q(company__isnull=True, profile__isnull=False),
                name="address_has_one_owner",
            ),
        ]

    def __str__(self):
        return ", ".join(part for part in (self.label or self.name, self.line1, self.city, self.country) if part)
