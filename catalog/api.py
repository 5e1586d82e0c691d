"""Products with the caller's own prices; price lists and their entries for staff."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from customers.selectors import customer_for_user

from . import services
from .models import Category, PriceList, PriceListEntry, PriceRule, Product, Variant
from .pricing import price_tables_for
from .selectors import category_descendants, product_list_for_customer


class QuoteSerializer(serializers.Serializer):
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    price_list_id = serializers.IntegerField()
    price_list_name = serializers.CharField()
    source = serializers.CharField()
    tier_min_quantity = serializers.IntegerField()


class TierSerializer(serializers.Serializer):
    min_quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    source = serializers.CharField()


class VariantSerializer(serializers.ModelSerializer):
    price = serializers.SerializerMethodField()
    tiers = serializers.SerializerMethodField()

    class Meta:
        model = Variant
        fields = ["id", "sku", "name", "attributes", "weight_grams", "is_active", "is_returnable",
                  "effective_return_window_days", "price", "tiers"]

    @extend_schema_field(QuoteSerializer(allow_null=True))
    def get_price(self, obj):
        quote = self.context.get("quotes", {}).get(obj.pk)
        return QuoteSerializer(quote).data if quote else None

    @extend_schema_field(TierSerializer(many=True))
    def get_tiers(self, obj):
        return TierSerializer(self.context.get("tiers", {}).get(obj.pk, []), many=True).data


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "slug", "name", "description", "category", "is_active", "returnable", "variants"]


class ProductFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", label="Name, description or SKU contains")
    category = django_filters.CharFilter(method="filter_category", label="Category slug (and its subcategories)")
    sku = django_filters.CharFilter(field_name="variants__sku", lookup_expr="iexact", distinct=True)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Product
        fields = ["search", "category", "sku", "is_active"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value)
                               | Q(variants__sku__icontains=value)).distinct()

    def filter_category(self, queryset, name, value):
        root = Category.objects.filter(slug=value).values_list("pk", flat=True).first()
        if root is None:
            return queryset.none()
        return queryset.filter(category_id__in=category_descendants(category_ids=[root]))


@extend_schema(description="Products the caller may see, each variant with the caller's own unit price (1 unit), "
               "where it comes from, and the caller's tier table. Hidden products are 404.")
class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProductSerializer
    filterset_class = ProductFilter

    def get_queryset(self):
        user = self.request.user
        customer = customer_for_user(user)
        # Staff without a profile see every product (inactive ones too) at default prices.
        return product_list_for_customer(customer=customer, include_inactive=customer is None and user.is_staff)

    def get_serializer(self, *args, **kwargs):
        instance = args[0] if args else kwargs.get("instance")
        if instance is not None:
            products = list(instance) if kwargs.get("many") else [instance]
            variant_ids = [variant.pk for product in products for variant in product.variants.all()]
            customer = customer_for_user(self.request.user)
            quotes, tiers = price_tables_for(customer=customer, variant_ids=variant_ids)
            kwargs["context"] = {**self.get_serializer_context(), "quotes": quotes, "tiers": tiers}
        return super().get_serializer(*args, **kwargs)


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff only, by Django model permissions (viewing needs the view permission)."""

    perms_map = {**permissions.DjangoModelPermissions.perms_map, "GET": ["%(app_label)s.view_%(model_name)s"],
                 "HEAD": ["%(app_label)s.view_%(model_name)s"]}

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_staff) and super().has_permission(request, view)


class PriceListEntrySerializer(serializers.ModelSerializer):
    sku = serializers.SlugRelatedField(source="variant", slug_field="sku", queryset=Variant.objects.all())

    class Meta:
        model = PriceListEntry
        fields = ["id", "price_list", "sku", "min_quantity", "unit_price"]


class PriceListSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="code", read_only=False, allow_null=True, required=False,
                                           queryset=PriceList._meta.get_field("company").related_model.objects.all())
    group = serializers.SlugRelatedField(slug_field="code", allow_null=True, required=False,
                                         queryset=PriceList._meta.get_field("group").related_model.objects.all())

    class Meta:
        model = PriceList
        fields = ["id", "name", "currency", "scope", "company", "group", "priority", "is_active", "valid_from",
                  "valid_until", "is_current", "derived_from", "created_at"]
        read_only_fields = ["is_current", "derived_from", "created_at"]

    def validate(self, attrs):
        merged = {field: getattr(self.instance, field, None) for field in ("scope", "company", "group")} | attrs
        scope = merged.get("scope") or PriceList.Scope.DEFAULT
        errors = {}
        if scope == PriceList.Scope.COMPANY and not merged.get("company"):
            errors["company"] = [_("A company list needs a company.")]
        if scope == PriceList.Scope.GROUP and not merged.get("group"):
            errors["group"] = [_("A group list needs a customer group.")]
        if scope != PriceList.Scope.COMPANY and merged.get("company"):
            errors["company"] = [_("Only company lists have a company.")]
        if scope != PriceList.Scope.GROUP and merged.get("group"):
            errors["group"] = [_("Only group lists have a group.")]
        valid_from, valid_until = merged.get("valid_from"), merged.get("valid_until")
        if "valid_from" in attrs or "valid_until" in attrs:
            valid_from = attrs.get("valid_from", getattr(self.instance, "valid_from", None))
            valid_until = attrs.get("valid_until", getattr(self.instance, "valid_until", None))
        if valid_from and valid_until and valid_until <= valid_from:
            errors["valid_until"] = [_("Must be after valid from.")]
        currency = attrs.get("currency")
        if currency is not None and (len(currency) != 3 or not currency.isalpha()):
            errors["currency"] = [_("An ISO 4217 code, e.g. EUR.")]
        if errors:
            raise serializers.ValidationError(errors)
        if currency:
            attrs["currency"] = currency.upper()
        return attrs


class PriceListViewSet(viewsets.ModelViewSet):
    queryset = PriceList.objects.select_related("company", "group").order_by("pk")
    serializer_class = PriceListSerializer
    permission_classes = [StaffModelPermissions]
    filterset_fields = ["scope", "currency", "is_active", "is_current", "company", "group"]


class PriceListEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                            mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Tiers of a price list. A price is changed by a new list version (price rules) or by
    deleting and adding a tier, so every change leaves its record."""

    queryset = PriceListEntry.objects.select_related("variant").order_by("price_list_id", "variant__sku", "min_quantity")
    serializer_class = PriceListEntrySerializer
    permission_classes = [StaffModelPermissions]
    filterset_fields = ["price_list", "variant__sku", "min_quantity"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.price_entry_add(
            price_list=data["price_list"], variant=data["variant"], min_quantity=data.get("min_quantity", 1),
            unit_price=data["unit_price"], actor=self.request.user)

    def perform_destroy(self, instance):
        services.price_entry_remove(entry_id=instance.pk, actor=self.request.user)


class PriceRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceRule
        fields = ["id", "name", "source", "category", "percent", "valid_from", "applied_at", "applied_by", "result",
                  "entries_changed", "created_at"]
        read_only_fields = ["applied_at", "applied_by", "result", "entries_changed", "created_at"]


class PriceRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       viewsets.GenericViewSet):
    """Bulk price rules ("+5% on a category from a date"). `apply/` creates the new,
    scheduled version of the source list; a rule applies once."""

    queryset = PriceRule.objects.order_by("-pk")
    serializer_class = PriceRuleSerializer
    permission_classes = [StaffModelPermissions]
    filterset_fields = ["source", "category"]

    @extend_schema(request=None, responses={201: PriceListSerializer})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        rule = self.get_object()
        if not request.user.has_perm("catalog.add_pricelist"):
            self.permission_denied(request)
        version = services.price_rule_apply(rule_id=rule.pk, actor=request.user)
        return Response(PriceListSerializer(version).data, status=status.HTTP_201_CREATED)


def register(router):
    router.register("products", ProductViewSet, basename="product")
    router.register("price-lists", PriceListViewSet, basename="price-list")
    router.register("price-list-entries", PriceListEntryViewSet, basename="price-list-entry")
    router.register("price-rules", PriceRuleViewSet, basename="price-rule")
