"""Outbound webhooks: fan-out, signed delivery with retries, redelivery, purge.

Guarantees:
- one delivery row per (event, subscribed endpoint), written by the event handler in the
  handler's transaction and sent after commit: an event only exists once its change
  committed, so nothing is ever sent for a rolled-back transaction;
- the body is frozen when the delivery is created and signed at each attempt
  (`ShopAuto-Signature: t=<unix>,v1=<hex>` over "t.body", one v1 per active secret);
- no lock is held during the HTTP call; attempts back off exponentially with jitter
  (short waits as a bounded task countdown, longer ones by the beat sweeper);
- after WEBHOOK_MAX_ATTEMPTS a delivery fails; after WEBHOOK_MAX_CONSECUTIVE_FAILURES
  failed deliveries in a row the endpoint is disabled and staff are alerted.
"""

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from shopauto.celery import bounded_countdown
from shopauto.webhook_signing import HEADER as SIGNATURE_HEADER
from shopauto.webhook_signing import signature_header

from .exceptions import WebhookEndpointDisabled
from .models import Event, RuleRun, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

USER_AGENT = "ShopAuto-Webhooks/1.0"
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


def webhook_body(event: Event) -> str:
    """The JSON every endpoint receives for an event (docs/webhooks.md)."""
    return json.dumps(
        {
            "id": event.pk,
            "event": event.name,
            "created_at": event.created_at.isoformat(),
            "subject": {"type": event.subject_type, "id": event.subject_id} if event.subject_type else None,
            "data": event.payload,
        },
        cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True, ensure_ascii=False,
    )


def _new_delivery(*, endpoint: WebhookEndpoint, event: Event, source: str, body: str, **extra) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_name=event.name, source=source,
                                              body=body, next_attempt_at=timezone.now(), **extra)
    transaction.on_commit(partial(webhook_delivery_dispatch, delivery_id=delivery.pk), robust=True)
    return delivery


def webhooks_fan_out(event: Event) -> list[WebhookDelivery]:
    """One delivery per active endpoint subscribed to the event (the event handler
    "automation.webhooks"). A second run for the same event creates nothing."""
    endpoints = [endpoint for endpoint in WebhookEndpoint.objects.filter(active=True).order_by("pk")
                 if endpoint.subscribes_to(event.name)]
    if not endpoints:
        return []
    done = set(WebhookDelivery.objects.filter(event=event, source=WebhookDelivery.Source.SUBSCRIPTION)
               .values_list("endpoint_id", flat=True))
    body = webhook_body(event)
    return [_new_delivery(endpoint=endpoint, event=event, source=WebhookDelivery.Source.SUBSCRIPTION, body=body)
            for endpoint in endpoints if endpoint.pk not in done]


def webhook_delivery_for_action(*, endpoint_id: int, run: RuleRun, index: int) -> WebhookDelivery | None:
    """A one-off delivery of the run's event to an endpoint (a rule's "webhook" action);
    None when the endpoint is disabled."""
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    if not endpoint.active:
        return None
    return _new_delivery(endpoint=endpoint, event=run.event, source=WebhookDelivery.Source.RULE,
                         body=webhook_body(run.event), rule_run=run)


@transaction.atomic
def webhook_delivery_redeliver(*, delivery_id: int, actor=None) -> WebhookDelivery:
    """Send a delivery's body again as a new delivery (the log keeps both). Receivers
    recognise the repeat by ShopAuto-Event-Id."""
    original = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    if not original.endpoint.active:
        raise WebhookEndpointDisabled()
    return _new_delivery(endpoint=original.endpoint, event=original.event, source=WebhookDelivery.Source.REDELIVERY,
                         body=original.body, redelivery_of=original)


@transaction.atomic
def webhook_endpoint_enable(*, endpoint_id: int, actor=None) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.active, endpoint.consecutive_failures = True, 0
    endpoint.disabled_at, endpoint.disabled_reason = None, ""
    endpoint.save(update_fields=["active", "consecutive_failures", "disabled_at", "disabled_reason"])
    return endpoint


def webhook_delivery_dispatch(*, delivery_id: int) -> bool:
    """Hand a delivery to the workers; never raises (the sweeper catches up)."""
    global _broker_down_until
    from .tasks import deliver_webhook

    if time.monotonic() < _broker_down_until:
        return False
    try:
        deliver_webhook.apply_async((delivery_id,))
    except Exception as exc:
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("webhook delivery %s not dispatched (%s); the sweeper will retry", delivery_id, exc)
        return False
    return True


def reset_broker_backoff() -> None:
    global _broker_down_until
    _broker_down_until = 0.0


