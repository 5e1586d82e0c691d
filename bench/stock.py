"""Reservations per second: one hot SKU vs spread over 1,000 SKUs, 16 concurrent
connections, through inventory.services.stock_reserve; and the ceiling: a raw single-row
conditional UPDATE from psycopg (same threads, same Python) and from pgbench.

    .venv/bin/python bench/stock.py [--seconds 8] [--threads 16]

Uses its own PostgreSQL database (bench_inventory: dropped and re-created, migrated).
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = os.environ.get("BENCH_DB", "bench_inventory")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{PG}/{BENCH_DB}"
os.environ.setdefault("REDIS_URL", "")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopauto.settings_test")
os.environ.setdefault("SHOPAUTO_VAR_DIR", tempfile.mkdtemp(prefix="bench-stock-"))

SKUS = 1000


def recreate_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    print("==> migrating", BENCH_DB, flush=True)
    call_command("migrate", verbosity=0)


def seed():
    from django.db import transaction

    from catalog.models import Category, Product, Variant
    from inventory.models import StockLevel, StockMovement, Warehouse

    print(f"==> seeding {SKUS} SKUs", flush=True)
    with transaction.atomic():
        warehouse = Warehouse.objects.create(code="bench", name="Bench", region="EU-SOUTH")
        category = Category.objects.create(name="Bench", slug="bench")
        product = Product.objects.create(name="Bench", slug="bench", category=category)
        variants = Variant.objects.bulk_create([Variant(product=product, sku=f"B-{n:05d}") for n in range(SKUS)])
        levels = StockLevel.objects.bulk_create([
            StockLevel(variant=v, warehouse=warehouse, on_hand=10_000_000) for v in variants])
        StockMovement.objects.bulk_create([
            StockMovement(stock_level=level, kind="receipt", quantity=level.on_hand, balance_after=level.on_hand)
            for level in levels])
    return [v.pk for v in variants], [lvl.pk for lvl in levels]


def run_threads(threads: int, seconds: float, work, label: str) -> float:
    """Each thread calls work(thread_no, n) in a loop for `seconds`; returns calls/s."""
    from django.db import connection

    counts = [0] * threads
    errors = [0] * threads
    start_barrier = threading.Barrier(threads + 1)
    stop = threading.Event()

    def loop(no):
        start_barrier.wait()
        n = 0
        while not stop.is_set():
            try:
                work(no, n)
                counts[no] += 1
            except Exception as exc:
                errors[no] += 1
                if errors[no] == 1:
                    print(f"    ! thread {no}: {exc!r}", flush=True)
            n += 1
        connection.close()

    pool = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    start_barrier.wait()
    began = time.monotonic()
    for second in range(int(seconds)):
        time.sleep(1)
        print(f"    {label}: {second + 1}/{int(seconds)} s, {sum(counts)} done", flush=True)
    stop.set()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - began
    if sum(errors):
        print(f"    {label}: {sum(errors)} errors", flush=True)
    return sum(counts) / elapsed


def bench_service(variant_ids, threads, seconds):
    from datetime import timedelta

    from django.utils import timezone

    from inventory.services import stock_reserve

    hot = variant_ids[0]

    def reserve_hot(no, n):
        stock_reserve(lines=[(hot, 1)], reference=f"hot:{no}:{n}", expires_at=timezone.now() + timedelta(minutes=15))

    def reserve_spread(no, n):
        stock_reserve(lines=[(random.choice(variant_ids), 1)], reference=f"spread:{no}:{n}",
                      expires_at=timezone.now() + timedelta(minutes=15))

    print("==> warm-up", flush=True)
    run_threads(threads, 1, reserve_spread, "warm-up")
    print("==> stock_reserve, spread over 1,000 SKUs", flush=True)
    spread = run_threads(threads, seconds, reserve_spread, "spread")
    print("==> stock_reserve, one hot SKU", flush=True)
    hot_rate = run_threads(threads, seconds, reserve_hot, "hot")

    def re_reserve_hot(no, n):
        # Same reference every time (a cart changing its quantity): takes the row-locking path.
        stock_reserve(lines=[(hot, 1 + n % 3)], reference=f"cart-update:{no}",
                      expires_at=timezone.now() + timedelta(minutes=15))

    print("==> stock_reserve, one hot SKU, re-reserving the same reference (locking path)", flush=True)
    locked_rate = run_threads(threads, seconds, re_reserve_hot, "hot, locking")
    return hot_rate, spread, locked_rate


def bench_raw_psycopg(level_id, threads, seconds):
    import psycopg

    conns = [psycopg.connect(f"{PG}/{BENCH_DB}", autocommit=True) for _ in range(threads)]
    sql = "UPDATE inventory_stocklevel SET reserved = reserved + 1 WHERE id = %s AND on_hand - reserved >= 1"

    def update(no, n):
        conns[no].execute(sql, (level_id,))

    print("==> raw conditional UPDATE on one row (psycopg, same threads)", flush=True)
    rate = run_threads(threads, seconds, update, "raw psycopg")
    for conn in conns:
        conn.close()
    return rate


def bench_pgbench(level_id, threads, seconds):
    if not shutil.which("pgbench"):
        return None
    script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
    script.write("UPDATE inventory_stocklevel SET reserved = reserved + 1 WHERE id = :level_id "
                 "AND on_hand - reserved >= 1;\n")
    script.close()
    print("==> raw conditional UPDATE on one row (pgbench)", flush=True)
    result = subprocess.run(
        ["pgbench", "-n", "-D", f"level_id={int(level_id)}", "-c", str(threads), "-j", "2", "-T", str(int(seconds)), "-f", script.name,
         "-h", "127.0.0.1", "-U", "postgres", BENCH_DB],
        capture_output=True, text=True, check=False)
    for line in result.stdout.splitlines():
        if line.startswith("tps"):
            return float(line.split("=")[1].split()[0])
    print(result.stdout[-500:], result.stderr[-500:])
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    recreate_database()
    setup_django()
    variant_ids, level_ids = seed()
    hot, spread, locked = bench_service(variant_ids, args.threads, args.seconds)
    raw = bench_raw_psycopg(level_ids[-1], args.threads, args.seconds)
    pgbench = bench_pgbench(level_ids[-2], args.threads, args.seconds)

    from django.db import connection

    from inventory.selectors import ledger_mismatches

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inventory_stocklevel WHERE reserved > on_hand OR on_hand < 0")
        broken = cursor.fetchone()[0]
    print()
    print(f"Results ({args.threads} concurrent connections, {args.seconds:.0f} s each, {os.cpu_count()} CPUs)")
    print(f"  stock_reserve, spread over {SKUS} SKUs : {spread:8.0f} reservations/s")
    print(f"  stock_reserve, one hot SKU         : {hot:8.0f} reservations/s  "
          f"(hot/spread = {hot / spread:.2f}, goal >= 0.80)")
    print(f"  stock_reserve, one hot SKU, same reference again (SELECT … FOR UPDATE path): {locked:8.0f} /s")
    print(f"  ceiling: raw conditional UPDATE, psycopg, one row : {raw:8.0f} updates/s")
    if pgbench is not None:
        print(f"  ceiling: raw conditional UPDATE, pgbench, one row : {pgbench:8.0f} tps")
    print(f"  invariant violations: {broken}; ledger mismatches: {len(ledger_mismatches())}")
    connection.close()


if __name__ == "__main__":
    main()
