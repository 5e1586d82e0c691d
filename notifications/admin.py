from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from . import services, templating
from .exceptions import MessageNotResendable, TemplateInvalid, TemplateMissing
from .models import DeliveryEvent, NotificationSwitch, NotificationTemplate, OutgoingMessage, Suppression
from .routing import ROUTES, template_keys
from .samples import sample_context


class NotificationTemplateForm(forms.ModelForm):
    key = forms.ChoiceField(label=_("template"), choices=())

    class Meta:
        model = NotificationTemplate
        fields = ["key", "language", "channel", "is_active", "subject", "body_text", "body_html"]
        widgets = {"body_text": forms.Textarea(attrs={"rows": 14, "cols": 100}),
                   "body_html": forms.Textarea(attrs={"rows": 14, "cols": 100})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(key, key) for key in template_keys()]

    def clean(self):
        cleaned = super().clean()
        for field in ("subject", "body_text", "body_html"):
            try:
                templating.check_syntax(cleaned.get(field) or "")
            except TemplateInvalid as exc:
                self.add_error(field, exc.message)
        return cleaned


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    form = NotificationTemplateForm
    list_display = ["key", "language", "channel", "is_active", "updated_at", "updated_by", "preview_link"]
    list_filter = ["language", "is_active", "key"]
    search_fields = ["key", "subject"]
    readonly_fields = ["updated_at", "updated_by"]
    change_list_template = "admin/notifications/notificationtemplate/change_list.html"
    change_form_template = "admin/notifications/notificationtemplate/change_form.html"

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def get_changeform_initial_data(self, request):
        """?key=…&language=… starts from the shipped default, ready to edit."""
        initial = super().get_changeform_initial_data(request)
        key, language = request.GET.get("key"), request.GET.get("language")
        if key and language:
            source = templating.file_source(key=key, language=language) or templating.file_source(
                key=key, language=settings.LANGUAGE_CODE)
            if source is not None:
                initial.update(subject=source.subject.strip(), body_text=source.body_text, body_html=source.body_html)
        return initial

    @admin.display(description=_("preview"))
    def preview_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:notifications_template_preview",
                                                          args=[obj.key, obj.language]), _("Preview"))

    def get_urls(self):
        return [
            path("defaults/", self.admin_site.admin_view(self.defaults_view), name="notifications_template_defaults"),
            path("preview/<str:key>/<str:language>/", self.admin_site.admin_view(self.preview_view),
                 name="notifications_template_preview"),
            path("send-test/<str:key>/<str:language>/", self.admin_site.admin_view(require_POST(self.send_test_view)),
                 name="notifications_template_send_test"),
            *super().get_urls(),
        ]

    def defaults_view(self, request):
        """Every template × language: which one is used (staff row, shipped file, or the
        fallback language), with links to preview and customize."""
        overrides = set(NotificationTemplate.objects.filter(is_active=True).values_list("key", "language"))
        rows = []
        for key in template_keys():
            for code, name in settings.LANGUAGES:
                has_file = templating.file_source(key=key, language=code) is not None
                rows.append({"key": key, "language": code, "language_name": name, "has_file": has_file,
                             "overridden": (key, code) in overrides})
        return render(request, "admin/notifications/defaults.html", {
            **self.admin_site.each_context(request), "title": _("Notification templates by language"), "rows": rows,
            "opts": self.model._meta,
        })

    def preview_view(self, request, key, language):
        context = sample_context(key)
        error, rendered, source = "", None, None
        try:
            source = templating.source_for(key=key, language=language)
            rendered = templating.render_source(source, context)
        except (TemplateMissing, TemplateInvalid) as exc:
            error = exc.message
        return render(request, "admin/notifications/preview.html", {
            **self.admin_site.each_context(request), "title": _("Preview of %(key)s (%(language)s)") % {
                "key": key, "language": language},
            "key": key, "language": language, "rendered": rendered, "source": source, "error": error,
            "context": context, "opts": self.model._meta,
        })

    def send_test_view(self, request, key, language):
        if not request.user.email:
            self.message_user(request, _("Your staff user has no email address."), messages.ERROR)
        else:
            message = services.template_test_send(template_key=key, language=language, user=request.user,
                                                  context=sample_context(key))
            if message is None or message.status == OutgoingMessage.Status.FAILED:
                self.message_user(request, _("The test could not be queued (template disabled or invalid)."),
                                  messages.ERROR)
            else:
                self.message_user(request, _("A test was queued for %(email)s.") % {"email": request.user.email},
                                  messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:notifications_template_preview", args=[key, language]))


@admin.register(NotificationSwitch)
class NotificationSwitchAdmin(admin.ModelAdmin):
    list_display = ["template_key", "enabled", "events", "recipients", "marketing", "updated_at"]
    list_editable = ["enabled"]
    list_filter = ["enabled"]
    search_fields = ["template_key"]
    readonly_fields = ["template_key", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _routes(self, obj):
        return [route for route in ROUTES if route.template_key == obj.template_key]

    @admin.display(description=_("events"))
    def events(self, obj):
        return ", ".join(route.event for route in self._routes(obj)) or _("(sent by the system)")

    @admin.display(description=_("recipients"))
    def recipients(self, obj):
        return ", ".join(route.group or route.recipients for route in self._routes(obj)) or "staff"

    @admin.display(description=_("marketing"), boolean=True)
    def marketing(self, obj):
        return any(route.marketing for route in self._routes(obj))


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    extra = 0
    can_delete = False
    readonly_fields = ["event_type", "occurred_at", "received_at", "esp_event_id", "description"]

    def has_add_permission(self, request, obj=None):
        return False


class ResendInline(admin.TabularInline):
    model = OutgoingMessage
    fk_name = "resend_of"
    verbose_name_plural = _("resent as")
    extra = 0
    can_delete = False
    fields = ["link", "status", "attempts", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("message"))
    def link(self, obj):
        return format_html('<a href="{}">#{}</a>', reverse("admin:notifications_outgoingmessage_change",
                                                          args=[obj.pk]), obj.pk)


@admin.register(OutgoingMessage)
class OutgoingMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient_email", "template_key", "event_name", "status", "attempts", "marketing",
                    "created_at", "sent_at"]
    list_filter = ["status", "template_key", "event_name", "marketing", "language"]
    search_fields = ["recipient_email", "idempotency_key", "esp_message_id", "subject"]
    date_hierarchy = "created_at"
    inlines = [DeliveryEventInline, ResendInline]
    actions = ["resend"]
    fieldsets = [
        (None, {"fields": ["recipient_email", "customer", "template_key", "event_name", "event", "language",
                           "marketing", "status", "attempts", "last_error", "esp_message_id", "resend_of"]}),
        (_("Content"), {"fields": ["subject", "text_preview", "html_preview", "headers", "context"]}),
        (_("Times"), {"fields": ["created_at", "last_attempt_at", "sent_at", "status_changed_at", "next_attempt_at",
                                 "idempotency_key"]}),
    ]
    readonly_fields = [field.name for field in OutgoingMessage._meta.fields] + ["text_preview", "html_preview"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("text body"))
    def text_preview(self, obj):
        return format_html('<pre style="white-space:pre-wrap;max-width:60em">{}</pre>', obj.body_text)

    @admin.display(description=_("HTML body"))
    def html_preview(self, obj):
        if not obj.body_html:
            return "—"
        # A sandboxed frame: the mail's HTML cannot run scripts or touch the admin.
        return format_html('<iframe sandbox srcdoc="{}" style="width:100%;min-width:40em;height:480px;'
                           'border:1px solid #ccc"></iframe>', obj.body_html)

    def has_resend_permission(self, request):
        return request.user.has_perm("notifications.change_outgoingmessage")

    @admin.action(description=_("Send the selected failed messages again"), permissions=["resend"])
    def resend(self, request, queryset):
        resent, refused = 0, 0
        for message in queryset:
            try:
                services.message_resend(message=message, actor=request.user)
                resent += 1
            except MessageNotResendable:
                refused += 1
        if resent:
            self.message_user(request, ngettext("%d message queued again.", "%d messages queued again.", resent)
                              % resent, messages.SUCCESS)
        if refused:
            self.message_user(request, ngettext(
                "%d message was not failed, bounced or skipped: left alone.",
                "%d messages were not failed, bounced or skipped: left alone.", refused) % refused, messages.WARNING)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created_at", "source_message"]
    list_filter = ["reason"]
    search_fields = ["email"]
    raw_id_fields = ["source_message"]
