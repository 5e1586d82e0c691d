"""Returns: the policy staff edit, return requests (RMA) with their state machine, and
the store credit ledger. Transitions are pure; returns.services does everything else."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

ZERO = Decimal("0.00")
# Crockford's base32 without look-alikes (as order numbers): read out on the phone.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_rma() -> str:
    return "RMA-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


class Reason(models.TextChoices):
    DAMAGED = "damaged", _("Arrived damaged")
    DEFECTIVE = "defective", _("Does not work")
    WRONG_ITEM = "wrong_item", _("Wrong item sent")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    SIZE_FIT = "size_fit", _("Wrong size or fit")
    CHANGED_MIND = "changed_mind", _("Changed my mind")
    OTHER = "other", _("Other")


# The shop's fault: no restocking fee (default of ReturnPolicy.fee_exempt_reasons).
SHOP_FAULT_REASONS = [Reason.DAMAGED, Reason.DEFECTIVE, Reason.WRONG_ITEM, Reason.NOT_AS_DESCRIBED]


def _default_inspection_reasons():
    return [Reason.DAMAGED.value, Reason.DEFECTIVE.value, Reason.NOT_AS_DESCRIBED.value]


def _default_fee_exempt_reasons():
    return [reason.value for reason in SHOP_FAULT_REASONS]


class Resolution(models.TextChoices):
    REFUND = "refund", _("Refund")
    STORE_CREDIT = "store_credit", _("Store credit")
    EXCHANGE = "exchange", _("Exchange for another variant")


class ReturnPolicy(models.Model):
    """What may be returned and what the shop decides by itself. One policy is active."""

    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    window_days = models.PositiveIntegerField(
        _("return window (days from delivery)"), default=30,
        help_text=_("A product's or variant's own window (catalog), then a category rule, override this."))
    inspection_reasons = models.JSONField(
        _("reasons that need review"), default=_default_inspection_reasons, blank=True,
        help_text=_("Requests for these reasons wait for staff (e.g. to look at the photos) instead of being "
                    "approved automatically. Codes: damaged, defective, wrong_item, not_as_described, size_fit, "
                    "changed_mind, other."))
    auto_approve_max_value = models.DecimalField(
        _("maximum value approved automatically"), max_digits=12, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(ZERO)],
        help_text=_("Requests worth more (in the order's currency) wait for staff. Empty: no limit."))
    limit_count = models.PositiveIntegerField(
        _("returns per customer"), null=True, blank=True,
        help_text=_("At most this many return requests per customer in the period. Empty: no limit."))
    limit_period_days = models.PositiveIntegerField(_("limit period (days)"), default=365)
    restocking_fee_percent = models.DecimalField(
        _("restocking fee (%)"), max_digits=5, decimal_places=2, default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))])
    restocking_fee_fixed = models.DecimalField(_("restocking fee (fixed)"), max_digits=10, decimal_places=2,
                                               default=ZERO, validators=[MinValueValidator(ZERO)])
    fee_exempt_reasons = models.JSONField(
        _("reasons without a restocking fee"), default=_default_fee_exempt_reasons, blank=True,
        help_text=_("Usually the shop's fault: damaged, defective, wrong item, not as described."))
    non_returnable_products = models.ManyToManyField(
        "catalog.Product", blank=True, related_name="+", verbose_name=_("non-returnable products"),
        help_text=_("In addition to products and variants marked non-returnable in the catalog."))
    reminder_after_days = models.PositiveIntegerField(
        _("remind after (days)"), default=7,
        help_text=_("Remind the customer when nothing was shipped back this many days after approval."))
    close_after_days = models.PositiveIntegerField(
        _("close after (days)"), default=30,
        help_text=_("Close approved returns that were never shipped back after this many days."))
    instructions = models.TextField(
        _("return instructions"), blank=True,
        default="Pack the items with the printed packing slip inside and the label on the parcel, "
                "and hand it to any DHL point within 14 days.")
    return_address = models.TextField(_("return address"), blank=True,
                                      default="ShopAuto Returns\nCalle del Almacén 1\n28013 Madrid\nES")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("return policy")
        verbose_name_plural = _("return policies")
        constraints = [models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True),
                                               name="one_active_return_policy")]

    def __str__(self):
        return self.name


class CategoryReturnRule(models.Model):
    """A category's own window or non-returnability (applies to its sub-categories too)."""

    policy = models.ForeignKey(ReturnPolicy, on_delete=models.CASCADE, related_name="category_rules")
    category = models.ForeignKey("catalog.Category", on_delete=models.CASCADE, related_name="+",
                                 verbose_name=_("category"))
    window_days = models.PositiveIntegerField(_("return window (days)"), null=True, blank=True)
    returnable = models.BooleanField(_("returnable"), default=True)

    class Meta:
        verbose_name = _("category rule")
        verbose_name_plural = _("category rules")
        constraints = [models.UniqueConstraint(fields=["policy", "category"], name="category_return_rule_once")]

    def __str__(self):
        return str(self.category)


