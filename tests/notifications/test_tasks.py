"""Beat jobs and a real worker: the digest once a day, an event ending as a sent email."""

import time
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import transaction

from automation import services as spine
from notifications import services
from notifications.digest import digest_send_if_due
from notifications.models import OutgoingMessage
from tests.conftest import requires_redis
from tests.notifications.factories import customer, staff_in
from tests.notifications.test_services import order_payload


@pytest.mark.django_db
def test_daily_digest_goes_to_managers_once_a_day_from_the_configured_hour(esp, settings):
    settings.DIGEST_HOUR = 7
    staff_in("Managers", email="manager@shop.example")
    staff_in("Support", email="support@shop.example")
    low = spine.emit("stock.low", payload={"sku": "HOODIE-L", "product": "Hoodie", "warehouse": "Madrid",
                                           "available": 2, "reorder_point": 5, "purchase_order": "PO-7"})
    spine.Event.objects.filter(pk=low.pk).update(created_at=datetime(2026, 11, 22, 15, tzinfo=UTC))
    failed = services.message_queue(template_key="order.placed", recipient_email="x@example.com", language="en",
                                    context={}, idempotency_key="f1")
    OutgoingMessage.objects.filter(pk=failed.pk).update(status="failed",
                                                        status_changed_at=datetime(2026, 11, 22, 16, tzinfo=UTC))

    assert digest_send_if_due(now=datetime(2026, 11, 23, 6, 59, tzinfo=UTC)) is None  # before the hour
    result = digest_send_if_due(now=datetime(2026, 11, 23, 7, 15, tzinfo=UTC))
    again = digest_send_if_due(now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    assert result == {"day": "2026-11-22", "messages": 1}
    assert again is None
    digest = OutgoingMessage.objects.get(template_key="staff.digest")
    assert digest.recipient_email == "manager@shop.example"
    assert "HOODIE-L Hoodie @ Madrid: 2 left" in digest.body_text
    assert f"#{failed.pk} order.placed" in digest.body_text
    assert "Not available yet" in digest.body_text  # no orders app yet: said, not invented


@requires_redis
@pytest.mark.django_db(transaction=True)
def test_an_emitted_event_ends_as_a_sent_message_through_a_real_worker(celery_worker_thread, settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    ana = customer(email="ana@example.com")
    with transaction.atomic():
        spine.emit("order.confirmed", payload=order_payload(ana, number="SA-77"))

    deadline = time.monotonic() + 20
    message = None
    while time.monotonic() < deadline:
        message = OutgoingMessage.objects.filter(status=OutgoingMessage.Status.SENT).first()
        if message:
            break
        time.sleep(0.1)

    assert message is not None, list(OutgoingMessage.objects.values("status", "last_error"))
    assert message.subject == "Order SA-77 is confirmed" and message.attempts == 1
    assert [m.subject for m in mail.outbox] == ["Order SA-77 is confirmed"]
