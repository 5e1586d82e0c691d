"""Return journey (issue 8): a buyer returns an item of a delivered order inside the
return window, from the order page, and the return policy approves it at once."""

import json
import re
import urllib.request

from django.conf import settings
from playwright.sync_api import expect

from orders import services as order_services
from orders.models import Order
from shopauto.webhook_signing import HEADER, signature_header


def _delivered(portal, shop):
    order = order_services.order_place(customer=shop.buyer, lines=[(shop.saw.pk, 2)], details=shop.details(shop.buyer))
    order_services.order_ship(order_id=order.pk, actor=shop.staff, tracking_number="1ZRET")
    body = json.dumps({"tracking_number": "1ZRET", "status": "delivered"}).encode()
    request = urllib.request.Request(  # noqa: S310 - the live test server
        portal.url("/api/v1/webhooks/carrier/"), data=body, method="POST",
        headers={"Content-Type": "application/json",
                 HEADER: signature_header(body, [settings.CARRIER_WEBHOOK_SECRET])})
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
    order.refresh_from_db()
    assert order.status == Order.Status.DELIVERED
    return order


def test_a_buyer_requests_a_return_that_the_policy_approves(page, portal, e2e_shop):
    from returns.models import ReturnRequest

    order = _delivered(portal, e2e_shop)
    portal.login(page, "buyer@acme.example")
    page.goto(portal.url(f"/orders/{order.number}/"))
    page.get_by_role("link", name=re.compile("return items", re.I)).click()
    expect(page).to_have_url(re.compile(r"/returns/new/"))

    page.locator("input[type=number]").first.fill("1")
    page.locator("select[name=reason]").select_option("changed_mind")
    page.locator("input[name=resolution][value=refund]").check()
    page.get_by_role("button", name=re.compile("request the return", re.I)).click()
    page.wait_for_load_state()

    request = ReturnRequest.objects.get(order=order)
    assert request.status == ReturnRequest.Status.APPROVED
    expect(page).to_have_url(re.compile(rf"/returns/{request.rma}/"))
    expect(page.locator("body")).to_contain_text(request.rma)
    expect(page.locator("body")).to_contain_text(re.compile("approved", re.I))
