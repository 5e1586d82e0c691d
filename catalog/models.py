from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A node of the category tree (adjacency list: `parent`)."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class Product(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="products")
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    returnable = models.BooleanField(_("returnable"), default=True)
    return_window_days = models.PositiveIntegerField(
        _("return window (days)"), null=True, blank=True,
        help_text=_("Overrides the return policy's window for this product. Empty: the policy decides."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Variant(models.Model):
    """A sellable item: one SKU. Stock, prices, order lines and returns refer to it."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="variants")
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True, help_text=_("e.g. Red / XL. Empty: the product's name."))
    attributes = models.JSONField(_("attributes"), default=dict, blank=True, help_text=_('e.g. {"color": "red"}'))
    weight_grams = models.PositiveIntegerField(_("weight (g)"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    returnable = models.BooleanField(
        _("returnable"), null=True, blank=True, help_text=_("Empty: as the product."),
    )
    return_window_days = models.PositiveIntegerField(
        _("return window (days)"), null=True, blank=True, validators=[MinValueValidator(0)],
        help_text=_("Overrides the product's and the policy's window. Empty: inherited."),
    )

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["sku"]
        constraints = [models.CheckConstraint(condition=~Q(sku=""), name="variant_sku_not_empty")]

    def __str__(self):
        return f"{self.sku} · {self.display_name}"

    @property
    def display_name(self) -> str:
        return f"{self.product.name} {self.name}".strip() if self.name else self.product.name

    @property
    def is_returnable(self) -> bool:
        return self.product.returnable if self.returnable is None else self.returnable

    @property
    def effective_return_window_days(self) -> int | None:
        return self.return_window_days if self.return_window_days is not None else self.product.return_window_days


class CatalogRule(models.Model):
    """What a company's catalog allows. A company without rules sees every active product.
    With "include" rules it sees only the included categories (and their subcategories) and
    products; "exclude" rules hide categories (with subcategories) or products, and win."""

    class Effect(models.TextChoices):
        INCLUDE = "include", _("Only show")
        EXCLUDE = "exclude", _("Hide")

    company = models.ForeignKey(
        "customers.Company", verbose_name=_("company"), on_delete=models.CASCADE, related_name="catalog_rules"
    )
    effect = models.CharField(_("effect"), max_length=10, choices=Effect.choices, default=Effect.EXCLUDE)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text=_("Applies to this category and every category below it."),
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("catalog rule")
        verbose_name_plural = _("catalog rules")
        ordering = ["company", "effect", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__isnull=False, product__isnull=True) | Q(category__isnull=True, product__isnull=False),
                name="catalog_rule_category_xor_product",
            ),
        ]

    def __str__(self):
        return f"{self.get_effect_display()}: {self.category or self.product}"


class PriceList(models.Model):
    """A list of unit prices in one currency, assigned to a company, a customer group or
    everybody (default). `is_active` is staff's switch; the validity window is always
    honoured when prices are read. `is_current` mirrors "active and in its window" and is
    kept by beat (price_lists_sync), which emits price_list.activated / .deactivated."""

    class Scope(models.TextChoices):
        COMPANY = "company", _("Company")
        GROUP = "group", _("Customer group")
        DEFAULT = "default", _("Default (everybody)")

    name = models.CharField(_("name"), max_length=150)
    currency = models.CharField(_("currency"), max_length=3, default="EUR", help_text=_("ISO 4217 code, e.g. EUR."))
    scope = models.CharField(_("assigned to"), max_length=10, choices=Scope.choices, default=Scope.DEFAULT)
    company = models.ForeignKey(
        "customers.Company", verbose_name=_("company"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="price_lists",
    )
    group = models.ForeignKey(
        "customers.CustomerGroup", verbose_name=_("customer group"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="price_lists",
    )
    priority = models.IntegerField(
        _("priority"), default=0, help_text=_("Among lists of the same assignment, the highest priority wins."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    is_current = models.BooleanField(_("in effect"), default=False, editable=False)
    derived_from = models.ForeignKey(
        "self", verbose_name=_("derived from"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="versions", help_text=_("The list a price rule copied and adjusted to make this one."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["scope", "-priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="company", company__isnull=False, group__isnull=True)
                    | Q(scope="group", company__isnull=True, group__isnull=False)
                    | Q(scope="default", company__isnull=True, group__isnull=True)
                ),
                name="price_list_assignment_matches_scope",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="price_list_window_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.currency})"

    def in_window(self, at) -> bool:
        return (self.valid_from is None or self.valid_from <= at) and (self.valid_until is None or at < self.valid_until)


class PriceListEntry(models.Model):
    """The unit price of a variant from `min_quantity` units up (a quantity tier)."""

    price_list = models.ForeignKey(PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="entries")
    variant = models.ForeignKey(Variant, verbose_name=_("variant"), on_delete=models.CASCADE, related_name="price_entries")
    min_quantity = models.PositiveIntegerField(_("from quantity"), default=1, validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        verbose_name = _("price list entry")
        verbose_name_plural = _("price list entries")
        ordering = ["price_list", "variant", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "variant", "min_quantity"], name="price_entry_unique_tier"),
            models.CheckConstraint(condition=Q(min_quantity__gte=1), name="price_entry_min_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="price_entry_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.variant_id} ≥{self.min_quantity}: {self.unit_price}"


class PriceRule(models.Model):
    """A bulk price change, e.g. "+5% on category Tools from 1 March". Running it copies
    the source list into a new, scheduled version with the adjusted prices: prices are
    never edited in place, and the run is recorded here."""

    name = models.CharField(_("name"), max_length=150)
    source = models.ForeignKey(PriceList, verbose_name=_("source price list"), on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Adjust prices in this category and below. Empty: every product."),
    )
    percent = models.DecimalField(
        _("change (%)"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("-99.99"))],
        help_text=_("e.g. 5 for +5%, -10 for -10%."),
    )
    valid_from = models.DateTimeField(_("effective from"))
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True, editable=False)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("applied by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )
    result = models.OneToOneField(
        PriceList, verbose_name=_("resulting price list"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="created_by_rule", editable=False,
    )
    entries_changed = models.PositiveIntegerField(_("prices changed"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("price rule")
        verbose_name_plural = _("price rules")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name
