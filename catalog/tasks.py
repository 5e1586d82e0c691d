from celery import shared_task

from automation.jobs import once_per_slot

from . import services


@shared_task(name="catalog.tasks.sync_price_lists")
def sync_price_lists() -> None:
    _sync()


@once_per_slot(60, job="catalog.sync_price_lists")
def _sync(*, now):
    return services.price_lists_sync(now=now)
