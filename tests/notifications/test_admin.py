"""Back-office: every message with its body and status, resend, template preview and
"send me a test"."""

import pytest
from django.core import mail

from notifications import services
from notifications.models import NotificationTemplate, OutgoingMessage
from tests.factories import UserFactory
from tests.notifications.factories import customer
from tests.notifications.test_services import deliver, order_payload

Status = OutgoingMessage.Status


@pytest.fixture
def admin_client(client):
    user = UserFactory(username="boss", email="boss@shop.example", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.fixture
def failed_message(esp):
    ana = customer(email="ana@example.com")
    deliver("order.confirmed", order_payload(ana))
    message = OutgoingMessage.objects.get()
    esp.script = ["permanent"]
    services.message_send(message_id=message.pk)
    return message


@pytest.mark.django_db
def test_message_list_filters_and_body_view(admin_client, failed_message, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = admin_client.get("/admin/notifications/outgoingmessage/?status=failed&q=ana@")
    assert response.status_code == 200 and b"ana@example.com" in response.content
    assert b"ana@example.com" not in admin_client.get("/admin/notifications/outgoingmessage/?status=sent").content

    detail = admin_client.get(f"/admin/notifications/outgoingmessage/{failed_message.pk}/change/")
    assert detail.status_code == 200
    assert b"Order SA-1001 is confirmed" in detail.content and b"srcdoc=" in detail.content and b"422" in detail.content


@pytest.mark.django_db
def test_resend_action_queues_a_new_message_for_failed_ones_only(admin_client, failed_message):
    sent = services.message_queue(template_key="order.placed", recipient_email="x@example.com", language="en",
                                  context={}, idempotency_key="x")
    services.message_send(message_id=sent.pk)

    response = admin_client.post("/admin/notifications/outgoingmessage/", {
        "action": "resend", "_selected_action": [failed_message.pk, sent.pk]}, follow=True)

    assert response.status_code == 200
    new = OutgoingMessage.objects.get(resend_of=failed_message)
    assert new.status == Status.QUEUED
    assert not OutgoingMessage.objects.filter(resend_of=sent).exists()
    assert b"1 message queued again" in response.content


@pytest.mark.django_db
def test_staff_without_change_permission_cannot_resend(client, failed_message):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(username="viewer", email="viewer@shop.example", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_outgoingmessage"))
    client.force_login(viewer)
    client.post("/admin/notifications/outgoingmessage/", {"action": "resend", "_selected_action": [failed_message.pk]})
    assert not OutgoingMessage.objects.filter(resend_of=failed_message).exists()


@pytest.mark.django_db
def test_preview_renders_the_sample_payload_with_language_fallback(admin_client):
    # "de" is not shipped (every shop language has order.confirmed): the English file is used.
    response = admin_client.get("/admin/notifications/notificationtemplate/preview/order.confirmed/de/")
    assert response.status_code == 200
    assert b"Order SA-1001 is confirmed" in response.content
    assert b"fallback" in response.content
    assert b"Pedido SA-1001 confirmado" in admin_client.get(
        "/admin/notifications/notificationtemplate/preview/order.confirmed/pt-br/").content
    assert admin_client.get("/admin/notifications/notificationtemplate/defaults/").status_code == 200


@pytest.mark.django_db
def test_send_me_a_test_mails_the_staff_user(admin_client, esp):
    response = admin_client.post("/admin/notifications/notificationtemplate/send-test/order.shipped/en/")
    assert response.status_code == 302
    message = OutgoingMessage.objects.get(recipient_email="boss@shop.example")
    services.message_send(message_id=message.pk)
    assert mail.outbox[0].subject == "Order SA-1001 is on its way"


@pytest.mark.django_db
def test_template_edit_starts_from_the_default_and_refuses_a_syntax_error(admin_client):
    add = admin_client.get("/admin/notifications/notificationtemplate/add/?key=order.confirmed&language=es")
    assert "Pedido {{ number }} confirmado" in add.content.decode()  # prefilled from the shipped Spanish file

    bad = admin_client.post("/admin/notifications/notificationtemplate/add/", {
        "key": "order.confirmed", "language": "es", "channel": "email", "is_active": "on",
        "subject": "{% if %}", "body_text": "x", "body_html": ""})
    assert bad.status_code == 200 and not NotificationTemplate.objects.exists()

    good = admin_client.post("/admin/notifications/notificationtemplate/add/", {
        "key": "order.confirmed", "language": "es", "channel": "email", "is_active": "on",
        "subject": "Pedido {{ number }} confirmado", "body_text": "Hola", "body_html": ""})
    assert good.status_code == 302
    assert NotificationTemplate.objects.get().updated_by.username == "boss"


@pytest.mark.django_db
def test_switches_are_listed_for_every_template(admin_client):
    from notifications.receivers import create_switches

    create_switches(sender=None)
    response = admin_client.get("/admin/notifications/notificationswitch/")
    assert response.status_code == 200
    assert b"cart.abandoned" in response.content and b"stock.low" in response.content
