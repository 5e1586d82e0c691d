"""Fault injection with real processes: a Redis server this test owns (never the shared
one), real Celery worker subprocesses on the test database, and PostgreSQL backends
terminated from another connection.

- Redis paused, then stopped, while 100 orders are placed: every order commits; once
  Redis is back the sweepers get every email sent, exactly once.
- A worker's process SIGKILLed in the middle of a handler: acks_late +
  reject_on_worker_lost hand the task to a worker again and its effect happens once.
- The database connection of a checkout request terminated mid-request: a clean 503 in
  the API's error shape and nothing half-written.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from automation.models import Event, HandlerRun
from automation.services import emit, events_sweep
from notifications.models import OutgoingMessage
from notifications.services import messages_sweep
from orders import services as order_services
from orders.models import Order
from tests.conftest import broker_at, requires_postgres

pytestmark = [pytest.mark.faults, requires_postgres,
              pytest.mark.skipif(not shutil.which("redis-server"), reason="needs the redis-server binary")]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A throwaway redis-server process on a free port."""

    def __init__(self):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def pause(self):
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def _worker_env(broker_url: str, **extra) -> dict:
    db = settings.DATABASES["default"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopauto.settings_test",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
           "REDIS_URL": broker_url, "CELERY_BROKER_URL": broker_url, "PYTHONPATH": str(ROOT)}
    if db.get("PASSWORD"):
        env["DATABASE_URL"] = env["DATABASE_URL"].replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_worker(broker_url: str, name: str, *, concurrency: int = 2, **extra_env) -> subprocess.Popen:
    log = open(ROOT / "var" / f"proof-worker-{name}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "shopauto", "worker", "-l", "warning", "-P", "prefork",
         "-c", str(concurrency), "--without-mingle", "--without-gossip", "--without-heartbeat",
         "--include", "tests.proof.fault_handlers", "-n", f"proof-{name}@%h"],
        cwd=ROOT, env=_worker_env(broker_url, **extra_env), stdout=log, stderr=subprocess.STDOUT)


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_for(predicate, timeout: float, step: float = 0.25, tick=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tick:
            tick()
        if predicate():
            return True
        time.sleep(step)
    return predicate()


@pytest.fixture
def order_shop(transactional_db):
    from tests.factories import AddressFactory, CompanyFactory, CustomerFactory
    from tests.orders.conftest import Shop, details_for

    (ROOT / "var").mkdir(exist_ok=True)
    shop = Shop()
    variant = shop.variant("FAULT-1", price="10.00", stock_units=1000)
    company = CompanyFactory(credit_limit=10**7, approval_threshold=10**6)
    buyer = CustomerFactory(company=company, user__email="buyer@fault.example")
    AddressFactory(company=company)
    return shop, variant, buyer, details_for(buyer)


def test_orders_placed_while_redis_is_paused_then_down_are_all_kept_and_mailed_exactly_once(
        order_shop, redis_server, settings):
    _shop, variant, buyer, details = order_shop
    settings.EVENT_SWEEP_AFTER_SECONDS = 0
    settings.CELERY_BROKER_URL = redis_server.url
    with broker_at(redis_server.url):
        redis_server.pause()
        started = time.monotonic()
        for _ in range(50):
            order_services.order_place(customer=buyer, lines=[(variant.pk, 1)], details=details)
        redis_server.stop()
        for _ in range(50):
            order_services.order_place(customer=buyer, lines=[(variant.pk, 1)], details=details)
        placing = time.monotonic() - started

        orders = list(Order.objects.filter(customer=buyer))
        assert len(orders) == 100 and all(o.status == Order.Status.CONFIRMED for o in orders)
        assert all(o.lines.count() == 1 for o in orders)
        assert Event.objects.filter(name="order.confirmed", status=Event.Status.PENDING).count() == 100
        assert not OutgoingMessage.objects.exists()  # nothing was processed while Redis was away
        assert placing < 60, f"placing 100 orders took {placing:.1f}s with Redis away"

        redis_server.start()
        worker = start_worker(redis_server.url, "redis")
        try:
            def sweep():
                events_sweep()
                messages_sweep()

            expected = {(str(o.pk), key) for o in orders for key in ("order.placed", "order.confirmed")}

            def all_sent():
                return (not Event.objects.filter(status=Event.Status.PENDING).exists()
                        and OutgoingMessage.objects.filter(status="sent").count() >= len(expected)
                        and not OutgoingMessage.objects.exclude(status="sent").exists())

            assert wait_for(all_sent, timeout=180, step=1.0, tick=sweep), (
                Event.objects.filter(status=Event.Status.PENDING).count(),
                list(OutgoingMessage.objects.values_list("status", "template_key")[:5]))
            time.sleep(2)  # anything still in flight would show up as a second row or attempt
            sweep()
        finally:
            stop_worker(worker)

    messages = list(OutgoingMessage.objects.select_related("event"))
    sent = {(m.event.subject_id, m.template_key) for m in messages}
    assert sent == expected  # every order got its "placed" and "confirmed" emails...
    assert len(messages) == len(expected)  # ...one row each...
    assert all(m.status == "sent" and m.attempts == 1 and m.recipient_email == "buyer@fault.example"
               for m in messages)  # ...handed to the ESP once
    assert HandlerRun.objects.filter(attempts__gt=1).count() == 0


def test_a_worker_killed_mid_task_runs_it_again_and_the_effect_happens_once(transactional_db, redis_server, tmp_path):
    import tests.proof.fault_handlers  # noqa: F401 - registers the same handler in this process

    (ROOT / "var").mkdir(exist_ok=True)
    marker = tmp_path / "starts.txt"
    with broker_at(redis_server.url):
        # Start the worker first so the event is consumed by it, not by the sweeper's timing.
        worker = start_worker(redis_server.url, "kill-a", concurrency=1)
        second = None
        try:
            time.sleep(3)
            with connection.cursor():
                pass
            from django.db import transaction

            with transaction.atomic():
                event = emit("proof.slow", payload={"marker": str(marker), "sleep": 4})
            assert wait_for(lambda: marker.exists() and marker.read_text().strip(), timeout=60), "never started"
            child = int(marker.read_text().split()[0])
            os.kill(child, signal.SIGKILL)  # the pool process running the handler, mid-sleep

            # reject_on_worker_lost: the message goes back to the queue, a new pool process runs it.
            def done():
                return HandlerRun.objects.filter(event=event, handler="proof.slow_handler", status="done").exists()

            assert wait_for(done, timeout=90, step=0.5), open(ROOT / "var" / "proof-worker-kill-a.log").read()[-3000:]
            starts = marker.read_text().split()
            assert len(starts) == 2 and starts[0] != starts[1]

            # Now SIGKILL a whole worker (main process and all) mid-task: the message stays
            # unacknowledged in Redis and a new worker restores it after the visibility timeout.
            stop_worker(worker)
            worker = start_worker(redis_server.url, "kill-b", concurrency=1, CELERY_VISIBILITY_TIMEOUT=5)
            time.sleep(3)
            with transaction.atomic():
                event2 = emit("proof.slow", payload={"marker": str(marker), "sleep": 4})
            assert wait_for(lambda: len(marker.read_text().split()) == 3, timeout=60), "never started"
            for pid in _children(worker.pid):
                os.kill(pid, signal.SIGKILL)
            worker.kill()
            worker.wait(10)
            second = start_worker(redis_server.url, "kill-c", concurrency=1, CELERY_VISIBILITY_TIMEOUT=5)

            def done2():
                return HandlerRun.objects.filter(event=event2, handler="proof.slow_handler", status="done").exists()

            assert wait_for(done2, timeout=120, step=0.5), open(ROOT / "var" / "proof-worker-kill-c.log").read()[-3000:]
        finally:
            stop_worker(worker)
            if second is not None:
                stop_worker(second)

    assert len(marker.read_text().split()) == 4  # each event started twice...
    for each in (event, event2):
        assert Event.objects.filter(name="proof.effect", payload__of_event=each.pk).count() == 1  # ...effect once
        assert HandlerRun.objects.get(event=each, handler="proof.slow_handler").attempts == 1


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _snapshot(buyer):
    from inventory.models import StockLevel, StockMovement
    from orders.models import Cart, OrderLine

    return (list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand", "reserved")),
            StockMovement.objects.count(), Order.objects.count(), OrderLine.objects.count(), Event.objects.count(),
            list(Cart.objects.filter(customer=buyer).values_list("pk", "status", "lines__quantity")))


def _terminate_mid_request(send, *, variant):
    """Hold the variant's stock row from another connection so the request blocks inside
    its transaction, terminate the request's backend, return the response."""
    import psycopg

    db = settings.DATABASES["default"]
    locker = psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                             password=db.get("PASSWORD") or None, dbname=db["NAME"])
    try:
        locker.execute("SELECT id FROM inventory_stocklevel WHERE variant_id = %s FOR UPDATE", [variant.pk])
        result = {}
        def run():
            from django.db import connections

            try:
                result.update(response=send())
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        blocked = []

        def find_blocked():
            # From an autocommit connection: pg_stat_activity is a snapshot per transaction.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'")
                blocked[:] = [row[0] for row in cursor.fetchall()]
            return bool(blocked)

        assert wait_for(find_blocked, timeout=8, step=0.05), ("the request never blocked on the stock row", result)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [blocked[0]])
        thread.join(30)
    finally:
        locker.rollback()
        locker.close()
    return result["response"]


