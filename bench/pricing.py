"""Prices resolved per second for 10,000 variants: the bulk path (prices_for) against
one price_for call per variant. Uses its own PostgreSQL database (bench_catalog, created
and dropped here) unless BENCH_DATABASE_URL names another.

    .venv/bin/python bench/pricing.py [--variants 10000]
"""

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
BENCH_DB = "bench_catalog"
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
os.environ.setdefault("REDIS_URL", "")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopauto.settings_test")


def recreate_database():
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def drop_database():
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def build(count: int):
    from django.contrib.auth import get_user_model

    from catalog.models import CatalogRule, Category, PriceList, PriceListEntry, Product, Variant
    from customers.models import Company, CustomerGroup, CustomerProfile

    group = CustomerGroup.objects.create(name="Wholesale", code="wholesale")
    company = Company.objects.create(name="Acme", code="acme", group=group)
    customer = CustomerProfile.objects.create(user=get_user_model().objects.create(username="buyer"), company=company)
    categories = [Category.objects.create(name=f"Category {i}", slug=f"category-{i}") for i in range(20)]
    CatalogRule.objects.create(company=company, category=categories[-1])  # a catalog restriction, as in real life
    products = Product.objects.bulk_create(
        [Product(name=f"Product {i}", slug=f"product-{i}", category=categories[i % 19]) for i in range(count)],
        batch_size=2000)
    variants = Variant.objects.bulk_create(
        [Variant(product=product, sku=f"SKU-{i:06d}") for i, product in enumerate(products)], batch_size=2000)
    default = PriceList.objects.create(name="Default", scope="default")
    wholesale = PriceList.objects.create(name="Wholesale", scope="group", group=group)
    contract = PriceList.objects.create(name="Acme", scope="company", company=company, priority=1)
    entries = []
    for i, variant in enumerate(variants):
        base = Decimal(10 + i % 90)
        entries.append(PriceListEntry(price_list=default, variant=variant, min_quantity=1, unit_price=base))
        for min_quantity, factor in ((1, Decimal("0.9")), (10, Decimal("0.85")), (50, Decimal("0.8"))):
            entries.append(PriceListEntry(price_list=wholesale, variant=variant, min_quantity=min_quantity,
                                          unit_price=(base * factor).quantize(Decimal("0.01"))))
        if i % 4 == 0:
            entries.append(PriceListEntry(price_list=contract, variant=variant, min_quantity=20,
                                          unit_price=(base * Decimal("0.7")).quantize(Decimal("0.01"))))
    PriceListEntry.objects.bulk_create(entries, batch_size=5000)
    return customer, variants, len(entries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=10_000)
    args = parser.parse_args()
    own_database = "BENCH_DATABASE_URL" not in os.environ
    if own_database:
        print(f"==> creating database {BENCH_DB}", flush=True)
        recreate_database()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from catalog.pricing import price_for, prices_for

    try:
        print("==> migrating", flush=True)
        call_command("migrate", verbosity=0)
        print(f"==> building {args.variants:,} variants, 3 price lists with tiers", flush=True)
        customer, variants, entry_count = build(args.variants)
        print(f"    {entry_count:,} price entries", flush=True)
        from customers.models import CustomerProfile

        customer = CustomerProfile.objects.select_related("company").get(pk=customer.pk)
        items = [(variant, 1 + index % 60) for index, variant in enumerate(variants)]

        print("==> bulk: prices_for over every variant (3 runs)", flush=True)
        bulk_times = []
        for _ in range(3):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                bulk = prices_for(customer=customer, items=items)
                bulk_times.append(time.perf_counter() - started)
            print(f"    {len(bulk):,} prices in {bulk_times[-1]:.3f} s, {len(queries)} queries", flush=True)
        bulk_best = min(bulk_times)

        print("==> one by one: price_for per variant", flush=True)
        single, hidden, started = {}, 0, time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            for index, (variant, quantity) in enumerate(items, start=1):
                try:
                    single[variant.pk] = price_for(customer=customer, variant=variant, quantity=quantity)
                except Exception:  # hidden by the catalog (NotInCatalog): the bulk path leaves it out too
                    hidden += 1
                if index % 2000 == 0:
                    print(f"    {index:,}/{len(items):,} …", flush=True)
                    reset_queries()
            single_time = time.perf_counter() - started
        assert single == bulk, "bulk and one-by-one disagree"
        print(f"    {len(single):,} prices in {single_time:.3f} s ({hidden:,} hidden by the catalog)", flush=True)

        bulk_rate, single_rate = len(items) / bulk_best, len(items) / single_time
        print("")
        print(f"variants                 {len(items):,}")
        print(f"bulk (prices_for)        {bulk_rate:>12,.0f} prices/s   ({bulk_best:.3f} s, best of 3)")
        print(f"one by one (price_for)   {single_rate:>12,.0f} prices/s   ({single_time:.3f} s)")
        print(f"speed-up                 {bulk_rate / single_rate:>12.1f}×   (must be ≥ 20×)")
        print("identical results        yes")
        return 0 if bulk_rate / single_rate >= 20 else 1
    finally:
        connection.close()
        if own_database:
            drop_database()
            print(f"==> dropped database {BENCH_DB}")


if __name__ == "__main__":
    sys.exit(main())
