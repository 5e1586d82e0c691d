"""Demo company, customers and staff. Passwords are for the local demo only."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from .models import Address, Company, CustomerGroup, CustomerProfile

DEMO_PASSWORD = "shopauto-demo"
STAFF_GROUPS = {
    "Managers": None,  # every permission of the shop apps
    "Purchasing": ["inventory", "catalog"],
    "Support": ["orders", "returns", "notifications", "customers"],
    "Sales": ["quotes", "catalog", "customers", "orders"],
}
SHOP_APPS = ["customers", "catalog", "inventory", "orders", "quotes", "returns", "notifications", "automation"]

User = get_user_model()


def _user(username, *, email, first_name="", last_name="", is_staff=False, is_superuser=False):
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"email": email, "first_name": first_name, "last_name": last_name,
                  "is_staff": is_staff, "is_superuser": is_superuser},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def load(out) -> str:
    for name, app_labels in STAFF_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = Permission.objects.filter(content_type__app_label__in=app_labels or SHOP_APPS)
        group.permissions.add(*perms)

    _user("admin", email="admin@shop.example", first_name="Ada", last_name="Admin", is_staff=True, is_superuser=True)
    for username, first, group in [("manager", "Marta", "Managers"), ("purchasing", "Paulo", "Purchasing"),
                                   ("support", "Sofia", "Support"), ("sales", "Sandro", "Sales")]:
        staff = _user(username, email=f"{username}@shop.example", first_name=first, is_staff=True)
        staff.groups.add(Group.objects.get(name=group))

    retail, _ = CustomerGroup.objects.get_or_create(code="retail", defaults={"name": "Retail"})
    wholesale, _ = CustomerGroup.objects.get_or_create(code="wholesale", defaults={"name": "Wholesale"})
    acme, _ = Company.objects.get_or_create(code="acme", defaults={
        "name": "Acme Industrial S.L.", "vat_number": "ESB12345678", "group": wholesale, "currency": "EUR",
        "credit_limit": Decimal("50000.00"), "payment_terms": Company.PaymentTerms.NET_30,
        "approval_threshold": Decimal("5000.00"),
    })
    Address.objects.get_or_create(company=acme, label="Head office", defaults={
        "name": "Acme Industrial S.L.", "line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013",
        "region": "EU-SOUTH", "country": "ES", "is_default_shipping": True, "is_default_billing": True,
    })

    customers = [
        ("buyer@acme.example", "Bruno", "Buyer", acme, CustomerProfile.Role.BUYER, "es", None),
        ("approver@acme.example", "Alba", "Approver", acme, CustomerProfile.Role.APPROVER, "es", None),
        ("ana@example.com", "Ana", "Souza", None, CustomerProfile.Role.BUYER, "pt-br", retail),
    ]
    for email, first, last, company, role, language, group in customers:
        user = _user(email, email=email, first_name=first, last_name=last)
        profile, _ = CustomerProfile.objects.get_or_create(user=user, defaults={
            "company": company, "role": role, "language": language, "group": group, "marketing_consent": True,
        })
        if company is None:
            Address.objects.get_or_create(profile=profile, label="Casa", defaults={
                "name": f"{first} {last}", "line1": "Rua Augusta 100", "city": "São Paulo", "postal_code": "01305-000",
                "region": "SA-EAST", "country": "BR", "is_default_shipping": True, "is_default_billing": True,
            })
    return "1 company, 3 customers, 5 staff users, 4 staff groups"


def credentials() -> list[str]:
    return [
        f"Back-office  /admin/   admin / {DEMO_PASSWORD} (superuser); manager, purchasing, support, sales / {DEMO_PASSWORD}",
        f"Portal       /         buyer@acme.example, approver@acme.example, ana@example.com / {DEMO_PASSWORD}",
    ]
