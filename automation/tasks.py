from celery import shared_task

from shopauto.celery import bounded_countdown

from . import rules, services, webhooks
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


@shared_task(name="automation.tasks.resume_rule_runs")
def resume_rule_runs() -> dict | None:
    return _resume_rule_runs()


@once_per_slot(60, job="automation.resume_rule_runs", atomic=False)
def _resume_rule_runs(*, now):
    # Each run resumes in its own transaction; the slot claim keeps two beats apart.
    return {"resumed": rules.rule_runs_resume_due(now=now)}


@shared_task(bind=True, name="automation.tasks.deliver_webhook", max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    # Attempts live on the row; the service decides between retry and failure.
    outcome = webhooks.webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.result == "retry":
        countdown = webhooks.task_countdown(outcome.retry_in)
        if countdown is not None:
            raise self.retry(countdown=bounded_countdown(countdown))
    return outcome.result


@shared_task(name="automation.tasks.sweep_webhook_deliveries")
def sweep_webhook_deliveries() -> int:
    return webhooks.webhook_deliveries_sweep()


@shared_task(name="automation.tasks.purge_webhook_deliveries")
def purge_webhook_deliveries() -> dict | None:
    return _purge_webhook_deliveries()


@once_per_slot(3600, job="automation.purge_webhook_deliveries")
def _purge_webhook_deliveries(*, now):
    return {"deleted": webhooks.webhook_deliveries_purge(now=now)}
