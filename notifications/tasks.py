from celery import shared_task

from shopauto.celery import bounded_countdown

from . import digest, services


@shared_task(bind=True, name="notifications.tasks.send_message", max_retries=None)
def send_message(self, message_id: int) -> str:
    # Attempts live on the row (they survive redeliveries and the sweeper), so the
    # service decides between retry and failure; the task only waits.
    outcome = services.message_send(message_id=message_id)
    if outcome.result == "retry":
        raise self.retry(countdown=bounded_countdown(outcome.retry_in))
    return outcome.result


@shared_task(name="notifications.tasks.sweep_messages")
def sweep_messages() -> dict:
    return services.messages_sweep()


@shared_task(name="notifications.tasks.daily_digest")
def daily_digest() -> dict | None:
    return digest.digest_send_if_due()
