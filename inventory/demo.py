"""Demo stock: three warehouses, stock for every catalog variant, a supplier with reorder
rules, one item under its reorder point (with its drafted PO) and one out-of-stock item
that ana@example.com waits for. Idempotent: existing stock is left alone."""

from datetime import time

from catalog.models import Category, Product, Variant
from customers.models import CustomerProfile

from . import services
from .models import BackInStockSubscription, ReorderRule, StockLevel, Supplier, Warehouse

WAREHOUSES = [
    ("mad", "Madrid", "EU-SOUTH", time(16, 0), 1),
    ("rtm", "Rotterdam", "EU-WEST", time(14, 0), 1),
    ("gru", "São Paulo", "SA-EAST", time(12, 0), 2),
]
PLENTY = {"mad": 40, "rtm": 25, "gru": 15}


def _variants() -> list[Variant]:
    variants = list(Variant.objects.select_related("product").order_by("sku"))
    if variants:
        return variants
    category, _ = Category.objects.get_or_create(slug="demo-stock", defaults={"name": "Demo stock"})
    for slug, name, skus in [("demo-drill", "Cordless drill", ["DEMO-DRILL-18V", "DEMO-DRILL-12V"]),
                             ("demo-gloves", "Work gloves", ["DEMO-GLOVES-M", "DEMO-GLOVES-L"])]:
        product, _ = Product.objects.get_or_create(slug=slug, defaults={"name": name, "category": category})
        for sku in skus:
            Variant.objects.get_or_create(sku=sku, defaults={"product": product, "name": sku.rsplit("-", 1)[-1]})
    return list(Variant.objects.select_related("product").order_by("sku"))


def load(out) -> str:
    warehouses = {}
    for code, name, region, cutoff, handling in WAREHOUSES:
        warehouses[code], _ = Warehouse.objects.get_or_create(code=code, defaults={
            "name": name, "region": region, "cutoff_time": cutoff, "handling_days": handling})
    supplier, _ = Supplier.objects.get_or_create(code="iberia-tools", defaults={
        "name": "Iberia Tools Supply", "email": "orders@iberia-tools.example", "lead_time_days": 6})

    variants = _variants()
    out_of_stock = variants[-1]
    low = variants[-2] if len(variants) > 1 else None
    stocked = 0
    for index, variant in enumerate(variants, start=1):
        if index % 25 == 0:
            out.write(f"      stock {index}/{len(variants)} …\n")
        for code, warehouse in warehouses.items():
            if StockLevel.objects.filter(variant=variant, warehouse=warehouse).exists():
                continue
            level = StockLevel.objects.create(variant=variant, warehouse=warehouse)
            if code == "mad":
                ReorderRule.objects.get_or_create(stock_level=level, defaults={
                    "supplier": supplier, "reorder_point": 5, "reorder_quantity": 50})
            if variant == out_of_stock:
                continue
            quantity = 3 if variant == low and code == "mad" else (0 if variant == low else PLENTY[code])
            if quantity:
                # Booked through the ledger; the low item crosses its reorder point here,
                # which emits stock.low and drafts the purchase order.
                services.stock_receive(variant_id=variant.pk, warehouse_id=warehouse.pk, quantity=quantity,
                                       reference="DEMO", reason="Opening balance")
                stocked += 1

    ana = CustomerProfile.objects.filter(user__username="ana@example.com").first()
    if ana is not None:
        BackInStockSubscription.objects.get_or_create(customer=ana, variant=out_of_stock,
                                                      status=BackInStockSubscription.Status.WAITING)
    return (f"{len(warehouses)} warehouses, {len(variants)} variants ({stocked} opening receipts), "
            f"low: {low.sku if low else '-'}, out of stock: {out_of_stock.sku}")
