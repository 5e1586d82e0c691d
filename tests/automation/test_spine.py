"""The event spine: outbox written with the change, processed once, never lost."""

import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone
from django_fsm.signals import post_transition

from automation import services
from automation.models import Event, HandlerRun
from automation.tasks import process_event
from customers.models import Company
from tests.conftest import requires_postgres, requires_redis


def _age(event, seconds=3600):
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.django_db(transaction=True)
def test_event_rolled_back_with_its_transaction_is_never_written_nor_published(broker_queue, temp_handler):
    calls = []
    temp_handler("test.rollback", lambda event: calls.append(event.pk))

    with pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.create(name="rolled back")
        services.emit("test.rollback", payload={"n": 1})
        raise RuntimeError("the change fails after emitting")

    assert not Event.objects.exists()
    assert not Group.objects.filter(name="rolled back").exists()
    assert broker_queue.llen("celery") == 0  # nothing was published
    assert services.events_sweep() == 0
    assert calls == []


@pytest.mark.django_db(transaction=True)
@requires_redis
def test_committed_event_is_published_on_commit_not_before(broker_queue):
    with transaction.atomic():
        event = services.emit("test.commit", payload={})
        assert broker_queue.llen("celery") == 0  # still inside the transaction
    assert broker_queue.llen("celery") == 1
    assert Event.objects.get(pk=event.pk).status == Event.Status.PENDING


@pytest.mark.django_db
def test_handler_runs_once_when_process_event_is_delivered_twice(temp_handler):
    calls = []
    temp_handler("test.twice", lambda event: calls.append(event.pk))
    event = services.emit("test.twice", payload={"x": 1})

    process_event(event.pk)
    process_event(event.pk)  # the broker redelivered the task

    assert calls == [event.pk]
    event.refresh_from_db()
    assert event.status == Event.Status.PROCESSED
    assert HandlerRun.objects.get(event=event, handler__startswith="test.").status == HandlerRun.Status.DONE


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_handler_runs_once_when_two_workers_process_the_same_event_at_once(temp_handler):
    calls = []
    lock = threading.Lock()

    def slow_handler(event):
        with lock:
            calls.append(event.pk)
        time.sleep(0.3)  # widen the window in which a second delivery could slip in

    temp_handler("test.concurrent", slow_handler)
    with transaction.atomic():
        event = services.emit("test.concurrent", payload={})
    calls.clear()  # the on-commit dispatch may not reach a worker: no worker runs here
    barrier = threading.Barrier(4)
    errors = []

    def deliver():
        try:
            barrier.wait()
            services.event_process(event_id=event.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert calls == [event.pk]
    assert HandlerRun.objects.filter(event=event, handler__startswith="test.").count() == 1


@pytest.mark.django_db
def test_failing_handler_is_retried_later_and_others_are_not_rerun(temp_handler, settings):
    settings.EVENT_MAX_ATTEMPTS = 3
    ok_calls, flaky_calls = [], []

    def ok(event):
        ok_calls.append(event.pk)

    def flaky(event):
        flaky_calls.append(event.pk)
        if len(flaky_calls) < 2:
            raise ValueError("ESP timed out")

    temp_handler("test.flaky", ok, name="a.ok")
    temp_handler("test.flaky", flaky, name="b.flaky")
    event = services.emit("test.flaky", payload={})

    services.event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.status == Event.Status.PENDING
    assert event.attempts == 1
    assert "ESP timed out" in event.last_error
    assert event.next_attempt_at > timezone.now()
    assert HandlerRun.objects.get(event=event, handler="b.flaky").status == HandlerRun.Status.FAILED

    services.event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.status == Event.Status.PROCESSED
    assert ok_calls == [event.pk]  # not run again
    assert len(flaky_calls) == 2


@pytest.mark.django_db
def test_event_gives_up_after_max_attempts(temp_handler, settings):
    settings.EVENT_MAX_ATTEMPTS = 2

    def broken(event):
        raise RuntimeError("always")

    temp_handler("test.broken", broken)
    event = services.emit("test.broken", payload={})
    services.event_process(event_id=event.pk)
    services.event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.status == Event.Status.FAILED
    assert event.attempts == 2
    _age(event)
    assert services.events_sweep() == 0  # failed events wait for staff, not the sweeper


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["dead_broker", "paused_broker"])
def test_service_call_commits_within_bounded_time_when_the_broker_is_unreachable(broker, request):
    request.getfixturevalue(broker)

    started = time.monotonic()
    for n in range(5):  # one request emitting several events pays the timeout once
        with transaction.atomic():
            Group.objects.create(name=f"committed {n}")
            services.emit("test.offline", payload={"n": n})
    elapsed = time.monotonic() - started

    assert elapsed < 8, f"commits took {elapsed:.1f}s with the broker unreachable"
    assert Group.objects.filter(name__startswith="committed").count() == 5
    assert Event.objects.filter(name="test.offline", status=Event.Status.PENDING).count() == 5


