"""Outbound webhooks against a real HTTP receiver on 127.0.0.1: signing verifiable the
way a receiver does it, fan-out, backoff, auto-disable, redelivery, retention, and
nothing sent for a rolled-back transaction."""

import hashlib
import hmac
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from automation import rules, webhooks
from automation.exceptions import WebhookEndpointDisabled
from automation.models import Event, Rule, WebhookDelivery, WebhookEndpoint
from automation.services import emit, event_process
from notifications.models import OutgoingMessage
from shopauto.webhook_signing import verify
from tests.conftest import requires_redis


def receiver_verifies(raw_body: bytes, header: str, secret: str, tolerance: int = 300) -> bool:
    """What a receiver does, by the recipe in docs/webhooks.md, with nothing of ShopAuto."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def endpoint_for(receiver, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(**{"name": "ERP", "url": receiver.url, "events": ["*"], **fields})


def deliveries_of(event) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(event=event).order_by("pk"))


@pytest.mark.django_db
def test_a_delivery_is_signed_and_a_receiver_can_verify_it_with_the_documented_recipe(receiver):
    endpoint = endpoint_for(receiver, secret="new-secret-0123456789", secondary_secret="old-secret-0123456789")
    event = emit("order.placed", payload={"number": "SA-1", "total": "12.50"})
    event_process(event_id=event.pk)
    [delivery] = deliveries_of(event)

    outcome = webhooks.webhook_delivery_attempt(delivery_id=delivery.pk)

    assert outcome.result == "succeeded"
    [request] = receiver.requests
    header = request["headers"]["ShopAuto-Signature"]
    assert header.startswith("t=") and header.count("v1=") == 2  # rotation: signed with both secrets
    assert receiver_verifies(request["body"], header, "new-secret-0123456789")
    assert receiver_verifies(request["body"], header, "old-secret-0123456789")
    assert not receiver_verifies(request["body"], header, "someone-elses-secret")
    assert not receiver_verifies(request["body"] + b" ", header, "new-secret-0123456789")  # body tampered
    assert verify(request["body"], header, [endpoint.secret])
    body = json.loads(request["body"])
    assert body == {"id": event.pk, "event": "order.placed", "created_at": event.created_at.isoformat(),
                    "subject": None, "data": {"number": "SA-1", "total": "12.50"}}
    assert request["headers"]["ShopAuto-Event"] == "order.placed"
    assert request["headers"]["ShopAuto-Event-Id"] == str(event.pk)
    assert request["headers"]["ShopAuto-Delivery"] == str(delivery.pk)
    assert request["headers"]["Content-Type"] == "application/json"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    assert delivery.delivered_at is not None and delivery.duration_ms is not None
    # A repeated task finds it done and sends nothing.
    assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk).result == "skipped"
    assert len(receiver.requests) == 1


def test_an_old_signature_is_refused_by_the_receiver():
    from shopauto.webhook_signing import signature_header

    header = signature_header(b"{}", ["s3cret-0123456789"], timestamp=int(time.time()) - 3600)
    assert not receiver_verifies(b"{}", header, "s3cret-0123456789")


@pytest.mark.django_db
def test_fan_out_creates_one_delivery_per_active_subscribed_endpoint_once(receiver):
    every = endpoint_for(receiver, name="all", events=["*"])
    orders = endpoint_for(receiver, name="orders", events=["order.*"])
    endpoint_for(receiver, name="stock", events=["stock.low"])
    endpoint_for(receiver, name="off", events=["*"], active=False)
    endpoint_for(receiver, name="rules only", events=[])
    event = emit("order.shipped", payload={"number": "SA-2"})

    event_process(event_id=event.pk)
    webhooks.webhooks_fan_out(event)  # the handler running again creates nothing

    assert [d.endpoint for d in deliveries_of(event)] == [every, orders]
    assert {d.body for d in deliveries_of(event)} == {webhooks.webhook_body(event)}
    assert event.handler_runs.get(handler="automation.webhooks").status == "done"


@pytest.mark.django_db
def test_retries_back_off_then_stop_and_the_endpoint_disables_after_the_limit(receiver, settings, managers):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_MAX_CONSECUTIVE_FAILURES = 2
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.status = 500
    endpoint = endpoint_for(receiver)
    events = [emit("order.placed", payload={"number": f"SA-{n}"}) for n in range(3)]
    for event in events:
        event_process(event_id=event.pk)
    first, second, third = (deliveries_of(event)[0] for event in events)

    now = timezone.now()
    outcomes, delays = [], []
    for _ in range(3):
        outcome = webhooks.webhook_delivery_attempt(delivery_id=first.pk, now=now)
        outcomes.append(outcome.result)
        first.refresh_from_db()
        if outcome.result == "retry":
            delays.append((first.next_attempt_at - now).total_seconds())
            # Not due yet: a duplicate task sends nothing.
            assert webhooks.webhook_delivery_attempt(delivery_id=first.pk, now=now).result == "skipped"
            now = first.next_attempt_at
    assert outcomes == ["retry", "retry", "failed"]
    assert 24 <= delays[0] <= 36 and 48 <= delays[1] <= 72  # exponential, with jitter
    assert (first.status, first.attempts, first.response_status, first.error) == ("failed", 3, 500, "HTTP 500")
    assert webhooks.webhook_delivery_attempt(delivery_id=first.pk, now=now).result == "skipped"  # retries stopped
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 1
    assert len(receiver.requests) == 3

    for _ in range(3):
        webhooks.webhook_delivery_attempt(delivery_id=second.pk, now=now)
        now += timedelta(hours=1)

    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.consecutive_failures == 2
    assert "2 deliveries failed in a row" in endpoint.disabled_reason
    third.refresh_from_db()
    assert third.status == "failed" and "disabled" in third.error  # the rest stop too
    assert webhooks.webhook_delivery_attempt(delivery_id=third.pk, now=now).result == "skipped"
    assert len(receiver.requests) == 6
    [alert] = OutgoingMessage.objects.filter(recipient_email="manager@shop.example")
    assert "Webhook endpoint disabled: ERP" in alert.subject
    # Disabled: new events are not queued for it.
    later = emit("order.placed", payload={"number": "SA-9"})
    event_process(event_id=later.pk)
    assert deliveries_of(later) == []

    # Staff fix the receiver and enable it again: the count starts over.
    webhooks.webhook_endpoint_enable(endpoint_id=endpoint.pk)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 0 and endpoint.disabled_at is None


@pytest.mark.django_db
def test_a_success_resets_the_failure_count_and_redelivery_sends_the_same_body_again(receiver):
    endpoint = endpoint_for(receiver, consecutive_failures=4)
    event = emit("stock.low", payload={"sku": "A-1", "available": 2})
    event_process(event_id=event.pk)
    [delivery] = deliveries_of(event)
    webhooks.webhook_delivery_attempt(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0

    again = webhooks.webhook_delivery_redeliver(delivery_id=delivery.pk)
    assert (again.source, again.redelivery_of, again.body) == ("redelivery", delivery, delivery.body)
    assert webhooks.webhook_delivery_attempt(delivery_id=again.pk).result == "succeeded"
    first, second = receiver.requests
    assert first["body"] == second["body"]
    assert first["headers"]["ShopAuto-Event-Id"] == second["headers"]["ShopAuto-Event-Id"]  # receivers dedupe on it
    assert first["headers"]["ShopAuto-Delivery"] != second["headers"]["ShopAuto-Delivery"]
    assert WebhookDelivery.objects.filter(event=event).count() == 2  # the log keeps both

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    with pytest.raises(WebhookEndpointDisabled):
        webhooks.webhook_delivery_redeliver(delivery_id=delivery.pk)
    assert WebhookDelivery.objects.filter(event=event).count() == 2


@pytest.mark.django_db
def test_a_rule_can_call_an_endpoint_that_subscribes_to_nothing(receiver):
    endpoint = endpoint_for(receiver, events=[])
    rule = rules.rule_save(rule=Rule(name="Tell the WMS", trigger="test.rule_hook",
                                     actions=[{"type": "webhook", "endpoint": endpoint.pk}]))
    event = emit("test.rule_hook", payload={"x": 1})
    event_process(event_id=event.pk)
    [delivery] = deliveries_of(event)
    assert delivery.source == "rule" and delivery.rule_run == rule.runs.get()
    assert rule.runs.get().action_runs.get().status == "done"
    webhooks.webhook_delivery_attempt(delivery_id=delivery.pk)
    assert json.loads(receiver.requests[0]["body"])["event"] == "test.rule_hook"


@pytest.mark.django_db
def test_the_delivery_log_is_purged_after_the_retention_period(receiver, settings):
    settings.WEBHOOK_DELIVERY_RETENTION_DAYS = 7
    endpoint = endpoint_for(receiver)
    event = emit("test.purge", payload={})
    old = timezone.now() - timedelta(days=8)
    kept_recent = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_name=event.name, body="{}",
                                                 status="succeeded", source="rule")
    old_done = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_name=event.name, body="{}",
                                              status="succeeded", created_at=old, source="rule")
    old_failed = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_name=event.name, body="{}",
                                                status="failed", created_at=old, source="rule")
    old_pending = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_name=event.name, body="{}",
                                                 status="pending", created_at=old, source="rule")

    from automation.tasks import _purge_webhook_deliveries

    assert _purge_webhook_deliveries(now=timezone.now()) == {"deleted": 2}
    assert _purge_webhook_deliveries(now=timezone.now()) is None  # once per hour slot
    remaining = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert remaining == {kept_recent.pk, old_pending.pk}
    assert old_done.pk not in remaining and old_failed.pk not in remaining


def test_webhook_settings_are_documented_in_env_example():
    example = (Path(django_settings.BASE_DIR) / ".env.example").read_text()
    for name in ("WEBHOOK_DELIVERY_RETENTION_DAYS", "WEBHOOK_MAX_CONSECUTIVE_FAILURES", "WEBHOOK_MAX_ATTEMPTS",
                 "WEBHOOK_RETRY_BASE_SECONDS", "WEBHOOK_TIMEOUT_SECONDS"):
        assert f"\n{name}=" in example, name
    docs = (Path(django_settings.BASE_DIR) / "docs" / "webhooks.md").read_text()
    assert "ShopAuto-Signature" in docs and "WEBHOOK_DELIVERY_RETENTION_DAYS" in docs


def test_long_waits_go_to_the_sweeper_not_to_the_broker(settings):
    settings.CELERY_VISIBILITY_TIMEOUT = 3600
    assert webhooks.task_countdown(120) == 120
    assert webhooks.task_countdown(6 * 3600) is None  # next_attempt_at + beat sweeper instead


@requires_redis
@pytest.mark.django_db
def test_the_sweeper_dispatches_due_deliveries_only(receiver, broker_queue, settings):
    endpoint = endpoint_for(receiver)
    event = emit("test.sweep", payload={})
    now = timezone.now()
    due = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_name=event.name, body="{}",
                                         next_attempt_at=now - timedelta(minutes=5))
    WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_name=event.name, body="{}",
                                   source="rule", next_attempt_at=now + timedelta(minutes=5))
    assert webhooks.webhook_deliveries_sweep(now=now) == 1
    [message] = broker_queue.lrange("celery", 0, -1)
    assert json.loads(message)["headers"]["argsrepr"] == f"({due.pk},)"


@pytest.mark.worker
def test_nothing_is_sent_for_a_rolled_back_transaction(celery_worker_thread, receiver):
    endpoint_for(receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        emit("test.rolled_back", payload={"number": "NEVER"})
        raise RuntimeError("the order failed after the event was written")
    with transaction.atomic():
        emit("test.committed", payload={"number": "SA-OK"})

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not receiver.requests:
        time.sleep(0.1)
    time.sleep(0.5)  # room for anything else that might still arrive
    assert [json.loads(r["body"])["event"] for r in receiver.requests] == ["test.committed"]
    assert not Event.objects.filter(name="test.rolled_back").exists()
    assert list(WebhookDelivery.objects.values_list("event_name", "status")) == [("test.committed", "succeeded")]
