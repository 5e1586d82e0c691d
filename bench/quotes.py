"""Quote throughput on PostgreSQL: full cycles (RFQ → price → send → accept → order at
the quoted prices) per second, and the beat expiry job over many overdue quotes. Uses
its own database (bench_quotes, created and dropped here) unless BENCH_DATABASE_URL
names another.

    .venv/bin/python bench/quotes.py [--cycles 200] [--expire 2000] [--lines 5]
"""

import argparse
import os
import sys
import time
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
BENCH_DB = "bench_quotes"
ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}")
os.environ["REDIS_URL"] = ""  # events stay in the outbox: we measure the services, not the broker
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopauto.settings_test")


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def build(lines: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from catalog.models import Category, PriceList, PriceListEntry, Product, Variant
    from customers.models import Address, Company, CustomerProfile
    from inventory import services as stock
    from inventory.models import Warehouse
    from orders.models import ShippingMethod, ShippingRate

    User = get_user_model()
    company = Company.objects.create(name="Acme", code="acme", credit_limit=Decimal("100000000"),
                                     approval_threshold=None)
    buyer = CustomerProfile.objects.create(user=User.objects.create(username="buyer", email="buyer@acme.example"),
                                           company=company)
    Address.objects.create(company=company, name="Acme", line1="Calle 1", city="Madrid", postal_code="28013",
                           region="EU-SOUTH", country="ES", is_default_shipping=True)
    sales = User.objects.create(username="sales", email="sales@shop.example", is_staff=True)
    sales.user_permissions.add(*Permission.objects.filter(content_type__app_label="quotes"))
    warehouse = Warehouse.objects.create(code="mad", name="Madrid", region="EU-SOUTH", cutoff_time=clock(23, 59),
                                         handling_days=1)
    method = ShippingMethod.objects.create(code="std", name="Standard", carrier="DHL")
    ShippingRate.objects.create(method=method, region="", price=Decimal("5.00"), currency="EUR", transit_days=2)
    category = Category.objects.create(name="Tools", slug="tools")
    price_list = PriceList.objects.create(name="Default", currency="EUR", scope="default")
    variants = []
    for i in range(lines):
        product = Product.objects.create(name=f"Product {i}", slug=f"p-{i}", category=category)
        variant = Variant.objects.create(product=product, sku=f"SKU-{i}")
        PriceListEntry.objects.create(price_list=price_list, variant=variant, min_quantity=1,
                                      unit_price=Decimal("10.00"))
        stock.stock_receive(variant_id=variant.pk, warehouse_id=warehouse.pk, quantity=10_000_000, reason="bench")
        variants.append(variant)
    return buyer, sales, variants


def cycle(buyer, sales, variants, details):
    from quotes import services

    quote = services.quote_request(customer=buyer, actor=buyer.user,
                                   lines=[services.RequestedLine(v.pk, 10) for v in variants])
    services.quote_price(quote_id=quote.pk, actor=sales,
                         lines=[services.PricedLine(v.pk, 10, Decimal("9.50")) for v in variants])
    services.quote_send(quote_id=quote.pk, actor=sales)
    quote = services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details)
    assert quote.order_id, quote.conversion_error
    return quote


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--expire", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=5)
    args = parser.parse_args()

    if "BENCH_DATABASE_URL" not in os.environ:
        _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{BENCH_DB}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    try:
        print("migrating the bench database …", flush=True)
        call_command("migrate", verbosity=0)
        buyer, sales, variants = build(args.lines)
        from customers.selectors import address_list_for_customer
        from orders.services import CheckoutDetails
        from quotes import services
        from quotes.models import Quote

        details = CheckoutDetails(shipping_address_id=address_list_for_customer(customer=buyer).first().pk,
                                  shipping_method="std", payment_method="invoice")
        with CaptureQueriesContext(connection) as queries:
            cycle(buyer, sales, variants, details)
        print(f"queries per full cycle ({args.lines} lines): {len(queries)}")

        print(f"{args.cycles} full cycles (RFQ → price → send → accept → order), {args.lines} lines each …",
              flush=True)
        started = time.perf_counter()
        for done in range(1, args.cycles + 1):
            cycle(buyer, sales, variants, details)
            if done % max(1, args.cycles // 4) == 0:
                print(f"  {done}/{args.cycles}", flush=True)
        elapsed = time.perf_counter() - started
        print(f"full cycles: {args.cycles / elapsed:.1f}/s ({elapsed * 1000 / args.cycles:.1f} ms each)")

        print(f"preparing {args.expire} sent quotes past their validity …", flush=True)
        for done in range(args.expire):
            quote = services.quote_request(customer=buyer, lines=[services.RequestedLine(variants[0].pk, 1)])
            services.quote_price(quote_id=quote.pk, actor=sales,
                                 lines=[services.PricedLine(variants[0].pk, 1, Decimal("9.00"))])
            services.quote_send(quote_id=quote.pk, actor=sales)
            if (done + 1) % max(1, args.expire // 4) == 0:
                print(f"  {done + 1}/{args.expire}", flush=True)
        later = timezone.now() + timedelta(days=400)
        if os.environ.get("BENCH_PROFILE"):
            import cProfile

            cProfile.runctx("services.quotes_expire(now=later)", globals(), locals(), sort="cumulative")
        total, started = 0, time.perf_counter()
        while True:  # the job takes up to 1000 per run
            expired = services.quotes_expire(now=later)
            total += expired
            if not expired:
                break
        elapsed = time.perf_counter() - started
        print(f"expiry job: {total} quotes in {elapsed:.2f} s ({total / elapsed:.0f}/s); "
              f"a second run expires {services.quotes_expire(now=later)}")
        assert Quote.objects.filter(status="sent").count() == 0
    finally:
        connection.close()
        if "BENCH_DATABASE_URL" not in os.environ:
            _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
