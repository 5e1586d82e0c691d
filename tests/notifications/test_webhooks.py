"""ESP tracking webhooks (anymail, Postmark format) move the message status: only with
the shared secret, harmlessly when duplicated, never backwards."""

import base64
import json

import pytest
from django.core import mail

from automation import services as spine
from notifications import services
from notifications.models import DeliveryEvent, OutgoingMessage, Suppression
from tests.notifications.factories import customer
from tests.notifications.test_services import order_payload

URL = "/notifications/anymail/postmark/tracking/"
SECRET = "tracking:webhook-secret"  # settings_test.py sets ANYMAIL_WEBHOOK_SECRET to this
Status = OutgoingMessage.Status


def auth(secret=SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def post(client, body, secret=SECRET):
    return client.post(URL, data=json.dumps(body), content_type="application/json", **auth(secret))


def delivery(message, at="2026-11-23T10:00:00Z"):
    return {"RecordType": "Delivery", "MessageID": message.esp_message_id, "Recipient": message.recipient_email,
            "DeliveredAt": at, "Details": "250 OK", "Tag": message.template_key, "Metadata": {}}


def hard_bounce(message):
    return {"RecordType": "Bounce", "ID": 4242, "Type": "HardBounce", "TypeCode": 1, "MessageID": message.esp_message_id,
            "Email": message.recipient_email, "BouncedAt": "2026-11-23T10:05:00Z",
            "Description": "The server was unable to deliver your message", "Details": "550 no such user"}


@pytest.fixture
def sent_message(esp):
    ana = customer(email="ana@example.com", consent=True)
    event = spine.emit("order.confirmed", payload=order_payload(ana))
    spine.event_process(event_id=event.pk)
    message = OutgoingMessage.objects.get()
    services.message_send(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == Status.SENT and message.esp_message_id
    return message


@pytest.mark.django_db
def test_a_webhook_with_a_bad_secret_is_rejected_and_changes_nothing(client, sent_message):
    response = post(client, delivery(sent_message), secret="tracking:wrong")
    unauthenticated = client.post(URL, data=json.dumps(delivery(sent_message)), content_type="application/json")

    assert response.status_code == 400 and unauthenticated.status_code == 400
    sent_message.refresh_from_db()
    assert sent_message.status == Status.SENT
    assert not DeliveryEvent.objects.exists()


@pytest.mark.django_db
def test_webhooks_are_refused_when_no_secret_is_configured(client, sent_message, settings):
    settings.ANYMAIL = {}
    assert post(client, delivery(sent_message)).status_code == 404
    sent_message.refresh_from_db()
    assert sent_message.status == Status.SENT


@pytest.mark.django_db
def test_delivery_webhook_marks_the_message_delivered_and_a_duplicate_is_harmless(client, sent_message):
    assert post(client, delivery(sent_message)).status_code == 200
    assert post(client, delivery(sent_message)).status_code == 200  # the ESP delivered the webhook twice

    sent_message.refresh_from_db()
    assert sent_message.status == Status.DELIVERED
    assert DeliveryEvent.objects.filter(message=sent_message).count() == 1


@pytest.mark.django_db
def test_a_late_deferral_never_moves_a_delivered_message_back(client, sent_message):
    post(client, delivery(sent_message))
    deferred = {**hard_bounce(sent_message), "Type": "Transient", "ID": 5}
    assert post(client, deferred).status_code == 200
    sent_message.refresh_from_db()
    assert sent_message.status == Status.DELIVERED


@pytest.mark.django_db
def test_a_hard_bounce_marks_the_message_and_suppresses_marketing_to_the_address(client, sent_message):
    assert post(client, hard_bounce(sent_message)).status_code == 200
    assert post(client, hard_bounce(sent_message)).status_code == 200

    sent_message.refresh_from_db()
    assert sent_message.status == Status.BOUNCED
    assert "550" in sent_message.last_error or "unable" in sent_message.last_error
    assert Suppression.objects.get().email == "ana@example.com"
    ana = sent_message.customer
    spine.event_process(event_id=spine.emit("cart.abandoned", payload={"customer_id": ana.pk, "lines": [],
                                                                       "url": "/cart/"}).pk)
    assert OutgoingMessage.objects.get(template_key="cart.abandoned").status == Status.SKIPPED


@pytest.mark.django_db
def test_a_webhook_finds_a_message_whose_esp_id_was_never_saved_by_its_outbox_id(client, sent_message):
    # The worker died after the ESP accepted the mail: no ESP id, marked failed (outcome unknown).
    OutgoingMessage.objects.filter(pk=sent_message.pk).update(status=Status.FAILED, esp_message_id="")
    body = {**delivery(sent_message), "MessageID": "esp-123", "Metadata": {"outbox_id": str(sent_message.pk)}}
    assert mail.outbox[0].anymail_test_params["metadata"] == {"outbox_id": str(sent_message.pk)}

    assert post(client, body).status_code == 200

    sent_message.refresh_from_db()
    assert (sent_message.status, sent_message.esp_message_id) == (Status.DELIVERED, "esp-123")


@pytest.mark.django_db
def test_a_webhook_for_an_unknown_message_is_accepted_and_ignored(client, sent_message):
    body = {**delivery(sent_message), "MessageID": "not-ours"}
    assert post(client, body).status_code == 200
    assert not DeliveryEvent.objects.exists()
