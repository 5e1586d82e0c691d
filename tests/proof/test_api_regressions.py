"""Regressions found by the API fuzzing (tests/proof/test_api_fuzz.py)."""

import pytest
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
    assert client.get("/api/v1/stock/", {"variant": str(2**64)}).status_code == 400  # SQLite: OverflowError
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


def test_a_lost_database_connection_is_a_503_in_the_api_error_shape():
    from django.db import InterfaceError, OperationalError

    from shopauto.api import exception_handler

    for error in (OperationalError("terminating connection due to administrator command"),
                  InterfaceError("connection already closed")):
        response = exception_handler(error, {})
        assert response.status_code == 503 and response["Retry-After"]
        assert response.data["error"]["code"] == "service_unavailable" and response.data["error"]["fields"] == {}


def test_a_lost_database_connection_is_a_503_page_in_the_portal(rf):
    from django.db import OperationalError

    from shopauto.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    response = middleware.process_exception(rf.get("/orders/checkout/"), OperationalError("server closed"))
    assert response.status_code == 503 and b"Nothing was changed" in response.content
    assert middleware.process_exception(rf.get("/"), ValueError("other")) is None


@pytest.mark.django_db
def test_an_out_of_range_date_filter_is_a_400_not_a_500():
    """Found by the fuzzer: /events/?created_after=5635-11-12T18:54:38-17:40 reached the
    database, which refused the time zone offset (DataError)."""
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    from tests.factories import StaffFactory

    staff = StaffFactory()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="automation"))
    api = APIClient()
    api.force_authenticate(staff)
    response = api.get("/api/v1/events/", {"created_after": "5635-11-12T18:54:38.26-17:40"})
    assert response.status_code == 200  # compared in UTC: PostgreSQL never sees the odd offset
    assert response.json()["results"] == []


def test_a_database_data_error_maps_to_a_400_in_the_error_shape():
    """The safety net behind the validators: DataError (a value the column cannot hold)."""
    from django.db import DataError

    from shopauto.api import exception_handler

    response = exception_handler(DataError("value too long for type character varying(20)"), {})
    assert response.status_code == 400
    assert response.data["error"]["code"] == "invalid"
