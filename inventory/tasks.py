from celery import shared_task

from automation.jobs import once_per_slot

from . import services


@shared_task(name="inventory.tasks.release_expired_reservations")
def release_expired_reservations() -> None:
    _release_expired()


@once_per_slot(60, job="inventory.release_expired_reservations")
def _release_expired(*, now):
    return {"released": services.stock_release_expired(now=now)}


@shared_task(name="inventory.tasks.notify_back_in_stock")
def notify_back_in_stock(variant_id: int) -> int:
    # Safe to run twice: each subscription is claimed and marked notified once.
    return services.back_in_stock_notify(variant_id=variant_id)


@shared_task(name="inventory.tasks.sweep_back_in_stock")
def sweep_back_in_stock() -> None:
    _sweep_back_in_stock()


@once_per_slot(600, job="inventory.sweep_back_in_stock")
def _sweep_back_in_stock(*, now):
    return {"notified": services.back_in_stock_sweep()}
