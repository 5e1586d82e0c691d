from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.forms import CheckoutForm

MAX_FORM_LINES = 10


class RequestDetailsForm(forms.Form):
    notes = forms.CharField(label=_("Notes for our sales team"), max_length=4000, required=False,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("Delivery schedule, packaging, alternatives you would accept…"))
    needed_by = forms.DateField(label=_("Needed by"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_needed_by(self):
        value = self.cleaned_data.get("needed_by")
        if value and value < timezone.localdate():
            raise forms.ValidationError(_("This date has passed."))
        return value


class RequestLineForm(forms.Form):
    sku = forms.CharField(label=_("SKU"), max_length=64, required=False,
                          widget=forms.TextInput(attrs={"list": "quote-skus", "autocomplete": "off"}))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100000, required=False)
    target_price = forms.DecimalField(label=_("Target unit price (optional)"), min_value=0, max_digits=12,
                                      decimal_places=2, required=False)

    def clean(self):
        data = super().clean()
        if data.get("sku") and not data.get("quantity"):
            self.add_error("quantity", _("Enter a quantity."))
        if data.get("quantity") and not data.get("sku"):
            self.add_error("sku", _("Enter a SKU."))
        return data


RequestLineFormSet = forms.formset_factory(RequestLineForm, extra=5, max_num=MAX_FORM_LINES, absolute_max=200)


class ChangesForm(forms.Form):
    comment = forms.CharField(label=_("What should we change?"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Why are you declining? (optional)"), max_length=300, required=False)


class AcceptForm(CheckoutForm):
    """The checkout choices the order will be placed with (orders' own checkout form)."""
