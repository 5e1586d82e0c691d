"""Back-office for stock. Stock figures are read-only here: receipts, adjustments and
transitions go through inventory.services (buttons and forms below), never a plain save."""

import django_fsm
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm_log.admin import StateLogInline

from shopauto.exceptions import DomainError

from . import services
from .forms import AdjustForm, ReceiveForm
from .models import (
    BackInStockSubscription,
    PurchaseOrder,
    PurchaseOrderLine,
    ReorderRule,
    Reservation,
    StockLevel,
    StockMovement,
    StockTransfer,
    StockTransferLine,
    Supplier,
    Warehouse,
)
from .selectors import stock_levels_with_availability, transfer_suggestions


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "cutoff_time", "handling_days", "is_active"]
    list_filter = ["region", "is_active"]
    search_fields = ["code", "name", "region"]


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "email", "lead_time_days", "currency", "is_active"]
    search_fields = ["name", "code", "email"]


class ReorderRuleInline(admin.StackedInline):
    model = ReorderRule
    extra = 0
    max_num = 1
    autocomplete_fields = ["supplier"]


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = ["sku", "warehouse", "on_hand", "reserved", "sellable", "quarantined", "low_stock_alerted",
                    "ledger_link"]
    list_filter = ["warehouse", "low_stock_alerted"]
    search_fields = ["variant__sku", "variant__product__name"]
    readonly_fields = ["variant", "warehouse", "on_hand", "reserved", "quarantined", "low_stock_alerted", "updated_at"]
    inlines = [ReorderRuleInline]
    actions = ["request_suggested_transfers"]
    change_form_template = "admin/inventory/stocklevel/change_form.html"

    def get_queryset(self, request):
        return stock_levels_with_availability().select_related("variant__product", "warehouse")

    def has_add_permission(self, request):
        return False  # stock levels appear with their first receipt

    def save_model(self, request, obj, form, change):
        # Every figure on this form is read-only: saving the row would write back numbers
        # read without a lock (a lost update). Only the reorder rule inline is saved.
        pass

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("SKU"), ordering="variant__sku")
    def sku(self, obj):
        return obj.variant.sku

    @admin.display(description=_("available"))
    def sellable(self, obj):
        return max(obj.sellable, 0)

    @admin.display(description=_("ledger"))
    def ledger_link(self, obj):
        url = reverse("admin:inventory_stockmovement_changelist") + f"?stock_level__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("movements"))

    def get_urls(self):
        return [
            path("<int:pk>/adjust/", self.admin_site.admin_view(self.adjust_view), name="inventory_stocklevel_adjust"),
            path("<int:pk>/receive/", self.admin_site.admin_view(self.receive_view),
                 name="inventory_stocklevel_receive"),
            *super().get_urls(),
        ]

    def _stock_form_view(self, request, pk, form_class, title, run):
        if not request.user.has_perm("inventory.change_stocklevel"):
            raise PermissionDenied
        level = get_object_or_404(StockLevel.objects.select_related("variant", "warehouse"), pk=pk)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run(level, form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                self.message_user(request, _("Stock updated."), messages.SUCCESS)
                return redirect("admin:inventory_stocklevel_change", level.pk)
        context = {**self.admin_site.each_context(request), "title": title, "form": form, "level": level,
                   "opts": self.model._meta}
        return render(request, "admin/inventory/stocklevel/stock_form.html", context)

    def adjust_view(self, request, pk):
        return self._stock_form_view(request, pk, AdjustForm, _("Adjust stock"), lambda level, data: (
            services.stock_adjust(variant_id=level.variant_id, warehouse_id=level.warehouse_id,
                                  quantity=data["quantity"], reason=data["reason"], actor=request.user)))

    def receive_view(self, request, pk):
        return self._stock_form_view(request, pk, ReceiveForm, _("Receive stock"), lambda level, data: (
            services.stock_receive(variant_id=level.variant_id, warehouse_id=level.warehouse_id,
                                   quantity=data["quantity"], reference=data["reference"], actor=request.user)))

    @admin.action(description=_("Request the suggested transfers for the selected low stock"),
                  permissions=["change"])
    def request_suggested_transfers(self, request, queryset):
        selected = set(queryset.values_list("pk", flat=True))
        wanted = {(lvl.variant_id, lvl.warehouse_id) for lvl in StockLevel.objects.filter(pk__in=selected)}
        created = 0
        for suggestion in transfer_suggestions():
            if (suggestion["variant_id"], suggestion["destination_id"]) in wanted:
                services.transfer_request(source_id=suggestion["source_id"], destination_id=suggestion["destination_id"],
                                          lines=[(suggestion["variant_id"], suggestion["quantity"])],
                                          reason=str(_("Suggested: low stock")), actor=request.user)
                created += 1
        self.message_user(request, _("%(n)d transfers requested.") % {"n": created},
                          messages.SUCCESS if created else messages.WARNING)


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "sku", "warehouse", "kind", "bucket", "quantity", "balance_after", "reference",
                    "reason", "actor"]
    list_filter = ["kind", "bucket", "stock_level__warehouse"]
    search_fields = ["stock_level__variant__sku", "reference", "reason"]
    date_hierarchy = "created_at"
    list_select_related = ["stock_level__variant", "stock_level__warehouse", "actor"]

    @admin.display(description=_("SKU"))
    def sku(self, obj):
        return obj.stock_level.variant.sku

    @admin.display(description=_("warehouse"))
    def warehouse(self, obj):
        return obj.stock_level.warehouse.code


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["reference", "variant", "stock_level", "quantity", "expires_at", "created_at"]
    search_fields = ["reference", "variant__sku"]
    list_select_related = ["variant", "stock_level__warehouse", "stock_level__variant"]


