from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from shopauto.exceptions import DomainError

from . import services
from .forms import PriceExplainForm
from .models import CatalogRule, Category, PriceList, PriceListEntry, PriceRule, Product, Variant
from .pricing import price_explain
from .resources import PriceListEntryResource, ProductResource, VariantResource


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
class ProductAdmin(ImportExportModelAdmin):
    resource_classes = [ProductResource]
    list_display = ["name", "category", "is_active", "returnable"]
    list_filter = ["is_active", "returnable", "category"]
    search_fields = ["name", "slug", "variants__sku"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["category"]
    inlines = [VariantInline]


@admin.register(Variant)
class VariantAdmin(ImportExportModelAdmin):
    resource_classes = [VariantResource]
    list_display = ["sku", "product", "name", "is_active"]
    list_filter = ["is_active", "product__category"]
    search_fields = ["sku", "name", "product__name"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]


@admin.register(CatalogRule)
class CatalogRuleAdmin(admin.ModelAdmin):
    list_display = ["company", "effect", "category", "product"]
    list_filter = ["effect", "company"]
    autocomplete_fields = ["company", "product"]
    list_select_related = ["company", "category", "product"]


class PriceListEntryInline(admin.TabularInline):
    model = PriceListEntry
    extra = 0
    autocomplete_fields = ["variant"]
    fields = ["variant", "min_quantity", "unit_price"]


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ["name", "currency", "scope", "company", "group", "priority", "is_active", "valid_from",
                    "valid_until", "is_current", "derived_from"]
    list_filter = ["scope", "currency", "is_active", "is_current", "group"]
    search_fields = ["name", "company__name", "group__name"]
    list_select_related = ["company", "group", "derived_from"]
    autocomplete_fields = ["company"]
    readonly_fields = ["is_current", "derived_from", "created_at"]
    inlines = [PriceListEntryInline]
    change_list_template = "admin/catalog/pricelist/change_list.html"

    def get_urls(self):
        return [
            path("why-this-price/", self.admin_site.admin_view(self.explain_view), name="catalog_price_explain"),
            *super().get_urls(),
        ]

    def explain_view(self, request):
        """"Why this price": every candidate list for a customer, SKU and quantity, which
        one won and why the others did not."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = PriceExplainForm(request.GET or None)
        explanation, error = None, None
        if form.is_valid():
            variant = Variant.objects.select_related("product").filter(sku=form.cleaned_data["sku"]).first()
            if variant is None:
                form.add_error("sku", _("No variant has this SKU."))
            else:
                explanation = price_explain(customer=form.cleaned_data["customer"], variant=variant,
                                            quantity=form.cleaned_data["quantity"], at=form.cleaned_data["at"])
        context = {**self.admin_site.each_context(request), "title": _("Why this price"), "form": form,
                   "explanation": explanation, "error": error, "opts": self.model._meta}
        return TemplateResponse(request, "admin/catalog/price_explain.html", context)


@admin.register(PriceListEntry)
class PriceListEntryAdmin(ImportExportModelAdmin):
    resource_classes = [PriceListEntryResource]
    list_display = ["price_list", "variant", "min_quantity", "unit_price"]
    list_filter = ["price_list"]
    search_fields = ["variant__sku", "price_list__name"]
    list_select_related = ["price_list", "variant__product"]
    autocomplete_fields = ["variant"]


@admin.register(PriceRule)
class PriceRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "source", "category", "percent", "valid_from", "applied_at", "result_link",
                    "entries_changed"]
    list_filter = ["applied_at"]
    readonly_fields = ["applied_at", "applied_by", "result", "entries_changed", "created_at"]
    list_select_related = ["source", "category", "result"]
    actions = ["apply_rules"]

    @admin.display(description=_("resulting price list"))
    def result_link(self, rule):
        if rule.result_id is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:catalog_pricelist_change", args=[rule.result_id]),
                           rule.result)

    @admin.action(description=_("Apply: create the new scheduled price list version"),
                  permissions=["change"])
    def apply_rules(self, request, queryset):
        for rule in queryset.order_by("pk"):
            try:
                version = services.price_rule_apply(rule_id=rule.pk, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"{rule}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, _("%(rule)s: created %(list)s") % {"rule": rule, "list": version},
                                  messages.SUCCESS)
