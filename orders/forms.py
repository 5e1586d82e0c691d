from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from customers.selectors import address_list_for_customer

from .models import Order, ShippingMethod
from .services import allowed_payment_methods


class AddToCartForm(forms.Form):
    sku = forms.CharField(max_length=64, widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100000, initial=1)


class CartLineQuantityForm(forms.Form):
    sku = forms.CharField(max_length=64, widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=0, max_value=100000)


class CheckoutForm(forms.Form):
    shipping_address = forms.ChoiceField(label=_("Ship to"))
    shipping_method = forms.ChoiceField(label=_("Shipping method"))
    payment_method = forms.ChoiceField(label=_("Payment"))
    po_number = forms.CharField(label=_("Your PO number"), max_length=60, required=False,
                                help_text=_("Printed on the invoice and the packing slip."))

    def __init__(self, *args, customer, options=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shipping_address"].choices = [
            (address.pk, str(address)) for address in address_list_for_customer(customer=customer)
        ]
        if options is not None:
            # Price and estimated delivery next to each method, for the default address.
            self.fields["shipping_method"].choices = [
                (option["code"], _("%(name)s (%(carrier)s) — %(price)s %(currency)s, arrives by %(date)s") % {
                    **option, "date": date_format(option["estimated_delivery"], "DATE_FORMAT")
                    if option["estimated_delivery"] else "—"})
                for option in options
            ]
        else:
            self.fields["shipping_method"].choices = [
                (method.code, f"{method.name} ({method.carrier})")
                for method in ShippingMethod.objects.filter(is_active=True)
            ]
        labels = dict(Order.PaymentMethod.choices)
        self.fields["payment_method"].choices = [(m, labels[m]) for m in allowed_payment_methods(customer=customer)]
        if not customer.company_id:
            del self.fields["po_number"]


class TrackOrderForm(forms.Form):
    number = forms.CharField(label=_("Order number"), max_length=20)
    email = forms.EmailField(label=_("Email used for the order"))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why are you cancelling? (optional)"), max_length=300, required=False)