@admin.register(ReorderRule)
class ReorderRuleAdmin(admin.ModelAdmin):
    list_display = ["stock_level", "supplier", "reorder_point", "reorder_quantity", "lead_time_days", "is_active"]
    list_filter = ["supplier", "is_active"]
    search_fields = ["stock_level__variant__sku"]
    autocomplete_fields = ["supplier"]
    raw_id_fields = ["stock_level"]
    list_select_related = ["stock_level__variant", "stock_level__warehouse", "supplier"]


class TransitionButtonsMixin:
    """Transition buttons on the change form; each runs the service named in `transitions`
    (method name → (label, service call)). Only transitions allowed from the current state
    are shown, and only to users with the change permission."""

    change_form_template = "admin/inventory/transition_change_form.html"
    transitions: dict = {}

    def get_urls(self):
        meta = self.model._meta
        return [
            path("<int:pk>/transition/<str:name>/", self.admin_site.admin_view(self.transition_view),
                 name=f"{meta.app_label}_{meta.model_name}_run_transition"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        buttons = []
        if obj is not None and self.has_change_permission(request, obj):
            meta = self.model._meta
            for name, (label, _call) in self.transitions.items():
                if django_fsm.can_proceed(getattr(obj, name)):
                    buttons.append((label, reverse(f"admin:{meta.app_label}_{meta.model_name}_run_transition",
                                                   args=[obj.pk, name])))
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "transition_buttons": buttons})

    def transition_view(self, request, pk, name):
        obj = get_object_or_404(self.model, pk=pk)
        if request.method != "POST" or name not in self.transitions or not self.has_change_permission(request, obj):
            raise PermissionDenied
        try:
            self.transitions[name][1](pk=obj.pk, actor=request.user)
        except DomainError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
        else:
            self.message_user(request, _("Done: %(action)s.") % {"action": self.transitions[name][0]}, messages.SUCCESS)
        meta = self.model._meta
        return redirect(f"admin:{meta.app_label}_{meta.model_name}_change", obj.pk)


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0
    fields = ["variant", "quantity_ordered", "quantity_received", "lead_time_days"]
    readonly_fields = ["quantity_received"]
    raw_id_fields = ["variant"]

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.status == PurchaseOrder.Status.DRAFT

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(TransitionButtonsMixin, admin.ModelAdmin):
    list_display = ["number", "supplier", "warehouse", "status", "expected_on", "created_at"]
    list_filter = ["status", "supplier", "warehouse"]
    search_fields = ["number", "supplier__name"]
    readonly_fields = ["number", "status", "expected_on", "created_by", "created_at"]
    inlines = [PurchaseOrderLineInline, StateLogInline]
    autocomplete_fields = ["supplier"]
    transitions = {
        "send": (_("Send to supplier"),
                 lambda pk, actor: services.purchase_order_send(purchase_order_id=pk, actor=actor)),
        "receive_fully": (_("Receive everything outstanding"),
                          lambda pk, actor: services.purchase_order_receive(purchase_order_id=pk, actor=actor)),
        "cancel": (_("Cancel"), lambda pk, actor: services.purchase_order_cancel(purchase_order_id=pk, actor=actor)),
    }

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class StockTransferLineInline(admin.TabularInline):
    model = StockTransferLine
    extra = 0
    raw_id_fields = ["variant"]

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.status == StockTransfer.Status.REQUESTED

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


class StockTransferForm(forms.ModelForm):
    class Meta:
        model = StockTransfer
        fields = ["source", "destination", "reason"]


@admin.register(StockTransfer)
class StockTransferAdmin(TransitionButtonsMixin, admin.ModelAdmin):
    form = StockTransferForm
    list_display = ["number", "source", "destination", "status", "reason", "created_at"]
    list_filter = ["status", "source", "destination"]
    readonly_fields = ["status", "requested_by", "created_at"]
    inlines = [StockTransferLineInline, StateLogInline]
    transitions = {
        "dispatch": (_("Dispatch (units leave the source)"),
                     lambda pk, actor: services.transfer_dispatch(transfer_id=pk, actor=actor)),
        "receive": (_("Receive at destination"),
                    lambda pk, actor: services.transfer_receive(transfer_id=pk, actor=actor)),
        "cancel": (_("Cancel"), lambda pk, actor: services.transfer_cancel(transfer_id=pk, actor=actor)),
    }

    def save_model(self, request, obj, form, change):
        if not change:
            obj.requested_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(BackInStockSubscription)
class BackInStockSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["customer", "variant", "status", "created_at", "notified_at"]
    list_filter = ["status"]
    search_fields = ["variant__sku", "customer__user__email"]
    raw_id_fields = ["customer", "variant"]
    list_select_related = ["customer__user", "variant"]
    readonly_fields = ["status", "notified_at"]
