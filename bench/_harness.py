"""What bench/load.py and bench/checkout.py share: a real deployment on this machine.

`Stack(name)` creates (or recreates) the PostgreSQL database `bench_<name>`, migrates it,
seeds a shop, collects static files, and starts gunicorn and a Celery worker against it
with Redis database 5 (REDIS_URL overrides). The script itself talks to the same database
through Django to seed and to measure. Everything is torn down on exit; the database is
dropped unless KEEP_BENCH_DB=1.
"""

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
PASSWORD = "bench-password-123"


def log(message: str) -> None:
    print(message, flush=True)


def percentile(values, q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values) -> str:
    if not values:
        return "n/a"
    return (f"p50 {percentile(values, 50) * 1000:.0f} ms · p95 {percentile(values, 95) * 1000:.0f} ms · "
            f"p99 {percentile(values, 99) * 1000:.0f} ms · mean {statistics.fmean(values) * 1000:.0f} ms")


def machine() -> str:
    import platform

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}{load}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    def __init__(self, name: str, *, web_workers: int = 4, worker_concurrency: int = 2):
        self.db_name = f"bench_{name}"
        self.web_workers = web_workers
        self.worker_concurrency = worker_concurrency
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.var = Path(f"/tmp/shopauto-bench-{name}")
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "shopauto.settings",
            "DATABASE_URL": f"{PG}/{self.db_name}", "REDIS_URL": REDIS_URL, "CELERY_BROKER_URL": REDIS_URL,
            "SHOPAUTO_VAR_DIR": str(self.var), "SECRET_KEY": "bench-only-not-secret-0123456789-abcdefghijklmnop",
            "DEBUG": "false", "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false", "SECURE_HSTS_SECONDS": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": self.url, "EMAIL_BACKEND": "anymail.backends.test.EmailBackend",
            "PUBLIC_LOOKUP_RATE_LIMIT": "1000000/m", "LOGIN_RATE_LIMIT": "1000000/m", "API_AUTH_RATE_LIMIT": "1000000/min",
            "PYTHONPATH": str(ROOT),
        }

    # -- database ---------------------------------------------------------------------
    def create_database(self):
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.db_name}"')

    def drop_database(self):
        if os.environ.get("KEEP_BENCH_DB") == "1":
            return
        import psycopg
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')

    def setup_django(self):
        for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SHOPAUTO_VAR_DIR",
                    "SECRET_KEY", "EMAIL_BACKEND", "SITE_URL", "ALLOWED_HOSTS"):
            os.environ[key] = self.env[key]
        import django

        django.setup()

    def __enter__(self):
        started = time.monotonic()
        log(f"==> Database {self.db_name}: create and migrate")
        self.create_database()
        self.var.mkdir(parents=True, exist_ok=True)
        self.setup_django()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self._flush_queue()
        log(f"    ready in {time.monotonic() - started:.0f} s")
        return self

    def _flush_queue(self):
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()

    # -- processes --------------------------------------------------------------------
    def start(self):
        log(f"==> gunicorn ({self.web_workers} workers) on {self.url}, Celery worker (-c {self.worker_concurrency})")
        self.var.mkdir(parents=True, exist_ok=True)
        web_log = open(self.var / "gunicorn.log", "w")  # noqa: SIM115
        self.processes.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "shopauto.wsgi:application", "-w", str(self.web_workers),
             "-b", f"127.0.0.1:{self.port}", "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=web_log, stderr=subprocess.STDOUT))
        worker_log = open(self.var / "worker.log", "w")  # noqa: SIM115
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "shopauto", "worker", "-l", "warning", "-c",
             str(self.worker_concurrency), "--without-mingle", "--without-gossip", "-n", f"{self.db_name}@%h"],
            cwd=ROOT, env=self.env, stdout=worker_log, stderr=subprocess.STDOUT))
        import requests

        for _ in range(200):
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start: see {self.var / 'gunicorn.log'}")

    def __exit__(self, *exc):
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.drop_database()

    # -- seed and measure ---------------------------------------------------------------
    def seed(self, *, customers: int, variants: int = 60):
        """A catalog of `variants` SKUs with plenty of stock, a default price list, one
        shipping method, and `customers` B2B buyers (own company each, invoice terms, no
        approval) with an API token."""
        from datetime import time as clock

        from django.contrib.auth import get_user_model
        from rest_framework.authtoken.models import Token

        from catalog.models import Category, PriceList, PriceListEntry, Product, Variant
        from customers.models import Address, Company, CustomerProfile
        from inventory import services as stock
        from inventory.models import Warehouse
        from orders.models import ShippingMethod, ShippingRate

        log(f"==> Seeding {variants} variants and {customers} customers")
        category = Category.objects.create(name="Tools", slug="tools")
        warehouse = Warehouse.objects.create(code="mad", name="Madrid", region="EU-SOUTH", cutoff_time=clock(23, 59),
                                             handling_days=1)
        price_list = PriceList.objects.create(name="Default EUR", currency="EUR", scope="default")
        method = ShippingMethod.objects.create(code="std", name="Standard", carrier="DHL",
                                               tracking_url_template="https://track.example/{tracking}")
        ShippingRate.objects.create(method=method, region="", price=Decimal("5.00"), currency="EUR", transit_days=2)
        skus = []
        for n in range(variants):
            product = Product.objects.create(name=f"Bench product {n}", slug=f"bench-{n}", category=category)
            variant = Variant.objects.create(product=product, sku=f"B-{n:04d}")
            PriceListEntry.objects.create(price_list=price_list, variant=variant, min_quantity=1,
                                          unit_price=Decimal("10.00") + n)
            stock.stock_receive(variant_id=variant.pk, warehouse_id=warehouse.pk, quantity=10**7,
                                reason="bench opening balance")
            skus.append(variant.sku)
        User = get_user_model()
        people = []
        for n in range(customers):
            company = Company.objects.create(name=f"Bench Co {n}", code=f"bench-{n}", currency="EUR",
                                             credit_limit=Decimal("100000000"), approval_threshold=Decimal("100000000"))
            user = User.objects.create_user(username=f"buyer{n}@bench.example", email=f"buyer{n}@bench.example",
                                            password=PASSWORD)
            profile = CustomerProfile.objects.create(user=user, company=company, role=CustomerProfile.Role.BUYER,
                                                     language="en")
            address = Address.objects.create(company=company, name=f"Bench Co {n}", line1="Calle Mayor 1",
                                             city="Madrid", postal_code="28013", region="EU-SOUTH", country="ES",
                                             is_default_shipping=True)
            people.append({"email": user.email, "token": Token.objects.create(user=user).key,
                           "address": address.pk, "profile": profile.pk})
        return skus, people

    def backlog(self) -> dict:
        import redis

        from automation.models import Event
        from notifications.models import OutgoingMessage

        return {"queue": redis.Redis.from_url(REDIS_URL).llen("celery"),
                "events_pending": Event.objects.filter(status="pending").count(),
                "messages_unsent": OutgoingMessage.objects.filter(status__in=["queued", "sending"]).count()}

    def wait_drained(self, timeout: float = 600) -> float:
        """Seconds until the broker queue, pending events and unsent messages are all zero."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            state = self.backlog()
            if not any(state.values()):
                return time.monotonic() - started
            time.sleep(0.25)
        raise RuntimeError(f"queue not drained after {timeout} s: {self.backlog()}")


def checkout_flow(session, base: str, token: str, address: int, sku: str, quantity: int = 1):
    """The API flow a storefront runs: cart → line → checkout. Returns (latencies, statuses, order number)."""
    headers = {"Authorization": f"Token {token}"}
    timings, statuses = [], []

    def call(method, path, **kwargs):
        started = time.perf_counter()
        response = session.request(method, base + path, headers=headers, timeout=60, **kwargs)
        timings.append(time.perf_counter() - started)
        statuses.append(response.status_code)
        return response

    cart = call("POST", "/api/v1/carts/")
    if cart.status_code != 201:
        return timings, statuses, None
    cart_id = cart.json()["id"]
    line = call("POST", f"/api/v1/carts/{cart_id}/lines/", json={"sku": sku, "quantity": quantity})
    if line.status_code != 200:
        return timings, statuses, None
    order = call("POST", f"/api/v1/carts/{cart_id}/checkout/",
                 json={"shipping_address": address, "shipping_method": "std", "payment_method": "invoice"})
    return timings, statuses, order.json().get("number") if order.status_code == 201 else None
