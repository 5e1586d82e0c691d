from decimal import Decimal

import factory

from catalog.models import CatalogRule, Category, PriceList, PriceListEntry, Product, Variant


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    category = factory.SubFactory(CategoryFactory)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    name = factory.Sequence(lambda n: f"List {n}")
    currency = "EUR"
    scope = PriceList.Scope.DEFAULT


class PriceListEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListEntry

    price_list = factory.SubFactory(PriceListFactory)
    variant = factory.SubFactory(VariantFactory)
    min_quantity = 1
    unit_price = Decimal("10.00")


class CatalogRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogRule

    effect = CatalogRule.Effect.EXCLUDE


def price(price_list, variant, *tiers):
    """price(list, variant, (1, "10.00"), (10, "9.00")): add quantity tiers."""
    for min_quantity, unit_price in tiers:
        PriceListEntryFactory(price_list=price_list, variant=variant, min_quantity=min_quantity,
                              unit_price=Decimal(unit_price))
