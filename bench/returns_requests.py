"""How fast the policy decides: return requests created (locked order row, quantity
check, policy rules, amounts, lines, events) per second on PostgreSQL, sequentially and
with 4 threads asking on 4 different orders. Uses its own database `bench_returns`
(created and dropped here).

    .venv/bin/python bench/returns_requests.py
"""

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopauto.settings_test")
os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/bench_returns"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")

import psycopg  # noqa: E402


def _admin(sql):
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(sql)


_admin("DROP DATABASE IF EXISTS bench_returns")
_admin("CREATE DATABASE bench_returns")

import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402


def main():
    print("migrating bench_returns …", flush=True)
    call_command("migrate", verbosity=0)
    from automation import services as spine
    from returns.models import ReturnPolicy
    from returns.services import ReturnLineInput, return_request_create
    from tests.factories import AddressFactory, CustomerFactory
    from tests.orders.conftest import Shop
    from tests.returns.conftest import delivered_order

    spine._broker_down_until = time.monotonic() + 3600  # measure the decisions, not the broker
    ReturnPolicy.objects.create(name="Bench")
    shop = Shop()
    variants = [shop.variant(f"V{i}", stock_units=100000) for i in range(4)]
    orders = []
    print("placing and delivering 4 orders of 4 lines × 500 units …", flush=True)
    for index in range(4):
        customer = CustomerFactory(user__email=f"bench{index}@example.com")
        AddressFactory(profile=customer, region="EU-SOUTH")
        orders.append(delivered_order(customer, [(v, 500) for v in variants], payment="bank_transfer"))

    def ask(order, n):
        line_ids = list(order.lines.values_list("pk", flat=True))
        for i in range(n):
            return_request_create(customer=order.customer, order_number=order.number,
                                  lines=[ReturnLineInput(order_line_id=line_ids[i % 4], quantity=1)],
                                  reason="changed_mind", resolution="refund")
        connection.close()

    n = 200
    started = time.perf_counter()
    ask(orders[0], n)
    elapsed = time.perf_counter() - started
    print(f"sequential: {n} requests in {elapsed:.2f} s = {n / elapsed:.0f} requests/s "
          f"({elapsed / n * 1000:.1f} ms each)", flush=True)

    threads = [threading.Thread(target=ask, args=(order, n)) for order in orders]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(f"4 threads, 4 orders: {4 * n} requests in {elapsed:.2f} s = {4 * n / elapsed:.0f} requests/s", flush=True)

    threads = [threading.Thread(target=ask, args=(orders[1], n // 2)) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(f"4 threads, one order (serialised on its row): {2 * n} requests in {elapsed:.2f} s = "
          f"{2 * n / elapsed:.0f} requests/s", flush=True)


try:
    main()
finally:
    connection.close()
    _admin("DROP DATABASE IF EXISTS bench_returns")
