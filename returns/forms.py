from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Reason, Resolution, ReturnLine, ReturnRequest

PHOTO_FIELDS = ("photo_1", "photo_2", "photo_3")


class ReturnRequestForm(forms.Form):
    """One quantity (and, for exchanges, a replacement) per returnable order line."""

    reason = forms.ChoiceField(label=_("Why are you returning these items?"), choices=Reason.choices)
    resolution = forms.ChoiceField(label=_("What would you like?"), choices=Resolution.choices,
                                   widget=forms.RadioSelect, initial=Resolution.REFUND)
    comments = forms.CharField(label=_("Comments (optional)"), max_length=2000, required=False,
                               widget=forms.Textarea(attrs={"rows": 3}))
    photo_1 = forms.ImageField(label=_("Photos (optional)"), required=False,
                               help_text=_("Up to three, 5 MB each: they help us decide faster."))
    photo_2 = forms.ImageField(label="", required=False)
    photo_3 = forms.ImageField(label="", required=False)

    def __init__(self, *args, rows, replacements, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for row in rows:
            line = row["line"]
            if not row["left"]:
                continue
            quantity = forms.IntegerField(label=f"{line.name} ({line.sku})", min_value=0, max_value=row["left"],
                                          initial=0, required=False,
                                          help_text=_("Up to %(n)s") % {"n": row["left"]})
            self.fields[f"qty_{line.pk}"] = quantity
            choices = [("", _("Replacement (for an exchange)"))] + [
                (variant.pk, f"{variant.display_name} ({variant.sku})")
                for variant in replacements.get(line.variant.product_id, [])]
            self.fields[f"replacement_{line.pk}"] = forms.TypedChoiceField(
                label=_("Exchange %(sku)s for") % {"sku": line.sku}, choices=choices, coerce=int, required=False,
                empty_value=None)
            self.rows.append({**row, "qty_field": self[f"qty_{line.pk}"],
                              "replacement_field": self[f"replacement_{line.pk}"]})

    def selected_lines(self):
        from .services import ReturnLineInput

        return [ReturnLineInput(order_line_id=row["line"].pk,
                                quantity=self.cleaned_data.get(f"qty_{row['line'].pk}") or 0,
                                replacement_variant_id=self.cleaned_data.get(f"replacement_{row['line'].pk}"))
                for row in self.rows if self.cleaned_data.get(f"qty_{row['line'].pk}")]

    def photos(self):
        return [self.cleaned_data[name] for name in PHOTO_FIELDS if self.cleaned_data.get(name)]


class ShippedBackForm(forms.Form):
    tracking_number = forms.CharField(label=_("Tracking number of your parcel (optional)"), max_length=100,
                                      required=False)


class InspectionForm(forms.Form):
    """Admin: a condition per line."""

    notes = forms.CharField(label=_("Inspection notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, request: ReturnRequest, **kwargs):
        super().__init__(*args, **kwargs)
        for line in request.lines.all():
            self.fields[f"line_{line.pk}"] = forms.ChoiceField(
                label=f"{line.quantity} × {line.sku} {line.name}", choices=ReturnLine.Condition.choices,
                initial=ReturnLine.Condition.RESELLABLE)

    def conditions(self) -> dict[int, str]:
        return {int(name.removeprefix("line_")): value for name, value in self.cleaned_data.items()
                if name.startswith("line_")}
