from celery import shared_task

from . import services
from .jobs import once_per_slot


@shared_task(name="automation.tasks.process_event")
def process_event(event_id: int) -> None:
    services.event_process(event_id=event_id)


@shared_task(name="automation.tasks.sweep_events")
def sweep_events() -> int:
    # Safe to run any number of times: dispatching an event twice is harmless.
    return services.events_sweep()


@shared_task(name="automation.tasks.purge_processed_events")
def purge_processed_events() -> None:
    _purge()


@once_per_slot(3600, job="automation.purge_processed_events")
def _purge(*, now):
    return {"deleted": services.events_purge()}
