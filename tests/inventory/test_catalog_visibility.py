"""What a company's catalog hides, inventory does not reveal either (404, not 403)."""

import pytest
from rest_framework.test import APIClient

from catalog.models import CatalogRule, Category, Product, Variant
from inventory import services
from inventory.exceptions import VariantNotFound
from tests.factories import CompanyFactory, CustomerFactory


@pytest.fixture
def hidden_setup(db):
    company = CompanyFactory()
    customer = CustomerFactory(company=company)
    category = Category.objects.create(name="Lab", slug="lab")
    secret = Variant.objects.create(product=Product.objects.create(name="Secret", slug="secret", category=category),
                                    sku="SECRET-1")
    shown = Variant.objects.create(product=Product.objects.create(name="Shown", slug="shown", category=category),
                                   sku="SHOWN-1")
    CatalogRule.objects.create(company=company, effect="exclude", product=secret.product)
    return customer, secret, shown


def test_customers_cannot_subscribe_to_hidden_items(hidden_setup):
    customer, secret, shown = hidden_setup
    with pytest.raises(VariantNotFound):
        services.back_in_stock_subscribe(customer=customer, sku="SECRET-1")
    assert services.back_in_stock_subscribe(customer=customer, sku="SHOWN-1").variant == shown


def test_stock_api_hides_what_the_catalog_hides(hidden_setup):
    customer, secret, shown = hidden_setup
    api = APIClient()
    api.force_authenticate(customer.user)
    skus = [row["sku"] for row in api.get("/api/v1/stock/").json()["results"]]
    assert skus == ["SHOWN-1"]
    assert api.get(f"/api/v1/stock/{secret.pk}/").status_code == 404
