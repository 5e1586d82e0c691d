"""Staff API: webhook endpoints (CRUD by model permission), deliveries, events."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from automation.models import WebhookDelivery, WebhookEndpoint
from automation.services import emit
from tests.factories import CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def staff_with(*codenames):
    user = StaffFactory()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="automation", codename__in=codenames))
    return user


def test_staff_with_permissions_manage_endpoints_and_see_the_secret_once():
    client = client_for(staff_with("view_webhookendpoint", "add_webhookendpoint", "change_webhookendpoint",
                                   "delete_webhookendpoint"))
    created = client.post("/api/v1/webhook-endpoints/", {"name": "ERP", "url": "https://erp.example/hooks",
                                                        "events": ["order.*"]}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["secret"].startswith("whsec_")
    endpoint_id = created.json()["id"]
    detail = client.get(f"/api/v1/webhook-endpoints/{endpoint_id}/").json()
    assert "secret" not in detail and detail["events"] == ["order.*"]

    rotated = client.patch(f"/api/v1/webhook-endpoints/{endpoint_id}/",
                           {"secret": "a-brand-new-secret-123", "secondary_secret": created.json()["secret"]},
                           format="json")
    assert rotated.status_code == 200
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    assert endpoint.signing_secrets == ["a-brand-new-secret-123", created.json()["secret"]]

    WebhookEndpoint.objects.filter(pk=endpoint_id).update(active=False, consecutive_failures=10)
    enabled = client.patch(f"/api/v1/webhook-endpoints/{endpoint_id}/", {"active": True}, format="json")
    assert enabled.json()["active"] is True and enabled.json()["consecutive_failures"] == 0

    bad = client.post("/api/v1/webhook-endpoints/", {"name": "x", "url": "not a url"}, format="json")
    assert bad.status_code == 400 and "url" in bad.json()["error"]["fields"]
    assert client.delete(f"/api/v1/webhook-endpoints/{endpoint_id}/").status_code == 204


def test_reading_needs_view_permission_and_writing_needs_change():
    WebhookEndpoint.objects.create(name="ERP", url="https://erp.example/hooks")
    viewer = client_for(staff_with("view_webhookendpoint"))
    assert viewer.get("/api/v1/webhook-endpoints/").json()["count"] == 1
    assert viewer.post("/api/v1/webhook-endpoints/", {"name": "x", "url": "https://x.example"},
                       format="json").status_code == 403
    assert client_for(StaffFactory()).get("/api/v1/webhook-endpoints/").status_code == 403
    customer = CustomerFactory().user
    assert client_for(customer).get("/api/v1/webhook-endpoints/").status_code == 403
    assert client_for(customer).get("/api/v1/events/").status_code == 403
    assert APIClient().get("/api/v1/events/").status_code in (401, 403)


def test_events_can_be_filtered_by_name_and_subject(django_assert_max_num_queries):
    emit("order.placed", payload={"number": "SA-1"})
    customer = CustomerFactory()
    emit("customer.created", subject=customer, payload={"customer_id": customer.pk})
    emit("order.shipped", payload={"number": "SA-1"})
    client = client_for(staff_with("view_event"))

    with django_assert_max_num_queries(6):
        names = [e["name"] for e in client.get("/api/v1/events/").json()["results"]]
    assert names == ["order.shipped", "customer.created", "order.placed"]
    assert [e["name"] for e in client.get("/api/v1/events/?name=order.placed").json()["results"]] == ["order.placed"]
    assert len(client.get("/api/v1/events/?name_prefix=order.").json()["results"]) == 2
    by_subject = client.get(f"/api/v1/events/?subject_type=customers.customerprofile&subject_id={customer.pk}")
    assert [e["payload"] for e in by_subject.json()["results"]] == [{"customer_id": customer.pk}]


def test_deliveries_are_listed_and_redelivered_through_the_api():
    endpoint = WebhookEndpoint.objects.create(name="ERP", url="http://127.0.0.1:9/hooks")
    event = emit("order.placed", payload={})
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_name=event.name, body="{}",
                                              status="failed")
    viewer = client_for(staff_with("view_webhookdelivery"))
    assert viewer.get(f"/api/v1/webhook-deliveries/?endpoint={endpoint.pk}&status=failed").json()["count"] == 1
    assert viewer.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/").status_code == 403

    operator = client_for(staff_with("view_webhookdelivery", "change_webhookendpoint"))
    response = operator.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 201 and response.json()["redelivery_of"] == delivery.pk
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    refused = operator.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "webhook_endpoint_disabled"
