"""The Celery app. Configured from Django settings (CELERY_ namespace); the beat
schedule lives in shopauto/schedule.py, the one place every periodic job is declared."""

import os

from celery import Celery

from shopauto.schedule import BEAT_SCHEDULE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopauto.settings")

app = Celery("shopauto")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = BEAT_SCHEDULE
app.autodiscover_tasks()


def bounded_countdown(seconds: float) -> float:
    """A countdown safe to give the broker: below the Redis visibility timeout, after
    which an unacknowledged task would be delivered a second time. Longer waits belong
    in a `due_at` column scanned by beat."""
    from django.conf import settings

    ceiling = settings.CELERY_VISIBILITY_TIMEOUT / 2
    return max(0.0, min(float(seconds), ceiling))
