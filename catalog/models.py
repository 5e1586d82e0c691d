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
