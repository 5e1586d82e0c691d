import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

ZERO = Decimal("0.00")


def _cart_token() -> str:
    return secrets.token_urlsafe(24)


# Crockford's base32 without look-alikes: order numbers are read out on the phone.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_number() -> str:
    """Random, not sequential: it does not leak order volumes and is not guessable, and
    concurrent checkouts share no counter row to queue on."""
    return "SA-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))


class ShippingMethod(models.Model):
    """A way to ship (carrier + service), priced and timed per destination region."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    carrier = models.CharField(_("carrier"), max_length=60)
    tracking_url_template = models.CharField(
        _("tracking URL template"), max_length=300, blank=True, help_text=_("e.g. https://track.example/{tracking}")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("shipping method")
        verbose_name_plural = _("shipping methods")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ShippingRate(models.Model):
    """Price and carrier transit days of a method to one region ("" = everywhere else)."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="rates")
    region = models.CharField(_("region"), max_length=50, blank=True)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(ZERO)])
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    transit_days = models.PositiveSmallIntegerField(_("transit days (business)"))

    class Meta:
        verbose_name = _("shipping rate")
        verbose_name_plural = _("shipping rates")
        constraints = [models.UniqueConstraint(fields=["method", "region", "currency"], name="shipping_rate_unique")]

    def __str__(self):
        return f"{self.method} → {self.region or '*'}"


class Holiday(models.Model):
    """A day no parcel moves (in one region, or everywhere when region is empty)."""

    date = models.DateField(_("date"))
    region = models.CharField(_("region"), max_length=50, blank=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["date", "region"], name="holiday_unique")]

    def __str__(self):
        return f"{self.date} {self.name}"


class Cart(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ORDERED = "ordered", _("Ordered")

    customer = models.ForeignKey("customers.CustomerProfile", on_delete=models.CASCADE, related_name="carts")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    # Restores the cart from a link (reminder emails); not a login.
    token = models.CharField(max_length=64, unique=True, default=_cart_token, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("last change"), default=timezone.now)
    reserved_until = models.DateTimeField(_("stock reserved until"), null=True, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    order = models.OneToOneField("Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="cart")

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            # One open cart per customer: "my cart" is never ambiguous.
            models.UniqueConstraint(fields=["customer"], condition=Q(status="open"), name="one_open_cart_per_customer"),
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="cart_status_updated_idx")]

    def __str__(self):
        return f"Cart {self.pk} ({self.customer})"

    @property
    def stock_reference(self) -> str:
        return f"cart:{self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    price_source = models.CharField(_("price source"), max_length=200, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.variant_id}"

    @property
    def line_total(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"))


class Order(ConcurrentTransitionMixin, models.Model):
    """An order. Status changes only through orders.services (the FSM field is protected)."""

    class Status(models.TextChoices):
        PLACED = "placed", _("Placed")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        ON_HOLD = "on_hold", _("On hold")
        CONFIRMED = "confirmed", _("Confirmed")
        PROCESSING = "processing", _("Processing")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class PaymentMethod(models.TextChoices):
        INVOICE = "invoice", _("Invoice on payment terms")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CARD = "card", _("Card")

    class PaymentStatus(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        INVOICED = "invoiced", _("Invoiced (on terms)")
        PAID = "paid", _("Paid")
        REFUNDED = "refunded", _("Refunded")

    CANCELLABLE = [Status.PLACED, Status.AWAITING_APPROVAL, Status.ON_HOLD, Status.CONFIRMED, Status.PROCESSING]

    number = models.CharField(_("number"), max_length=20, unique=True, default=new_order_number, editable=False)
    customer = models.ForeignKey("customers.CustomerProfile", on_delete=models.PROTECT, related_name="orders")
    company = models.ForeignKey("customers.Company", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="orders")
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.PLACED, protected=True)
    payment_method = models.CharField(_("payment method"), max_length=20, choices=PaymentMethod.choices)
    payment_status = models.CharField(_("payment status"), max_length=20, choices=PaymentStatus.choices,
                                      default=PaymentStatus.PENDING)
    currency = models.CharField(_("currency"), max_length=3)
    subtotal = models.DecimalField(_("subtotal"), max_digits=12, decimal_places=2)
    shipping_total = models.DecimalField(_("shipping"), max_digits=12, decimal_places=2, default=ZERO)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    po_number = models.CharField(_("PO number"), max_length=60, blank=True)
    email = models.EmailField(_("email"))
    shipping_address = models.JSONField(_("shipping address"), default=dict)
    region = models.CharField(_("region"), max_length=50, blank=True)
    shipping_method = models.ForeignKey(ShippingMethod, null=True, on_delete=models.PROTECT, related_name="orders")
    estimated_delivery = models.DateField(_("estimated delivery"), null=True, blank=True)
    allocation_plan = models.JSONField(_("allocation plan"), default=list, blank=True)
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now, db_index=True)
    payment_due_at = models.DateTimeField(_("pay by"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approval_reminded_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)

    event_prefix = "order"

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "placed_at"], name="order_status_placed_idx"),
            models.Index(fields=["customer", "-placed_at"], name="order_customer_idx"),
        ]
        permissions = [
            ("approve_order", _("Can approve orders for a company")),
            ("ship_order", _("Can ship orders")),
            ("cancel_order", _("Can cancel orders")),
            ("hold_order", _("Can put orders on hold and release them")),
            ("mark_order_paid", _("Can mark orders as paid")),
        ]

    def __str__(self):
        return self.number

    @property
    def stock_reference(self) -> str:
        return f"order:{self.number}"

    # --- transitions: pure (guard + state + same-row fields); services do the rest ---
    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.PLACED, target=Status.AWAITING_APPROVAL)
    def request_approval(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.AWAITING_APPROVAL, target=Status.PLACED)
    def approve(self, by=None, description=None):
        self.approved_by = by

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.PLACED, target=Status.ON_HOLD)
    def hold(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.ON_HOLD, target=Status.PLACED)
    def release(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.PLACED, target=Status.CONFIRMED)
    def confirm(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.CONFIRMED, target=Status.PROCESSING)
    def start_processing(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[Status.CONFIRMED, Status.PROCESSING], target=Status.SHIPPED)
    def ship(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.SHIPPED, target=Status.DELIVERED)
    def deliver(self, by=None, description=None):
        self.delivered_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.DELIVERED, target=Status.COMPLETED)
    def complete(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=CANCELLABLE, target=Status.CANCELLED)
    def cancel(self, by=None, description=None):
        self.cancel_reason = str(description or "")[:300]

    def transition_event_name(self, *, name: str, source: str, target: str) -> str:
        """Back to `placed` after an approval or a released hold is not a new order:
        it gets its own event, so "order placed" mails and rules fire once."""
        return {"approve": "order.approved", "release": "order.released"}.get(name, f"order.{target}")

    def event_payload(self) -> dict:
        from .selectors import order_payload

        return order_payload(self)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=250)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    price_source = models.CharField(_("price source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive")]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"


