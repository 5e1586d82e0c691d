import io
from decimal import Decimal

import pytest
from PIL import Image
from rest_framework.test import APIClient

from orders.models import Payment
from returns.models import ReturnRequest
from tests.factories import StaffFactory

from .conftest import ask, delivered_order

URL = "/api/v1/returns/"


@pytest.fixture
def order(shop, buyer, policy):
    return delivered_order(buyer, [(shop.variant("A", price="12.50"), 4)])


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_customer_requests_a_return_and_sees_the_decision(order, buyer):
    response = _client(buyer.user).post(URL, {"order": order.number, "lines": [{"sku": "A", "quantity": 2}],
                                              "reason": "changed_mind", "resolution": "refund"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "approved" and body["decision_rule"] == "within_policy"
    assert body["refund_amount"] == "25.00" and body["lines"][0]["quantity"] == 2
    listed = _client(buyer.user).get(URL).json()
    assert [item["rma"] for item in listed["results"]] == [body["rma"]]
    timeline = _client(buyer.user).get(f"{URL}{body['rma']}/timeline/").json()
    assert [entry["status"] for entry in timeline] == ["requested", "approved"]
    label = _client(buyer.user).get(f"{URL}{body['rma']}/label/")
    assert label.status_code == 200 and label.content.startswith(b"%PDF")


def test_photos_can_be_uploaded_with_multipart(order, buyer):
    picture = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(picture, "PNG")
    picture.name = "dent.png"
    picture.seek(0)
    response = _client(buyer.user).post(URL, {
        "order": order.number, "lines[0]sku": "A", "lines[0]quantity": 1, "reason": "damaged",
        "resolution": "refund", "photos": [picture]}, format="multipart")
    assert response.status_code == 201, response.json()
    assert ReturnRequest.objects.get().photos.count() == 1


def test_too_many_units_is_a_400_with_the_field(order, buyer):
    response = _client(buyer.user).post(URL, {"order": order.number, "lines": [{"sku": "A", "quantity": 5}],
                                              "reason": "changed_mind", "resolution": "refund"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "return_quantity_exceeded"
    assert "A" in response.json()["error"]["fields"]
    assert not ReturnRequest.objects.exists()


def test_another_customers_order_and_return_are_404(order, consumer):
    client = _client(consumer.user)
    response = client.post(URL, {"order": order.number, "lines": [{"sku": "A", "quantity": 1}],
                                 "reason": "changed_mind", "resolution": "refund"}, format="json")
    assert response.status_code == 404
    request = ask(order, ("A", 1))
    assert client.get(f"{URL}{request.rma}/").status_code == 404
    assert client.post(f"{URL}{request.rma}/shipped/", {}, format="json").status_code == 404
    assert client.get(f"{URL}{request.rma}/label/").status_code == 404
    assert client.get(URL).json()["results"] == []


def test_customers_cannot_use_staff_actions(order, buyer):
    request = ask(order, ("A", 1), reason="damaged")
    response = _client(buyer.user).post(f"{URL}{request.rma}/approve/", {}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "not_allowed"
    request.refresh_from_db()
    assert request.status == ReturnRequest.Status.REQUESTED


def test_staff_take_a_return_from_review_to_refund(order, buyer, returns_staff):
    request = ask(order, ("A", 2), reason="damaged")
    staff = _client(returns_staff)
    assert staff.post(f"{URL}{request.rma}/approve/", {"reason": "Photos OK"}, format="json").json()["status"] \
        == "approved"
    assert _client(buyer.user).post(f"{URL}{request.rma}/shipped/", {"tracking_number": "RT-9"},
                                    format="json").json()["status"] == "in_transit"
    assert staff.post(f"{URL}{request.rma}/receive/", {}, format="json").json()["status"] == "received"
    line_id = request.lines.get().pk
    inspected = staff.post(f"{URL}{request.rma}/inspect/", {"conditions": {str(line_id): "damaged"}},
                           format="json").json()
    assert inspected["status"] == "inspected" and inspected["lines"][0]["condition"] == "damaged"
    refunded = staff.post(f"{URL}{request.rma}/resolve/", {}, format="json").json()
    assert refunded["status"] == "refunded"
    assert Payment.objects.get(kind="refund").amount == Decimal("25.00")
    again = staff.post(f"{URL}{request.rma}/resolve/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "transition_not_allowed"
    assert staff.get(f"{URL}?status=refunded").json()["count"] == 1


def test_staff_without_returns_permissions_see_nothing(order):
    ask(order, ("A", 1))
    assert _client(StaffFactory()).get(URL).json()["results"] == []


def test_list_query_count_does_not_grow_with_returns(order, buyer, django_assert_max_num_queries):
    for _ in range(3):
        ask(order, ("A", 1))
    with django_assert_max_num_queries(8):
        response = _client(buyer.user).get(URL)
    assert response.json()["count"] == 3


def test_idempotency_key_replays_the_same_return_and_refuses_another_body(order, buyer):
    client = _client(buyer.user)
    body = {"order": order.number, "lines": [{"sku": "A", "quantity": 1}], "reason": "changed_mind",
            "resolution": "refund"}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["rma"] == first.json()["rma"] and again["Idempotent-Replayed"] == "true"
    assert ReturnRequest.objects.count() == 1
    other = client.post(URL, {**body, "reason": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert ReturnRequest.objects.count() == 1


def test_policy_and_returnable_lines_for_api_clients(order, buyer, consumer):
    client = _client(buyer.user)
    policy = client.get(f"{URL}policy/").json()
    assert policy["window_days"] == 30 and "changed_mind" in policy["reasons"]
    ask(order, ("A", 1))
    rows = client.get(f"{URL}returnable/", {"order": order.number}).json()
    assert [(row["sku"], row["delivered"], row["returned"], row["left"], row["in_window"]) for row in rows] == [
        ("A", 4, 1, 3, True)]
    assert _client(consumer.user).get(f"{URL}returnable/", {"order": order.number}).status_code == 404
