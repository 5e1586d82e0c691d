"""A small shop for order tests: a catalog with prices, stock in one warehouse, a
shipping method, a B2B company (buyer + approver) and a consumer."""

from datetime import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from automation.models import Event
from catalog.models import Category, PriceList, PriceListEntry, Product, Variant
from customers.models import CustomerProfile
from inventory import services as stock
from inventory.models import Warehouse
from orders.models import ShippingMethod, ShippingRate
from orders.services import CheckoutDetails
from tests.factories import AddressFactory, CompanyFactory, CustomerFactory, StaffFactory


class Shop:
    def __init__(self):
        self.category = Category.objects.create(name="Tools", slug="tools")
        self.warehouse = Warehouse.objects.create(code="mad", name="Madrid", region="EU-SOUTH",
                                                  cutoff_time=time(23, 59), handling_days=1)
        self.price_list = PriceList.objects.create(name="Default EUR", currency="EUR", scope="default")
        self.method = ShippingMethod.objects.create(code="std", name="Standard", carrier="DHL",
                                                    tracking_url_template="https://track.example/{tracking}")
        ShippingRate.objects.create(method=self.method, region="", price=Decimal("5.00"), currency="EUR",
                                    transit_days=2)
        self.variants = []

    def variant(self, sku, price="10.00", stock_units=100, tiers=None):
        product = Product.objects.create(name=f"Product {sku}", slug=sku.lower(), category=self.category)
        variant = Variant.objects.create(product=product, sku=sku)
        PriceListEntry.objects.create(price_list=self.price_list, variant=variant, min_quantity=1,
                                      unit_price=Decimal(price))
        for min_quantity, unit_price in (tiers or {}).items():
            PriceListEntry.objects.create(price_list=self.price_list, variant=variant, min_quantity=min_quantity,
                                          unit_price=Decimal(unit_price))
        if stock_units:
            stock.stock_receive(variant_id=variant.pk, warehouse_id=self.warehouse.pk, quantity=stock_units,
                                reason="opening balance")
        self.variants.append(variant)
        return variant


@pytest.fixture
def shop(db):
    return Shop()


@pytest.fixture
def company(db):
    return CompanyFactory(name="Acme", code="acme", credit_limit=Decimal("10000.00"),
                          approval_threshold=Decimal("1000.00"))


@pytest.fixture
def buyer(company):
    profile = CustomerFactory(company=company, role=CustomerProfile.Role.BUYER, user__email="buyer@acme.example")
    AddressFactory(company=company, region="EU-SOUTH")
    return profile


@pytest.fixture
def approver(company):
    return CustomerFactory(company=company, role=CustomerProfile.Role.APPROVER, user__email="approver@acme.example")


@pytest.fixture
def consumer(db):
    profile = CustomerFactory(user__email="ana@example.com")
    AddressFactory(profile=profile, region="EU-SOUTH")
    return profile


@pytest.fixture
def staff(db):
    user = StaffFactory()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="orders"))
    return user


def details_for(customer, *, payment="invoice", po=""):
    from customers.selectors import address_list_for_customer

    return CheckoutDetails(shipping_address_id=address_list_for_customer(customer=customer).first().pk,
                           shipping_method="std", payment_method=payment, po_number=po)


def event_names(**filters) -> list[str]:
    filters.setdefault("subject_type", "orders.order")
    return list(Event.objects.filter(**filters).order_by("pk").values_list("name", flat=True))
