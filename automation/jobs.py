"""Periodic jobs that do their work once per time slot."""

import functools
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import JobRun


def slot_start(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=timezone.get_current_timezone())


def once_per_slot(seconds: int, *, job: str | None = None, atomic: bool = True):
    """Decorate a periodic job so that it runs at most once per `seconds`-long slot.

    atomic=True: the claim (a JobRun row) and the job's own writes commit together: a
    job that fails leaves the slot free for a retry; a second run in the same slot
    returns None. atomic=False (batch jobs that commit per item, so as not to hold
    row locks for the whole batch): the claim commits first and is withdrawn if the job
    fails.
    """

    def decorate(func):
        name = job or f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def wrapper(*args, now: datetime | None = None, **kwargs):
            now = now or timezone.now()
            slot = slot_start(now, seconds)
            if not atomic:
                return _run_claimed_first(func, name, slot, now, args, kwargs)
            try:
                with transaction.atomic():
                    run = JobRun.objects.create(job=name, slot=slot)
                    result = func(*args, now=now, **kwargs)
                    run.finished_at = timezone.now()
                    run.result = result if isinstance(result, dict) else {"result": result}
                    run.save(update_fields=["finished_at", "result"])
                    return result
            except IntegrityError:
                if JobRun.objects.filter(job=name, slot=slot).exists():
                    return None
                raise

        wrapper.slot_length = timedelta(seconds=seconds)
        return wrapper

    return decorate


def _run_claimed_first(func, name, slot, now, args, kwargs):
    try:
        with transaction.atomic():
            run = JobRun.objects.create(job=name, slot=slot)
    except IntegrityError:
        return None
    try:
        result = func(*args, now=now, **kwargs)
    except Exception:
        JobRun.objects.filter(pk=run.pk).delete()
        raise
    JobRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), result=result if isinstance(result, dict) else {"result": result}
    )
    return result
