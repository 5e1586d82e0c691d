"""The customer-isolation sweep: customer A asks, on every route of the API schema, for
every object of customer B. Details (and their actions) answer 404, lists hold only A's.

The routes come from the OpenAPI schema itself, so a new app's routes (quotes, returns)
are swept as soon as they exist; the sweep fails if it did not cover the routes every
customer has (carts, orders, stock subscriptions).
"""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from inventory import services as stock
from orders import services as order_services
from tests.factories import AddressFactory, CompanyFactory, CustomerFactory

pytestmark = pytest.mark.fuzz

KEYS = ("number", "id", "pk")
# The catalog is shared by design (prices differ, objects do not belong to a customer).
SHARED = {"/products/"}


def _valid_bodies(a):
    """Bodies that A could validly send for their own objects, so that the answer for
    B's objects has to come from the lookup (404), not from input validation (400)."""
    from customers.selectors import address_list_for_customer

    checkout = {"shipping_address": address_list_for_customer(customer=a).first().pk, "shipping_method": "std",
                "payment_method": "bank_transfer"}
    return {"/carts/{id}/checkout/": checkout, "/carts/{id}/lines/": {"sku": "ISO-1", "quantity": 1},
            "/carts/{id}/lines/{sku}/": {"quantity": 3}, "/orders/{number}/mark-paid/": {"amount": "1.00"},
            "/orders/{number}/cancel/": {"reason": "sweep"}, "/orders/{number}/hold/": {"reason": "sweep"}}
PARAM = re.compile(r"\{(\w+)\}")


def _client(customer):
    client = APIClient()
    client.force_authenticate(customer.user)
    return client


def _items(response):
    data = response.json()
    if isinstance(data, dict):
        data = data.get("results", [])
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def _key(item):
    return next((str(item[k]) for k in KEYS if item.get(k) is not None), None)


def _own_objects(customer, shop, variant, out_of_stock):
    from tests.orders.conftest import details_for

    cart = order_services.cart_get_or_create(customer=customer)
    order_services.cart_set_quantity(customer=customer, cart_id=cart.pk, sku=variant.sku, quantity=1)
    order_services.order_place(customer=customer, lines=[(variant.pk, 2)], details=details_for(customer, payment="invoice" if customer.company_id else "bank_transfer"))
    stock.back_in_stock_subscribe(customer=customer, variant_id=out_of_stock.pk)


@pytest.fixture
def two_customers(db, settings):
    from tests.orders.conftest import Shop

    settings.PUBLIC_LOOKUP_RATE_LIMIT = "100000/m"
    shop = Shop()
    variant = shop.variant("ISO-1", price="10.00")
    out_of_stock = shop.variant("ISO-OUT", price="10.00", stock_units=0)
    a = CustomerFactory()
    AddressFactory(profile=a)
    b = CustomerFactory(company=CompanyFactory())
    AddressFactory(company=b.company)
    for customer in (a, b):
        _own_objects(customer, shop, variant, out_of_stock)
    return a, b


def _state_of(customer):
    from automation.models import Event
    from inventory.models import BackInStockSubscription
    from orders.models import Cart, Order

    return (list(Cart.objects.filter(customer=customer).values_list("pk", "status", "lines__variant_id", "lines__quantity")),
            list(Order.objects.filter(customer=customer).values_list("number", "status", "payment_status")),
            list(BackInStockSubscription.objects.filter(customer=customer).values_list("pk", "status")),
            Event.objects.filter(payload__customer_id=customer.pk).count())


def _routes():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return {path.removeprefix("/api/v1"): ops for path, ops in paths.items()}


def test_customer_a_gets_404_on_every_object_of_customer_b_and_only_their_own_in_lists(two_customers):
    a, b = two_customers
    as_a, as_b = _client(a), _client(b)
    routes = _routes()
    lists = {path: ops for path, ops in routes.items()
             if "get" in ops and not PARAM.search(path) and path not in SHARED}
    bodies = _valid_bodies(a)
    before = _state_of(b)

    covered_lists, covered_details, failures = set(), set(), []
    for path in lists:
        url = f"/api/v1{path}"
        b_items = [k for k in map(_key, _items(as_b.get(url))) if k]
        if not b_items:
            continue  # staff-only, or nothing of B's lives here
        covered_lists.add(path)
        a_items = [k for k in map(_key, _items(as_a.get(url))) if k]
        leaked = set(a_items) & set(b_items)
        if leaked:
            failures.append(f"GET {path}: A sees B's {sorted(leaked)}")

        # Every detail route under this list, and every action on it, for each of B's objects.
        for detail, ops in routes.items():
            params = PARAM.findall(detail)
            if not params or not detail.startswith(path) or len(params) > 2:
                continue
            for key in b_items:
                url = "/api/v1" + PARAM.sub(key, detail, count=1)
                if len(params) == 2:  # /carts/{id}/lines/{sku}/
                    url = PARAM.sub("ISO-1", url)
                for method in ops:
                    response = getattr(as_a, method)(url, bodies.get(detail, {}), format="json")
                    covered_details.add(detail)
                    if response.status_code != 404:
                        failures.append(f"{method.upper()} {detail} with B's {key}: {response.status_code} "
                                        f"{response.content[:120]!r}")

    assert not failures, "\n".join(failures)
    assert _state_of(b) == before  # nothing of B's changed
    assert {"/carts/", "/orders/", "/stock-subscriptions/"} <= covered_lists, covered_lists
    assert {"/carts/{id}/", "/carts/{id}/checkout/", "/carts/{id}/lines/", "/orders/{number}/",
            "/orders/{number}/cancel/", "/orders/{number}/timeline/",
            "/stock-subscriptions/{id}/"} <= covered_details, covered_details


def test_lists_still_show_a_their_own_objects(two_customers):
    a, _b = two_customers
    as_a = _client(a)
    for path in ("/api/v1/carts/", "/api/v1/orders/", "/api/v1/stock-subscriptions/"):
        assert len(_items(as_a.get(path))) >= 1, path
