"""The event spine: emit, dispatch, process, sweep."""

import logging
import time
import traceback
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from . import registry
from .models import Event, HandlerRun

logger = logging.getLogger(__name__)

# After a failed publish, skip the broker for this many seconds: a web request must not
# pay a connect timeout per event while Redis is down. The sweeper catches up.
BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


def subject_ref(subject: models.Model | None) -> tuple[str, str]:
    if subject is None:
        return "", ""
    return subject._meta.label_lower, str(subject.pk)


def emit(name: str, subject: models.Model | None = None, payload: dict | None = None, *, actor=None) -> Event:
    """Record that `name` happened to `subject`, in the caller's transaction.

    Nothing is published before commit: a rolled-back change leaves no event, and a
    committed one is dispatched on commit or, if the broker is down, by the sweeper.
    """
    subject_type, subject_id = subject_ref(subject)
    event = Event.objects.create(
        name=name,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload or {},
        actor=actor if getattr(actor, "pk", None) else None,
    )
    transaction.on_commit(partial(event_dispatch, event_id=event.pk), robust=True)
    return event


def event_dispatch(*, event_id: int) -> bool:
    """Hand an event to the workers. Never raises and never waits long: with the broker
    unreachable the event stays pending and the sweeper dispatches it later."""
    global _broker_down_until
    from .tasks import process_event

    if time.monotonic() < _broker_down_until:
        return False
    try:
        process_event.apply_async((event_id,))
    except Exception as exc:  # the broker is down or paused: the outbox keeps the event
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("event %s not dispatched (%s); the sweeper will retry", event_id, exc)
        return False
    return True


def reset_broker_backoff() -> None:
    global _broker_down_until
    _broker_down_until = 0.0


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def event_process(*, event_id: int) -> Event | None:
    """Run every handler registered for the event, each at most once.

    Each handler runs in its own transaction together with its HandlerRun row, so its
    effect and the record that it happened commit (or roll back) together; a concurrent
    or repeated delivery blocks on that row and then finds it done.
    """
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.status != Event.Status.PENDING:
        return event

    errors = []
    for handler_name, handler in registry.handlers_for(event.name):
        with transaction.atomic():
            run, _ = HandlerRun.objects.select_for_update().get_or_create(event=event, handler=handler_name)
            if run.status == HandlerRun.Status.DONE:
                continue
            run.attempts += 1
            try:
                with transaction.atomic():
                    handler(event)
            except Exception as exc:
                logger.exception("handler %s failed on event %s", handler_name, event.pk)
                run.status = HandlerRun.Status.FAILED
                run.error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
                errors.append(f"{handler_name}: {run.error}")
            else:
                run.status = HandlerRun.Status.DONE
                run.error = ""
            run.finished_at = timezone.now()
            run.save()

    now = timezone.now()
    pending = Event.objects.filter(pk=event.pk, status=Event.Status.PENDING)
    if not errors:
        pending.update(status=Event.Status.PROCESSED, processed_at=now, last_error="")
    else:
        attempts = event.attempts + 1
        gave_up = attempts >= settings.EVENT_MAX_ATTEMPTS
        pending.update(
            attempts=attempts,
            last_error="\n".join(errors)[:4000],
            next_attempt_at=now + _retry_delay(attempts),
            status=Event.Status.FAILED if gave_up else Event.Status.PENDING,
        )
        if gave_up:
            logger.error("event %s (%s) failed %s times; giving up", event.pk, event.name, attempts)
    event.refresh_from_db()
    return event


def events_sweep(*, limit: int = 500) -> int:
    """Re-dispatch events still pending some time after they were written (the broker
    was down, a worker died). Returns how many were handed to the broker."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.EVENT_SWEEP_AFTER_SECONDS)
    stale = list(
        Event.objects.filter(status=Event.Status.PENDING, created_at__lt=cutoff)
        .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    reset_broker_backoff()
    dispatched = 0
    for event_id in stale:
        if not event_dispatch(event_id=event_id):
            break
        dispatched += 1
    if dispatched:
        # Give each dispatched event time to be processed before sweeping it again.
        Event.objects.filter(pk__in=stale[:dispatched], status=Event.Status.PENDING).update(
            next_attempt_at=now + timedelta(seconds=settings.EVENT_SWEEP_AFTER_SECONDS)
        )
    return dispatched


def events_purge(*, older_than_days: int = 30) -> int:
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = Event.objects.filter(status=Event.Status.PROCESSED, processed_at__lt=cutoff).delete()
    return deleted
