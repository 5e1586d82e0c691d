from decimal import Decimal

from catalog.models import CatalogRule
from orders.models import Order
from quotes.models import Quote
from tests.orders.test_api import client_for

from .conftest import details_for, sent_quote


def _accept_body(customer):
    details = details_for(customer)
    return {"shipping_address": details.shipping_address_id, "shipping_method": "std", "payment_method": "invoice",
            "po_number": "PO-API"}


def test_rfq_to_order_over_the_api(shop, buyer, sales, settings):
    settings.QUOTE_MAX_DISCOUNT_PERCENT = 50
    shop.variant("DRILL", price="80.00")
    shop.variant("SAW", price="40.00")
    api = client_for(buyer.user)
    created = api.post("/api/v1/quotes/", {"lines": [{"sku": "DRILL", "quantity": 10, "target_price": "70.00"},
                                                     {"sku": "SAW", "quantity": 5}],
                                           "notes": "For the new site"}, format="json")
    assert created.status_code == 201
    body = created.json()
    number = body["number"]
    assert (body["status"], body["source"], body["versions"]) == ("requested", "api", [])
    assert body["requested_lines"][0] == {"sku": "DRILL", "name": body["requested_lines"][0]["name"],
                                          "quantity": 10, "target_price": "70.00"}

    staff = client_for(sales)
    priced = staff.post(f"/api/v1/quotes/{number}/price/", {"lines": [
        {"sku": "DRILL", "quantity": 10, "unit_price": "72.00"}, {"sku": "SAW", "quantity": 5, "unit_price": "38.00"}],
        "note": "Bulk price"}, format="json")
    assert priced.status_code == 200, priced.json()
    draft = priced.json()["versions"][0]
    assert (draft["is_draft"], draft["subtotal"], draft["lines"][0]["discount_percent"]) == (True, "910.00", "10.00")
    # The buyer does not see the draft.
    assert api.get(f"/api/v1/quotes/{number}/").json()["versions"] == []

    assert staff.post(f"/api/v1/quotes/{number}/send/").json()["status"] == "sent"
    seen = api.get(f"/api/v1/quotes/{number}/").json()
    assert [v["version"] for v in seen["versions"]] == [1]
    assert "needs_approval" not in seen["versions"][0]

    changes = api.post(f"/api/v1/quotes/{number}/request-changes/", {"comment": "70 for the drill?"}, format="json")
    assert changes.json()["status"] == "in_review"
    staff.post(f"/api/v1/quotes/{number}/price/", {"lines": [
        {"sku": "DRILL", "quantity": 10, "unit_price": "70.00"}, {"sku": "SAW", "quantity": 5, "unit_price": "38.00"}]},
        format="json")
    staff.post(f"/api/v1/quotes/{number}/send/")

    accepted = api.post(f"/api/v1/quotes/{number}/accept/", _accept_body(buyer), format="json")
    assert accepted.status_code == 200
    body = accepted.json()
    assert body["status"] == "converted" and body["conversion_error"] is None
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][0]["changes_requested"] == "70 for the drill?"
    order = Order.objects.get(number=body["order"])
    assert sorted(order.lines.values_list("sku", "unit_price")) == [("DRILL", Decimal("70.00")),
                                                                    ("SAW", Decimal("38.00"))]
    assert order.po_number == "PO-API"
    timeline = api.get(f"/api/v1/quotes/{number}/timeline/").json()
    assert [entry["status"] for entry in timeline] == ["requested", "in_review", "sent", "in_review", "sent",
                                                       "accepted", "converted"]
    pdf = api.get(f"/api/v1/quotes/{number}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_accept_without_stock_answers_with_the_explanation(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales, quantity=500)
    response = client_for(buyer.user).post(f"/api/v1/quotes/{quote.number}/accept/", _accept_body(buyer),
                                           format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted" and body["order"] is None
    assert body["conversion_error"]["code"] == "insufficient_stock"


def test_request_a_quote_for_a_cart_over_the_api(shop, buyer):
    shop.variant("A")
    api = client_for(buyer.user)
    cart = api.post("/api/v1/carts/").json()
    api.post(f"/api/v1/carts/{cart['id']}/lines/", {"sku": "A", "quantity": 4}, format="json")
    response = api.post("/api/v1/quotes/", {"cart": cart["id"]}, format="json")
    assert response.status_code == 201
    assert response.json()["source"] == "cart"
    assert response.json()["requested_lines"][0]["quantity"] == 4


def test_hidden_skus_are_404_and_nothing_is_created(shop, buyer, company):
    hidden = shop.variant("SECRET")
    CatalogRule.objects.create(company=company, effect="exclude", product=hidden.product)
    response = client_for(buyer.user).post("/api/v1/quotes/", {"lines": [{"sku": "SECRET", "quantity": 1}]},
                                           format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert not Quote.objects.exists()


def test_bad_input_has_the_error_shape(shop, buyer):
    response = client_for(buyer.user).post("/api/v1/quotes/", {"lines": [{"sku": "A", "quantity": 0}]},
                                           format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_other_customers_quotes_are_404_and_not_listed(shop, buyer, sales, consumer):
    quote, _variant = sent_quote(shop, buyer, sales)
    api = client_for(consumer.user)
    assert api.get("/api/v1/quotes/").json()["results"] == []
    for method, path, body in [("get", "", None), ("post", "accept/", _accept_body(consumer)),
                               ("post", "decline/", {}), ("post", "request-changes/", {"comment": "x"}),
                               ("get", "pdf/", None), ("get", "timeline/", None)]:
        response = getattr(api, method)(f"/api/v1/quotes/{quote.number}/{path}", body, format="json")
        assert response.status_code == 404, path
    quote.refresh_from_db()
    assert quote.status == Quote.Status.SENT


def test_customers_cannot_use_staff_actions(shop, buyer, sales):
    quote, _variant = sent_quote(shop, buyer, sales)
    api = client_for(buyer.user)
    for action in ("send", "approve", "convert", "price"):
        assert api.post(f"/api/v1/quotes/{quote.number}/{action}/", {}, format="json").status_code == 404


def test_approval_over_the_api_needs_the_permission(shop, buyer, sales, manager, settings):
    settings.QUOTE_MAX_DISCOUNT_PERCENT = 5
    shop.variant("A", price="10.00")
    number = client_for(buyer.user).post("/api/v1/quotes/", {"lines": [{"sku": "A", "quantity": 1}]},
                                         format="json").json()["number"]
    staff = client_for(sales)
    staff.post(f"/api/v1/quotes/{number}/price/", {"lines": [{"sku": "A", "quantity": 1, "unit_price": "5.00"}]},
               format="json")
    assert staff.post(f"/api/v1/quotes/{number}/send/").json()["status"] == "pending_approval"
    refused = staff.post(f"/api/v1/quotes/{number}/approve/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "approval_required"
    assert client_for(manager).post(f"/api/v1/quotes/{number}/approve/").json()["status"] == "approved"


def test_list_query_count_does_not_grow_with_quotes(shop, buyer, sales, django_assert_max_num_queries):
    for sku in ("A", "B", "C", "D"):
        sent_quote(shop, buyer, sales, sku=sku)
    api = client_for(buyer.user)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/quotes/")
    assert len(response.json()["results"]) == 4


def test_the_same_idempotency_key_makes_one_quote(shop, buyer):
    shop.variant("A")
    api = client_for(buyer.user)
    body = {"lines": [{"sku": "A", "quantity": 3}]}
    first = api.post("/api/v1/quotes/", body, format="json", HTTP_IDEMPOTENCY_KEY="rfq-1")
    again = api.post("/api/v1/quotes/", body, format="json", HTTP_IDEMPOTENCY_KEY="rfq-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["number"] == again.json()["number"]
    assert Quote.objects.count() == 1
    other = api.post("/api/v1/quotes/", {"lines": [{"sku": "A", "quantity": 4}]}, format="json",
                     HTTP_IDEMPOTENCY_KEY="rfq-1")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert Quote.objects.count() == 1
