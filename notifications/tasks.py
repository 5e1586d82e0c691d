from datetime import UTC, datetime, time, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from automation.jobs import once_per_slot
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
    return digest_send_if_due()


def digest_send_if_due(*, now: datetime | None = None) -> dict | None:
    """Beat calls this every 15 minutes; from DIGEST_HOUR (shop time) on, the digest of
    yesterday goes to the Managers once per local day."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < settings.DIGEST_HOUR:
        return None
    # once_per_slot slots by UTC day: noon UTC of the local date names that date's slot.
    return _digest_once(day=local.date(), now=datetime.combine(local.date(), time(12), tzinfo=UTC))


@once_per_slot(86400, job="notifications.daily_digest")
def _digest_once(*, day, now):
    report = digest.digest_build(day=day - timedelta(days=1))
    messages = services.staff_message(group="Managers", template_key="staff.digest",
                                      idempotency_key=f"digest:{report['day']}", context=report)
    return {"day": report["day"], "messages": len(messages)}
