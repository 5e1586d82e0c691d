"""Stock API (/api/v1/...).

- `stock/`                 every signed-in user: availability per variant. Customers see a label
                           (available / low / out); staff with inventory.view_stocklevel also see
                           the units and the per-warehouse figures.
- `stock-levels/`          staff: rows per (variant, warehouse); POST `{id}/adjust/`.
- `stock-movements/`       staff: the ledger.
- `purchase-orders/`       staff: list, create, and `send/`, `receive/`, `cancel/`.
- `stock-transfers/`       staff: list, create, `dispatch/`, `receive/`, `cancel/`; `suggestions/`.
- `stock-subscriptions/`   customers: their own back-in-stock alerts (list, create, delete).
"""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.models import Variant
from customers.selectors import customer_for_user
from shopauto.exceptions import NotFound

from . import services
from .models import (
    BackInStockSubscription,
    PurchaseOrder,
    StockLevel,
    StockMovement,
    StockTransfer,
)
from .selectors import (
    stock_levels_with_availability,
    stock_summary_for,
    subscriptions_for_customer,
    transfer_suggestions,
)


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Model permissions, reads included (view_*)."""

    perms_map = {**permissions.DjangoModelPermissions.perms_map, "GET": ["%(app_label)s.view_%(model_name)s"],
                 "HEAD": ["%(app_label)s.view_%(model_name)s"]}


class IsCustomer(permissions.BasePermission):
    def has_permission(self, request, view):
        return customer_for_user(request.user) is not None


# --- availability -----------------------------------------------------------------------------


class _IdInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """?variant=1,2,3 — numbers only, so ?variant=abc is a 400, not a 500."""


class StockFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="iexact")
    variant = _IdInFilter(field_name="id", min_value=1, max_value=2**63 - 1)  # a database integer

    class Meta:
        model = Variant
        fields = ["sku", "variant"]


class AvailabilitySerializer(serializers.Serializer):
    variant_id = serializers.IntegerField(source="pk")
    sku = serializers.CharField()
    availability = serializers.ChoiceField(choices=["available", "low", "out"])
    available = serializers.IntegerField(required=False, help_text="Staff only: sellable units.")
    warehouses = serializers.ListField(child=serializers.DictField(), required=False,
                                       help_text="Staff only: per warehouse.")


class StockViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Availability per variant (read-only). Filter with ?sku= or ?variant=1,2,3."""

    serializer_class = AvailabilitySerializer
    filterset_class = StockFilter
    queryset = Variant.objects.filter(is_active=True).order_by("sku")

    def get_queryset(self):
        if self._is_staff():
            return super().get_queryset()
        # Customers see the stock of what their catalog shows them, nothing else (404).
        from catalog.selectors import variants_visible_to
        from customers.selectors import customer_for_user

        return variants_visible_to(customer=customer_for_user(self.request.user)).order_by("sku")

    def _is_staff(self) -> bool:
        return self.request.user.has_perm("inventory.view_stocklevel")

    def _rows(self, variants) -> list[dict]:
        ids = [v.pk for v in variants]
        summary = stock_summary_for(variant_ids=ids)
        per_warehouse: dict[int, list] = {vid: [] for vid in ids}
        staff = self._is_staff()
        if staff:
            for level in stock_levels_with_availability().filter(variant_id__in=ids).select_related("warehouse"):
                per_warehouse[level.variant_id].append({
                    "warehouse": level.warehouse.code, "region": level.warehouse.region, "on_hand": level.on_hand,
                    "reserved": level.reserved, "available": max(level.sellable, 0),
                    "quarantined": level.quarantined})
        rows = []
        for v in variants:
            row = {"pk": v.pk, "sku": v.sku, "availability": summary[v.pk]["label"]}
            if staff:
                row |= {"available": summary[v.pk]["available"], "warehouses": per_warehouse[v.pk]}
            rows.append(row)
        return rows

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(self._rows(page), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self._rows([self.get_object()])[0]).data)


# --- staff: stock levels, movements -----------------------------------------------------------


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="variant.sku", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    available = serializers.SerializerMethodField()

    class Meta:
        model = StockLevel
        fields = ["id", "variant", "sku", "warehouse", "on_hand", "reserved", "available", "quarantined",
                  "low_stock_alerted", "updated_at"]

    def get_available(self, obj) -> int:
        return max(getattr(obj, "sellable", obj.available), 0)


class AdjustSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(help_text="Signed change, e.g. -2")
    reason = serializers.CharField(max_length=255)


class StockLevelViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StockLevelSerializer
    permission_classes = [permissions.IsAuthenticated, StaffModelPermissions]
    filterset_fields = {"variant": ["exact"], "warehouse": ["exact"], "variant__sku": ["iexact"],
                        "low_stock_alerted": ["exact"]}
    queryset = StockLevel.objects.none()

    def get_queryset(self):
        return stock_levels_with_availability().select_related("variant", "warehouse").order_by("pk")

    @extend_schema(request=AdjustSerializer, responses=StockLevelSerializer, summary="Adjust stock with a reason")
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def adjust(self, request, pk=None):
        if not request.user.has_perm("inventory.change_stocklevel"):
            self.permission_denied(request)
        level = self.get_object()
        data = AdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.stock_adjust(variant_id=level.variant_id, warehouse_id=level.warehouse_id,
                              quantity=data.validated_data["quantity"], reason=data.validated_data["reason"],
                              actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=level.pk)).data)


class StockMovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="stock_level.variant.sku", read_only=True)
    warehouse = serializers.CharField(source="stock_level.warehouse.code", read_only=True)
    actor = serializers.CharField(source="actor.username", read_only=True, default=None, allow_null=True)

    class Meta:
        model = StockMovement
        fields = ["id", "stock_level", "sku", "warehouse", "kind", "bucket", "quantity", "balance_after",
                  "reference", "reason", "actor", "created_at"]


class StockMovementViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StockMovementSerializer
    permission_classes = [permissions.IsAuthenticated, StaffModelPermissions]
    filterset_fields = {"stock_level": ["exact"], "kind": ["exact"], "reference": ["exact"],
                        "stock_level__variant__sku": ["iexact"], "created_at": ["gte", "lte"]}
    queryset = StockMovement.objects.select_related("stock_level__variant", "stock_level__warehouse", "actor")


# --- staff: purchase orders and transfers -----------------------------------------------------


class LineSerializer(serializers.Serializer):
    variant = serializers.PrimaryKeyRelatedField(queryset=Variant.objects.all())
    quantity = serializers.IntegerField(min_value=1)


class PurchaseOrderLineSerializer(serializers.Serializer):
    variant = serializers.IntegerField(source="variant_id")
    sku = serializers.CharField(source="variant.sku")
    quantity_ordered = serializers.IntegerField()
    quantity_received = serializers.IntegerField()


class PurchaseOrderSerializer(serializers.ModelSerializer):
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    new_lines = LineSerializer(many=True, write_only=True, required=False)

    class Meta:
        model = PurchaseOrder
        fields = ["id", "number", "supplier", "warehouse", "status", "expected_on", "notes", "created_at",
                  "lines", "new_lines"]
        read_only_fields = ["number", "status", "expected_on", "created_at"]

    def create(self, validated_data):
        lines = [(line["variant"].pk, line["quantity"]) for line in validated_data.get("new_lines", [])]
        return services.purchase_order_create(
            supplier_id=validated_data["supplier"].pk, warehouse_id=validated_data["warehouse"].pk, lines=lines,
            notes=validated_data.get("notes", ""), actor=self.context["request"].user)


class ReceiveSerializer(serializers.Serializer):
    lines = LineSerializer(many=True, required=False, help_text="Omit to receive everything outstanding.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class _TransitionsMixin:
    def _run(self, request, change_perm: str, func, **kwargs):
        if not request.user.has_perm(change_perm):
            self.permission_denied(request)
        obj = self.get_object()
        func(obj.pk, actor=request.user, **kwargs)
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)


