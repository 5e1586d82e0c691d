"""Quote journey (issue 7): a buyer requests a quote, staff price and send it, the buyer
accepts it and the order is placed at the quoted price.

Skips until the quotes app has models. What it assumes (finish at integration):
- portal /quotes/new/ with a line formset (inputs named `<prefix>-0-sku`, `<prefix>-0-quantity`) and a
  "Send request" button that lands on /quotes/<number>/;
- quotes.services: quote_start_review(quote_id, actor), quote_price(quote_id, actor, lines=[PricedLine(
  variant_id, quantity, unit_price)]), quote_send(quote_id, actor); a small discount needs no approval;
- the quote page shows an accept form (checkout fields) with an "Accept and order" button; after it the
  quote is accepted/converted and an order exists at the quoted unit price.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

pytest.importorskip("quotes.models")


def test_a_buyer_requests_and_accepts_a_quote(page, portal, e2e_shop):
    from django.contrib.auth.models import Permission

    from orders.models import OrderLine
    from quotes import services as quote_services
    from quotes.models import Quote

    shop = e2e_shop
    shop.staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="quotes"))
    portal.login(page, "buyer@acme.example")

    page.goto(portal.url("/quotes/new/"))
    page.locator("input[name$='-0-sku']").fill("DRILL-1")
    page.locator("input[name$='-0-quantity']").fill("10")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/quotes/[^/]+/$"))
    quote = Quote.objects.get(customer=shop.buyer)

    quote_services.quote_start_review(quote_id=quote.pk, actor=shop.staff)
    quote_services.quote_price(quote_id=quote.pk, actor=shop.staff, lines=[
        quote_services.PricedLine(variant_id=shop.drill.pk, quantity=10, unit_price=Decimal("78.00"))])
    quote_services.quote_send(quote_id=quote.pk, actor=shop.staff)

    page.goto(portal.url(f"/quotes/{quote.number}/"))
    expect(page.locator("body")).to_contain_text("78.00")
    payment = page.locator("select[name=payment_method]")
    if payment.count():
        payment.select_option("invoice")
    page.get_by_role("button", name="Accept and order").click()
    page.wait_for_load_state()

    quote.refresh_from_db()
    assert quote.status in ("accepted", "converted")
    line = OrderLine.objects.get(order__customer=shop.buyer, sku="DRILL-1")
    assert line.unit_price == Decimal("78.00") and line.quantity == 10
    page.goto(portal.url(f"/orders/{line.order.number}/"))
    expect(page.locator("body")).to_contain_text("78.00")
