"""The journeys a shop runs every day, in a real browser against a live server."""

import json
import re
import urllib.request
from decimal import Decimal

from django.conf import settings
from playwright.sync_api import expect

from orders import services as order_services
from orders.models import Order
from shopauto.webhook_signing import HEADER, signature_header


def _add_to_cart(page, portal, sku, quantity):
    page.goto(portal.url("/orders/cart/"))
    page.fill("#quick-sku", sku)
    page.fill("#quick-qty", str(quantity))
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("body")).to_contain_text("Added to your cart.")


def _checkout(page, portal, payment="invoice"):
    page.goto(portal.url("/orders/checkout/"))
    page.select_option("select[name=payment_method]", payment)
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("body")).to_contain_text("Thank you! Your order")
    number = re.search(r"/orders/(SA-[\w-]+)/", page.url).group(1)
    return Order.objects.get(number=number)


def _carrier_event(portal, tracking_number, status):
    body = json.dumps({"tracking_number": tracking_number, "status": status}).encode()
    request = urllib.request.Request(  # noqa: S310 - the live test server
        portal.url("/api/v1/webhooks/carrier/"), data=body, method="POST",
        headers={"Content-Type": "application/json",
                 HEADER: signature_header(body, [settings.CARRIER_WEBHOOK_SECRET])})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200


def test_b2b_buyer_sees_company_prices_checks_out_and_follows_the_order_to_delivered(page, portal, e2e_shop):
    shop = e2e_shop
    portal.login(page, "buyer@acme.example")

    page.goto(portal.url("/catalog/"))
    drill_row = page.locator("tr", has_text="DRILL-1")
    expect(drill_row).to_contain_text("€80.00")  # the Acme contract, not the €100.00 list price
    expect(page.locator("tr", has_text="SAW-1")).to_contain_text("€40.00")

    _add_to_cart(page, portal, "DRILL-1", 2)
    expect(page.locator("table")).to_contain_text("160.00")
    page.get_by_role("link", name="Check out").click()
    order = _checkout(page, portal)

    assert order.total == Decimal("165.00") and order.status == Order.Status.CONFIRMED
    expect(page.locator("h1")).to_contain_text("Confirmed")
    expect(page.locator("body")).to_contain_text("80.00")

    order_services.order_ship(order_id=order.pk, actor=shop.staff, tracking_number="1ZE2E")
    page.reload()
    expect(page.locator("h1")).to_contain_text("Shipped")
    expect(page.locator("body")).to_contain_text("1ZE2E")

    _carrier_event(portal, "1ZE2E", "in_transit")
    _carrier_event(portal, "1ZE2E", "delivered")
    page.reload()
    expect(page.locator("h1")).to_contain_text("Delivered")
    page.goto(portal.url("/orders/"))
    expect(page.locator("body")).to_contain_text(order.number)
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED and order.delivered_at is not None


def test_an_approver_approves_a_large_order_in_the_portal(page, portal, e2e_shop):
    shop = e2e_shop
    large = order_services.order_place(customer=shop.buyer, lines=[(shop.drill.pk, 20)],
                                       details=shop.details(shop.buyer), actor=shop.buyer.user)
    assert large.status == Order.Status.AWAITING_APPROVAL  # 1,600 EUR over Acme's 1,000 threshold

    portal.login(page, "approver@acme.example")
    page.goto(portal.url("/orders/approvals/"))
    row = page.locator("tr", has_text=large.number)
    expect(row).to_contain_text("€1,605.00")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("body")).to_contain_text("Order approved.")
    expect(page.locator("h1")).to_contain_text("Confirmed")

    page.goto(portal.url("/orders/approvals/"))
    expect(page.locator("body")).to_contain_text("Nothing waits for your approval.")
    large.refresh_from_db()
    assert large.status == Order.Status.CONFIRMED and large.approved_by == shop.approver.user


def test_the_buyer_cannot_approve_and_sees_the_order_waiting(page, portal, e2e_shop):
    shop = e2e_shop
    large = order_services.order_place(customer=shop.buyer, lines=[(shop.drill.pk, 20)],
                                       details=shop.details(shop.buyer), actor=shop.buyer.user)
    portal.login(page, "buyer@acme.example")
    page.goto(portal.url(f"/orders/{large.number}/"))
    expect(page.locator("h1")).to_contain_text("Awaiting approval")
    expect(page.get_by_role("button", name="Approve order")).to_have_count(0)


def test_a_guest_tracks_an_order_with_its_number_and_email(page, portal, e2e_shop):
    shop = e2e_shop
    order = order_services.order_place(customer=shop.consumer, lines=[(shop.saw.pk, 1)],
                                       details=shop.details(shop.consumer, payment="bank_transfer"))
    order_services.order_mark_paid(order_id=order.pk, actor=None, amount=order.total, reference="BANK-1")
    order_services.order_ship(order_id=order.pk, actor=shop.staff, tracking_number="1ZGUEST")

    page.goto(portal.url("/orders/track/"))
    page.fill("input[name=number]", order.number)
    page.fill("input[name=email]", "someone-else@example.com")
    page.get_by_role("button", name="Find my order").click()
    expect(page.locator("body")).to_contain_text("We found no order with this number and email.")

    page.fill("input[name=number]", order.number.lower())
    page.fill("input[name=email]", "ANA@example.com")
    page.get_by_role("button", name="Find my order").click()
    expect(page.locator("body")).to_contain_text(f"Order {order.number}")
    expect(page.locator("body")).to_contain_text("Shipped")
    expect(page.locator("body")).to_contain_text("1ZGUEST")


def test_staff_ship_an_order_with_the_admin_button(page, portal, e2e_shop):
    shop = e2e_shop
    order = order_services.order_place(customer=shop.buyer, lines=[(shop.saw.pk, 3)],
                                       details=shop.details(shop.buyer))
    assert order.status == Order.Status.CONFIRMED

    portal.admin_login(page, "shipper")
    page.goto(portal.url(f"/admin/orders/order/{order.pk}/change/"))
    expect(page.locator("body")).to_contain_text(order.number)
    page.fill("input[name=reason]", "1ZADMIN")
    page.get_by_role("button", name="Ship", exact=True).click()
    expect(page.locator("body")).to_contain_text("Ship: done.")
    expect(page.get_by_role("button", name="Ship", exact=True)).to_have_count(0)

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    shipment = order.shipments.get()
    assert shipment.tracking_number == "1ZADMIN" and shipment.tracking_url.endswith("1ZADMIN")
