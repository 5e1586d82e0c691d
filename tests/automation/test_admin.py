"""Admin screens of rules and webhooks: lists with filters, the redeliver and enable actions."""

import pytest

from automation.models import Rule, WebhookDelivery, WebhookEndpoint
from automation.services import emit

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery():
    endpoint = WebhookEndpoint.objects.create(name="ERP", url="http://127.0.0.1:9/hooks", active=False,
                                              consecutive_failures=10, disabled_reason="10 failures")
    event = emit("order.placed", payload={"number": "SA-1"})
    return WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_name=event.name, body="{}",
                                          status="failed", error="HTTP 500", response_status=500)


def test_screens_render_with_their_filters(admin_client, delivery):
    pages = ["/admin/automation/rule/", "/admin/automation/rule/add/",
             f"/admin/automation/rule/{Rule.objects.get(key='large-order-alert').pk}/change/",
             "/admin/automation/rulerun/?status__exact=waiting", "/admin/automation/actionrun/",
             "/admin/automation/webhookendpoint/", "/admin/automation/webhookendpoint/add/",
             f"/admin/automation/webhookendpoint/{delivery.endpoint_id}/change/",
             "/admin/automation/webhookdelivery/?status__exact=failed&event_name=order.placed",
             f"/admin/automation/webhookdelivery/{delivery.pk}/change/"]
    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
    rules_page = admin_client.get("/admin/automation/rule/").content.decode()
    assert "Alert Sales on large orders" in rules_page
    assert "/admin/notifications/notificationswitch/" in rules_page  # status emails live there, not here


def test_enable_then_redeliver_from_the_admin(admin_client, delivery):
    refused = admin_client.post("/admin/automation/webhookdelivery/",
                                {"action": "redeliver", "_selected_action": [delivery.pk]}, follow=True)
    assert "disabled" in refused.content.decode()
    assert WebhookDelivery.objects.count() == 1

    admin_client.post("/admin/automation/webhookendpoint/",
                      {"action": "enable", "_selected_action": [delivery.endpoint_id]})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.active and endpoint.consecutive_failures == 0 and endpoint.disabled_reason == ""

    admin_client.post("/admin/automation/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.pk]})
    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert (again.redelivery_of, again.status, again.source) == (delivery, "pending", "redelivery")
