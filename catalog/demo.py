"""Demo catalog: categories, products and SKUs, a default EUR list, a wholesale list with
quantity tiers, Acme's own prices, Acme's catalog hiding one category, a scheduled list."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from customers.models import Company, CustomerGroup

from .models import CatalogRule, Category, PriceList, PriceListEntry, Product, Variant

CATEGORIES = [  # slug, name, parent slug
    ("tools", "Tools", None),
    ("power-tools", "Power tools", "tools"),
    ("hand-tools", "Hand tools", "tools"),
    ("safety", "Safety equipment", None),
    ("fasteners", "Fasteners", None),
    ("lab", "Laboratory", None),
]
PRODUCTS = [  # slug, name, category, [(sku, variant name, attributes, grams, default price)]
    ("cordless-drill", "Cordless drill 18V", "power-tools", [
        ("DRL-18V-1", "1 battery", {"battery": 1}, 1700, "129.00"),
        ("DRL-18V-2", "2 batteries", {"battery": 2}, 2100, "159.00")]),
    ("angle-grinder", "Angle grinder 125 mm", "power-tools", [("GRN-125", "", {}, 2300, "89.90")]),
    ("jigsaw", "Jigsaw 650W", "power-tools", [("JIG-650", "", {}, 2000, "74.50")]),
    ("claw-hammer", "Claw hammer", "hand-tools", [
        ("HAM-450", "450 g", {"weight": "450g"}, 600, "18.90"), ("HAM-650", "650 g", {"weight": "650g"}, 800, "21.90")]),
    ("screwdriver-set", "Screwdriver set (8 pcs)", "hand-tools", [("SCR-SET-8", "", {}, 900, "24.00")]),
    ("tape-measure", "Tape measure 5 m", "hand-tools", [("TAPE-5M", "", {}, 250, "9.50")]),
    ("safety-gloves", "Safety gloves", "safety", [
        ("GLV-M", "M", {"size": "M"}, 90, "6.20"), ("GLV-L", "L", {"size": "L"}, 95, "6.20"),
        ("GLV-XL", "XL", {"size": "XL"}, 100, "6.20")]),
    ("safety-glasses", "Safety glasses", "safety", [("GLS-CLR", "Clear", {"lens": "clear"}, 40, "7.90")]),
    ("ear-defenders", "Ear defenders", "safety", [("EAR-30DB", "", {}, 230, "19.90")]),
    ("wood-screws", "Wood screws 4×40 (200 pcs)", "fasteners", [("SCW-440-200", "", {}, 700, "8.40")]),
    ("wall-plugs", "Wall plugs 8 mm (100 pcs)", "fasteners", [("PLG-8-100", "", {}, 150, "4.90")]),
    ("lab-scale", "Lab precision scale", "lab", [("LAB-SCALE-01", "", {}, 3200, "349.00")]),
]
WHOLESALE_TIERS = [(1, Decimal("0.90")), (10, Decimal("0.85")), (50, Decimal("0.80"))]
ACME_PRICES = {"DRL-18V-1": [(1, "105.00"), (20, "99.00")], "GRN-125": [(1, "72.00")], "GLV-L": [(100, "4.50")]}


def _price_list(name, **fields) -> PriceList:
    price_list, _ = PriceList.objects.get_or_create(name=name, defaults=fields)
    return price_list


def _entry(price_list, variant, min_quantity, unit_price):
    PriceListEntry.objects.get_or_create(price_list=price_list, variant=variant, min_quantity=min_quantity,
                                         defaults={"unit_price": Decimal(unit_price)})


def load(out) -> str:
    categories = {}
    for slug, name, parent in CATEGORIES:
        categories[slug], _ = Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "parent": categories.get(parent)})
    out.write(f"      {len(categories)} categories")
    variants, default_prices = {}, {}
    for slug, name, category, skus in PRODUCTS:
        product, _ = Product.objects.get_or_create(slug=slug, defaults={
            "name": name, "category": categories[category], "description": f"{name}: demo product."})
        for sku, variant_name, attributes, grams, price in skus:
            variants[sku], _ = Variant.objects.get_or_create(sku=sku, defaults={
                "product": product, "name": variant_name, "attributes": attributes, "weight_grams": grams})
            default_prices[sku] = Decimal(price)
    out.write(f"      {len(PRODUCTS)} products, {len(variants)} SKUs")

    default = _price_list("Default EUR", currency="EUR", scope=PriceList.Scope.DEFAULT)
    for sku, price in default_prices.items():
        _entry(default, variants[sku], 1, price)
    wholesale_group = CustomerGroup.objects.filter(code="wholesale").first()
    if wholesale_group is not None:
        wholesale = _price_list("Wholesale EUR", currency="EUR", scope=PriceList.Scope.GROUP, group=wholesale_group)
        for sku, price in default_prices.items():
            for min_quantity, factor in WHOLESALE_TIERS:
                _entry(wholesale, variants[sku], min_quantity, (price * factor).quantize(Decimal("0.01")))
    acme = Company.objects.filter(code="acme").first()
    if acme is not None:
        acme_list = _price_list("Acme contract 2026", currency="EUR", scope=PriceList.Scope.COMPANY, company=acme,
                                priority=10)
        for sku, tiers in ACME_PRICES.items():
            for min_quantity, price in tiers:
                _entry(acme_list, variants[sku], min_quantity, price)
        CatalogRule.objects.get_or_create(company=acme, category=categories["lab"],
                                          defaults={"effect": CatalogRule.Effect.EXCLUDE})
    out.write("      price lists: default, wholesale (tiers 1/10/50), Acme contract; Acme does not see Laboratory")

    starts = (timezone.now() + timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)
    summer = _price_list("Summer sale (scheduled)", currency="EUR", scope=PriceList.Scope.DEFAULT, priority=5,
                         valid_from=starts, valid_until=starts + timedelta(days=14))
    for sku in ("GRN-125", "JIG-650", "EAR-30DB"):
        _entry(summer, variants[sku], 1, (default_prices[sku] * Decimal("0.8")).quantize(Decimal("0.01")))
    return (f"{len(categories)} categories, {len(PRODUCTS)} products, {len(variants)} SKUs, "
            f"{PriceList.objects.count()} price lists")
