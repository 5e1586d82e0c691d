from decimal import Decimal

from django.urls import reverse

from orders.models import Order
from quotes import services
from quotes.models import Quote

from .conftest import details_for, price, sent_quote


def _accept_form(customer):
    details = details_for(customer)
    return {"shipping_address": details.shipping_address_id, "shipping_method": "std", "payment_method": "invoice",
            "po_number": "PO-PORTAL"}


def test_buyer_requests_a_quote_in_the_portal(client, shop, buyer):
    shop.variant("DRILL", price="80.00")
    client.force_login(buyer.user)
    page = client.get(reverse("quotes:new"))
    assert page.status_code == 200 and "DRILL" in page.content.decode()  # the SKU list
    form = {"lines-TOTAL_FORMS": "5", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
            "lines-MAX_NUM_FORMS": "10", "lines-0-sku": "DRILL", "lines-0-quantity": "25",
            "lines-0-target_price": "70.00", "notes": "Opening in March", "needed_by": ""}
    response = client.post(reverse("quotes:new"), form)
    quote = Quote.objects.get()
    assert response["Location"] == reverse("quotes:detail", args=[quote.number])
    line = quote.request_lines.get()
    assert (line.quantity, line.target_price, quote.notes) == (25, Decimal("70.00"), "Opening in March")
    listing = client.get(reverse("quotes:list")).content.decode()
    assert quote.number in listing and "Requested" in listing


def test_unknown_or_hidden_skus_are_reported_on_the_form(client, shop, buyer):
    client.force_login(buyer.user)
    form = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-sku": "NOPE", "lines-0-quantity": "1"}
    response = client.post(reverse("quotes:new"), form)
    assert response.status_code == 200
    assert "No such item in your catalog." in response.content.decode()
    assert not Quote.objects.exists()


def test_request_a_quote_for_the_cart_from_the_cart_page(client, shop, buyer):
    shop.variant("A")
    client.force_login(buyer.user)
    client.post(reverse("orders:cart_add"), {"sku": "A", "quantity": 3})
    assert reverse("quotes:from_cart") in client.get(reverse("orders:cart")).content.decode()
    response = client.post(reverse("quotes:from_cart"), {"notes": "bulk", "needed_by": ""})
    quote = Quote.objects.get()
    assert response["Location"] == reverse("quotes:detail", args=[quote.number])
    assert (quote.source, quote.request_lines.get().quantity) == ("cart", 3)


def test_versions_side_by_side_then_accept_in_the_portal(client, shop, buyer, sales):
    quote, variant = sent_quote(shop, buyer, sales, unit="9.50")
    client.force_login(buyer.user)
    client.post(reverse("quotes:request_changes", args=[quote.number]), {"comment": "9.00?"})
    price(quote, sales, (variant, 10, "9.00"))
    services.quote_send(quote_id=quote.pk, actor=sales)

    page = client.get(reverse("quotes:detail", args=[quote.number])).content.decode()
    assert "Version 1" in page and "Version 2" in page
    assert "9.50" in page and "9.00" in page and "9.00?" in page
    assert reverse("quotes:accept", args=[quote.number]) in page

    response = client.post(reverse("quotes:accept", args=[quote.number]), _accept_form(buyer))
    order = Order.objects.get()
    assert response["Location"] == reverse("orders:detail", args=[order.number])
    assert order.lines.get().unit_price == Decimal("9.00")
    assert order.po_number == "PO-PORTAL"


def test_accepting_without_stock_explains_and_keeps_the_acceptance(client, shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales, quantity=400)
    client.force_login(buyer.user)
    response = client.post(reverse("quotes:accept", args=[quote.number]), _accept_form(buyer), follow=True)
    page = response.content.decode()
    assert "could not place the order" in page
    assert "stock" in page.lower()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED
    assert not Order.objects.exists()


