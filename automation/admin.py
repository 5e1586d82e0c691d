from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Event, HandlerRun, JobRun


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
