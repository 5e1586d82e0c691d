"""anymail's tracking signal (ESP webhooks) → message status; switches after migrate."""

from anymail.signals import tracking
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from . import services


@receiver(tracking, dispatch_uid="notifications.record_tracking_event")
def record_tracking_event(sender, event, esp_name, **kwargs):
    services.tracking_event_record(event=event, esp_name=esp_name)


def create_switches(sender, **kwargs):
    """One switch row per template key, so staff see every notification in the admin."""
    from .models import NotificationSwitch
    from .routing import template_keys

    existing = set(NotificationSwitch.objects.values_list("template_key", flat=True))
    NotificationSwitch.objects.bulk_create(
        [NotificationSwitch(template_key=key) for key in template_keys() if key not in existing],
        ignore_conflicts=True,
    )


def connect(app_config):
    post_migrate.connect(create_switches, sender=app_config, dispatch_uid="notifications.create_switches")
