"""CSV import/export of products, variants and price list tiers (django-import-export).

Every row is validated (model full_clean included); one bad row means nothing is
written, and each bad row is reported with its line number."""

from django.utils.translation import gettext as _
from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from .models import Category, PriceList, PriceListEntry, Product, Variant


class LookupWidget(ForeignKeyWidget):
    """A foreign key by a natural key, with a message naming the value when it is unknown."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row=row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(_("No %(model)s with %(field)s “%(value)s”.") % {
                "model": self.model._meta.verbose_name, "field": self.field, "value": value})


class _AllOrNothing:
    use_transactions = True
    clean_model_instances = True
    skip_unchanged = True
    report_skipped = False


class ProductResource(resources.ModelResource):
    category = fields.Field(attribute="category", column_name="category",
                            widget=LookupWidget(Category, field="slug"))

    class Meta(_AllOrNothing):
        model = Product
        import_id_fields = ["slug"]
        fields = ["slug", "name", "category", "description", "is_active", "returnable", "return_window_days"]
        export_order = fields


class VariantResource(resources.ModelResource):
    product = fields.Field(attribute="product", column_name="product", widget=LookupWidget(Product, field="slug"))

    class Meta(_AllOrNothing):
        model = Variant
        import_id_fields = ["sku"]
        fields = ["sku", "product", "name", "attributes", "weight_grams", "is_active", "returnable",
                  "return_window_days"]
        export_order = fields


class PriceListEntryResource(resources.ModelResource):
    price_list = fields.Field(attribute="price_list", column_name="price_list",
                              widget=LookupWidget(PriceList, field="pk"))
    sku = fields.Field(attribute="variant", column_name="sku", widget=LookupWidget(Variant, field="sku"))

    class Meta(_AllOrNothing):
        model = PriceListEntry
        import_id_fields = ["price_list", "sku", "min_quantity"]
        fields = ["price_list", "sku", "min_quantity", "unit_price"]
        export_order = fields

    def dehydrate_unit_price(self, entry):
        return str(entry.unit_price)