def test_a_bad_choice_on_the_accept_form_is_shown_and_nothing_changes(client, shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    client.force_login(buyer.user)
    response = client.post(reverse("quotes:accept", args=[quote.number]), {**_accept_form(buyer),
                                                                          "shipping_method": "teleport"})
    assert response.status_code == 400
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


def test_decline_and_withdraw_in_the_portal(client, shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    client.force_login(buyer.user)
    client.post(reverse("quotes:decline", args=[quote.number]), {"reason": "too late"})
    quote.refresh_from_db()
    assert (quote.status, quote.close_reason) == ("declined", "too late")

    other = services.quote_request(customer=buyer, lines=[services.RequestedLine(_variant.pk, 1)])
    client.post(reverse("quotes:withdraw", args=[other.number]))
    other.refresh_from_db()
    assert other.status == "cancelled"


def test_the_buyer_downloads_the_pdf(client, shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    client.force_login(buyer.user)
    response = client.get(reverse("quotes:pdf", args=[quote.number]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_other_customers_quotes_are_404_in_the_portal(client, shop, buyer, sales, consumer):
    quote, _variant = sent_quote(shop, buyer, sales)
    client.force_login(consumer.user)
    assert client.get(reverse("quotes:detail", args=[quote.number])).status_code == 404
    assert client.get(reverse("quotes:pdf", args=[quote.number])).status_code == 404
    for name in ("accept", "decline", "request_changes", "withdraw"):
        assert client.post(reverse(f"quotes:{name}", args=[quote.number]), _accept_form(consumer)).status_code == 404
    assert quote.number not in client.get(reverse("quotes:list")).content.decode()
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


def test_staff_price_send_and_approve_in_the_admin(client, shop, buyer, sales, manager, settings):
    settings.QUOTE_MAX_DISCOUNT_PERCENT = 10
    variant = shop.variant("A", price="10.00", tiers={20: "9.00"})
    quote = services.quote_request(customer=buyer, lines=[services.RequestedLine(variant.pk, 20)])
    client.force_login(sales)
    form = client.get(reverse("admin:quotes_quote_price", args=[quote.pk])).content.decode()
    assert "9.00" in form  # starts from the customer's tier price

    client.post(reverse("admin:quotes_quote_price", args=[quote.pk]),
                {"sku": ["A", "", ""], "quantity": ["20", "", ""], "unit_price": ["7.00", "", ""],
                 "valid_until": "2099-01-31", "shipping": "", "note": "Special"})
    version = quote.versions.get()
    assert (version.valid_until.date().isoformat(), version.note) == ("2099-01-31", "Special")
    assert (version.needs_approval, version.lines.get().unit_price) == (True, Decimal("7.00"))

    change = client.get(reverse("admin:quotes_quote_change", args=[quote.pk])).content.decode()
    assert 'value="send"' in change and 'value="approve"' not in change
    client.post(reverse("admin:quotes_quote_transition", args=[quote.pk]), {"action_name": "send"})
    quote.refresh_from_db()
    assert quote.status == Quote.Status.PENDING_APPROVAL
    refused = client.post(reverse("admin:quotes_quote_transition", args=[quote.pk]), {"action_name": "approve"})
    assert refused.status_code == 403

    client.force_login(manager)
    client.post(reverse("admin:quotes_quote_transition", args=[quote.pk]), {"action_name": "approve"})
    client.post(reverse("admin:quotes_quote_transition", args=[quote.pk]), {"action_name": "send"})
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT
    history = client.get(reverse("admin:quotes_quote_change", args=[quote.pk])).content.decode()
    assert "v1" in history and "7.00" in history
    assert client.get(reverse("admin:quotes_quote_pdf", args=[quote.pk, 1])).content.startswith(b"%PDF")


def test_staff_retry_the_conversion_from_the_admin(client, shop, buyer, sales):
    from inventory import services as stock

    quote, variant = sent_quote(shop, buyer, sales, quantity=150)
    services.quote_accept(quote_id=quote.pk, actor=buyer.user, details=details_for(buyer))
    client.force_login(sales)
    client.post(reverse("admin:quotes_quote_transition", args=[quote.pk]), {"action_name": "convert"})
    quote.refresh_from_db()
    assert quote.status == Quote.Status.ACCEPTED and quote.conversion_attempts == 2
    stock.stock_receive(variant_id=variant.pk, warehouse_id=shop.warehouse.pk, quantity=50, reason="delivery")
    client.post(reverse("admin:quotes_quote_transition", args=[quote.pk]), {"action_name": "convert"})
    quote.refresh_from_db()
    assert quote.status == Quote.Status.CONVERTED and quote.order is not None
