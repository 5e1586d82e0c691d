from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from orders import services
from orders.models import Cart, Order

from .conftest import details_for


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_buyer_adds_to_cart_checks_out_and_sees_the_order(client, shop, buyer):
    shop.variant("A", price="15.00")
    client.force_login(buyer.user)
    client.post(reverse("orders:cart_add"), {"sku": "A", "quantity": 2})
    cart_page = client.get(reverse("orders:cart")).content.decode()
    assert "30.00" in cart_page

    form = client.get(reverse("orders:checkout"))
    assert form.status_code == 200
    address = details_for(buyer).shipping_address_id
    response = client.post(reverse("orders:checkout"), {"shipping_address": address, "shipping_method": "std",
                                                        "payment_method": "invoice", "po_number": "PO-1"})
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:detail", args=[order.number])
    page = client.get(response["Location"]).content.decode()
    assert order.number in page and "Confirmed" in page and "35.00" in page


def test_checkout_problem_is_shown_on_the_form_and_nothing_is_ordered(client, shop, buyer, company):
    company.credit_limit = Decimal("10.00")
    company.save()
    shop.variant("A", price="15.00")
    client.force_login(buyer.user)
    client.post(reverse("orders:cart_add"), {"sku": "A", "quantity": 1})
    response = client.post(reverse("orders:checkout"), {
        "shipping_address": details_for(buyer).shipping_address_id, "shipping_method": "std",
        "payment_method": "invoice"})
    assert response.status_code == 200
    assert "credit limit" in response.content.decode()
    assert not Order.objects.exists()
    assert Cart.objects.get().status == Cart.Status.OPEN


def test_other_customers_orders_are_404_in_the_portal(client, shop, buyer, consumer):
    variant = shop.variant("A")
    order = services.order_place(customer=buyer, lines=[(variant.pk, 1)], details=details_for(buyer))
    client.force_login(consumer.user)
    assert client.get(reverse("orders:detail", args=[order.number])).status_code == 404
    assert client.post(reverse("orders:cancel", args=[order.number])).status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_customer_cancels_from_the_order_page(client, shop, consumer):
    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 1)],
                                 details=details_for(consumer, payment="bank_transfer"))
    client.force_login(consumer.user)
    client.post(reverse("orders:cancel", args=[order.number]), {"reason": "wrong size"})
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "wrong size"


def test_approver_approves_from_the_portal(client, shop, buyer, approver):
    variant = shop.variant("BIG", price="5000.00")
    order = services.order_place(customer=buyer, lines=[(variant.pk, 1)], details=details_for(buyer))
    client.force_login(approver.user)
    assert order.number in client.get(reverse("orders:approvals")).content.decode()
    client.post(reverse("orders:approve", args=[order.number]))
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_guest_tracks_an_order_by_number_and_email_rate_limited(client, shop, consumer, settings):
    settings.PUBLIC_LOOKUP_RATE_LIMIT = "5/m"
    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 1)],
                                 details=details_for(consumer, payment="bank_transfer"))
    found = client.post(reverse("orders:track"), {"number": order.number.lower(), "email": "ANA@example.com"})
    assert order.number in found.content.decode() and "Placed" in found.content.decode()
    wrong = client.post(reverse("orders:track"), {"number": order.number, "email": "eve@example.com"})
    assert "We found no order" in wrong.content.decode()
    codes = [client.post(reverse("orders:track"), {"number": "SA-X", "email": "x@example.com"}).status_code
             for _ in range(5)]
    assert codes[-1] == 429


def test_reorder_puts_the_lines_back_in_the_cart(client, shop, consumer):
    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 2)],
                                 details=details_for(consumer, payment="bank_transfer"))
    client.force_login(consumer.user)
    client.post(reverse("orders:reorder", args=[order.number]))
    assert Cart.objects.get(customer=consumer, status="open").lines.get().quantity == 2


def test_staff_ship_with_the_admin_button_and_print_packing_slips(client, shop, consumer, django_user_model):
    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 1)],
                                 details=details_for(consumer, payment="bank_transfer"))
    admin = django_user_model.objects.create_superuser("boss", "boss@shop.example", "pw-123-xyz")
    client.force_login(admin)
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'value="mark_paid"' in page and 'value="ship"' not in page
    client.post(reverse("admin:orders_order_transition", args=[order.pk]), {"action_name": "mark_paid"})
    client.post(reverse("admin:orders_order_transition", args=[order.pk]),
                {"action_name": "ship", "reason": "TRACK-1"})
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert order.shipments.get().tracking_number == "TRACK-1"
    pdf = client.post(reverse("admin:orders_order_changelist"),
                      {"action": "print_packing_slips", "_selected_action": [order.pk]})
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_checkout_shows_price_and_estimated_delivery_per_shipping_method(client, shop, buyer):
    shop.variant("A")
    client.force_login(buyer.user)
    client.post(reverse("orders:cart_add"), {"sku": "A", "quantity": 1})
    page = client.get(reverse("orders:checkout")).content.decode()
    assert "Standard (DHL) — 5.00 EUR, arrives by" in page


def test_add_to_cart_from_the_catalog_page(client, shop, consumer):
    shop.variant("BOLT", price="0.50")
    client.force_login(consumer.user)
    page = client.get(reverse("catalog:list")).content.decode()
    assert 'action="/orders/cart/add/"' in page
    response = client.post(reverse("orders:cart_add"), {"sku": "BOLT", "quantity": 40, "next": "/catalog/"})
    assert response["Location"] == "/catalog/"
    assert Cart.objects.get(customer=consumer).lines.get().quantity == 40
