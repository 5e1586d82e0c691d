"""Checkout under real concurrency on PostgreSQL (real threads, real connections)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from inventory.exceptions import StockBusy
from inventory.models import StockLevel
from orders import services
from orders.models import Order
from tests.conftest import requires_postgres
from tests.factories import AddressFactory, CustomerFactory

from .conftest import Shop, details_for

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def _run_concurrently(workers):
    barrier = threading.Barrier(len(workers))
    results, errors = [], []

    def run(work):
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_fifty_buyers_checking_out_the_last_ten_units_make_exactly_ten_orders():
    shop = Shop()
    variant = shop.variant("LAST", stock_units=10)
    buyers = []
    for index in range(50):
        customer = CustomerFactory(user__email=f"buyer{index}@example.com")
        AddressFactory(profile=customer, region="EU-SOUTH")
        buyers.append(customer)

    def checkout(customer):
        def attempt():
            # A buyer told "stock busy, nothing changed" tries again, as the portal asks them to.
            for _ in range(30):
                try:
                    return services.order_place(customer=customer, lines=[(variant.pk, 1)],
                                                details=details_for(customer, payment="bank_transfer"))
                except StockBusy:
                    continue
            raise AssertionError("still busy after 30 tries")
        return attempt

    results, errors = _run_concurrently([checkout(c) for c in buyers])

    assert len(results) == 10
    assert Order.objects.count() == 10
    assert {type(e).__name__ for e in errors} == {"InsufficientStock"}
    assert len(errors) == 40
    level = StockLevel.objects.get(variant=variant)
    assert (level.on_hand, level.reserved) == (10, 10)


def test_the_same_idempotency_key_sent_concurrently_makes_one_order():
    shop = Shop()
    shop.variant("A")
    customer = CustomerFactory(user__email="dup@example.com")
    AddressFactory(profile=customer, region="EU-SOUTH")
    details = details_for(customer, payment="bank_transfer")
    body = {"shipping_address": details.shipping_address_id, "shipping_method": "std",
            "payment_method": "bank_transfer", "lines": [{"sku": "A", "quantity": 1}]}

    def post():
        api = APIClient()
        api.force_authenticate(customer.user)
        response = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
        return response.status_code, response.json().get("number")

    results, errors = _run_concurrently([post for _ in range(8)])
    assert errors == []
    assert Order.objects.count() == 1
    assert {status for status, _ in results} == {201}
    assert {number for _, number in results} == {Order.objects.get().number}
