import pytest
from django.core.cache import cache

from catalog.models import PriceList
from tests.factories import CompanyFactory, CustomerFactory, CustomerGroupFactory

from .factories import CatalogRuleFactory, CategoryFactory, PriceListFactory, VariantFactory, price


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def shop(db):
    """A small shop: a default list, a group list with tiers, a company list, and a
    company whose catalog hides one category."""
    group = CustomerGroupFactory(code="wholesale")
    company = CompanyFactory(group=group)
    tools, hidden = CategoryFactory(slug="tools", name="Tools"), CategoryFactory(slug="lab", name="Lab")
    drill = VariantFactory(sku="DRILL-1", product__name="Drill", product__slug="drill", product__category=tools)
    scale = VariantFactory(sku="SCALE-1", product__name="Scale", product__slug="scale", product__category=hidden)
    default = PriceListFactory(name="Default")
    group_list = PriceListFactory(name="Wholesale", scope=PriceList.Scope.GROUP, group=group)
    company_list = PriceListFactory(name="Company", scope=PriceList.Scope.COMPANY, company=company)
    price(default, drill, (1, "100.00"))
    price(default, scale, (1, "300.00"))
    price(group_list, drill, (1, "90.00"), (10, "80.00"))
    price(company_list, drill, (50, "70.00"))
    CatalogRuleFactory(company=company, category=hidden)
    return {"company": company, "member": CustomerFactory(company=company), "consumer": CustomerFactory(),
            "drill": drill, "scale": scale, "tools": tools, "hidden": hidden, "default": default}


def add_products(count: int, category, price_list):
    for _ in range(count):
        variant = VariantFactory(product__category=category)
        VariantFactory(product=variant.product)
        for item in variant.product.variants.all():
            price(price_list, item, (1, "10.00"), (10, "9.00"))
