from django import forms
from django.contrib import admin, messages
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shopauto.exceptions import DomainError

from . import actions, conditions, rules, services, webhooks
from .models import (
    ActionRun,
    Event,
    HandlerRun,
    JobRun,
    Rule,
    RuleRun,
    RuleVersion,
    WebhookDelivery,
    WebhookEndpoint,
)


class HandlerRunInline(admin.TabularInline):
    model = HandlerRun
    extra = 0
    can_delete = False
    readonly_fields = ["handler", "status", "attempts", "error", "finished_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "subject_type", "subject_id", "status", "attempts", "created_at", "processed_at"]
    list_filter = ["status", "name", "subject_type"]
    search_fields = ["name", "subject_id"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Event._meta.fields]
    inlines = [HandlerRunInline]
    actions = ["redispatch"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Process the selected events again (handlers already done are skipped)"),
                  permissions=["view"])
    def redispatch(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        Event.objects.filter(pk__in=ids, status=Event.Status.FAILED).update(status=Event.Status.PENDING, attempts=0)
        sent = sum(services.event_dispatch(event_id=event_id) for event_id in ids)
        self.message_user(request, ngettext("%d event dispatched.", "%d events dispatched.", sent) % sent,
                          messages.SUCCESS if sent == len(ids) else messages.WARNING)


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["job", "slot", "started_at", "finished_at"]
    list_filter = ["job"]
    readonly_fields = ["job", "slot", "started_at", "finished_at", "result"]

    def has_add_permission(self, request):
        return False


# --------------------------------------------------------------------------- rules ---

def _conditions_help():
    operators = ", ".join(f"{key} ({label})" for key, label in conditions.OPERATORS.items())
    return format_html(
        "{}<br><code>{}</code><br>{}",
        _("A list of {field, operator, value}; optional \"type\": number | string | date. Fields are dotted paths "
          "into the event payload (docs/webhooks.md lists them)."),
        '[{"field": "total", "operator": "gte", "value": "1000"}, '
        '{"field": "shipping_address.country", "operator": "in", "value": ["ES", "PT"]}]',
        _("Operators: %(ops)s") % {"ops": operators},
    )


def _actions_help():
    kinds = ", ".join(f"{key} ({label})" for key, label in actions.ACTION_TYPES.items())
    return format_html(
        "{}<br><code>{}</code><br>{}",
        _("A list of steps run in order. Texts may use the payload: {{ number }}, {{ total }}."),
        '[{"type": "wait", "days": 2}, {"type": "alert", "group": "Sales", "subject": "Order {{ number }}", '
        '"body": "..."}, {"type": "notify", "template": "order.confirmed", "to": "customer"}, '
        '{"type": "tag", "tag": "vip"}, {"type": "transition", "transition": "order.hold", "reason": "..."}, '
        '{"type": "webhook", "endpoint": 1}]',
        _("Types: %(kinds)s. Transitions allowed: %(transitions)s.")
        % {"kinds": kinds, "transitions": ", ".join(sorted(actions.transitions())) or "-"},
    )


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ["name", "description", "enabled", "trigger", "match", "conditions", "actions", "priority",
                  "stop_other_rules"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conditions"].help_text = _conditions_help()
        self.fields["actions"].help_text = _actions_help()

    def clean(self):
        data = super().clean()
        if not self.errors:
            problems = rules.rule_problems(trigger=data.get("trigger", ""), conditions=data.get("conditions"),
                                           actions=data.get("actions"))
            if problems:
                raise forms.ValidationError(problems)
        return data


class RuleVersionInline(admin.TabularInline):
    model = RuleVersion
    extra = 0
    can_delete = False
    fields = ["number", "trigger", "match", "conditions", "actions", "created_at", "created_by"]
    readonly_fields = fields
    verbose_name_plural = _("versions (runs keep the version they started on)")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    form = RuleForm
    list_display = ["name", "trigger", "enabled", "priority", "stop_other_rules", "version", "runs_link"]
    list_editable = ["enabled", "priority"]
    list_filter = ["enabled", "trigger"]
    search_fields = ["name", "trigger", "description"]
    readonly_fields = ["key", "current_version", "preview"]
    inlines = [RuleVersionInline]

    @admin.display(description=_("dry run on recent events"))
    def preview(self, obj):
        if obj is None or not obj.pk:
            return "-"
        rows = rules.rule_preview(rule=obj)
        if not rows:
            return _("No recent event matches the trigger.")
        return format_html("<ul>{}</ul>", format_html_join(
            "", '<li><a href="{}">{} #{}</a> {}: {}</li>',
            ((reverse("admin:automation_event_change", args=[row["event"].pk]), row["event"].name, row["event"].pk,
              row["event"].created_at.strftime("%Y-%m-%d %H:%M"),
              _("would run") if row["holds"] else _("skipped — %(why)s") % {"why": row["why"]}) for row in rows)))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("current_version")

    @admin.display(description=_("version"))
    def version(self, obj):
        return obj.current_version.number if obj.current_version else "-"

    @admin.display(description=_("runs"))
    def runs_link(self, obj):
        url = reverse("admin:automation_rulerun_changelist") + f"?rule__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("runs"))

    def save_model(self, request, obj, form, change):
        # Every saved change becomes a new immutable version; waiting runs keep theirs.
        rules.rule_save(rule=obj, actor=request.user)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "notification_switches_url": _admin_url(
            "admin:notifications_notificationswitch_changelist")}
        return super().changelist_view(request, extra_context)


def _admin_url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


class ActionRunInline(admin.TabularInline):
    model = ActionRun
    extra = 0
    can_delete = False
    fields = ["index", "action_type", "status", "detail", "error", "attempts", "finished_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RuleRun)
class RuleRunAdmin(admin.ModelAdmin):
    list_display = ["id", "rule", "version_number", "event_link", "status", "reason", "resume_at", "started_at"]
    list_filter = ["status", "rule", "event__name", ("started_at", admin.DateFieldListFilter)]
    search_fields = ["rule__name", "event__name", "event__subject_id", "reason"]
    list_select_related = ["rule", "version", "event"]
    readonly_fields = ["rule", "version", "event", "status", "reason", "next_action", "resume_at", "started_at",
                       "finished_at"]
    inlines = [ActionRunInline]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("version"))
    def version_number(self, obj):
        return obj.version.number

    @admin.display(description=_("event"))
    def event_link(self, obj):
        url = reverse("admin:automation_event_change", args=[obj.event_id])
        return format_html('<a href="{}">{} #{}</a>', url, obj.event.name, obj.event_id)

    @admin.action(description=_("Retry the selected failed runs from the failed step"), permissions=["change"])
    def retry(self, request, queryset):
        retried, refused = 0, 0
        for run_id in queryset.filter(status=RuleRun.Status.FAILED).values_list("id", flat=True):
            try:
                rules.rule_run_retry(rule_run_id=run_id, actor=request.user)
                retried += 1
            except DomainError:
                refused += 1
        self.message_user(request, ngettext("%d run retried.", "%d runs retried.", retried) % retried,
                          messages.SUCCESS if retried and not refused else messages.WARNING)


@admin.register(ActionRun)
class ActionRunAdmin(admin.ModelAdmin):
    list_display = ["id", "rule_run", "index", "action_type", "status", "detail", "attempts", "finished_at"]
    list_filter = ["status", "action_type", "rule_run__rule"]
    search_fields = ["detail", "error"]
    list_select_related = ["rule_run__rule"]
    readonly_fields = ["rule_run", "index", "action_type", "status", "detail", "error", "attempts", "finished_at"]

    def has_add_permission(self, request):
        return False


# ------------------------------------------------------------------ outbound webhooks ---

@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "events", "active", "consecutive_failures", "disabled_at", "deliveries_link"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    readonly_fields = ["consecutive_failures", "disabled_at", "disabled_reason", "created_at"]
    fields = ["name", "url", "events", "active", "secret", "secondary_secret", "consecutive_failures",
              "disabled_at", "disabled_reason", "created_at"]
    actions = ["enable"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=_("deliveries"))
    def deliveries_link(self, obj):
        url = reverse("admin:automation_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("deliveries"))

    @admin.action(description=_("Enable the selected endpoints (resets the failure count)"), permissions=["change"])
    def enable(self, request, queryset):
        for endpoint_id in queryset.values_list("id", flat=True):
            webhooks.webhook_endpoint_enable(endpoint_id=endpoint_id, actor=request.user)
        self.message_user(request, _("Enabled."), messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event_name", "endpoint", "source", "status", "attempts", "response_status",
                    "created_at", "delivered_at"]
    list_filter = ["status", "source", "endpoint", "event_name", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["event_name", "error", "event__subject_id"]
    list_select_related = ["endpoint"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_redeliver_permission(self, request):
        return request.user.has_perm("automation.change_webhookendpoint")

    @admin.action(description=_("Redeliver the selected deliveries (as new deliveries)"), permissions=["redeliver"])
    def redeliver(self, request, queryset):
        sent, refused = 0, 0
        for delivery_id in queryset.values_list("id", flat=True):
            try:
                webhooks.webhook_delivery_redeliver(delivery_id=delivery_id, actor=request.user)
                sent += 1
            except DomainError as exc:
                refused += 1
                self.message_user(request, str(exc.message), messages.WARNING)
        if sent:
            self.message_user(request, ngettext("%d delivery queued.", "%d deliveries queued.", sent) % sent,
                              messages.SUCCESS)
