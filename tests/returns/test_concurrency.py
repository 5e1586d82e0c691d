"""Return requests under real concurrency on PostgreSQL (real threads, real connections)."""

import pytest

from returns.exceptions import ReturnQuantityExceeded
from returns.models import ReturnLine, ReturnPolicy
from tests.conftest import requires_postgres
from tests.factories import AddressFactory, CustomerFactory
from tests.orders.conftest import Shop
from tests.orders.test_concurrency import _run_concurrently

from .conftest import ask, delivered_order

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def test_eight_simultaneous_requests_never_return_more_than_was_delivered():
    ReturnPolicy.objects.create(name="Standard")
    shop = Shop()
    customer = CustomerFactory(user__email="ana@example.com")
    AddressFactory(profile=customer, region="EU-SOUTH")
    order = delivered_order(customer, [(shop.variant("A"), 3)], payment="bank_transfer")

    results, errors = _run_concurrently([lambda: ask(order, ("A", 1)) for _ in range(8)])

    assert len(results) == 3
    assert all(isinstance(error, ReturnQuantityExceeded) for error in errors) and len(errors) == 5
    assert sum(ReturnLine.objects.values_list("quantity", flat=True)) == 3
