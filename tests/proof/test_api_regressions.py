"""Regressions found by the API fuzzing (tests/proof/test_api_fuzz.py)."""

from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.factories import CustomerFactory


def _schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_a_non_numeric_variant_filter_on_stock_is_a_400_not_a_500(db):
    client = APIClient()
    client.force_authenticate(CustomerFactory().user)
    response = client.get("/api/v1/stock/", {"variant": "AAA"})
    assert response.status_code == 400
    assert "variant" in response.json()["error"]["fields"]
    assert client.get("/api/v1/stock/", {"variant": "1,2"}).status_code == 200


def test_fields_that_can_be_null_are_documented_as_nullable(db):
    components = _schema()["components"]["schemas"]
    assert components["Me"]["properties"]["company"].get("nullable") is True  # consumers have no company
    assert components["StockMovement"]["properties"]["actor"].get("nullable") is True  # system movements


def test_transfer_suggestions_are_documented_as_the_plain_list_they_are(db):
    operation = _schema()["paths"]["/api/v1/stock-transfers/suggestions/"]["get"]
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert not any(p["name"] in ("page", "page_size") for p in operation.get("parameters", []))
