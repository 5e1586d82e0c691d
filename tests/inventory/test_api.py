import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from inventory import services
from inventory.models import BackInStockSubscription, PurchaseOrder, StockLevel
from tests.factories import CustomerFactory, StaffFactory

from .factories import SupplierFactory, VariantFactory, WarehouseFactory, rule, stocked

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def staff():
    user = StaffFactory()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="inventory"))
    return user


@pytest.fixture
def customer():
    return CustomerFactory()


def test_customers_see_labels_not_units(customer, django_assert_max_num_queries):
    plenty = stocked(on_hand=50)
    few = stocked(on_hand=2)
    rule(few, point=5)
    out = stocked(on_hand=0)
    with django_assert_max_num_queries(6):
        response = _client(customer.user).get("/api/v1/stock/")
    assert response.status_code == 200
    rows = {row["sku"]: row for row in response.json()["results"]}
    assert rows[plenty.variant.sku] == {"variant_id": plenty.variant_id, "sku": plenty.variant.sku,
                                        "availability": "available"}
    assert rows[few.variant.sku]["availability"] == "low"
    assert rows[out.variant.sku]["availability"] == "out"
    one = _client(customer.user).get(f"/api/v1/stock/?sku={few.variant.sku.lower()}").json()["results"]
    assert [row["sku"] for row in one] == [few.variant.sku]


def test_staff_see_units_per_warehouse(staff):
    level = stocked(on_hand=7)
    services.stock_reserve(lines=[(level.variant_id, 2)], reference="x", expires_at=None)
    row = _client(staff).get(f"/api/v1/stock/{level.variant_id}/").json()
    assert row["available"] == 5
    assert row["warehouses"] == [{"warehouse": level.warehouse.code, "region": level.warehouse.region, "on_hand": 7,
                                  "reserved": 2, "available": 5, "quarantined": 0}]


def test_stock_levels_and_movements_are_staff_only(customer, staff):
    level = stocked(on_hand=3)
    assert _client(customer.user).get("/api/v1/stock-levels/").status_code == 403
    assert _client(customer.user).get("/api/v1/stock-movements/").status_code == 403
    assert _client(StaffFactory()).get("/api/v1/stock-levels/").status_code == 403  # staff without permission
    levels = _client(staff).get("/api/v1/stock-levels/").json()["results"]
    assert [(row["sku"], row["on_hand"]) for row in levels] == [(level.variant.sku, 3)]
    movements = _client(staff).get(f"/api/v1/stock-movements/?stock_level={level.pk}").json()["results"]
    assert [(m["kind"], m["quantity"]) for m in movements] == [("receipt", 3)]


