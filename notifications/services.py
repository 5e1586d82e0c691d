"""The outbox: queue a message once, send it once, learn what became of it."""

import logging
import random
import smtplib
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from anymail.exceptions import AnymailAPIError, AnymailInvalidAddress, AnymailRecipientsRefused
from anymail.signals import AnymailTrackingEvent
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import CustomerProfile

from . import templating
from .exceptions import MessageNotResendable, TemplateInvalid, TemplateMissing, UnsubscribeLinkInvalid
from .models import DeliveryEvent, NotificationSwitch, OutgoingMessage, Suppression

logger = logging.getLogger(__name__)
Status = OutgoingMessage.Status

# Statuses that count against the marketing frequency cap (the mail went or is going).
CAP_STATUSES = (Status.QUEUED, Status.SENDING, Status.SENT, Status.DELIVERED)
FAILURE_ALERT_GROUP = "Support"
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


# --- queueing ----------------------------------------------------------------------------

def template_enabled(template_key: str) -> bool:
    """Staff switch (admin → Notification switches); a key without a row is enabled."""
    return not NotificationSwitch.objects.filter(template_key=template_key, enabled=False).exists()


def _marketing_skip_reason(*, recipient_email: str, customer: CustomerProfile | None, now) -> str:
    if customer is None:
        return "marketing mail needs a customer with consent"
    # Lock the customer row: two marketing messages queued at once for the same
    # customer are counted one after the other, so the cap holds.
    customer = CustomerProfile.objects.select_for_update(of=("self",)).get(pk=customer.pk)
    if not customer.marketing_consent:
        return "no marketing consent"
    if Suppression.objects.filter(email__iexact=recipient_email).exists():
        return "address suppressed (bounce or complaint)"
    sent_today = OutgoingMessage.objects.filter(
        customer=customer, marketing=True, status__in=CAP_STATUSES, created_at__gte=now - timedelta(days=1),
    ).count()
    if sent_today >= settings.MARKETING_MAX_PER_DAY:
        return f"frequency cap reached ({settings.MARKETING_MAX_PER_DAY} per day)"
    return ""


