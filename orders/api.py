import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.urls import path
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from customers.selectors import customer_for_user
from shopauto.exceptions import DomainError, InvalidInput, NotFound
from shopauto.webhook_signing import HEADER, verify

from . import selectors, services
from .exceptions import IdempotencyKeyReused, OrderNotFound
from .models import Cart, IdempotencyKey, Order, Shipment


# ------------------------------------------------------------------ serializers ---
class CartLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="variant.sku")
    name = serializers.CharField(source="variant.display_name")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    price_source = serializers.CharField()


class CartSerializer(serializers.ModelSerializer):
    lines = CartLineSerializer(many=True, read_only=True)
    total = serializers.SerializerMethodField()

    class Meta:
        model = Cart
        fields = ["id", "status", "currency", "lines", "total", "reserved_until", "updated_at"]

    def get_total(self, cart) -> Decimal:
        return sum((line.line_total for line in cart.lines.all()), Decimal("0.00"))


class CartLineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class QuantityInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=100000)


class CheckoutInput(serializers.Serializer):
    shipping_address = serializers.IntegerField()
    shipping_method = serializers.CharField(max_length=40)
    payment_method = serializers.ChoiceField(choices=Order.PaymentMethod.choices)
    po_number = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")

    def details(self) -> services.CheckoutDetails:
        data = self.validated_data
        return services.CheckoutDetails(shipping_address_id=data["shipping_address"],
                                        shipping_method=data["shipping_method"],
                                        payment_method=data["payment_method"], po_number=data["po_number"])


class OrderLineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class OrderCreateInput(CheckoutInput):
    lines = OrderLineInput(many=True, allow_empty=False, max_length=500)


class OrderLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)


class ShipmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shipment
        fields = ["carrier", "tracking_number", "tracking_url", "status", "warehouse_name", "shipped_at",
                  "delivered_at", "lines"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True)
    shipping_method = serializers.SlugRelatedField(slug_field="code", read_only=True)
    company = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Order
        fields = ["number", "status", "payment_method", "payment_status", "currency", "subtotal", "shipping_total",
                  "total", "po_number", "company", "email", "shipping_address", "shipping_method",
                  "estimated_delivery", "placed_at", "lines", "shipments", "allocation_plan"]


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    by = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_blank=True)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ShipInput(serializers.Serializer):
    carrier = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    warehouse_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class PaymentInput(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reference = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


def _customer(request):
    customer = customer_for_user(request.user)
    if customer is None:
        raise NotFound(_("Only customer accounts have carts."))
    return customer


# -------------------------------------------------------------------- viewsets ---
class CartViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's cart: add lines at their price (stock is reserved for a while), then check out."""

    serializer_class = CartSerializer

    def get_queryset(self):
        customer = customer_for_user(self.request.user)
        if customer is None:
            return Cart.objects.none()
        return Cart.objects.filter(customer=customer).prefetch_related("lines__variant__product").order_by("-pk")

    @extend_schema(request=None, responses={201: CartSerializer})
    def create(self, request):
        cart = services.cart_get_or_create(customer=_customer(request))
        return Response(CartSerializer(cart).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CartLineInput, responses={200: CartSerializer})
    @action(detail=True, methods=["post"], url_path="lines")
    def add_line(self, request, pk=None):
        data = _valid(CartLineInput, request)
        cart = services.cart_set_quantity(customer=_customer(request), cart_id=self._cart_id(pk), sku=data["sku"],
                                          quantity=data["quantity"], add=True)
        return Response(self._fresh(cart))

    @extend_schema(request=QuantityInput, responses={200: CartSerializer})
    @action(detail=True, methods=["put", "patch", "delete"], url_path=r"lines/(?P<sku>[^/]+)")
    def line(self, request, pk=None, sku=None):
        quantity = 0 if request.method == "DELETE" else _valid(QuantityInput, request)["quantity"]
        cart = services.cart_set_quantity(customer=_customer(request), cart_id=self._cart_id(pk), sku=sku,
                                          quantity=quantity)
        return Response(self._fresh(cart))

    @extend_schema(request=CheckoutInput, responses={201: OrderSerializer})
    @action(detail=True, methods=["post"])
    def checkout(self, request, pk=None):
        serializer = CheckoutInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_place_from_cart(customer=_customer(request), cart_id=self._cart_id(pk),
                                               details=serializer.details(), actor=request.user)
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("address", OpenApiTypes.INT, description="Shipping address id (default: yours)")],
        responses=inline_serializer("ShippingOption", {
            "code": serializers.CharField(), "name": serializers.CharField(), "carrier": serializers.CharField(),
            "price": serializers.DecimalField(max_digits=10, decimal_places=2), "currency": serializers.CharField(),
            "estimated_delivery": serializers.DateField(allow_null=True)}, many=True),
    )
    @action(detail=True, methods=["get"], url_path="shipping-options")
    def shipping_options(self, request, pk=None):
        """Shipping methods for an address, with price and estimated delivery date."""
        from customers.selectors import address_list_for_customer

        customer = _customer(request)
        cart = self.get_queryset().filter(pk=self._cart_id(pk)).first()
        if cart is None:
            raise OrderNotFound(_("Cart not found."))
        addresses = address_list_for_customer(customer=customer)
        address_id = request.query_params.get("address")
        address = addresses.filter(pk=address_id).first() if address_id and address_id.isdigit() else addresses.first()
        if address is None:
            raise NotFound(_("Unknown address."))
        options = selectors.shipping_options(region=address.region, currency=cart.currency)
        return Response([{**o, "price": str(o["price"])} for o in options])

    def _cart_id(self, pk) -> int:
        try:
            return int(pk)
        except (TypeError, ValueError):
            raise OrderNotFound(_("Cart not found."))

    def _fresh(self, cart):
        return CartSerializer(self.get_queryset().get(pk=cart.pk)).data


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders: the caller's own (approvers: their company's); all of them for staff
    with `orders.view_order`. Every action goes through the same services as the portal
    and the admin."""

    serializer_class = OrderSerializer
    lookup_field = "number"
    filterset_fields = ["status", "payment_status", "company__code"]

    def get_queryset(self):
        user = self.request.user
        if user.is_staff and user.has_perm("orders.view_order"):
            queryset = Order.objects.all()
        else:
            customer = customer_for_user(user)
            if customer is None:
                return Order.objects.none()
            queryset = selectors.orders_visible_to(customer=customer)
        return (queryset.select_related("shipping_method", "company")
                .prefetch_related("lines", "shipments").order_by("-placed_at", "-pk"))

    def get_object(self):
        order = self.get_queryset().filter(number=self.kwargs["number"]).first()
        if order is None:
            raise OrderNotFound()
        return order

    @extend_schema(
        request=OrderCreateInput, responses={201: OrderSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                     description="Same key + same body → the same order and response; "
                                                 "same key + another body → 409.")],
    )
    def create(self, request):
        customer = _customer(request)
        serializer = OrderCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 200:
            raise InvalidInput(fields={"Idempotency-Key": [_("At most 200 characters.")]})

        def place():
            from catalog.selectors import variant_get_for_customer

            lines = [(variant_get_for_customer(customer=customer, sku=line["sku"]).pk, line["quantity"])
                     for line in serializer.validated_data["lines"]]
            order = services.order_place(customer=customer, lines=lines, details=serializer.details(),
                                         actor=request.user)
            return order, OrderSerializer(order).data

        if not key:
            body = place()[1]
            return Response(body, status=status.HTTP_201_CREATED)
        request_hash = hashlib.sha256(json.dumps(request.data, sort_keys=True, default=str).encode()).hexdigest()
        with transaction.atomic():
            record, created = IdempotencyKey.objects.select_for_update().get_or_create(
                user=request.user, key=key, defaults={"request_hash": request_hash})
            if not created:
                if record.request_hash != request_hash:
                    raise IdempotencyKeyReused()
                return Response(record.response_body, status=record.response_status,
                                headers={"Idempotent-Replayed": "true"})
            order, body = place()
            record.order = order
            record.response_body = json.loads(json.dumps(body, default=str))
            record.save(update_fields=["order", "response_body"])
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, number=None):
        order = self.get_object()
        entries = selectors.order_timeline(order=order, customer_view=not request.user.is_staff)
        return Response(TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(request=ReasonInput, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        order = services.order_cancel(order_id=self.get_object().pk, actor=request.user,
                                      reason=_valid(ReasonInput, request)["reason"])
        return Response(OrderSerializer(order).data)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, number=None):
        return Response(OrderSerializer(services.order_approve(order_id=self.get_object().pk,
                                                               actor=request.user)).data)

    @extend_schema(request=ReasonInput, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, number=None):
        order = services.order_hold(order_id=self.get_object().pk, actor=request.user,
                                    reason=_valid(ReasonInput, request)["reason"])
        return Response(OrderSerializer(order).data)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, number=None):
        return Response(OrderSerializer(services.order_release(order_id=self.get_object().pk,
                                                               actor=request.user)).data)

    @extend_schema(request=None, responses=OrderSerializer)
    @action(detail=True, methods=["post"], url_path="start-processing")
    def start_processing(self, request, number=None):
        return Response(OrderSerializer(services.order_start_processing(order_id=self.get_object().pk,
                                                                        actor=request.user)).data)

    @extend_schema(request=ShipInput, responses=OrderSerializer)
    @action(detail=True, methods=["post"])
    def ship(self, request, number=None):
        data = _valid(ShipInput, request)
        order = self.get_object()
        services.order_ship(order_id=order.pk, actor=request.user, **data)
        return Response(OrderSerializer(self.get_queryset().get(pk=order.pk)).data)

    @extend_schema(request=PaymentInput, responses=OrderSerializer)
    @action(detail=True, methods=["post"], url_path="mark-paid")
    def mark_paid(self, request, number=None):
        data = _valid(PaymentInput, request)
        order = services.order_mark_paid(order_id=self.get_object().pk, actor=request.user, **data)
        return Response(OrderSerializer(order).data)


# -------------------------------------------------------------------- webhooks ---
class _Unsigned(DomainError):
    code = "bad_signature"
    status = 401


def _signed_json(request, secret: str) -> dict:
    if not verify(request.body, request.headers.get(HEADER), [secret]):
        raise _Unsigned(_("Missing or invalid signature."))
    try:
        return json.loads(request.body)
    except ValueError:
        raise InvalidInput(_("The body is not JSON."))


@extend_schema(
    request=inline_serializer("CarrierEvent", {"tracking_number": serializers.CharField(),
                                               "status": serializers.ChoiceField(list(services.TRACKING_STATUSES)),
                                               "occurred_at": serializers.DateTimeField(required=False)}),
    responses={200: inline_serializer("CarrierEventResult", {"status": serializers.CharField()})},
    summary="Carrier tracking webhook (signed: ShopAuto-Signature: t=…,v1=HMAC-SHA256(secret, t.body))",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([permissions.AllowAny])
def carrier_webhook(request):
    data = _signed_json(request, settings.CARRIER_WEBHOOK_SECRET)
    occurred = parse_datetime(data["occurred_at"]) if data.get("occurred_at") else None
    if not data.get("tracking_number"):
        raise InvalidInput(fields={"tracking_number": [_("Required.")]})
    shipment = services.shipment_tracking_update(tracking_number=str(data["tracking_number"]),
                                                 status=str(data.get("status", "")), occurred_at=occurred)
    return Response({"status": shipment.status})


@extend_schema(
    request=inline_serializer("PaymentEvent", {"order": serializers.CharField(),
                                               "amount": serializers.DecimalField(max_digits=12, decimal_places=2),
                                               "reference": serializers.CharField()}),
    responses={200: inline_serializer("PaymentEventResult", {"payment_status": serializers.CharField()})},
    summary="Bank/payment webhook (signed like the carrier webhook)",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([permissions.AllowAny])
def payment_webhook(request):
    data = _signed_json(request, settings.PAYMENT_WEBHOOK_SECRET)
    serializer = PaymentInput(data=data)
    serializer.is_valid(raise_exception=True)
    if not serializer.validated_data["reference"]:
        raise InvalidInput(fields={"reference": [_("Required.")]})
    order = Order.objects.filter(number=str(data.get("order", ""))).first()
    if order is None:
        raise OrderNotFound()
    order = services.order_mark_paid(order_id=order.pk, actor=None, method=Order.PaymentMethod.BANK_TRANSFER,
                                     **serializer.validated_data)
    return Response({"payment_status": order.payment_status})


def register(router):
    router.register("carts", CartViewSet, basename="cart")
    router.register("orders", OrderViewSet, basename="order")


urlpatterns = [
    path("webhooks/carrier/", carrier_webhook, name="carrier-webhook"),
    path("webhooks/payments/", payment_webhook, name="payment-webhook"),
]