class ReturnRequest(ConcurrentTransitionMixin, models.Model):
    """A return (RMA). Status changes only through returns.services (the field is protected)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        IN_TRANSIT = "in_transit", _("Shipped back")
        RECEIVED = "received", _("Received")
        INSPECTED = "inspected", _("Inspected")
        REFUNDED = "refunded", _("Refunded")
        STORE_CREDIT = "store_credit", _("Store credit issued")
        EXCHANGED = "exchanged", _("Exchanged")
        CLOSED = "closed", _("Closed")

    class Decision(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        REVIEW = "review", _("Needs review")

    class Rule(models.TextChoices):
        NOT_RETURNABLE = "not_returnable", _("Non-returnable item")
        RETURN_WINDOW = "return_window", _("Return window")
        CUSTOMER_LIMIT = "customer_limit", _("Returns per customer")
        NEEDS_INSPECTION = "needs_inspection", _("Reason needs review")
        VALUE_THRESHOLD = "value_threshold", _("Value above automatic approval")
        WITHIN_POLICY = "within_policy", _("Within policy")
        STAFF = "staff", _("Staff decision")

    RESOLVED = [Status.REFUNDED, Status.STORE_CREDIT, Status.EXCHANGED]
    # Still counting against what may be returned of an order line.
    OPEN_OR_DONE = [Status.REQUESTED, Status.APPROVED, Status.IN_TRANSIT, Status.RECEIVED, Status.INSPECTED,
                    Status.REFUNDED, Status.STORE_CREDIT, Status.EXCHANGED]

    rma = models.CharField(_("RMA number"), max_length=20, unique=True, default=new_rma, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns",
                              verbose_name=_("order"))
    customer = models.ForeignKey("customers.CustomerProfile", on_delete=models.PROTECT, related_name="returns",
                                 verbose_name=_("customer"))
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED, protected=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    resolution = models.CharField(_("resolution wanted"), max_length=20, choices=Resolution.choices)
    comments = models.TextField(_("comments"), blank=True, max_length=2000)
    currency = models.CharField(_("currency"), max_length=3)
    items_value = models.DecimalField(_("value of the items"), max_digits=12, decimal_places=2, default=ZERO)
    restocking_fee = models.DecimalField(_("restocking fee"), max_digits=12, decimal_places=2, default=ZERO)
    refund_amount = models.DecimalField(_("amount to refund or credit"), max_digits=12, decimal_places=2,
                                        default=ZERO)
    policy = models.ForeignKey(ReturnPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(_("policy decision"), max_length=10, choices=Decision.choices)
    decision_rule = models.CharField(_("deciding rule"), max_length=20, choices=Rule.choices)
    decision_message = models.CharField(_("decision shown to the customer"), max_length=500, blank=True)
    tracking_number = models.CharField(_("return tracking number"), max_length=100, blank=True)
    inspection_notes = models.TextField(_("inspection notes"), blank=True)
    exchange_order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+", verbose_name=_("exchange order"))
    created_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped back at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    event_prefix = "return"

    class Meta:
        verbose_name = _("return request")
        verbose_name_plural = _("return requests")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "approved_at"], name="return_status_approved_idx"),
                   models.Index(fields=["customer", "-created_at"], name="return_customer_idx")]
        permissions = [
            ("review_returnrequest", _("Can approve or reject return requests")),
            ("receive_returnrequest", _("Can receive and inspect returns")),
            ("resolve_returnrequest", _("Can refund, credit or exchange returns")),
        ]

    def __str__(self):
        return self.rma

    @property
    def stock_reference(self) -> str:
        return f"return:{self.rma}"

    # --- transitions: pure (guard + state + same-row fields); services do the rest ---
    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.REQUESTED, target=Status.APPROVED)
    def approve(self, by=None, description=None):
        self.approved_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.REQUESTED, target=Status.REJECTED)
    def reject(self, by=None, description=None):
        self.decision_message = str(description or "")[:500]

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.APPROVED, target=Status.IN_TRANSIT)
    def ship(self, by=None, description=None):
        self.shipped_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[Status.APPROVED, Status.IN_TRANSIT], target=Status.RECEIVED)
    def receive(self, by=None, description=None):
        self.received_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.RECEIVED, target=Status.INSPECTED)
    def inspect(self, by=None, description=None):
        self.inspection_notes = str(description or "")

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.INSPECTED, target=Status.REFUNDED)
    def refund(self, by=None, description=None):
        self.resolved_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.INSPECTED, target=Status.STORE_CREDIT)
    def credit(self, by=None, description=None):
        self.resolved_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.INSPECTED, target=Status.EXCHANGED)
    def exchange(self, by=None, description=None):
        self.resolved_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    # From inspected too: nothing accepted, nothing to pay back.
    @transition(field=status, source=[Status.APPROVED, Status.INSPECTED, *RESOLVED], target=Status.CLOSED)
    def close(self, by=None, description=None):
        self.closed_at = timezone.now()

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[Status.REQUESTED, Status.APPROVED], target=Status.CLOSED)
    def withdraw(self, by=None, description=None):
        self.closed_at = timezone.now()

    def event_payload(self) -> dict:
        from .selectors import return_payload

        return return_payload(self)


class ReturnLine(models.Model):
    class Condition(models.TextChoices):
        RESELLABLE = "resellable", _("Accepted, back to stock")
        DAMAGED = "damaged", _("Accepted, damaged (quarantine)")
        REFUSED = "refused", _("Not accepted (quarantine, not refunded)")

    ACCEPTED = [Condition.RESELLABLE, Condition.DAMAGED]

    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="return_lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=250)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price paid"), max_digits=12, decimal_places=2)
    replacement_variant = models.ForeignKey("catalog.Variant", null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="+", verbose_name=_("replacement"))
    warehouse_id = models.PositiveIntegerField(_("received at warehouse"), null=True, blank=True)
    condition = models.CharField(_("condition"), max_length=12, choices=Condition.choices, blank=True)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="return_line_quantity_positive")]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"

    @property
    def value(self) -> Decimal:
        return self.unit_price * self.quantity


def _photo_path(instance, filename):
    return f"returns/{instance.request.rma}/{secrets.token_hex(8)}-{filename[-60:]}"


class ReturnPhoto(models.Model):
    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to=_photo_path)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self):
        return self.image.name


class StoreCreditEntry(models.Model):
    """The store credit ledger: a customer's balance per currency is the sum of entries
    (credits positive, spending negative). One credit per return at most."""

    customer = models.ForeignKey("customers.CustomerProfile", on_delete=models.PROTECT,
                                 related_name="store_credit_entries", verbose_name=_("customer"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    return_request = models.ForeignKey(ReturnRequest, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="store_credits")
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        verbose_name = _("store credit entry")
        verbose_name_plural = _("store credit")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["return_request"], condition=Q(return_request__isnull=False),
                                               name="store_credit_once_per_return")]

    def __str__(self):
        return f"{self.amount} {self.currency}"


class IdempotencyKey(models.Model):
    """`Idempotency-Key` of a return-creating API call: same key + same body → the same
    return and response; same key + another body → 409."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    return_request = models.ForeignKey(ReturnRequest, null=True, on_delete=models.CASCADE, related_name="+")
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="return_idempotency_key_once_per_user")]

    def __str__(self):
        return self.key
