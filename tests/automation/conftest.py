"""Fixtures for the rules and webhook tests: staff groups with members, the orders
test shop (real orders through orders.services), and a tiny HTTP receiver."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import Group

from automation import actions, webhooks
from tests.factories import StaffFactory
from tests.orders.conftest import Shop, details_for


@pytest.fixture(autouse=True)
def _fresh_webhook_broker_state():
    webhooks.reset_broker_backoff()
    yield
    webhooks.reset_broker_backoff()


def staff_in(group_name: str, **kwargs):
    user = StaffFactory(**kwargs)
    group, _ = Group.objects.get_or_create(name=group_name)
    user.groups.add(group)
    return user


@pytest.fixture
def sales(db):
    return staff_in("Sales", email="sales@shop.example")


@pytest.fixture
def managers(db):
    return staff_in("Managers", email="manager@shop.example")


@pytest.fixture
def temp_transition():
    keys = []

    def register(key, func, subject_type=""):
        actions.register_transition(key, key, func, subject_type=subject_type)
        keys.append(key)

    yield register
    for key in keys:
        actions.unregister_transition(key)


class Receiver:
    """An HTTP server on 127.0.0.1 recording what it receives; answers `status`."""

    def __init__(self):
        self.requests = []
        self.status = 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"ok": receiver.status < 300}).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def shop(db):
    return Shop()


@pytest.fixture
def consumer(db):
    from tests.factories import AddressFactory, CustomerFactory

    profile = CustomerFactory(user__email="ana@example.com")
    AddressFactory(profile=profile, region="EU-SOUTH")
    return profile


@pytest.fixture
def place_order(shop, consumer):
    """place_order(total_units=…, price=…, payment=…) → a real Order placed by the consumer."""
    from orders.services import order_place

    def place(*, quantity=1, price="10.00", payment="bank_transfer", sku=None):
        variant = shop.variant(sku or f"SKU-{len(shop.variants) + 1}", price=price, stock_units=max(quantity, 10))
        return order_place(customer=consumer, lines=[(variant.pk, quantity)],
                           details=details_for(consumer, payment=payment))

    return place
