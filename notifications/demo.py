"""Demo outbox: a few messages in each state so the admin has something to show.
Templates come from the shipped files (staff customize them in the admin)."""

from datetime import timedelta

from django.utils import timezone

from customers.models import CustomerProfile

from . import templating
from .models import DeliveryEvent, OutgoingMessage, Suppression
from .receivers import create_switches
from .samples import sample_context

Status = OutgoingMessage.Status
DEMO_MESSAGES = [
    # (key, template, recipient, status, marketing, last error)
    ("demo:1", "order.confirmed", "ana@example.com", Status.DELIVERED, False, ""),
    ("demo:2", "order.shipped", "buyer@acme.example", Status.SENT, False, ""),
    ("demo:3", "cart.abandoned", "ana@example.com", Status.SKIPPED, True, "frequency cap reached (2 per day)"),
    ("demo:4", "order.placed", "old-address@bounce.example", Status.BOUNCED, False,
     "bounced: The server was unable to deliver your message (ex: unknown user, mailbox not found)."),
    ("demo:5", "order.cancelled", "typo@example.invalid", Status.FAILED, False,
     "AnymailAPIError: Postmark API response 422: Invalid 'To' address"),
]


def load(out) -> str:
    create_switches(sender=None)
    profiles = {p.user.email: p for p in CustomerProfile.objects.select_related("user")}
    now = timezone.now()
    created = 0
    for number, (key, template_key, email, status, marketing, error) in enumerate(DEMO_MESSAGES, start=1):
        if OutgoingMessage.objects.filter(idempotency_key=key).exists():
            continue
        customer = profiles.get(email)
        context = sample_context(template_key)
        rendered = templating.render(key=template_key, language=customer.language if customer else "en",
                                     context=context)
        when = now - timedelta(hours=number * 3)
        message = OutgoingMessage.objects.create(
            idempotency_key=key, template_key=template_key, event_name=template_key, recipient_email=email,
            customer=customer, language=rendered.language, context=context, subject=rendered.subject,
            body_text=rendered.body_text, body_html=rendered.body_html, marketing=marketing, status=status,
            attempts=0 if status == Status.SKIPPED else 1, last_error=error,
            esp_message_id=f"demo-{number}" if status in (Status.SENT, Status.DELIVERED, Status.BOUNCED) else "",
            created_at=when, last_attempt_at=when, status_changed_at=when,
            sent_at=when if status in (Status.SENT, Status.DELIVERED, Status.BOUNCED) else None,
        )
        if status in (Status.DELIVERED, Status.BOUNCED):
            DeliveryEvent.objects.create(message=message, event_type=status, occurred_at=when + timedelta(minutes=1))
        if status == Status.BOUNCED:
            Suppression.objects.get_or_create(email=email, defaults={"reason": Suppression.Reason.BOUNCED,
                                                                     "source_message": message})
        created += 1
    return f"{created} demo messages in the outbox (delivered, sent, skipped, bounced, failed)"
