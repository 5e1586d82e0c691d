from django.contrib import admin, messages
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_fsm_log.admin import StateLogInline

from shopauto.admin_transitions import TransitionAction, TransitionButtonsMixin
from shopauto.exceptions import DomainError

from . import services
from .models import (
    CategoryReturnRule,
    Resolution,
    ReturnLine,
    ReturnPhoto,
    ReturnPolicy,
    ReturnRequest,
    StoreCreditEntry,
)


def _resolve(resolution):
    return lambda o, u, r: services.return_resolve(return_id=o.pk, actor=u, resolution=resolution)


RETURN_ACTIONS = {
    "approve": TransitionAction(_("Approve"), lambda o, u, r: services.return_approve(return_id=o.pk, actor=u, note=r),
                                "returns.review_returnrequest", "approve"),
    "reject": TransitionAction(_("Reject (reason required)"),
                               lambda o, u, r: services.return_reject(return_id=o.pk, actor=u, reason=r),
                               "returns.review_returnrequest", "reject"),
    "ship": TransitionAction(_("Mark shipped back"),
                             lambda o, u, r: services.return_mark_shipped(return_id=o.pk, actor=u, tracking_number=r),
                             "returns.change_returnrequest", "ship"),
    "receive": TransitionAction(_("Receive (into quarantine)"),
                                lambda o, u, r: services.return_receive(return_id=o.pk, actor=u),
                                "returns.receive_returnrequest", "receive"),
    "inspect": TransitionAction(_("Save inspection"), None, "returns.receive_returnrequest", "inspect"),
    "refund": TransitionAction(_("Refund"), _resolve(Resolution.REFUND), "returns.resolve_returnrequest", "refund"),
    "credit": TransitionAction(_("Give store credit"), _resolve(Resolution.STORE_CREDIT),
                               "returns.resolve_returnrequest", "credit"),
    "exchange": TransitionAction(_("Place the exchange order"), _resolve(Resolution.EXCHANGE),
                                 "returns.resolve_returnrequest", "exchange"),
    "close": TransitionAction(_("Close"), lambda o, u, r: services.return_close(return_id=o.pk, actor=u, reason=r),
                              "returns.change_returnrequest", "close"),
}


