"""Two beats or two workers at once: a waiting run resumes once, a delivery is sent once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from automation import rules, webhooks
from automation.models import Rule, RuleRun, WebhookDelivery, WebhookEndpoint
from automation.services import emit, event_process
from notifications.models import OutgoingMessage
from tests.conftest import requires_postgres


def race(func, workers=4):
    barrier = threading.Barrier(workers)
    errors, results = [], []

    def run():
        try:
            barrier.wait()
            results.append(func())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_waiting_run_resumes_once_when_resumers_race(sales):
    rules.rule_save(rule=Rule(name="wait then alert", trigger="test.race", actions=[
        {"type": "wait", "minutes": 5}, {"type": "alert", "group": "Sales", "subject": "once"}]))
    with transaction.atomic():
        event = emit("test.race", payload={})
    event_process(event_id=event.pk)
    run = RuleRun.objects.get(event=event)
    later = timezone.now() + timedelta(minutes=10)

    results = race(lambda: rules.rule_run_resume(rule_run_id=run.pk, now=later))

    assert sum(result is not None for result in results) == 1
    run.refresh_from_db()
    assert run.status == RuleRun.Status.DONE
    assert OutgoingMessage.objects.filter(recipient_email="sales@shop.example").count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_posted_once_when_two_tasks_race(receiver):
    WebhookEndpoint.objects.create(name="ERP", url=receiver.url, events=["*"])
    with transaction.atomic():
        event = emit("test.race", payload={})
    event_process(event_id=event.pk)
    delivery = WebhookDelivery.objects.get(event=event)

    results = race(lambda: webhooks.webhook_delivery_attempt(delivery_id=delivery.pk).result)

    assert sorted(results) == ["skipped", "skipped", "skipped", "succeeded"]
    assert len(receiver.requests) == 1
