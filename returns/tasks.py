from celery import shared_task

from automation.jobs import once_per_slot

from . import services


@shared_task(name="returns.tasks.remind_and_close_returns")
def remind_and_close_returns() -> None:
    _remind_and_close()


@once_per_slot(3600, job="returns.remind_and_close", atomic=False)
def _remind_and_close(*, now):
    return services.returns_remind_and_close(now=now)