class Shipment(models.Model):
    """A parcel leaving one warehouse. An order ships in one or more of them."""

    class Status(models.TextChoices):
        READY = "ready", _("Ready")
        IN_TRANSIT = "in_transit", _("In transit")
        OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
        DELIVERED = "delivered", _("Delivered")
        EXCEPTION = "exception", _("Delivery problem")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    warehouse_id = models.PositiveIntegerField(_("warehouse"), null=True, blank=True)
    warehouse_name = models.CharField(_("warehouse"), max_length=100, blank=True)
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True, db_index=True)
    tracking_url = models.URLField(_("tracking link"), max_length=400, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.IN_TRANSIT)
    lines = models.JSONField(_("lines"), default=list, help_text=_('[{"variant_id", "sku", "quantity"}]'))
    shipped_at = models.DateTimeField(_("shipped at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_tracking_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["shipped_at", "pk"]

    def __str__(self):
        return f"{self.order.number} · {self.carrier} {self.tracking_number}".strip()


class Payment(models.Model):
    """Money received (or refunded) for an order, from staff, a payment webhook or a provider."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PAYMENT)
    method = models.CharField(_("method"), max_length=20, choices=Order.PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    reference = models.CharField(_("reference"), max_length=120, blank=True,
                                 help_text=_("Bank or provider reference; unique per method."))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            # A webhook delivered twice records one payment.
            models.UniqueConstraint(fields=["method", "reference"], condition=~Q(reference=""),
                                    name="payment_reference_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount} {self.currency}"


class IdempotencyKey(models.Model):
    """`Idempotency-Key` of an order-creating API call: same key + same body → the same
    order and response; same key + another body → 409."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    order = models.ForeignKey(Order, null=True, on_delete=models.CASCADE, related_name="+")
    response_status = models.PositiveSmallIntegerField(default=201)
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")]

    def __str__(self):
        return self.key
