"""Periodic jobs that do their work once per time slot."""

import functools
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import JobRun


def slot_start(now: datetime, seconds: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=timezone.get_current_timezone())


def once_per_slot(seconds: int, *, job: str | None = None):
    """Decorate a periodic job so that it runs at most once per `seconds`-long slot.

    The claim (a JobRun row) and the job's own writes commit together: a job that fails
    leaves the slot free for a retry; a second run in the same slot returns None.
    """

    def decorate(func):
        name = job or f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def wrapper(*args, now: datetime | None = None, **kwargs):
            now = now or timezone.now()
            slot = slot_start(now, seconds)
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