class PurchaseOrderViewSet(_TransitionsMixin, viewsets.GenericViewSet, mixins.ListModelMixin,
                           mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    serializer_class = PurchaseOrderSerializer
    permission_classes = [permissions.IsAuthenticated, StaffModelPermissions]
    filterset_fields = ["status", "supplier", "warehouse"]
    queryset = PurchaseOrder.objects.select_related("supplier", "warehouse").prefetch_related("lines__variant")

    @extend_schema(request=None, responses=PurchaseOrderSerializer, summary="draft → sent")
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def send(self, request, pk=None):
        return self._run(request, "inventory.change_purchaseorder",
                         lambda pk, actor: services.purchase_order_send(purchase_order_id=pk, actor=actor))

    @extend_schema(request=ReceiveSerializer, responses=PurchaseOrderSerializer,
                   summary="Book received goods (→ partially_received / received)")
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def receive(self, request, pk=None):
        data = ReceiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("lines")
        lines = [(line["variant"].pk, line["quantity"]) for line in lines] if lines else None
        return self._run(request, "inventory.change_purchaseorder",
                         lambda pk, actor: services.purchase_order_receive(purchase_order_id=pk, lines=lines,
                                                                           actor=actor))

    @extend_schema(request=ReasonSerializer, responses=PurchaseOrderSerializer, summary="→ cancelled")
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def cancel(self, request, pk=None):
        reason = request.data.get("reason", "") if hasattr(request.data, "get") else ""
        return self._run(request, "inventory.change_purchaseorder",
                         lambda pk, actor: services.purchase_order_cancel(purchase_order_id=pk, reason=reason,
                                                                          actor=actor))


class TransferSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    lines = serializers.SerializerMethodField()
    new_lines = LineSerializer(many=True, write_only=True)

    class Meta:
        model = StockTransfer
        fields = ["id", "number", "source", "destination", "status", "reason", "created_at", "lines", "new_lines"]
        read_only_fields = ["status", "created_at"]

    def get_lines(self, obj) -> list[dict]:
        return [{"variant": line.variant_id, "quantity": line.quantity} for line in obj.lines.all()]

    def create(self, validated_data):
        return services.transfer_request(
            source_id=validated_data["source"].pk, destination_id=validated_data["destination"].pk,
            lines=[(line["variant"].pk, line["quantity"]) for line in validated_data["new_lines"]],
            reason=validated_data.get("reason", ""), actor=self.context["request"].user)


class StockTransferViewSet(_TransitionsMixin, viewsets.GenericViewSet, mixins.ListModelMixin,
                           mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    serializer_class = TransferSerializer
    permission_classes = [permissions.IsAuthenticated, StaffModelPermissions]
    filterset_fields = ["status", "source", "destination"]
    queryset = StockTransfer.objects.select_related("source", "destination").prefetch_related("lines")

    @extend_schema(request=None, responses=TransferSerializer, summary="requested → in_transit")
    # Named dispatch_transfer: `dispatch` is the view's own method.
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch",
            permission_classes=[permissions.IsAuthenticated])
    def dispatch_transfer(self, request, pk=None):
        return self._run(request, "inventory.change_stocktransfer",
                         lambda pk, actor: services.transfer_dispatch(transfer_id=pk, actor=actor))

    @extend_schema(request=None, responses=TransferSerializer, summary="in_transit → received")
    @action(detail=True, methods=["post"], url_path="receive", permission_classes=[permissions.IsAuthenticated])
    def receive(self, request, pk=None):
        return self._run(request, "inventory.change_stocktransfer",
                         lambda pk, actor: services.transfer_receive(transfer_id=pk, actor=actor))

    @extend_schema(request=ReasonSerializer, responses=TransferSerializer, summary="requested → cancelled")
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def cancel(self, request, pk=None):
        reason = request.data.get("reason", "") if hasattr(request.data, "get") else ""
        return self._run(request, "inventory.change_stocktransfer",
                         lambda pk, actor: services.transfer_cancel(transfer_id=pk, reason=reason, actor=actor))

    @extend_schema(responses=inline_serializer("TransferSuggestion", {
        "variant_id": serializers.IntegerField(), "sku": serializers.CharField(),
        "source": serializers.CharField(), "destination": serializers.CharField(),
        "quantity": serializers.IntegerField()}, many=True), summary="Low here, surplus there")
    @action(detail=False, methods=["get"], pagination_class=None)  # a plain list, as the schema says
    def suggestions(self, request):
        return Response(transfer_suggestions())


# --- customers: back-in-stock subscriptions ---------------------------------------------------


class SubscriptionSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="variant.sku", required=False)
    variant = serializers.IntegerField(source="variant_id", required=False)
    availability = serializers.SerializerMethodField()

    class Meta:
        model = BackInStockSubscription
        fields = ["id", "variant", "sku", "status", "availability", "created_at", "notified_at"]
        read_only_fields = ["status", "created_at", "notified_at"]

    def get_availability(self, obj) -> str:
        summary = self.context.get("summary")
        if summary is not None and obj.variant_id in summary:
            return summary[obj.variant_id]["label"]
        return stock_summary_for(variant_ids=[obj.variant_id])[obj.variant_id]["label"]

    def validate(self, attrs):
        if not attrs.get("variant_id") and not attrs.get("variant", {}).get("sku"):
            raise serializers.ValidationError({"variant": [_("Give a variant id or a SKU.")]})
        return attrs


class StockSubscriptionViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                               mixins.CreateModelMixin, mixins.DestroyModelMixin):
    """A customer's own back-in-stock alerts; other customers' are 404."""

    serializer_class = SubscriptionSerializer
    permission_classes = [permissions.IsAuthenticated, IsCustomer]
    filterset_fields = ["status"]
    queryset = BackInStockSubscription.objects.none()

    def get_queryset(self):
        return subscriptions_for_customer(customer=customer_for_user(self.request.user))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        summary = stock_summary_for(variant_ids=list({s.variant_id for s in page}))
        serializer = self.get_serializer(page, many=True, context={**self.get_serializer_context(), "summary": summary})
        return self.get_paginated_response(serializer.data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription = services.back_in_stock_subscribe(
            customer=customer_for_user(request.user), variant_id=data.get("variant_id"),
            sku=data.get("variant", {}).get("sku"))
        return Response(self.get_serializer(subscription).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        subscription = self.get_object()
        if subscription.status != BackInStockSubscription.Status.WAITING:
            raise NotFound()
        services.back_in_stock_unsubscribe(customer=subscription.customer, subscription_id=subscription.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router) -> None:
    router.register("stock", StockViewSet, basename="stock")
    router.register("stock-levels", StockLevelViewSet, basename="stock-level")
    router.register("stock-movements", StockMovementViewSet, basename="stock-movement")
    router.register("purchase-orders", PurchaseOrderViewSet, basename="purchase-order")
    router.register("stock-transfers", StockTransferViewSet, basename="stock-transfer")
    router.register("stock-subscriptions", StockSubscriptionViewSet, basename="stock-subscription")