def test_adjust_through_the_api_needs_a_reason_and_uses_the_error_shape(staff):
    level = stocked(on_hand=3)
    client = _client(staff)
    bad = client.post(f"/api/v1/stock-levels/{level.pk}/adjust/", {"quantity": -1, "reason": ""}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()["error"]["fields"]
    too_much = client.post(f"/api/v1/stock-levels/{level.pk}/adjust/", {"quantity": -5, "reason": "lost"}, format="json")
    assert too_much.status_code == 400 and too_much.json()["error"]["code"] == "invalid_stock_operation"
    ok = client.post(f"/api/v1/stock-levels/{level.pk}/adjust/", {"quantity": -1, "reason": "broken"}, format="json")
    assert ok.status_code == 200 and ok.json()["on_hand"] == 2


def test_purchase_order_api_lifecycle(staff):
    warehouse = WarehouseFactory()
    variant = VariantFactory()
    client = _client(staff)
    created = client.post("/api/v1/purchase-orders/", {
        "supplier": SupplierFactory().pk, "warehouse": warehouse.pk,
        "new_lines": [{"variant": variant.pk, "quantity": 4}]}, format="json")
    assert created.status_code == 201, created.json()
    po = created.json()
    assert po["status"] == "draft" and po["lines"][0]["quantity_ordered"] == 4

    refused = client.post(f"/api/v1/purchase-orders/{po['id']}/receive/", {}, format="json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "transition_not_allowed"
    assert client.post(f"/api/v1/purchase-orders/{po['id']}/send/").json()["status"] == "sent"
    partial = client.post(f"/api/v1/purchase-orders/{po['id']}/receive/",
                          {"lines": [{"variant": variant.pk, "quantity": 1}]}, format="json")
    assert partial.json()["status"] == "partially_received"
    assert client.post(f"/api/v1/purchase-orders/{po['id']}/receive/", {}, format="json").json()["status"] == "received"
    assert StockLevel.objects.get(variant=variant, warehouse=warehouse).on_hand == 4
    assert PurchaseOrder.objects.get().status == "received"


def test_transfer_api_and_suggestions(staff):
    variant = VariantFactory()
    low = stocked(variant, WarehouseFactory(code="api-low"), on_hand=1)
    rule(low, point=3, quantity=5)
    rich = stocked(variant, WarehouseFactory(code="api-rich"), on_hand=20)
    client = _client(staff)
    [suggestion] = client.get("/api/v1/stock-transfers/suggestions/").json()
    assert (suggestion["source"], suggestion["destination"], suggestion["quantity"]) == ("api-rich", "api-low", 7)
    created = client.post("/api/v1/stock-transfers/", {
        "source": rich.warehouse_id, "destination": low.warehouse_id,
        "new_lines": [{"variant": variant.pk, "quantity": 7}]}, format="json")
    assert created.status_code == 201, created.json()
    tid = created.json()["id"]
    assert client.post(f"/api/v1/stock-transfers/{tid}/dispatch/").json()["status"] == "in_transit"
    assert client.post(f"/api/v1/stock-transfers/{tid}/receive/").json()["status"] == "received"
    low.refresh_from_db()
    assert low.on_hand == 8


def test_insufficient_stock_is_one_409_naming_every_short_line(staff):
    variant = VariantFactory()
    source = stocked(variant, WarehouseFactory(), on_hand=1)
    transfer = services.transfer_request(source_id=source.warehouse_id, destination_id=WarehouseFactory().pk,
                                         lines=[(variant.pk, 3)])
    response = _client(staff).post(f"/api/v1/stock-transfers/{transfer.pk}/dispatch/")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["shortages"] == [{"sku": variant.sku, "variant_id": variant.pk, "requested": 3, "available": 1}]
    assert list(error["fields"]) == [variant.sku]


def test_customers_manage_only_their_own_subscriptions(customer):
    out = stocked(on_hand=0)
    client = _client(customer.user)
    created = client.post("/api/v1/stock-subscriptions/", {"sku": out.variant.sku}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["variant"], body["status"], body["availability"]) == (out.variant_id, "waiting", "out")
    assert client.post("/api/v1/stock-subscriptions/", {"variant": stocked(on_hand=4).variant_id},
                       format="json").json()["error"]["code"] == "in_stock"

    other = _client(CustomerFactory().user)
    assert other.get("/api/v1/stock-subscriptions/").json()["results"] == []
    assert other.delete(f"/api/v1/stock-subscriptions/{body['id']}/").status_code == 404
    assert other.get(f"/api/v1/stock-subscriptions/{body['id']}/").status_code == 404
    assert [s["id"] for s in client.get("/api/v1/stock-subscriptions/").json()["results"]] == [body["id"]]
    assert client.delete(f"/api/v1/stock-subscriptions/{body['id']}/").status_code == 204
    assert not BackInStockSubscription.objects.exists()


def test_staff_without_profile_cannot_use_subscriptions(staff):
    assert _client(staff).get("/api/v1/stock-subscriptions/").status_code == 403


def test_subscription_needs_a_variant_or_sku(customer):
    response = _client(customer.user).post("/api/v1/stock-subscriptions/", {}, format="json")
    assert response.status_code == 400 and "variant" in response.json()["error"]["fields"]
    assert not BackInStockSubscription.objects.exists()
