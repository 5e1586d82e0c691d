"""Every return email renders from its sample, and a real event reaches the customer."""

import pytest

from automation.models import Event
from automation.services import event_process
from notifications import templating
from notifications.models import OutgoingMessage
from notifications.routing import ROUTES
from notifications.samples import sample_context

from .conftest import ask, delivered_order

RETURN_KEYS = sorted({route.template_key for route in ROUTES if route.event.startswith("return.")})


def test_every_return_event_has_a_route():
    assert RETURN_KEYS == ["return.approved", "return.closed", "return.exchanged", "return.needs_review",
                           "return.received", "return.refunded", "return.rejected", "return.reminder",
                           "return.requested", "return.store_credit"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", RETURN_KEYS)
def test_return_templates_render_from_their_samples(key):
    rendered = templating.render(key=key, language="en", context=sample_context(key))
    assert "RMA-7K2M9QXD" in rendered.subject
    assert "RMA-7K2M9QXD" in rendered.body_text


@pytest.mark.django_db
def test_an_approval_mails_the_customer_the_label_link(shop, buyer, policy):
    order = delivered_order(buyer, [(shop.variant("A"), 1)])
    request = ask(order, ("A", 1))
    event_process(event_id=Event.objects.get(name="return.approved").pk)
    message = OutgoingMessage.objects.get(template_key="return.approved")
    assert message.recipient_email == buyer.user.email
    assert request.rma in message.subject
    assert f"/returns/{request.rma}/label.pdf" in message.body_text
