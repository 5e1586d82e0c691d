"""Rules engine and webhook throughput.

    .venv/bin/python bench/automation.py [events]

1. Processes N events through the spine with 25 enabled rules (5 matching the event name,
   each with 3 conditions; 2 of them alert a staff group) and 2 webhook endpoints
   subscribed: events/s, and queries per event.
2. Sends the resulting deliveries to a local HTTP receiver (127.0.0.1, answers 200):
   signed deliveries/s, one worker, sequential.

Uses its own PostgreSQL database (bench_automation, created and dropped here) and an
in-memory Celery broker (the publish cost is not what is measured).
"""

import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = "bench_automation"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{PG}/{BENCH_DB}"
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopauto.settings_test")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import psycopg  # noqa: E402


def recreate_database():
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database():
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


class Ok(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def main(total: int = 1000, profile: bool = False):
    recreate_database()
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from automation import rules, webhooks
    from automation.models import Rule, RuleRun, WebhookDelivery, WebhookEndpoint
    from automation.services import emit, event_process
    from tests.factories import StaffFactory

    try:
        print("migrating bench database …", flush=True)
        call_command("migrate", verbosity=0)
        Rule.objects.all().delete()
        sales = StaffFactory(email="sales@bench.example")
        sales.groups.add(Group.objects.get_or_create(name="Sales")[0])
        for n in range(25):
            trigger = "bench.order" if n < 5 else f"other.{n}"
            actions = ([{"type": "alert", "group": "Sales", "subject": "{{ number }}"}] if n < 2
                       else [{"type": "tag", "tag": "x"}])
            rules.rule_save(rule=Rule(name=f"rule {n}", trigger=trigger, priority=n, actions=actions, conditions=[
                {"field": "total", "operator": "gte", "value": "10"},
                {"field": "shipping_address.country", "operator": "in", "value": ["ES", "PT"]},
                {"field": "lines.sku", "operator": "contains", "value": "A-1"},
            ]))
        server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        for name in ("ERP", "CRM"):
            WebhookEndpoint.objects.create(name=name, url=url, events=["bench.*"])

        payload = {"number": "SA-1", "total": "120.00", "shipping_address": {"country": "ES"},
                   "lines": [{"sku": "A-1", "quantity": 2}, {"sku": "B-2", "quantity": 1}]}
        with transaction.atomic():
            ids = [emit("bench.order", payload={**payload, "number": f"SA-{n}"}).pk for n in range(total)]
        with CaptureQueriesContext(connection) as queries:
            event_process(event_id=ids[0])
        print(f"queries for one event (5 rules run, 2 alerts, 2 deliveries): {len(queries)}")
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        started = time.perf_counter()
        for done, event_id in enumerate(ids[1:], start=2):
            event_process(event_id=event_id)
            if done % 250 == 0:
                print(f"  processed {done}/{total} events", flush=True)
        elapsed = time.perf_counter() - started
        if profiler is not None:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        print(f"events processed: {total - 1} in {elapsed:.1f} s = {(total - 1) / elapsed:.0f} events/s "
              f"({RuleRun.objects.count()} rule runs, {WebhookDelivery.objects.count()} deliveries)")

        delivery_ids = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True)[:1000])
        started = time.perf_counter()
        for done, delivery_id in enumerate(delivery_ids, start=1):
            webhooks.webhook_delivery_attempt(delivery_id=delivery_id)
            if done % 250 == 0:
                print(f"  delivered {done}/{len(delivery_ids)}", flush=True)
        elapsed = time.perf_counter() - started
        ok = WebhookDelivery.objects.filter(status="succeeded").count()
        print(f"webhook deliveries: {len(delivery_ids)} in {elapsed:.1f} s = {len(delivery_ids) / elapsed:.0f}/s "
              f"sequential ({ok} succeeded)")
        server.shutdown()
    finally:
        connection.close()
        drop_database()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, profile=os.environ.get("BENCH_PROFILE") == "1")
