from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Address, Company, CustomerGroup, CustomerProfile


class AddressInline(admin.TabularInline):
    model = Address
    extra = 0
    fk_name = "company"


@admin.register(CustomerGroup)
class CustomerGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "group", "currency", "payment_terms", "credit_limit", "approval_threshold", "is_active"]
    list_filter = ["is_active", "payment_terms", "group", "currency"]
    search_fields = ["name", "code", "vat_number"]
    inlines = [AddressInline]


@admin.register(CustomerProfile)
class CustomerProfileAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email_address", "company", "role", "language", "marketing_consent"]
    list_filter = ["role", "language", "marketing_consent", "company"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name", "company__name"]
    list_select_related = ["user", "company"]
    autocomplete_fields = ["company"]
    raw_id_fields = ["user"]

    @admin.display(description=_("email"), ordering="user__email")
    def email_address(self, obj):
        return obj.user.email


@admin.register(Address)
class AddressAdmin(admin.ModelAdmin):
    list_display = ["__str__", "company", "profile", "region", "country"]
    list_filter = ["country", "region"]
    search_fields = ["name", "line1", "city", "postal_code", "company__name"]
    list_select_related = ["company", "profile__user"]
