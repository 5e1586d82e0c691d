from celery import shared_task

from automation.jobs import once_per_slot

from . import services


@shared_task(name="quotes.tasks.expire_quotes")
def expire_quotes() -> None:
    """Beat: remind buyers of quotes about to expire, then expire the overdue ones."""
    _expire_and_remind()


@once_per_slot(900, job="quotes.expire_and_remind", atomic=False)
def _expire_and_remind(*, now):
    return {"reminded": services.quotes_remind_expiring(now=now), "expired": services.quotes_expire(now=now)}

