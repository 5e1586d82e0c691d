"""Stock: warehouses, stock levels, reservations, the movement ledger, reordering,
purchase orders, transfers and back-in-stock subscriptions.

Invariants (enforced by the database, not only by the code):
- a StockLevel never has negative `on_hand`, `reserved` or `quarantined`, and `reserved <= on_hand`;
- `reserved` is the sum of the Reservation rows of that stock level (services keep them together,
  always under the stock level's row lock);
- the StockMovement ledger of a stock level sums to its `on_hand` (bucket "sellable") and to its
  `quarantined` (bucket "quarantine").
"""

from datetime import date, datetime, time

import django_fsm
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm_log.decorators import fsm_log_by, fsm_log_description


class Warehouse(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=120)
    region = models.CharField(
        _("region"), max_length=50, db_index=True,
        help_text=_("Shipping region this warehouse serves fastest, e.g. EU-SOUTH (matches Address.region)."),
    )
    cutoff_time = models.TimeField(
        _("cut-off time"), default=time(15, 0),
        help_text=_("Orders allocated before this local time are handled today."),
    )
    handling_days = models.PositiveSmallIntegerField(_("handling days"), default=1)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.region})"

    def ship_days(self, *, region: str | None, now: datetime | None = None) -> int:
        """Days until a line allocated now reaches `region`: handling (+1 after the cut-off)
        and transit (same region or cross-region, settings INVENTORY_TRANSIT_DAYS_*)."""
        now = timezone.localtime(now or timezone.now())
        days = self.handling_days + (1 if now.time() >= self.cutoff_time else 0)
        if region and region != self.region:
            days += getattr(settings, "INVENTORY_TRANSIT_DAYS_CROSS_REGION", 5)
        else:
            days += getattr(settings, "INVENTORY_TRANSIT_DAYS_SAME_REGION", 1)
        return days


