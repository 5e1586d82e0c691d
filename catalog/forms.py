from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import CustomerProfile

from .models import Category


class CatalogSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("Name or SKU")}))
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.none(), required=False,
                                      to_field_name="slug", empty_label=_("All categories"))

    def __init__(self, *args, categories: list[Category], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(pk__in=[c.pk for c in categories])
        self.fields["category"].choices = [("", _("All categories"))] + [
            (c.slug, "— " * getattr(c, "depth", 0) + c.name) for c in categories]


class PriceExplainForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=CustomerProfile.objects.select_related("user", "company"), required=False,
        help_text=_("Empty: an anonymous visitor (default prices)."),
    )
    sku = forms.CharField(label=_("SKU"), max_length=64)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1)
    at = forms.DateTimeField(label=_("At"), required=False, help_text=_("Empty: now."))
