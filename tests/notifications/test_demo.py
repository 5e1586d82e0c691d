import io

import pytest
from django.core.management import call_command

from notifications.models import NotificationSwitch, OutgoingMessage


@pytest.mark.django_db
def test_demo_outbox_loads_once_with_a_message_in_each_state():
    call_command("demo_data", stdout=io.StringIO())
    call_command("demo_data", stdout=io.StringIO())

    statuses = set(OutgoingMessage.objects.filter(idempotency_key__startswith="demo:").values_list("status", flat=True))
    assert statuses == {"delivered", "sent", "skipped", "bounced", "failed"}
    assert OutgoingMessage.objects.filter(idempotency_key__startswith="demo:").count() == 5
    assert NotificationSwitch.objects.filter(template_key="cart.abandoned").exists()
    ana = OutgoingMessage.objects.get(idempotency_key="demo:1")
    assert ana.language == "pt-br" and ana.subject.startswith("Pedido")  # ana's profile is Brazilian
