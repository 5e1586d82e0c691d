"""factory_boy factories shared by the suite. Each app's tests may add their own."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from customers.models import Address, Company, CustomerGroup, CustomerProfile

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    first_name = factory.Faker("first_name")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.Sequence(lambda n: f"staff{n}@shop.example")
    is_staff = True


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup
        django_get_or_create = ["code"]

    name = factory.Sequence(lambda n: f"Group {n}")
    code = factory.Sequence(lambda n: f"group-{n}")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    code = factory.Sequence(lambda n: f"company-{n}")
    currency = "EUR"
    credit_limit = Decimal("10000.00")
    approval_threshold = Decimal("5000.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    """A portal customer (CustomerProfile) with its user."""

    class Meta:
        model = CustomerProfile

    user = factory.SubFactory(UserFactory)
    company = None
    role = CustomerProfile.Role.BUYER
    language = "en"


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    name = factory.Faker("name")
    line1 = factory.Faker("street_address")
    city = factory.Faker("city")
    postal_code = "28013"
    region = "EU-SOUTH"
    country = "ES"
    is_default_shipping = True
