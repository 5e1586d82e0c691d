from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """The outbox: one row per thing that happened, written in the same transaction as
    the change that caused it, and processed by the handlers registered for its name."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=100, db_index=True)
    subject_type = models.CharField(_("subject type"), max_length=100, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    payload = models.JSONField(_("payload"), default=dict, encoder=DjangoJSONEncoder)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # The sweeper leaves a pending event alone until then (backoff after a failure, or
    # a dispatch already on its way).
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="event_pending_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="event_subject_idx"),
        ]

    def __str__(self):
        return f"{self.name} #{self.pk}"


class HandlerRun(models.Model):
    """One row per (event, handler): a redelivered event finds its handler done and
    does nothing twice."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="handler_runs")
    handler = models.CharField(_("handler"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.FAILED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("handler run")
        verbose_name_plural = _("handler runs")
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="handler_run_once")]

    def __str__(self):
        return f"{self.handler} on {self.event_id}: {self.status}"


class JobRun(models.Model):
    """One row per (periodic job, time slot): a job started twice in the same slot (two
    beats, a late duplicate delivery) does its work once."""

    job = models.CharField(_("job"), max_length=200)
    slot = models.DateTimeField(_("slot"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("scheduled job run")
        verbose_name_plural = _("scheduled job runs")
        ordering = ["-slot"]
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="job_run_once_per_slot")]

    def __str__(self):
        return f"{self.job} @ {self.slot:%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------- rules ---

def _empty_list():
    return []