class StockLevel(models.Model):
    """One row per (variant, warehouse). Written only by inventory.services."""

    variant = models.ForeignKey("catalog.Variant", verbose_name=_("variant"), on_delete=models.PROTECT,
                                related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT,
                                  related_name="stock_levels")
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    quarantined = models.IntegerField(_("quarantined"), default=0,
                                      help_text=_("Returned units waiting for inspection: not sellable."))
    # Set when availability crosses the reorder point (stock.low emitted), cleared when it
    # goes back above: one alert per crossing, not one per sale.
    low_stock_alerted = models.BooleanField(_("low-stock alert sent"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
        ordering = ["variant__sku", "warehouse__code"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "warehouse"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
            models.CheckConstraint(condition=Q(quarantined__gte=0), name="stock_quarantined_not_negative"),
        ]

    def __str__(self):
        return f"{self.variant.sku} @ {self.warehouse.code}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """The ledger: append-only. `quantity` is the signed change of the bucket."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        SALE = "sale", _("Sale")
        RETURN = "return", _("Return")
        ADJUSTMENT = "adjustment", _("Adjustment")
        TRANSFER = "transfer", _("Transfer")

    class Bucket(models.TextChoices):
        SELLABLE = "sellable", _("Sellable (on hand)")
        QUARANTINE = "quarantine", _("Quarantine")

    stock_level = models.ForeignKey(StockLevel, verbose_name=_("stock level"), on_delete=models.PROTECT,
                                    related_name="movements")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    bucket = models.CharField(_("bucket"), max_length=12, choices=Bucket.choices, default=Bucket.SELLABLE)
    quantity = models.IntegerField(_("quantity"), help_text=_("Signed change: + in, - out."))
    balance_after = models.IntegerField(_("balance after"))
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True,
                                 help_text=_("e.g. PO-00012, order:SA-1001, TR-00003"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="stock_movement_not_zero")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.quantity:+d} {self.stock_level_id}"


class Reservation(models.Model):
    """Units held for a reference ("cart:12", "order:SA-1001"). `expires_at` empty: a firm
    allocation (until shipped or released)."""

    reference = models.CharField(_("reference"), max_length=64, db_index=True)
    stock_level = models.ForeignKey(StockLevel, verbose_name=_("stock level"), on_delete=models.PROTECT,
                                    related_name="reservations")
    variant = models.ForeignKey("catalog.Variant", verbose_name=_("variant"), on_delete=models.PROTECT,
                                related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["id"]
        indexes = [models.Index(fields=["variant", "expires_at"], name="reservation_expiry_idx")]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive")]

    def __str__(self):
        return f"{self.reference}: {self.quantity} × {self.variant_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class Supplier(models.Model):
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ReorderRule(models.Model):
    """When a stock level's availability falls to `reorder_point`, order `reorder_quantity`
    from `supplier` (one alert and one drafted purchase order per crossing)."""

    stock_level = models.OneToOneField(StockLevel, verbose_name=_("stock level"), on_delete=models.CASCADE,
                                       related_name="reorder_rule")
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT,
                                 related_name="reorder_rules")
    reorder_point = models.PositiveIntegerField(_("reorder point"))
    reorder_quantity = models.PositiveIntegerField(_("reorder quantity"))
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), null=True, blank=True,
                                                      help_text=_("Empty: the supplier's lead time."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reorder rule")
        verbose_name_plural = _("reorder rules")
        constraints = [models.CheckConstraint(condition=Q(reorder_quantity__gt=0), name="reorder_quantity_positive")]

    def __str__(self):
        return f"{self.stock_level}: ≤ {self.reorder_point} → {self.reorder_quantity}"

    @property
    def effective_lead_time_days(self) -> int:
        return self.lead_time_days if self.lead_time_days is not None else self.supplier.lead_time_days


class PurchaseOrder(django_fsm.ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        PARTIALLY_RECEIVED = "partially_received", _("Partially received")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    event_prefix = "purchase_order"

    number = models.CharField(_("number"), max_length=20, unique=True, blank=True)
    supplier = models.ForeignKey(Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT,
                                 related_name="purchase_orders")
    warehouse = models.ForeignKey(Warehouse, verbose_name=_("deliver to"), on_delete=models.PROTECT,
                                  related_name="purchase_orders")
    status = django_fsm.FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.DRAFT,
                                 protected=True, db_index=True)
    expected_on = models.DateField(_("expected on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        ordering = ["-id"]

    def __str__(self):
        return self.number or f"PO #{self.pk}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if not self.number:  # numbered from the primary key, however the row was created
            self.number = f"PO-{self.pk:05d}"
            type(self).objects.filter(pk=self.pk).update(number=self.number)

    def event_payload(self) -> dict:
        return {"number": self.number, "supplier": self.supplier.name, "supplier_id": self.supplier_id,
                "warehouse": self.warehouse.code, "status": self.status}

    @fsm_log_by
    @fsm_log_description
    @django_fsm.transition(field=status, source=Status.DRAFT, target=Status.SENT)
    def send(self, *, expected_on: date | None = None, by=None, description=None):
        self.expected_on = expected_on

    @fsm_log_by
    @fsm_log_description
    @django_fsm.transition(field=status, source=[Status.SENT, Status.PARTIALLY_RECEIVED],
                           target=Status.PARTIALLY_RECEIVED)
    def receive_partially(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @django_fsm.transition(field=status, source=[Status.SENT, Status.PARTIALLY_RECEIVED], target=Status.RECEIVED)
    def receive_fully(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @django_fsm.transition(field=status, source=[Status.DRAFT, Status.SENT], target=Status.CANCELLED)
    def cancel(self, *, by=None, description=None):
        pass


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", verbose_name=_("variant"), on_delete=models.PROTECT,
                                related_name="+")
    quantity_ordered = models.PositiveIntegerField(_("ordered"))
    quantity_received = models.PositiveIntegerField(_("received"), default=0)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=7)

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "variant"], name="po_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity_ordered__gt=0), name="po_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.variant_id} × {self.quantity_ordered}"

    @property
    def outstanding(self) -> int:
        return max(self.quantity_ordered - self.quantity_received, 0)


class StockTransfer(django_fsm.ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        IN_TRANSIT = "in_transit", _("In transit")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", _("Cancelled")

    event_prefix = "stock_transfer"

    source = models.ForeignKey(Warehouse, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(Warehouse, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    status = django_fsm.FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED,
                                 protected=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("stock transfer")
        verbose_name_plural = _("stock transfers")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=~Q(source=F("destination")), name="transfer_two_warehouses")]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"TR-{self.pk:05d}" if self.pk else "TR-new"

    def event_payload(self) -> dict:
        return {"number": self.number, "source": self.source.code, "destination": self.destination.code,
                "status": self.status}

    @fsm_log_by
    @fsm_log_description
    @django_fsm.transition(field=status, source=Status.REQUESTED, target=Status.IN_TRANSIT)
    def dispatch(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @django_fsm.transition(field=status, source=Status.IN_TRANSIT, target=Status.RECEIVED)
    def receive(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @django_fsm.transition(field=status, source=Status.REQUESTED, target=Status.CANCELLED)
    def cancel(self, *, by=None, description=None):
        pass


class StockTransferLine(models.Model):
    transfer = models.ForeignKey(StockTransfer, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", verbose_name=_("variant"), on_delete=models.PROTECT,
                                related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        constraints = [
            models.UniqueConstraint(fields=["transfer", "variant"], name="transfer_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.variant_id} × {self.quantity}"


class BackInStockSubscription(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        NOTIFIED = "notified", _("Notified")

    customer = models.ForeignKey("customers.CustomerProfile", verbose_name=_("customer"), on_delete=models.CASCADE,
                                 related_name="back_in_stock_subscriptions")
    variant = models.ForeignKey("catalog.Variant", verbose_name=_("variant"), on_delete=models.CASCADE,
                                related_name="back_in_stock_subscriptions")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(_("subscribed at"), default=timezone.now)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("back-in-stock subscription")
        verbose_name_plural = _("back-in-stock subscriptions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "variant"], condition=Q(status="waiting"),
                                    name="one_waiting_subscription_per_variant"),
        ]
        indexes = [models.Index(fields=["variant", "id"], condition=Q(status="waiting"),
                                name="subscription_waiting_idx")]

    def __str__(self):
        return f"{self.customer} ← {self.variant_id} ({self.status})"
