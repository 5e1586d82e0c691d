import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from customers.services import customer_create


@pytest.fixture
def api():
    return APIClient()


@pytest.mark.django_db
def test_unauthenticated_api_call_gets_the_error_shape(api):
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == "not_authenticated"


@pytest.mark.django_db
def test_unknown_api_route_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_token_auth_and_me(api):
    customer = customer_create(email="Bruno@Acme.example", password="s3cret-pass-123", first_name="Bruno")
    token = api.post("/api/v1/auth/token/", {"username": "bruno@acme.example", "password": "s3cret-pass-123"})
    assert token.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "bruno@acme.example"
    assert me.json()["id"] == customer.pk


@pytest.mark.django_db
def test_bad_credentials_give_a_400_with_fields(api):
    response = api.post("/api/v1/auth/token/", {"username": "nobody"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "password" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_token_endpoint_is_rate_limited(api, settings):
    from django.core.cache import cache

    cache.clear()
    codes = [api.post("/api/v1/auth/token/", {"username": "x", "password": "y"}).status_code for _ in range(12)]
    assert codes[:10] == [400] * 10
    assert codes[-1] == 429
    cache.clear()


@pytest.mark.django_db
def test_staff_user_is_not_a_customer_on_me(api, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="pw-123-abc", is_staff=True)
    api.force_authenticate(staff)
    assert api.get("/api/v1/me/").status_code == 404


@pytest.mark.django_db
def test_openapi_schema_and_docs_load(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "/api/v1/me/" in schema.json()["paths"]
    assert client.get(reverse("api-docs")).status_code == 200


def test_health_endpoint(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