@pytest.mark.django_db(transaction=True)
def test_sweeper_processes_events_once_the_broker_is_back(dead_broker, temp_handler, broker_queue):
    from tests.conftest import broker_at

    calls = []
    temp_handler("test.swept", lambda event: calls.append(event.pk))
    with transaction.atomic():
        event = services.emit("test.swept", payload={})
    assert services.events_sweep() == 0  # too young to sweep, and the broker is down anyway
    _age(event)
    assert services.events_sweep() == 0  # broker still down: nothing lost, nothing sent

    with broker_at(_redis_url()):
        assert services.events_sweep() == 1
        assert broker_queue.llen("celery") == 1
        assert services.events_sweep() == 0  # already on its way: not queued twice
        _run_queued_tasks(broker_queue)

    event.refresh_from_db()
    assert event.status == Event.Status.PROCESSED
    assert calls == [event.pk]


def _redis_url():
    from django.conf import settings

    return settings.CELERY_BROKER_URL


def _run_queued_tasks(client):
    """Execute what sits in the Redis queue the way a worker would (body → task)."""
    import base64
    import json

    while (raw := client.lpop("celery")) is not None:
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        task_name = message["headers"]["task"]
        from shopauto.celery import app

        app.tasks[task_name](*args, **kwargs)


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
def test_real_celery_worker_processes_an_event_end_to_end(celery_worker_thread, temp_handler):
    seen = []
    temp_handler("test.worker", lambda event: seen.append(event.payload["order"]))

    with transaction.atomic():
        event = services.emit("test.worker", payload={"order": "SA-1001"})

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        event.refresh_from_db()
        if event.status == Event.Status.PROCESSED:
            break
        time.sleep(0.1)
    assert event.status == Event.Status.PROCESSED
    assert seen == ["SA-1001"]
    assert HandlerRun.objects.get(event=event, handler__startswith="test.").status == HandlerRun.Status.DONE


@pytest.mark.django_db
def test_fsm_transition_emits_an_event_in_the_same_transaction(django_user_model):
    company = Company.objects.create(name="Globex", code="globex")
    company.event_prefix = "company"
    company.event_payload = lambda: {"code": "globex"}
    staff = django_user_model.objects.create_user("staffer", is_staff=True)

    post_transition.send(sender=Company, instance=company, name="approve", source="new", target="approved",
                         method_kwargs={"by": staff, "description": "credit checked"})

    event = Event.objects.get(name="company.approved")
    assert event.subject_type == "customers.company"
    assert event.subject_id == str(company.pk)
    assert event.actor == staff
    assert event.payload == {"code": "globex", "transition": {"name": "approve", "from": "new", "to": "approved",
                                                              "reason": "credit checked"}}


@pytest.mark.django_db
def test_models_without_event_prefix_emit_nothing():
    company = Company.objects.create(name="Initech", code="initech")
    post_transition.send(sender=Company, instance=company, name="x", source="a", target="b")
    assert not Event.objects.exists()
