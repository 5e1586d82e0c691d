from django.contrib import admin

from .models import Category, Product, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["sku", "name", "attributes", "weight_grams", "is_active", "returnable", "return_window_days"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "position", "is_active"]
    list_filter = ["is_active", "parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "is_active", "returnable"]
    list_filter = ["is_active", "returnable", "category"]
    search_fields = ["name", "slug", "variants__sku"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["category"]
    inlines = [VariantInline]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ["sku", "product", "name", "is_active"]
    list_filter = ["is_active", "product__category"]
    search_fields = ["sku", "name", "product__name"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]
