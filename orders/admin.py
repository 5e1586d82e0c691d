from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_fsm_log.admin import StateLogInline

from shopauto.admin_transitions import TransitionAction, TransitionButtonsMixin
from shopauto.exceptions import DomainError

from . import services
from .models import Cart, CartLine, Holiday, Order, OrderLine, Payment, Shipment, ShippingMethod, ShippingRate
from .pdf import packing_slips_pdf

A = TransitionAction
# Transition buttons: label, service call (order, user, note), permission, FSM guard.
ORDER_ACTIONS = {
    "approve": A(_("Approve"), lambda o, u, r: services.order_approve(order_id=o.pk, actor=u),
                 "orders.approve_order", "approve"),
    "hold": A(_("Put on hold"), lambda o, u, r: services.order_hold(order_id=o.pk, actor=u, reason=r),
              "orders.hold_order", "hold"),
    "release": A(_("Release hold"), lambda o, u, r: services.order_release(order_id=o.pk, actor=u),
                 "orders.hold_order", "release"),
    "confirm": A(_("Confirm"), lambda o, u, r: services.order_confirm(order_id=o.pk, actor=u),
                 "orders.change_order", "confirm"),
    "start_processing": A(_("Start processing"),
                          lambda o, u, r: services.order_start_processing(order_id=o.pk, actor=u),
                          "orders.ship_order", "start_processing"),
    "ship": A(_("Ship"), lambda o, u, r: services.order_ship(order_id=o.pk, actor=u, tracking_number=r),
              "orders.ship_order", "ship"),
    # Not a status change: no guard; see OrderAdmin.transition_allowed.
    "mark_paid": A(_("Mark paid (full amount)"),
                   lambda o, u, r: services.order_mark_paid(order_id=o.pk, actor=u, amount=o.total, reference=r),
                   "orders.mark_order_paid"),
    "cancel": A(_("Cancel"), lambda o, u, r: services.order_cancel(order_id=o.pk, actor=u, reason=r),
                "orders.cancel_order", "cancel"),
}


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "name", "quantity", "unit_price", "line_total", "price_source"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class ShipmentInline(admin.TabularInline):
    model = Shipment
    extra = 0
    can_delete = False
    readonly_fields = ["warehouse_name", "carrier", "tracking_number", "status", "shipped_at", "delivered_at"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "method", "amount", "currency", "reference", "received_at", "recorded_by"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(TransitionButtonsMixin, admin.ModelAdmin):
    transition_actions = ORDER_ACTIONS
    transition_note_placeholder = _("Reason / tracking number / payment reference (optional)")
    list_display = ["number", "customer", "company", "status", "payment_status", "total_display", "placed_at",
                    "estimated_delivery"]
    list_filter = ["status", "payment_status", "payment_method", "company", "shipping_method"]
    search_fields = ["number", "email", "po_number", "customer__user__email", "company__name",
                     "shipments__tracking_number"]
    date_hierarchy = "placed_at"
    list_select_related = ["customer__user", "company"]
    readonly_fields = ["number", "customer", "company", "status", "payment_method", "payment_status", "currency",
                       "subtotal", "shipping_total", "total", "po_number", "email", "shipping_address", "region",
                       "shipping_method", "estimated_delivery", "allocation_plan", "placed_at", "payment_due_at",
                       "approved_by", "delivered_at", "cancel_reason", "tags", "transition_buttons"]
    fieldsets = [
        (None, {"fields": ["number", "status", "transition_buttons", "customer", "company", "email", "po_number"]}),
        (_("Money"), {"fields": ["currency", "subtotal", "shipping_total", "total", "payment_method",
                                 "payment_status", "payment_due_at"]}),
        (_("Delivery"), {"fields": ["shipping_address", "region", "shipping_method", "estimated_delivery",
                                    "allocation_plan", "delivered_at"]}),
        (_("History"), {"fields": ["placed_at", "approved_by", "cancel_reason", "tags"]}),
    ]
    inlines = [OrderLineInline, ShipmentInline, PaymentInline, StateLogInline]
    actions = ["bulk_start_processing", "print_packing_slips"]

    def has_add_permission(self, request):
        return False  # orders come from checkout, the API and quotes, through the services

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, obj):
        return f"{obj.total} {obj.currency}"

    def transition_allowed(self, request, order, name):
        if name == "mark_paid":
            return order.payment_status != Order.PaymentStatus.PAID and order.status != Order.Status.CANCELLED
        return True

    @admin.action(description=_("Start processing the selected orders"), permissions=["ship"])
    def bulk_start_processing(self, request, queryset):
        done, failed = 0, []
        for order in queryset:
            try:
                services.order_start_processing(order_id=order.pk, actor=request.user)
                done += 1
            except DomainError as error:
                failed.append(f"{order.number}: {error.message}")
        self.message_user(request, ngettext("%d order is now processing.", "%d orders are now processing.", done)
                          % done, messages.SUCCESS)
        for problem in failed:
            self.message_user(request, problem, messages.WARNING)

    @admin.action(description=_("Print packing slips (PDF)"), permissions=["view"])
    def print_packing_slips(self, request, queryset):
        return packing_slips_pdf(queryset.prefetch_related("lines"), filename="packing-slips.pdf")

    def has_ship_permission(self, request):
        return request.user.has_perm("orders.ship_order")


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    extra = 1


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "carrier", "is_active"]
    inlines = [ShippingRateInline]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "region", "name"]
    list_filter = ["region"]


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    readonly_fields = ["variant", "quantity", "unit_price", "price_source", "added_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["pk", "customer", "status", "updated_at", "reserved_until", "reminders_sent", "order"]
    list_filter = ["status", "reminders_sent"]
    search_fields = ["customer__user__email"]
    readonly_fields = ["customer", "status", "currency", "created_at", "updated_at", "reserved_until",
                       "reminders_sent", "order"]
    exclude = ["token"]
    inlines = [CartLineInline]
    list_select_related = ["customer__user", "order"]

    def has_add_permission(self, request):
        return False