class Rule(models.Model):
    """A staff-made automation: when `trigger` happens and the conditions hold, run the
    actions. The editable fields are a draft; every saved change becomes an immutable
    RuleVersion, and runs keep the version they started on."""

    class Match(models.TextChoices):
        ALL = "all", _("All conditions")
        ANY = "any", _("Any condition")

    key = models.SlugField(_("key"), max_length=100, unique=True, null=True, blank=True,
                           help_text=_("Set on the default rules ShopAuto ships; empty for your own."))
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    trigger = models.CharField(_("trigger"), max_length=100,
                               help_text=_('An event name ("order.placed") or a pattern ending in * ("order.*").'))
    match = models.CharField(_("match"), max_length=3, choices=Match.choices, default=Match.ALL)
    conditions = models.JSONField(_("conditions"), default=_empty_list, blank=True)
    actions = models.JSONField(_("actions"), default=_empty_list)
    priority = models.IntegerField(_("priority"), default=100, help_text=_("Lower numbers run first."))
    stop_other_rules = models.BooleanField(
        _("stop other rules"), default=False,
        help_text=_("When this rule's conditions hold, rules with a higher priority number do not run for the event."))
    enabled = models.BooleanField(_("enabled"), default=True)
    current_version = models.ForeignKey("RuleVersion", verbose_name=_("current version"), null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["priority", "id"]

    def __str__(self):
        return self.name

    def snapshot(self) -> dict:
        return {"trigger": self.trigger, "match": self.match, "conditions": self.conditions, "actions": self.actions}


class RuleVersion(models.Model):
    """An immutable snapshot of a rule's trigger, conditions and actions."""

    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    trigger = models.CharField(_("trigger"), max_length=100)
    match = models.CharField(_("match"), max_length=3, choices=Rule.Match.choices)
    conditions = models.JSONField(_("conditions"), default=_empty_list)
    actions = models.JSONField(_("actions"), default=_empty_list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("rule version")
        verbose_name_plural = _("rule versions")
        ordering = ["rule", "-number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="rule_version_unique")]

    def __str__(self):
        return f"{self.rule} v{self.number}"

    def snapshot(self) -> dict:
        return {"trigger": self.trigger, "match": self.match, "conditions": self.conditions, "actions": self.actions}


class RuleRun(models.Model):
    """One run of one rule version for one event; its actions are ActionRun rows."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        WAITING = "waiting", _("Waiting")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    rule = models.ForeignKey(Rule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(RuleVersion, verbose_name=_("version"), on_delete=models.PROTECT,
                                related_name="runs")
    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE, related_name="rule_runs")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    reason = models.CharField(_("reason"), max_length=500, blank=True,
                              help_text=_("Why the run was skipped or failed."))
    next_action = models.PositiveIntegerField(_("next action"), default=0)
    # Beat resumes waiting runs once this is due (never a long broker countdown).
    resume_at = models.DateTimeField(_("resume at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["event", "rule"], name="rule_run_once_per_event")]
        indexes = [models.Index(fields=["resume_at"], condition=Q(status="waiting"), name="rule_run_waiting_idx")]

    def __str__(self):
        return f"{self.rule} on {self.event_id}: {self.status}"


class ActionRun(models.Model):
    """What one action of a rule run did: done, skipped (with why), failed (with the error)."""

    class Status(models.TextChoices):
        DONE = "done", _("Done")
        WAITING = "waiting", _("Waiting")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    rule_run = models.ForeignKey(RuleRun, verbose_name=_("rule run"), on_delete=models.CASCADE,
                                 related_name="action_runs")
    index = models.PositiveIntegerField(_("step"))
    action_type = models.CharField(_("action"), max_length=30)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, db_index=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    finished_at = models.DateTimeField(_("finished at"), default=timezone.now)

    class Meta:
        verbose_name = _("action run")
        verbose_name_plural = _("action runs")
        ordering = ["rule_run", "index"]
        constraints = [models.UniqueConstraint(fields=["rule_run", "index"], name="action_run_once_per_step")]

    def __str__(self):
        return f"{self.action_type} #{self.index}: {self.status}"


# ------------------------------------------------------------------ outbound webhooks ---

def _webhook_secret():
    import secrets

    return "whsec_" + secrets.token_urlsafe(32)


def _all_events():
    return ["*"]


class WebhookEndpoint(models.Model):
    """Another system (ERP, CRM, WMS, marketplace) that hears about events."""

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=_all_events, blank=True,
                              help_text=_('Event names or patterns, e.g. ["order.*", "stock.low"]; ["*"] for all; '
                                          "[] for none (rules may still call it)."))
    secret = models.CharField(_("secret"), max_length=200, default=_webhook_secret)
    secondary_secret = models.CharField(
        _("secondary secret"), max_length=200, blank=True,
        help_text=_("During a rotation, deliveries are signed with both secrets; remove the old one when the "
                    "receiver uses the new one."))
    active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("disabled because"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def subscribes_to(self, event_name: str) -> bool:
        from fnmatch import fnmatchcase

        return any(fnmatchcase(event_name, pattern) for pattern in self.events or [])

    @property
    def signing_secrets(self) -> list[str]:
        return [secret for secret in (self.secret, self.secondary_secret) if secret]


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one endpoint, with its attempts' outcome. Kept
    for WEBHOOK_DELIVERY_RETENTION_DAYS, successes too."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        SUBSCRIPTION = "subscription", _("Subscription")
        RULE = "rule", _("Automation rule")
        REDELIVERY = "redelivery", _("Manual redelivery")

    endpoint = models.ForeignKey(WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE,
                                 related_name="deliveries")
    event = models.ForeignKey(Event, verbose_name=_("event"), on_delete=models.CASCADE,
                              related_name="webhook_deliveries")
    event_name = models.CharField(_("event name"), max_length=100, db_index=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.SUBSCRIPTION)
    redelivery_of = models.ForeignKey("self", verbose_name=_("redelivery of"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="redeliveries")
    rule_run = models.ForeignKey(RuleRun, verbose_name=_("rule run"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="webhook_deliveries")
    body = models.TextField(_("body"), help_text=_("The JSON sent, byte for byte (it is what is signed)."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    response_status = models.PositiveIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], condition=Q(source="subscription"),
                                    name="webhook_delivery_once_per_endpoint"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_pending_idx"),
        ]

    def __str__(self):
        return f"{self.event_name} → {self.endpoint} ({self.status})"
