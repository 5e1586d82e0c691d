"""Inventory test data. Catalog factories are kept here (the catalog app's own may come later)."""

from datetime import time

import factory

from catalog.models import Category, Product, Variant
from inventory import services
from inventory.models import ReorderRule, StockLevel, Supplier, Warehouse


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    name = "Tools"
    slug = "tools"


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


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"wh{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    region = "EU-SOUTH"
    cutoff_time = time(23, 59, 59)
    handling_days = 1


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"sup{n}")
    name = factory.Sequence(lambda n: f"Supplier {n}")
    email = "orders@supplier.example"
    lead_time_days = 5


def stocked(variant=None, warehouse=None, on_hand=10) -> StockLevel:
    """A stock level with `on_hand` units received through the service (ledger included)."""
    variant = variant or VariantFactory()
    warehouse = warehouse or WarehouseFactory()
    if on_hand:
        services.stock_receive(variant_id=variant.pk, warehouse_id=warehouse.pk, quantity=on_hand, reason="opening")
    level, _ = StockLevel.objects.get_or_create(variant=variant, warehouse=warehouse)
    return level


def rule(level, *, point=3, quantity=20, supplier=None) -> ReorderRule:
    return ReorderRule.objects.create(stock_level=level, supplier=supplier or SupplierFactory(),
                                      reorder_point=point, reorder_quantity=quantity)
