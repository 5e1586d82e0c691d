"""Each order step reaches the customer by email (through the spine and the outbox)."""

from django.core import mail

from automation import services as spine
from automation.models import Event
from notifications import services as outbox
from notifications.models import OutgoingMessage
from orders import services

from .conftest import details_for


def deliver_everything():
    """Run what the worker would: every pending event's handlers, then every queued email."""
    for event_id in Event.objects.filter(status=Event.Status.PENDING).order_by("pk").values_list("pk", flat=True):
        spine.event_process(event_id=event_id)
    for message_id in OutgoingMessage.objects.filter(status="queued").order_by("pk").values_list("pk", flat=True):
        outbox.message_send(message_id=message_id)


def sent_to(email):
    return [(m.subject, m.to) for m in mail.outbox if m.to == [email]]


def test_confirmation_shipping_and_delivery_emails(shop, consumer, staff):
    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 1)],
                                 details=details_for(consumer, payment="bank_transfer"))
    deliver_everything()
    assert [key for key in OutgoingMessage.objects.order_by("pk").values_list("template_key", flat=True)] == [
        "order.placed"]
    services.order_mark_paid(order_id=order.pk, amount=order.total, actor=staff)
    services.order_ship(order_id=order.pk, actor=staff, tracking_number="TRK-7")
    services.shipment_tracking_update(tracking_number="TRK-7", status="delivered")
    deliver_everything()

    keys = list(OutgoingMessage.objects.filter(recipient_email="ana@example.com").order_by("pk")
                .values_list("template_key", flat=True))
    assert keys == ["order.placed", "order.confirmed", "order.shipped", "order.delivered"]
    assert all(order.number in subject for subject, _ in sent_to("ana@example.com"))
    shipped = OutgoingMessage.objects.get(template_key="order.shipped")
    assert "https://track.example/TRK-7" in shipped.body_text

    deliver_everything()  # nothing twice
    assert len(sent_to("ana@example.com")) == 4


def test_cancellation_and_refund_emails(shop, consumer, staff):
    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 1)],
                                 details=details_for(consumer, payment="bank_transfer"))
    services.order_mark_paid(order_id=order.pk, amount=order.total, actor=staff)
    services.order_cancel(order_id=order.pk, actor=consumer.user, reason="no longer needed")
    deliver_everything()
    keys = set(OutgoingMessage.objects.values_list("template_key", flat=True))
    assert {"order.cancelled", "order.refunded"} <= keys


def test_refused_transition_queues_no_email(shop, consumer, staff):
    import pytest

    from shopauto.exceptions import TransitionNotAllowed

    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 1)],
                                 details=details_for(consumer, payment="bank_transfer"))
    deliver_everything()
    before = OutgoingMessage.objects.count()
    with pytest.raises(TransitionNotAllowed):
        services.order_start_processing(order_id=order.pk, actor=staff)
    deliver_everything()
    assert OutgoingMessage.objects.count() == before


def test_large_orders_alert_sales(shop, buyer, django_user_model):
    from django.contrib.auth.models import Group

    from automation import rules
    from automation.models import Rule

    # The alert is the default automation rule; staff tune its threshold in the admin.
    rule = Rule.objects.get(key="large-order-alert")
    rule.conditions = [{"field": "total", "operator": "gte", "value": "500"},
                       {"field": "transition", "operator": "is_empty"}]
    rules.rule_save(rule=rule)
    seller = django_user_model.objects.create_user("seller", email="sales@shop.example", is_staff=True)
    seller.groups.add(Group.objects.get(name="Sales"))
    variant = shop.variant("BIG", price="300.00")
    services.order_place(customer=buyer, lines=[(variant.pk, 2)], details=details_for(buyer))
    deliver_everything()
    assert any("Large order" in subject for subject, _ in sent_to("sales@shop.example"))


def test_delivery_exception_tells_the_customer_and_support(shop, consumer, staff, django_user_model):
    from django.contrib.auth.models import Group

    helper = django_user_model.objects.create_user("helper", email="support@shop.example", is_staff=True)
    helper.groups.add(Group.objects.get(name="Support"))
    variant = shop.variant("A")
    order = services.order_place(customer=consumer, lines=[(variant.pk, 1)],
                                 details=details_for(consumer, payment="bank_transfer"))
    services.order_mark_paid(order_id=order.pk, amount=order.total, actor=staff)
    services.order_ship(order_id=order.pk, actor=staff, tracking_number="TRK-X")
    services.shipment_tracking_update(tracking_number="TRK-X", status="exception")
    deliver_everything()
    assert OutgoingMessage.objects.filter(template_key="order.delivery_exception",
                                          recipient_email="ana@example.com").exists()
    assert any("Delivery problem" in subject for subject, _ in sent_to("support@shop.example"))


def test_digest_reports_yesterdays_orders(shop, consumer):
    from datetime import timedelta

    from django.utils import timezone

    from orders.selectors import digest_summary

    variant = shop.variant("A", price="10.00")
    services.order_place(customer=consumer, lines=[(variant.pk, 2)],
                         details=details_for(consumer, payment="bank_transfer"))
    now = timezone.now()
    summary = digest_summary(start=now - timedelta(hours=1), end=now + timedelta(hours=1))
    assert summary["lines"][0] == "1 order, 25.00 EUR"
    assert "1 unpaid" in summary["lines"][1]