class CategoryReturnRuleInline(admin.TabularInline):
    model = CategoryReturnRule
    extra = 1
    autocomplete_fields = ["category"]


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "window_days", "auto_approve_max_value", "limit_count",
                    "restocking_fee_percent", "restocking_fee_fixed", "updated_at"]
    filter_horizontal = ["non_returnable_products"]
    inlines = [CategoryReturnRuleInline]
    fieldsets = [
        (None, {"fields": ["name", "is_active", "window_days", "non_returnable_products"]}),
        (_("Automatic decisions"), {"fields": ["inspection_reasons", "auto_approve_max_value", "limit_count",
                                               "limit_period_days"]}),
        (_("Money"), {"fields": ["restocking_fee_percent", "restocking_fee_fixed", "fee_exempt_reasons"]}),
        (_("Follow-up"), {"fields": ["reminder_after_days", "close_after_days", "instructions",
                                     "return_address"]}),
    ]


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "name", "quantity", "unit_price", "replacement_variant", "warehouse_id", "condition"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class ReturnPhotoInline(admin.TabularInline):
    model = ReturnPhoto
    extra = 0
    can_delete = False
    readonly_fields = ["image", "uploaded_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(TransitionButtonsMixin, admin.ModelAdmin):
    transition_actions = RETURN_ACTIONS
    transition_note_placeholder = _("Reason shown to the customer / note / tracking number")
    list_display = ["rma", "order", "customer", "status", "decision", "decision_rule", "resolution", "refund_amount",
                    "created_at"]
    list_filter = ["status", "decision", "decision_rule", "resolution", "reason"]
    search_fields = ["rma", "order__number", "customer__user__email", "tracking_number"]
    date_hierarchy = "created_at"
    list_select_related = ["order", "customer__user"]
    readonly_fields = ["rma", "order", "customer", "status", "reason", "resolution", "comments", "currency",
                       "items_value", "restocking_fee", "refund_amount", "policy", "decision", "decision_rule",
                       "decision_message", "tracking_number", "inspection_notes", "exchange_order", "created_at",
                       "approved_at", "shipped_at", "received_at", "resolved_at", "closed_at", "reminded_at",
                       "transition_buttons", "inspection", "label_link"]
    fieldsets = [
        (None, {"fields": ["rma", "status", "transition_buttons", "inspection", "label_link", "order", "customer",
                           "reason",
                           "resolution", "comments"]}),
        (_("Policy decision"), {"fields": ["policy", "decision", "decision_rule", "decision_message"]}),
        (_("Money"), {"fields": ["currency", "items_value", "restocking_fee", "refund_amount", "exchange_order"]}),
        (_("Progress"), {"fields": ["tracking_number", "inspection_notes", "created_at", "approved_at", "shipped_at",
                                    "received_at", "resolved_at", "closed_at", "reminded_at"]}),
    ]
    inlines = [ReturnLineInline, ReturnPhotoInline, StateLogInline]

    actions = ["bulk_approve"]

    def has_add_permission(self, request):
        return False  # requests come from the portal and the API, through the policy

    def has_review_permission(self, request):
        return request.user.has_perm("returns.review_returnrequest")

    @admin.action(description=_("Approve the selected returns"), permissions=["review"])
    def bulk_approve(self, request, queryset):
        done, failed = 0, []
        for item in queryset:
            try:
                services.return_approve(return_id=item.pk, actor=request.user)
                done += 1
            except DomainError as error:
                failed.append(f"{item.rma}: {error.message}")
        self.message_user(request, ngettext("%d return approved.", "%d returns approved.", done) % done,
                          messages.SUCCESS)
        for problem in failed:
            self.message_user(request, problem, messages.WARNING)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("inspection"))
    def inspection(self, obj):
        """A condition per line, submitted with the "Save inspection" button."""
        if obj is None or obj.status != ReturnRequest.Status.RECEIVED:
            return "—"
        rows = []
        for line in obj.lines.all():
            options = format_html_join("", '<option value="{}">{}</option>',
                                       ((value, label) for value, label in ReturnLine.Condition.choices))
            rows.append((line.quantity, line.sku, line.name, format_html(
                '<select name="condition_{}">{}</select>', line.pk, options)))
        return format_html_join("", "<div>{} × {} {} {}</div>", rows)

    @admin.display(description=_("return label"))
    def label_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:returns_returnrequest_label", args=[obj.pk]),
                           _("Return label and packing slip (PDF)"))

    def get_urls(self):
        return [path("<int:object_id>/label.pdf", self.admin_site.admin_view(self.label_view),
                     name="returns_returnrequest_label"), *super().get_urls()]

    def label_view(self, request, object_id):
        from django.core.exceptions import PermissionDenied

        from .pdf import return_label_pdf
        from .policy import active_policy

        if not self.has_view_permission(request):
            raise PermissionDenied
        item = get_object_or_404(ReturnRequest.objects.select_related("order"), pk=object_id)
        return return_label_pdf(item, policy=item.policy or active_policy())

    def run_transition(self, request, obj, action):
        if action is RETURN_ACTIONS["inspect"]:
            conditions = {int(key.removeprefix("condition_")): value for key, value in request.POST.items()
                          if key.startswith("condition_") and key.removeprefix("condition_").isdigit()}
            return services.return_inspect(return_id=obj.pk, actor=request.user, conditions=conditions,
                                           notes=request.POST.get("reason", ""))
        return super().run_transition(request, obj, action)


@admin.register(StoreCreditEntry)
class StoreCreditEntryAdmin(admin.ModelAdmin):
    list_display = ["customer", "amount", "currency", "return_request", "note", "created_at"]
    search_fields = ["customer__user__email", "return_request__rma"]
    list_select_related = ["customer__user", "return_request"]
    readonly_fields = ["return_request", "created_at", "created_by"]
    autocomplete_fields = ["customer"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
