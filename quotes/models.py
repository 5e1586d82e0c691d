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
# Crockford's base32 without look-alikes, as order numbers.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_quote_number() -> str:
    """Random, not sequential: leaks no volumes, shares no counter row."""
    return "Q-" + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))


class Quote(ConcurrentTransitionMixin, models.Model):
    """A request for quote and the quote it becomes. Status changes only through
    quotes.services (the FSM field is protected). Prices live in its versions."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        IN_REVIEW = "in_review", _("In review")
        PENDING_APPROVAL = "pending_approval", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        CONVERTED = "converted", _("Ordered")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        PORTAL = "portal", _("Portal")
        CART = "cart", _("Cart")
        API = "api", _("API")
        STAFF = "staff", _("Staff")

    OPEN = [Status.REQUESTED, Status.IN_REVIEW, Status.PENDING_APPROVAL, Status.APPROVED, Status.SENT]
    # Staff may also cancel an accepted quote that cannot become an order (no stock coming).
    CANCELLABLE = [*OPEN, Status.ACCEPTED]

    number = models.CharField(_("number"), max_length=20, unique=True, default=new_quote_number, editable=False)
    customer = models.ForeignKey("customers.CustomerProfile", on_delete=models.PROTECT, related_name="quotes")
    company = models.ForeignKey("customers.Company", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="quotes")
    status = FSMField(_("status"), max_length=20, choices=Status.choices, default=Status.REQUESTED, protected=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.PORTAL)
    currency = models.CharField(_("currency"), max_length=3)
    notes = models.TextField(_("buyer's notes"), blank=True)
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now, db_index=True)
    # Of the version sent last: what the buyer can accept, and until when.
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    expiry_reminded_at = models.DateTimeField(_("expiry reminder sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    # What the buyer chose when accepting: {"shipping_address_id", "shipping_method", "payment_method", "po_number"}
    checkout = models.JSONField(_("checkout choices"), default=dict, blank=True)
    order = models.OneToOneField("orders.Order", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="quote")
    conversion_error = models.JSONField(_("last conversion error"), default=dict, blank=True)
    conversion_attempts = models.PositiveSmallIntegerField(_("conversion attempts"), default=0)
    close_reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The API's Idempotency-Key for the request that created it (same key twice: one quote).
    idempotency_key = models.CharField(max_length=200, blank=True, editable=False)
    request_hash = models.CharField(max_length=64, blank=True, editable=False)

    event_prefix = "quote"

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "valid_until"], name="quote_status_valid_idx"),
            models.Index(fields=["customer", "-requested_at"], name="quote_customer_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "idempotency_key"], condition=~Q(idempotency_key=""),
                                    name="quote_idempotency_key_once_per_customer"),
        ]
        permissions = [
            ("approve_quote", _("Can approve quotes discounted beyond the limit")),
        ]

    def __str__(self):
        return self.number

    # --- transitions: pure (guard + state + same-row fields); services do the rest ---
    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.REQUESTED, target=Status.IN_REVIEW)
    def start_review(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.IN_REVIEW, target=Status.PENDING_APPROVAL)
    def submit_for_approval(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.PENDING_APPROVAL, target=Status.APPROVED)
    def approve(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[Status.PENDING_APPROVAL, Status.APPROVED], target=Status.IN_REVIEW)
    def rework(self, by=None, description=None):
        """A manager sends the pricing back (or staff reprice an approved version)."""

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[Status.IN_REVIEW, Status.APPROVED], target=Status.SENT)
    def send(self, by=None, description=None, valid_until=None):
        self.valid_until = valid_until
        self.expiry_reminded_at = None

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.SENT, target=Status.IN_REVIEW)
    def request_changes(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.SENT, target=Status.ACCEPTED)
    def accept(self, by=None, description=None, checkout=None):
        self.accepted_at = timezone.now()
        self.checkout = checkout or {}

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.ACCEPTED, target=Status.CONVERTED)
    def convert(self, by=None, description=None, order=None):
        self.order = order
        self.conversion_error = {}

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.SENT, target=Status.DECLINED)
    def decline(self, by=None, description=None):
        self.close_reason = str(description or "")[:300]

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=Status.SENT, target=Status.EXPIRED)
    def expire(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=CANCELLABLE, target=Status.CANCELLED)
    def cancel(self, by=None, description=None):
        self.close_reason = str(description or "")[:300]

    def transition_event_name(self, *, name, source, target) -> str:
        """Events keep the names the rest of the shop knows: a buyer asking for changes
        is `quote.changes_requested`, not another `quote.in_review`."""
        if name == "request_changes":
            return "quote.changes_requested"
        if name == "rework":
            return "quote.reworked"
        return f"quote.{target}"

    def event_payload(self) -> dict:
        from .selectors import quote_payload

        return quote_payload(self)

    @property
    def customer_status_display(self) -> str:
        """What the buyer sees: the internal approval steps are still "in review" to them."""
        if self.status in (self.Status.PENDING_APPROVAL, self.Status.APPROVED):
            return self.Status.IN_REVIEW.label
        return self.get_status_display()

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def latest_version(self):
        return self.versions.order_by("-number").first()

    def current_version(self):
        """The version the buyer sees: the last one sent (drafts are staff-only)."""
        return self.versions.filter(sent_at__isnull=False).order_by("-number").first()


class QuoteRequestLine(models.Model):
    """What the buyer asked for (kept as asked, whatever the versions change)."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="request_lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    target_price = models.DecimalField(_("target unit price"), max_digits=12, decimal_places=2, null=True,
                                       blank=True, validators=[MinValueValidator(ZERO)])

    class Meta:
        verbose_name = _("requested line")
        verbose_name_plural = _("requested lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "variant"], name="quote_request_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="quote_request_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.variant_id}"


class QuoteVersion(models.Model):
    """One priced answer. A draft until sent; once sent it never changes (a revision is
    a new version), so every version the buyer saw can be compared side by side."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    note = models.TextField(_("note to the buyer"), blank=True)
    valid_until = models.DateTimeField(_("valid until"))
    shipping = models.DecimalField(_("shipping"), max_digits=12, decimal_places=2, null=True, blank=True,
                                   help_text=_("Empty: the shipping method's rate at acceptance."),
                                   validators=[MinValueValidator(ZERO)])
    currency = models.CharField(_("currency"), max_length=3)
    subtotal = models.DecimalField(_("subtotal"), max_digits=12, decimal_places=2, default=ZERO)
    list_subtotal = models.DecimalField(_("subtotal at the customer's prices"), max_digits=12, decimal_places=2,
                                        null=True, blank=True)
    max_discount_percent = models.DecimalField(_("largest line discount (%)"), max_digits=6, decimal_places=2,
                                               null=True, blank=True)
    needs_approval = models.BooleanField(_("needs a manager's approval"), default=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The buyer's answer to this version when they asked for changes.
    changes_requested = models.TextField(_("changes the buyer asked for"), blank=True)
    changes_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("quote version")
        verbose_name_plural = _("quote versions")
        ordering = ["quote", "number"]
        constraints = [models.UniqueConstraint(fields=["quote", "number"], name="quote_version_unique_number")]

    def __str__(self):
        return f"{self.quote.number} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.sent_at is None

    @property
    def approved(self) -> bool:
        return self.approved_at is not None


class QuoteLine(models.Model):
    version = models.ForeignKey(QuoteVersion, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=250)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    # What the customer would pay today (their price list and tier); empty when unpriced.
    list_price = models.DecimalField(_("customer's price"), max_digits=12, decimal_places=2, null=True, blank=True)
    unit_price = models.DecimalField(_("quoted unit price"), max_digits=12, decimal_places=2,
                                     validators=[MinValueValidator(ZERO)])
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    discount_percent = models.DecimalField(_("discount (%)"), max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["version", "variant"], name="quote_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="quote_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku} @ {self.unit_price}"
