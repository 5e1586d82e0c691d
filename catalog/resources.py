"""CSV import/export of products, variants and price list tiers (django-import-export).

Every row is validated (model full_clean included); one bad row means nothing is
written, and each bad row is reported with its line number."""

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from .models import Category, PriceList, PriceListEntry, Product, Variant


class _AllOrNothing:
    use_transactions = True
    clean_model_instances = True
    skip_unchanged = True
    report_skipped = False


class ProductResource(resources.ModelResource):
    category = fields.Field(attribute="category", column_name="category",
                            widget=ForeignKeyWidget(Category, field="slug"))

    class Meta(_AllOrNothing):
        model = Product
        import_id_fields = ["slug"]
        fields = ["slug", "name", "category", "description", "is_active", "returnable", "return_window_days"]
        export_order = fields


class VariantResource(resources.ModelResource):
    product = fields.Field(attribute="product", column_name="product", widget=ForeignKeyWidget(Product, field="slug"))

    class Meta(_AllOrNothing):
        model = Variant
        import_id_fields = ["sku"]
        fields = ["sku", "product", "name", "attributes", "weight_grams", "is_active", "returnable",
                  "return_window_days"]
        export_order = fields


class PriceListEntryResource(resources.ModelResource):
    price_list = fields.Field(attribute="price_list", column_name="price_list",
                              widget=ForeignKeyWidget(PriceList, field="pk"))
    sku = fields.Field(attribute="variant", column_name="sku", widget=ForeignKeyWidget(Variant, field="sku"))

    class Meta(_AllOrNothing):
        model = PriceListEntry
        import_id_fields = ["price_list", "sku", "min_quantity"]
        fields = ["price_list", "sku", "min_quantity", "unit_price"]
        export_order = fields

    def dehydrate_unit_price(self, entry):
        return str(entry.unit_price)
