from django import forms
from django.utils.translation import gettext_lazy as _


class SubscribeForm(forms.Form):
    sku = forms.CharField(label=_("SKU or item number"), max_length=64,
                          help_text=_("We email you once when it is back in stock."))


class AdjustForm(forms.Form):
    quantity = forms.IntegerField(label=_("Change (+/-)"), help_text=_("e.g. -2 for two broken units"))
    reason = forms.CharField(label=_("Reason"), max_length=255)


class ReceiveForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    reference = forms.CharField(label=_("Reference"), max_length=64, required=False)
