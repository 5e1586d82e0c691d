"""Return journey (issue 8): a buyer requests a return of a delivered order inside the
return window and the policy approves it at once.

Skips until the returns app has models. What it assumes (finish at integration):
- the portal order page of a delivered order links to the return form with a link named "Request a return"
  (portal /returns/...);
- that form has, per order line, a quantity input (the first `input[type=number]`) and a reason select
  (the first `select`, any option but the empty one), and a submit button whose name contains "return";
- the default policy auto-approves a return requested inside the window; the page after submitting shows
  "Approved" and a ReturnRequest-like row of the customer exists with status "approved".
"""

import json
import re
import urllib.request

import pytest
from django.conf import settings
from playwright.sync_api import expect

from orders import services as order_services
from orders.models import Order
from shopauto.webhook_signing import HEADER, signature_header

returns_models = pytest.importorskip("returns.models")


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
    order = _delivered(portal, e2e_shop)
    portal.login(page, "buyer@acme.example")
    page.goto(portal.url(f"/orders/{order.number}/"))
    page.get_by_role("link", name=re.compile("request a return", re.I)).click()
    expect(page).to_have_url(re.compile(r"/returns/"))

    page.locator("input[type=number]").first.fill("1")
    reason = page.locator("select").first
    if reason.count():
        values = [v for v in reason.locator("option").evaluate_all("opts => opts.map(o => o.value)") if v]
        reason.select_option(values[0])
    page.get_by_role("button", name=re.compile("return", re.I)).first.click()
    page.wait_for_load_state()

    expect(page.locator("body")).to_contain_text(re.compile("approved", re.I))
    model = next(m for m in vars(returns_models).values()
                 if isinstance(m, type) and hasattr(m, "_meta") and not m._meta.abstract
                 and any(f.name == "order" for f in m._meta.fields) and any(f.name == "status" for f in m._meta.fields))
    assert model.objects.filter(order=order, status="approved").count() == 1
