import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from orders.models import Order
from shopauto.webhook_signing import HEADER, sign

from .conftest import details_for


def client_for(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def _checkout_body(customer, payment="invoice"):
    details = details_for(customer, payment=payment)
    return {"shipping_address": details.shipping_address_id, "shipping_method": "std", "payment_method": payment}


def test_cart_to_order_flow_over_the_api(shop, buyer):
    shop.variant("A", price="12.00")
    api = client_for(buyer.user)
    cart = api.post("/api/v1/carts/").json()
    response = api.post(f"/api/v1/carts/{cart['id']}/lines/", {"sku": "A", "quantity": 2}, format="json")
    assert response.status_code == 200
    assert response.json()["lines"][0]["unit_price"] == "12.00"

    order = api.post(f"/api/v1/carts/{cart['id']}/checkout/", _checkout_body(buyer), format="json")
    assert order.status_code == 201
    body = order.json()
    assert body["status"] == "confirmed"
    assert body["total"] == "29.00"
    timeline = api.get(f"/api/v1/orders/{body['number']}/timeline/").json()
    assert [entry["status"] for entry in timeline] == ["placed", "confirmed"]


def test_bad_input_is_a_400_with_fields_and_changes_nothing(shop, buyer):
    shop.variant("A")
    api = client_for(buyer.user)
    cart = api.post("/api/v1/carts/").json()
    response = api.post(f"/api/v1/carts/{cart['id']}/lines/", {"sku": "A", "quantity": 0}, format="json")
    assert response.status_code == 400
    assert "quantity" in response.json()["error"]["fields"]
    response = api.post(f"/api/v1/carts/{cart['id']}/checkout/", {"shipping_method": "std"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) >= {"shipping_address", "payment_method"}
    missing = api.post(f"/api/v1/carts/{cart['id']}/lines/", {"sku": "NOPE", "quantity": 1}, format="json")
    assert missing.status_code == 404
    assert not Order.objects.exists()


def test_customers_never_see_or_act_on_other_customers_orders(shop, buyer, consumer):
    variant = shop.variant("A")
    from orders import services

    theirs = services.order_place(customer=buyer, lines=[(variant.pk, 1)], details=details_for(buyer))
    api = client_for(consumer.user)
    assert api.get(f"/api/v1/orders/{theirs.number}/").status_code == 404
    assert api.post(f"/api/v1/orders/{theirs.number}/cancel/", {}, format="json").status_code == 404
    assert api.get(f"/api/v1/orders/{theirs.number}/timeline/").status_code == 404
    assert api.get("/api/v1/orders/").json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.CONFIRMED
    assert client_for(buyer.user).get("/api/v1/orders/").json()["count"] == 1


def test_idempotency_key_same_body_same_order_other_body_409(shop, consumer):
    shop.variant("A")
    api = client_for(consumer.user)
    body = {**_checkout_body(consumer, "bank_transfer"), "lines": [{"sku": "A", "quantity": 2}]}
    first = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    again = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Order.objects.count() == 1

    other = {**body, "lines": [{"sku": "A", "quantity": 3}]}
    conflict = api.post("/api/v1/orders/", other, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_staff_see_all_orders_only_with_the_permission(shop, buyer, staff, django_user_model):
    variant = shop.variant("A")
    from orders import services

    services.order_place(customer=buyer, lines=[(variant.pk, 1)], details=details_for(buyer))
    assert client_for(staff).get("/api/v1/orders/").json()["count"] == 1
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    assert client_for(clerk).get("/api/v1/orders/").json()["count"] == 0


def _queries(callable_):
    with CaptureQueriesContext(connection) as ctx:
        callable_()
    return len(ctx.captured_queries)


def _checkout_queries(shop, customer, lines):
    from orders import services

    cart = services.cart_get_or_create(customer=customer)
    for index in range(lines):
        variant = shop.variant(f"Q{lines}-{index}")
        services.cart_set_quantity(customer=customer, cart_id=cart.pk, sku=variant.sku, quantity=1, add=True)
    api = client_for(customer.user)
    body = _checkout_body(customer, "bank_transfer")
    count = _queries(lambda: api.post(f"/api/v1/carts/{cart.pk}/checkout/", body, format="json"))
    assert Order.objects.filter(customer=customer).count() == 1
    return count


@pytest.mark.django_db
def test_checkout_query_count_is_bounded_and_constant_in_the_number_of_lines(shop, consumer):
    from tests.factories import AddressFactory, CustomerFactory

    other = CustomerFactory(user__email="other@example.com")
    AddressFactory(profile=other, region="EU-SOUTH")
    five = _checkout_queries(shop, consumer, 5)
    twenty = _checkout_queries(shop, other, 20)
    assert five <= 40, five
    assert twenty <= five, (five, twenty)


def _signed_post(api, url, payload, secret):
    body = json.dumps(payload).encode()
    return api.post(url, body, content_type="application/json", **{f"HTTP_{HEADER.upper().replace('-', '_')}":
                                                                      sign(body, secret)})


def test_payment_webhook_must_be_signed_and_is_idempotent(shop, consumer, settings):
    from orders import services

    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 1)],
                                 details=details_for(consumer, payment="bank_transfer"))
    api = APIClient()
    payload = {"order": order.number, "amount": str(order.total), "reference": "BANK-42"}
    assert _signed_post(api, "/api/v1/webhooks/payments/", payload, "wrong-secret").status_code == 401
    order.refresh_from_db()
    assert order.payment_status == "pending"

    for _ in range(2):
        response = _signed_post(api, "/api/v1/webhooks/payments/", payload, settings.PAYMENT_WEBHOOK_SECRET)
        assert response.status_code == 200
    order.refresh_from_db()
    assert order.payment_status == "paid"
    assert order.status == "confirmed"
    assert order.payments.count() == 1


def test_carrier_webhook_moves_the_order_to_delivered(shop, consumer, staff, settings):
    from orders import services

    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 1)],
                                 details=details_for(consumer, payment="bank_transfer"))
    services.order_mark_paid(order_id=order.pk, amount=order.total, actor=staff)
    services.order_ship(order_id=order.pk, actor=staff, tracking_number="1Z42")
    api = APIClient()
    bad = api.post("/api/v1/webhooks/carrier/", {"tracking_number": "1Z42", "status": "delivered"}, format="json")
    assert bad.status_code == 401
    ok = _signed_post(api, "/api/v1/webhooks/carrier/", {"tracking_number": "1Z42", "status": "delivered"},
                      settings.CARRIER_WEBHOOK_SECRET)
    assert ok.status_code == 200
    order.refresh_from_db()
    assert order.status == "delivered"


def test_shipping_options_give_price_and_delivery_estimate(shop, buyer):
    api = client_for(buyer.user)
    cart = api.post("/api/v1/carts/").json()
    options = api.get(f"/api/v1/carts/{cart['id']}/shipping-options/").json()
    assert [(o["code"], o["price"]) for o in options] == [("std", "5.00")]
    assert options[0]["estimated_delivery"] is not None
    other = APIClient()
    from tests.factories import CustomerFactory

    other.force_authenticate(CustomerFactory().user)
    assert other.get(f"/api/v1/carts/{cart['id']}/shipping-options/").status_code == 404