def unsubscribe_token(customer: CustomerProfile) -> str:
    return signing.dumps({"c": customer.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(customer: CustomerProfile) -> str:
    return settings.SITE_URL + reverse("notifications:unsubscribe", args=[unsubscribe_token(customer)])


@transaction.atomic
def message_queue(
    *, template_key: str, recipient_email: str, language: str, context: dict, idempotency_key: str,
    marketing: bool = False, customer: CustomerProfile | None = None, event=None, resend_of=None,
) -> OutgoingMessage | None:
    """Write the message to the outbox (once per idempotency key) and send it after commit.

    Returns None when nothing will be sent: a duplicate key, a disabled template, or a
    marketing message without consent, over the daily cap or to a suppressed address
    (those are kept as `skipped` rows so staff can see why). Transactional mail always goes.
    """
    if OutgoingMessage.objects.filter(idempotency_key=idempotency_key).exists():
        return None
    if not template_enabled(template_key):
        return None
    now = timezone.now()
    context = dict(context)
    headers = {}
    status, error = Status.QUEUED, ""
    if marketing:
        error = _marketing_skip_reason(recipient_email=recipient_email, customer=customer, now=now)
        if error:
            status = Status.SKIPPED
        else:
            link = unsubscribe_url(customer)
            context["unsubscribe_url"] = link
            # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs.
            headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    rendered = None
    if status == Status.QUEUED:
        try:
            rendered = templating.render(key=template_key, language=language, context=context)
        except (TemplateMissing, TemplateInvalid) as exc:
            status, error = Status.FAILED, f"{exc.code}: {exc}"
    message = OutgoingMessage(
        idempotency_key=idempotency_key, template_key=template_key, recipient_email=recipient_email,
        customer=customer, language=rendered.language if rendered else language, context=context,
        subject=rendered.subject if rendered else "", body_text=rendered.body_text if rendered else "",
        body_html=rendered.body_html if rendered else "", headers=headers, marketing=marketing,
        status=status, last_error=error, event=event, event_name=getattr(event, "name", ""),
        resend_of=resend_of, created_at=now, next_attempt_at=now, status_changed_at=now,
    )
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        return None  # a concurrent delivery queued the same key first
    if status == Status.QUEUED:
        transaction.on_commit(partial(message_dispatch, message_id=message.pk), robust=True)
        return message
    if status == Status.FAILED:
        _alert_message_failed(message)
        return message
    logger.info("message %s to %s skipped: %s", template_key, recipient_email, error)
    return None


def message_dispatch(*, message_id: int) -> bool:
    """Hand the message to the workers; never raises. With the broker down the message
    stays queued and the sweeper dispatches it later."""
    global _broker_down_until
    from .tasks import send_message

    if time.monotonic() < _broker_down_until:
        return False
    try:
        send_message.apply_async((message_id,))
    except Exception as exc:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("message %s not dispatched (%s); the sweeper will retry", message_id, exc)
        return False
    return True


def reset_broker_backoff() -> None:
    global _broker_down_until
    _broker_down_until = 0.0


# --- staff -------------------------------------------------------------------------------

def staff_recipients(group: str):
    return (get_user_model().objects.filter(groups__name=group, is_active=True, is_staff=True)
            .exclude(email="").order_by("pk").only("pk", "email", "first_name", "username"))


@transaction.atomic
def staff_alert(*, group: str, subject: str, body: str, idempotency_key: str,
                context: dict | None = None) -> list[OutgoingMessage]:
    """Mail every active staff member of `group` (Purchasing, Support, Sales, Managers)
    once per idempotency key."""
    return staff_message(group=group, template_key="staff.alert", idempotency_key=idempotency_key,
                         context={**(context or {}), "subject": subject, "body": body})


def staff_message(*, group: str, template_key: str, idempotency_key: str, context: dict,
                  event=None) -> list[OutgoingMessage]:
    messages = []
    for user in staff_recipients(group):
        message = message_queue(
            template_key=template_key, recipient_email=user.email, language=settings.LANGUAGE_CODE,
            context={**context, "recipient_name": user.first_name or user.username, "group": group},
            idempotency_key=f"{idempotency_key}:{user.email}", event=event,
        )
        if message is not None:
            messages.append(message)
    return messages


def _alert_message_failed(message: OutgoingMessage) -> None:
    if message.template_key.startswith("staff."):
        # Never alert about a failed alert: that could loop. The log and the admin show it.
        logger.error("staff message %s to %s failed: %s", message.pk, message.recipient_email, message.last_error)
        return
    staff_message(
        group=FAILURE_ALERT_GROUP, template_key="staff.message_failed", idempotency_key=f"message-failed:{message.pk}",
        context={"message_id": message.pk, "template_key": message.template_key,
                 "recipient_email": message.recipient_email, "error": message.last_error[:2000],
                 "attempts": message.attempts,
                 "admin_url": settings.SITE_URL + reverse("admin:notifications_outgoingmessage_change",
                                                          args=[message.pk])},
    )


# --- sending -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SendOutcome:
    result: str  # "sent" | "retry" | "failed" | "not_queued"
    retry_in: float | None = None


def is_transient(exc: Exception) -> bool:
    """ESP errors worth retrying: 5xx, 429, 408, timeouts and connection errors.
    Invalid or refused recipients and other 4xx are permanent."""
    if isinstance(exc, AnymailRecipientsRefused | AnymailInvalidAddress):
        return False
    if isinstance(exc, AnymailAPIError):
        status = exc.status_code
        if status is None:
            import requests

            return isinstance(exc.__cause__, requests.ConnectionError | requests.Timeout | OSError)
        return status >= 500 or status in (408, 429)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(exc, smtplib.SMTPResponseException):  # plain SMTP backend: 4xx try again, 5xx refused
        return exc.smtp_code < 500
    return isinstance(exc, ConnectionError | TimeoutError | OSError)


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter (30 s, 60 s, 120 s … capped at 30 min), jittered
    between half and all of it so retries of many messages do not arrive together."""
    ceiling = min(settings.EMAIL_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0), 1800)
    return random.uniform(ceiling / 2, ceiling)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:4000]


def _build_email(message: OutgoingMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject, body=message.body_text, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient_email], headers=dict(message.headers),
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    # anymail: lets a tracking webhook find the row even when the ESP id was never saved.
    email.metadata = {"outbox_id": str(message.pk)}
    email.tags = [message.template_key]
    return email


def message_send(*, message_id: int) -> SendOutcome:
    """Hand a queued message to the ESP at most once per attempt, never twice per row.

    The claim (queued → sending, attempts + 1) commits *before* the ESP call. If the
    worker dies between the ESP accepting the mail and our saving `sent`, the row stays
    `sending`, a redelivered task cannot claim it, and the sweeper later marks it failed
    ("outcome unknown") for staff to check: a possibly-lost email that a person can resend
    is better than a customer getting the same email twice. A tracking webhook still finds
    it by its outbox id (ESP metadata) and records the delivery.
    """
    now = timezone.now()
    claimed = OutgoingMessage.objects.filter(pk=message_id, status=Status.QUEUED).update(
        status=Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now, status_changed_at=now,
    )
    if not claimed:
        return SendOutcome("not_queued")  # sent, failed, or in the hands of another worker
    message = OutgoingMessage.objects.get(pk=message_id)
    email = _build_email(message)
    try:
        email.send()
    except Exception as exc:
        return _record_send_failure(message, exc)
    status = getattr(email, "anymail_status", None)
    esp_id = str(status.message_id) if status is not None and status.message_id is not None else ""
    done = timezone.now()
    updated = OutgoingMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=done, status_changed_at=done, esp_message_id=esp_id, last_error="",
        next_attempt_at=None,
    )
    if not updated and esp_id:  # a webhook already moved it on (delivered): keep that, add the id
        OutgoingMessage.objects.filter(pk=message.pk, esp_message_id="").update(esp_message_id=esp_id)
    return SendOutcome("sent")


def _record_send_failure(message: OutgoingMessage, exc: Exception) -> SendOutcome:
    now = timezone.now()
    error = _describe(exc)
    if is_transient(exc) and message.attempts < settings.EMAIL_MAX_ATTEMPTS:
        delay = retry_delay(message.attempts)
        OutgoingMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.QUEUED, last_error=error, next_attempt_at=now + timedelta(seconds=delay),
            status_changed_at=now,
        )
        logger.warning("message %s: transient ESP error, retry in %.0f s: %s", message.pk, delay, error)
        return SendOutcome("retry", retry_in=delay)
    with transaction.atomic():
        updated = OutgoingMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
            status=Status.FAILED, last_error=error, status_changed_at=now, next_attempt_at=None,
        )
        if updated:
            message.refresh_from_db()
            _alert_message_failed(message)
    logger.error("message %s failed for good after %s attempts: %s", message.pk, message.attempts, error)
    return SendOutcome("failed")


def messages_sweep(*, limit: int = 500) -> dict:
    """Beat: re-dispatch messages still queued after their time (the broker was down or
    a retry was lost) and fail those stuck in `sending` (the worker died mid-hand-off)."""
    now = timezone.now()
    grace = timedelta(seconds=settings.EVENT_SWEEP_AFTER_SECONDS)
    stuck_cutoff = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2)
    stuck = 0
    for message in OutgoingMessage.objects.filter(status=Status.SENDING, last_attempt_at__lt=stuck_cutoff)[:limit]:
        with transaction.atomic():
            updated = OutgoingMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
                status=Status.FAILED, status_changed_at=now, next_attempt_at=None,
                last_error="Outcome unknown: the worker stopped while handing this message to the ESP. "
                           "Check the ESP's log before resending.",
            )
            if updated:
                message.refresh_from_db()
                _alert_message_failed(message)
                stuck += 1
    overdue = list(
        OutgoingMessage.objects.filter(status=Status.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=now - grace))
        .order_by("id").values_list("id", flat=True)[:limit]
    )
    reset_broker_backoff()
    dispatched = 0
    for message_id in overdue:
        if not message_dispatch(message_id=message_id):
            break
        dispatched += 1
    if dispatched:
        # Leave them alone for one more grace period while the workers get to them.
        OutgoingMessage.objects.filter(pk__in=overdue[:dispatched], status=Status.QUEUED).update(next_attempt_at=now)
    return {"dispatched": dispatched, "stuck_failed": stuck}


@transaction.atomic
def message_resend(*, message: OutgoingMessage, actor=None) -> OutgoingMessage:
    """Send a failed, bounced or skipped message again as a new row (re-rendered with the
    current template); the original stays as history."""
    message = OutgoingMessage.objects.select_for_update().get(pk=message.pk)
    if message.status not in (Status.FAILED, Status.BOUNCED, Status.SKIPPED):
        raise MessageNotResendable()
    number = message.resends.count() + 1
    context = {key: value for key, value in message.context.items() if key != "unsubscribe_url"}
    new = message_queue(
        template_key=message.template_key, recipient_email=message.recipient_email, language=message.language,
        context=context, idempotency_key=f"{message.idempotency_key}:resend:{number}",
        marketing=message.marketing, customer=message.customer, event=message.event, resend_of=message,
    )
    if new is None:  # skipped again (no consent, cap, suppressed): the row says why
        new = OutgoingMessage.objects.filter(idempotency_key=f"{message.idempotency_key}:resend:{number}").first()
    if new is None:
        raise MessageNotResendable(_("This notification is switched off; switch it on to resend."))
    logger.info("message %s resent as %s by %s", message.pk, new.pk, getattr(actor, "pk", None))
    return new


def template_test_send(*, template_key: str, language: str, user, context: dict) -> OutgoingMessage | None:
    """"Send me a test": render with the sample payload and mail it to the staff user."""
    from django.utils.crypto import get_random_string

    return message_queue(
        template_key=template_key, recipient_email=user.email, language=language,
        context={**context, "is_test": True}, idempotency_key=f"test:{template_key}:{user.pk}:{get_random_string(12)}",
    )


# --- delivery status (ESP tracking webhooks) ---------------------------------------------

TRACKING_STATUS = {
    "delivered": Status.DELIVERED,
    "opened": Status.DELIVERED,
    "clicked": Status.DELIVERED,
    "bounced": Status.BOUNCED,
    "complained": Status.COMPLAINED,
    "rejected": Status.FAILED,
    "failed": Status.FAILED,
}
# Which statuses each new status may replace: webhooks arrive late, twice and out of
# order, and a delivered message never goes back to sent.
MAY_REPLACE = {
    Status.DELIVERED: (Status.QUEUED, Status.SENDING, Status.SENT, Status.FAILED),
    Status.BOUNCED: (Status.QUEUED, Status.SENDING, Status.SENT, Status.DELIVERED, Status.FAILED),
    Status.COMPLAINED: (Status.QUEUED, Status.SENDING, Status.SENT, Status.DELIVERED, Status.BOUNCED, Status.FAILED),
    Status.FAILED: (Status.QUEUED, Status.SENDING, Status.SENT),
}


def _message_for_tracking(event: AnymailTrackingEvent) -> OutgoingMessage | None:
    if event.message_id:
        found = OutgoingMessage.objects.filter(esp_message_id=str(event.message_id)).order_by("-pk").first()
        if found:
            return found
    outbox_id = (event.metadata or {}).get("outbox_id")
    if outbox_id and str(outbox_id).isdigit():
        return OutgoingMessage.objects.filter(pk=int(outbox_id)).first()
    return None


@transaction.atomic
def tracking_event_record(*, event: AnymailTrackingEvent, esp_name: str = "") -> OutgoingMessage | None:
    """Apply an ESP tracking event to its message. Idempotent: a duplicated webhook finds
    the same delivery event already recorded and the status already moved."""
    message = _message_for_tracking(event)
    if message is None:
        logger.info("%s tracking event %s for unknown message %s", esp_name, event.event_type, event.message_id)
        return None
    DeliveryEvent.objects.get_or_create(
        message=message, event_type=event.event_type, occurred_at=event.timestamp,
        esp_event_id=event.event_id or "",
        defaults={"description": (event.description or event.mta_response or "")[:2000]},
    )
    new_status = TRACKING_STATUS.get(event.event_type)
    if new_status is not None:
        now = timezone.now()
        changes = {"status": new_status, "status_changed_at": now}
        if new_status in (Status.BOUNCED, Status.FAILED, Status.COMPLAINED):
            changes["last_error"] = f"{event.event_type}: {event.description or event.mta_response or ''}"[:4000]
        if event.message_id and not message.esp_message_id:
            changes["esp_message_id"] = str(event.message_id)
        OutgoingMessage.objects.filter(pk=message.pk, status__in=MAY_REPLACE[new_status]).update(**changes)
    if event.event_type == "bounced" and event.reject_reason in (None, "bounced", "invalid"):
        Suppression.objects.get_or_create(email=message.recipient_email.lower(),
                                          defaults={"reason": Suppression.Reason.BOUNCED, "source_message": message})
    elif event.event_type == "complained":
        Suppression.objects.get_or_create(email=message.recipient_email.lower(),
                                          defaults={"reason": Suppression.Reason.COMPLAINED, "source_message": message})
    message.refresh_from_db()
    return message


# --- unsubscribe -------------------------------------------------------------------------

def customer_for_unsubscribe_token(token: str) -> CustomerProfile:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise UnsubscribeLinkInvalid()
    customer = CustomerProfile.objects.select_related("user").filter(pk=data.get("c")).first()
    if customer is None:
        raise UnsubscribeLinkInvalid()
    return customer


def customer_unsubscribe(*, token: str) -> CustomerProfile:
    """One click: withdraw marketing consent (transactional mail still goes)."""
    from customers.services import customer_update_preferences

    customer = customer_for_unsubscribe_token(token)
    if customer.marketing_consent:
        customer = customer_update_preferences(customer=customer, language=customer.language, marketing_consent=False)
    return customer
