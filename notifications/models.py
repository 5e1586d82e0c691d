from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")


class NotificationTemplate(models.Model):
    """A staff-edited template for one (key, channel, language). It overrides the default
    shipped as files under templates/notifications/email/<key>/<language>/."""

    key = models.CharField(_("template"), max_length=100, db_index=True,
                           help_text=_("e.g. order.confirmed (see the notification switches for the list)."))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=300, help_text=_("Django template syntax, one line."))
    body_text = models.TextField(_("text body"), help_text=_("Django template syntax; plain text."))
    body_html = models.TextField(_("HTML body"), blank=True,
                                 help_text=_("Django template syntax; empty sends text only."))
    is_active = models.BooleanField(_("active"), default=True,
                                    help_text=_("Inactive rows are ignored: the shipped default is used."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("updated by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        ordering = ["key", "language"]
        constraints = [
            models.UniqueConstraint(fields=["key", "channel", "language"], name="notification_template_unique"),
        ]

    def __str__(self):
        return f"{self.key} ({self.language})"


class NotificationSwitch(models.Model):
    """Staff switch per template key of the routing table (notifications.routing.ROUTES).
    A key without a row is enabled; rows are created after migrate so staff see them all."""

    template_key = models.CharField(_("template"), max_length=100, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("notification switch")
        verbose_name_plural = _("notification switches")
        ordering = ["template_key"]

    def __str__(self):
        return self.template_key


class OutgoingMessage(models.Model):
    """The outbox: one row per email we mean to send, unique per idempotency key, so a
    redelivered event or task finds the row and never sends twice."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Handing to the ESP")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    idempotency_key = models.CharField(_("idempotency key"), max_length=255, unique=True)
    template_key = models.CharField(_("template"), max_length=100, db_index=True)
    event_name = models.CharField(_("event"), max_length=100, blank=True, db_index=True)
    event = models.ForeignKey("automation.Event", verbose_name=_("event"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    recipient_email = models.EmailField(_("recipient"), max_length=254)
    customer = models.ForeignKey("customers.CustomerProfile", verbose_name=_("customer"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="messages")
    language = models.CharField(_("language"), max_length=10, help_text=_("Language of the template used."))
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text body"), blank=True)
    body_html = models.TextField(_("HTML body"), blank=True)
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    marketing = models.BooleanField(_("marketing"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    esp_message_id = models.CharField(_("ESP message id"), max_length=255, blank=True, db_index=True)
    resend_of = models.ForeignKey("self", verbose_name=_("resend of"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="resends")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status__in=["queued", "sending"]),
                         name="message_unfinished_idx"),
            models.Index(fields=["customer", "created_at"], condition=Q(marketing=True),
                         name="message_marketing_cap_idx"),
        ]

    def __str__(self):
        return f"{self.template_key} → {self.recipient_email} ({self.status})"


class DeliveryEvent(models.Model):
    """What the ESP told us about a message (tracking webhook), in arrival order."""

    message = models.ForeignKey(OutgoingMessage, on_delete=models.CASCADE, related_name="delivery_events")
    event_type = models.CharField(_("event type"), max_length=30)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    esp_event_id = models.CharField(_("ESP event id"), max_length=255, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("delivery event")
        verbose_name_plural = _("delivery events")
        ordering = ["received_at", "id"]

    def __str__(self):
        return f"{self.event_type} @ {self.occurred_at or self.received_at}"


class Suppression(models.Model):
    """An address marketing mail must not go to (hard bounce, spam complaint).
    Transactional mail still goes: an order confirmation is not marketing."""

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Hard bounce")
        COMPLAINED = "complained", _("Spam complaint")
        MANUAL = "manual", _("Added by staff")

    email = models.EmailField(_("email"), max_length=254, unique=True)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    source_message = models.ForeignKey(OutgoingMessage, verbose_name=_("message"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} ({self.get_reason_display()})"