def retry_delay(attempt: int) -> float:
    """Exponential backoff with jitter: base·2^(attempt-1), ±20 %, capped."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0)
    return min(base, settings.WEBHOOK_RETRY_MAX_SECONDS) * random.uniform(0.8, 1.2)


@dataclass(frozen=True)
class AttemptOutcome:
    result: str  # "succeeded" | "retry" | "failed" | "skipped"
    retry_in: float | None = None


def _claim(delivery_id: int, now: datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint", "event")
                    .filter(pk=delivery_id).first())
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=5):
            return None  # not due (a duplicate dispatch): the retry or the sweeper comes back for it
        if not delivery.endpoint.active:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.error = _("The endpoint was disabled before this delivery was sent.")
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "error", "next_attempt_at"])
            return None
        delivery.attempts += 1
        delivery.last_attempt_at = now
        # While the request is in flight, keep the sweeper away.
        delivery.next_attempt_at = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
        return delivery


def webhook_delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> AttemptOutcome:
    """POST a pending delivery once and record the outcome."""
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return AttemptOutcome("skipped")
    endpoint = delivery.endpoint
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature_header(body, endpoint.signing_secrets),
        "ShopAuto-Event": delivery.event_name,
        "ShopAuto-Event-Id": str(delivery.event_id),
        "ShopAuto-Delivery": str(delivery.pk),
    }
    started = time.monotonic()
    status_code, response_body, error = None, "", ""
    try:
        response = requests.post(endpoint.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                                 allow_redirects=False)
        status_code, response_body = response.status_code, response.text[:2000]
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record_attempt(delivery, now=now, status_code=status_code, response_body=response_body, error=error,
                           duration_ms=duration_ms)


@transaction.atomic
def _record_attempt(delivery, *, now, status_code, response_body, error, duration_ms) -> AttemptOutcome:
    delivery.response_status, delivery.response_body = status_code, response_body
    delivery.duration_ms, delivery.error = duration_ms, error
    fields = ["response_status", "response_body", "duration_ms", "error", "status", "next_attempt_at",
              "delivered_at"]
    endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
    if not error:
        delivery.status, delivery.next_attempt_at, delivery.delivered_at = WebhookDelivery.Status.SUCCEEDED, None, now
        delivery.save(update_fields=fields)
        endpoints.exclude(consecutive_failures=0).update(consecutive_failures=0)
        return AttemptOutcome("succeeded")
    if delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        delay = retry_delay(delivery.attempts)
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.save(update_fields=fields)
        return AttemptOutcome("retry", retry_in=delay)
    delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
    delivery.save(update_fields=fields)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    endpoint.consecutive_failures = F("consecutive_failures") + 1
    endpoint.save(update_fields=["consecutive_failures"])
    endpoint.refresh_from_db()
    if endpoint.active and endpoint.consecutive_failures >= settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES:
        _disable(endpoint, now=now, last_error=error)
    return AttemptOutcome("failed")


def _disable(endpoint: WebhookEndpoint, *, now, last_error: str) -> None:
    from notifications.services import staff_alert

    endpoint.active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = (_("%(count)s deliveries failed in a row; last error: %(error)s")
                                % {"count": endpoint.consecutive_failures, "error": last_error})[:300]
    endpoint.save(update_fields=["active", "disabled_at", "disabled_reason"])
    # Deliveries still waiting would only fail again: stop them.
    WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED, next_attempt_at=None,
        error=_("The endpoint was disabled after repeated failures."))
    link = settings.SITE_URL + reverse("admin:automation_webhookendpoint_change", args=[endpoint.pk])
    staff_alert(
        group=settings.AUTOMATION_ALERT_GROUP,
        subject=_("Webhook endpoint disabled: %(name)s") % {"name": endpoint.name},
        body=_("%(url)s failed %(count)s deliveries in a row and was disabled.\nLast error: %(error)s\n"
               "Fix the receiver, enable the endpoint and redeliver from %(link)s")
        % {"url": endpoint.url, "count": endpoint.consecutive_failures, "error": last_error, "link": link},
        idempotency_key=f"webhook-disabled:{endpoint.pk}:{int(now.timestamp())}",
    )
    logger.error("webhook endpoint %s (%s) disabled after %s failures", endpoint.pk, endpoint.url,
                 endpoint.consecutive_failures)


def webhook_deliveries_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Beat: dispatch pending deliveries whose next attempt is due (broker was down,
    a worker died, or a retry too long for a countdown)."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
    due = list(WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now - grace)
               .order_by("next_attempt_at").values_list("id", flat=True)[:limit])
    reset_broker_backoff()
    dispatched = 0
    for delivery_id in due:
        if not webhook_delivery_dispatch(delivery_id=delivery_id):
            break
        dispatched += 1
    return dispatched


def webhook_deliveries_purge(*, now: datetime | None = None) -> int:
    """Delete finished deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_DELIVERY_RETENTION_DAYS)
    deleted, _ = (WebhookDelivery.objects.filter(created_at__lt=cutoff)
                  .exclude(status=WebhookDelivery.Status.PENDING).delete())
    return deleted


def task_countdown(retry_in: float) -> float | None:
    """The countdown for the task's own retry, or None when the wait is too long for
    the broker (the sweeper then picks the delivery up from next_attempt_at)."""
    bounded = bounded_countdown(retry_in)
    return bounded if bounded >= retry_in else None