@pytest.fixture(autouse=True)
def _patient_stock_locks(settings):
    settings.INVENTORY_LOCK_TIMEOUT_MS = 15000  # the request must still be waiting when we cut it


def test_an_api_checkout_whose_database_connection_is_cut_answers_503_and_writes_nothing(order_shop):
    from rest_framework.test import APIClient

    _shop, variant, buyer, details = order_shop
    cart = order_services.cart_get_or_create(customer=buyer)
    order_services.cart_set_quantity(customer=buyer, cart_id=cart.pk, sku=variant.sku, quantity=3)
    before = _snapshot(buyer)

    def send():
        client = APIClient()
        client.force_authenticate(buyer.user)
        return client.post(f"/api/v1/carts/{cart.pk}/checkout/", {
            "shipping_address": details.shipping_address_id, "shipping_method": details.shipping_method,
            "payment_method": details.payment_method}, format="json")

    response = _terminate_mid_request(send, variant=variant)
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"]
    assert _snapshot(buyer) == before  # no order, no line, no movement, no event; stock and cart as they were

    # And the shop carries on: the same checkout succeeds once the database is back.
    retry = send()
    assert retry.status_code == 201, retry.content
    assert Order.objects.get(number=retry.json()["number"]).lines.get().quantity == 3


def test_a_portal_checkout_whose_database_connection_is_cut_shows_a_503_page(order_shop, client):
    _shop, variant, buyer, details = order_shop
    cart = order_services.cart_get_or_create(customer=buyer)
    order_services.cart_set_quantity(customer=buyer, cart_id=cart.pk, sku=variant.sku, quantity=2)
    before = _snapshot(buyer)

    def send():
        from django.test import Client

        browser = Client(raise_request_exception=False)
        browser.force_login(buyer.user)
        return browser.post("/orders/checkout/", {
            "shipping_address": details.shipping_address_id, "shipping_method": details.shipping_method,
            "payment_method": details.payment_method})

    response = _terminate_mid_request(send, variant=variant)
    assert response.status_code == 503
    assert b"Nothing was changed" in response.content
    assert _snapshot(buyer) == before
