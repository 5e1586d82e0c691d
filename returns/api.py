"""Returns API: customers create and follow their returns; staff move them along.
Lookup by RMA number; other customers' returns are 404."""

import hashlib
import json

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from customers.selectors import customer_for_user
from orders.exceptions import IdempotencyKeyReused
from shopauto.exceptions import InvalidInput, NotFound

from . import selectors, services
from .exceptions import ReturnNotFound
from .models import IdempotencyKey, Reason, Resolution, ReturnLine, ReturnRequest
from .pdf import return_label_pdf
from .policy import active_policy


class ReturnLineSerializer(serializers.ModelSerializer):
    replacement_sku = serializers.CharField(source="replacement_variant.sku", default=None, read_only=True)

    class Meta:
        model = ReturnLine
        fields = ["id", "sku", "name", "quantity", "unit_price", "replacement_sku", "condition"]


class ReturnSerializer(serializers.ModelSerializer):
    order = serializers.SlugRelatedField(slug_field="number", read_only=True)
    exchange_order = serializers.SlugRelatedField(slug_field="number", read_only=True)
    lines = ReturnLineSerializer(many=True, read_only=True)

    class Meta:
        model = ReturnRequest
        fields = ["rma", "order", "status", "reason", "resolution", "comments", "currency", "items_value",
                  "restocking_fee", "refund_amount", "decision", "decision_rule", "decision_message",
                  "tracking_number", "exchange_order", "created_at", "approved_at", "shipped_at", "received_at",
                  "resolved_at", "closed_at", "lines"]


class ReturnLineInputSerializer(serializers.Serializer):
    order_line = serializers.IntegerField(required=False, help_text="id of the order line (GET /orders/{number}/ lines)")
    sku = serializers.CharField(required=False, help_text="instead of order_line: the SKU in that order")
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    replacement_sku = serializers.CharField(required=False, allow_blank=True, default="")


class ReturnCreateInput(serializers.Serializer):
    order = serializers.CharField(max_length=20, help_text="order number, e.g. SA-7K2M9QXD")
    lines = ReturnLineInputSerializer(many=True, allow_empty=False, max_length=200)
    reason = serializers.ChoiceField(choices=Reason.choices)
    resolution = serializers.ChoiceField(choices=Resolution.choices)
    comments = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    photos = serializers.ListField(child=serializers.ImageField(), required=False, max_length=services.MAX_PHOTOS,
                                   default=list)


class ShippedInput(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class NoteInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ReceiveInput(serializers.Serializer):
    warehouse_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class InspectInput(serializers.Serializer):
    conditions = serializers.DictField(child=serializers.ChoiceField(choices=ReturnLine.Condition.choices),
                                       required=False, default=dict,
                                       help_text="return line id → condition; lines left out are resellable")
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ResolveInput(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=Resolution.choices, required=False, allow_null=True, default=None)


def _valid(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReturnViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Returns (RMA): the caller's own (approvers: their company's); all of them for staff
    with `returns.view_returnrequest`. Creating one runs the return policy at once."""

    serializer_class = ReturnSerializer
    lookup_field = "rma"
    filterset_fields = ["status", "decision", "decision_rule", "resolution"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        user = self.request.user
        if user.is_staff and user.has_perm("returns.view_returnrequest"):
            queryset = ReturnRequest.objects.all()
        else:
            customer = customer_for_user(user)
            if customer is None:
                return ReturnRequest.objects.none()
            queryset = selectors.returns_visible_to(customer=customer)
        return (queryset.select_related("order", "exchange_order")
                .prefetch_related("lines__replacement_variant").order_by("-created_at", "-pk"))

    def get_object(self):
        found = self.get_queryset().filter(rma=self.kwargs["rma"]).first()
        if found is None:
            raise ReturnNotFound()
        return found

    def _fresh(self, obj):
        return ReturnSerializer(self.get_queryset().get(pk=obj.pk)).data

    @extend_schema(
        request=ReturnCreateInput, responses={201: ReturnSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                     description="Same key + same body → the same return and response; "
                                                 "same key + another body → 409.")],
    )
    def create(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return Response(self._create(request), status=status.HTTP_201_CREATED)
        if len(key) > 200:
            raise InvalidInput(fields={"Idempotency-Key": [_("At most 200 characters.")]})
        body = {name: value for name, value in request.data.items() if name != "photos"}
        photos = [(getattr(f, "name", ""), getattr(f, "size", 0)) for f in request.FILES.getlist("photos")]
        request_hash = hashlib.sha256(json.dumps([body, photos], sort_keys=True, default=str).encode()).hexdigest()
        with transaction.atomic():
            record, created = IdempotencyKey.objects.select_for_update().get_or_create(
                user=request.user, key=key, defaults={"request_hash": request_hash})
            if not created:
                if record.request_hash != request_hash:
                    raise IdempotencyKeyReused()
                return Response(record.response_body, status=status.HTTP_201_CREATED,
                                headers={"Idempotent-Replayed": "true"})
            data = self._create(request)
            record.return_request_id = ReturnRequest.objects.get(rma=data["rma"]).pk
            record.response_body = json.loads(json.dumps(data, default=str))
            record.save(update_fields=["return_request", "response_body"])
        return Response(data, status=status.HTTP_201_CREATED)

    def _create(self, request) -> dict:
        from orders.models import OrderLine
        from orders.selectors import order_get_for_customer

        customer = customer_for_user(request.user)
        if customer is None:
            raise NotFound(_("Only customer accounts can request returns."))
        data = _valid(ReturnCreateInput, request)
        order = order_get_for_customer(customer=customer, number=data["order"])
        order_lines = list(OrderLine.objects.filter(order=order).select_related("variant"))
        by_sku = {line.sku: line for line in order_lines}
        by_id = {line.pk: line for line in order_lines}
        from catalog.models import Variant

        replacement_ids = dict(Variant.objects.filter(
            sku__in=[line["replacement_sku"] for line in data["lines"] if line["replacement_sku"]]
        ).values_list("sku", "pk"))
        lines = []
        for line in data["lines"]:
            order_line = by_id.get(line["order_line"]) if line.get("order_line") else by_sku.get(line.get("sku"))
            lines.append(services.ReturnLineInput(
                order_line_id=order_line.pk if order_line else -1, quantity=line["quantity"],
                replacement_variant_id=replacement_ids.get(line["replacement_sku"], -1)
                if line["replacement_sku"] else None))
        created = services.return_request_create(
            customer=customer, order_number=order.number, lines=lines, reason=data["reason"],
            resolution=data["resolution"], comments=data["comments"], photos=data["photos"], actor=request.user)
        return self._fresh(created)

    @extend_schema(responses=inline_serializer("ReturnTimelineEntry", {
        "at": serializers.DateTimeField(), "status": serializers.CharField(),
        "status_display": serializers.CharField(), "by": serializers.CharField(allow_null=True),
        "note": serializers.CharField()}, many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, rma=None):
        entries = selectors.return_timeline(request=self.get_object(), customer_view=not request.user.is_staff)
        return Response([{**entry, "status_display": str(entry["status_display"]), "note": str(entry["note"])}
                         for entry in entries])

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def label(self, request, rma=None):
        """The return label and packing slip (PDF), once approved."""
        found = self.get_object()
        if found.status in (ReturnRequest.Status.REQUESTED, ReturnRequest.Status.REJECTED):
            raise Http404
        return return_label_pdf(found, policy=found.policy or active_policy())

    @extend_schema(request=ShippedInput, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def shipped(self, request, rma=None):
        obj = services.return_mark_shipped(return_id=self.get_object().pk, actor=request.user,
                                           **_valid(ShippedInput, request))
        return Response(self._fresh(obj))

    @extend_schema(responses=inline_serializer("ReturnPolicyPublic", {
        "window_days": serializers.IntegerField(), "reasons": serializers.DictField(),
        "resolutions": serializers.DictField(), "restocking_fee_percent": serializers.DecimalField(6, 2),
        "restocking_fee_fixed": serializers.DecimalField(12, 2), "fee_exempt_reasons": serializers.ListField(),
        "instructions": serializers.CharField()}))
    @action(detail=False, methods=["get"])
    def policy(self, request):
        """The return policy as customers see it (for a storefront's returns page)."""
        policy = active_policy()
        return Response({
            "window_days": policy.window_days, "reasons": {k: str(v) for k, v in Reason.choices},
            "resolutions": {k: str(v) for k, v in Resolution.choices},
            "restocking_fee_percent": str(policy.restocking_fee_percent),
            "restocking_fee_fixed": str(policy.restocking_fee_fixed),
            "fee_exempt_reasons": policy.fee_exempt_reasons, "instructions": policy.instructions,
        })

    @extend_schema(
        parameters=[OpenApiParameter("order", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True)],
        responses=inline_serializer("ReturnableLine", {
            "order_line": serializers.IntegerField(), "sku": serializers.CharField(),
            "name": serializers.CharField(), "unit_price": serializers.DecimalField(12, 2),
            "delivered": serializers.IntegerField(), "returned": serializers.IntegerField(),
            "left": serializers.IntegerField(), "deadline": serializers.DateTimeField(allow_null=True),
            "in_window": serializers.BooleanField(), "returnable": serializers.BooleanField()}, many=True))
    @action(detail=False, methods=["get"])
    def returnable(self, request):
        """What of one of the caller's orders can still be returned, and until when."""
        from orders.selectors import order_get_for_customer

        customer = customer_for_user(request.user)
        if customer is None:
            raise NotFound(_("Only customer accounts can request returns."))
        order = order_get_for_customer(customer=customer, number=request.query_params.get("order", ""))
        if order.status not in selectors.RETURNABLE_ORDER_STATUSES:
            return Response([])
        return Response([{
            "order_line": row["line"].pk, "sku": row["line"].sku, "name": row["line"].name,
            "unit_price": str(row["line"].unit_price), "delivered": row["delivered"], "returned": row["returned"],
            "left": row["left"], "deadline": row["deadline"], "in_window": row["in_window"],
            "returnable": row["returnable"],
        } for row in selectors.returnable_lines(order=order)])

    @extend_schema(request=None, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, rma=None):
        """The customer withdraws a return before shipping it back."""
        return Response(self._fresh(services.return_withdraw(return_id=self.get_object().pk, actor=request.user)))

    @extend_schema(request=NoteInput, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, rma=None):
        obj = services.return_approve(return_id=self.get_object().pk, actor=request.user,
                                      note=_valid(NoteInput, request)["reason"])
        return Response(self._fresh(obj))

    @extend_schema(request=NoteInput, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, rma=None):
        obj = services.return_reject(return_id=self.get_object().pk, actor=request.user,
                                     reason=_valid(NoteInput, request)["reason"])
        return Response(self._fresh(obj))

    @extend_schema(request=ReceiveInput, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, rma=None):
        obj = services.return_receive(return_id=self.get_object().pk, actor=request.user,
                                      **_valid(ReceiveInput, request))
        return Response(self._fresh(obj))

    @extend_schema(request=InspectInput, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def inspect(self, request, rma=None):
        data = _valid(InspectInput, request)
        try:
            conditions = {int(key): value for key, value in data["conditions"].items()}
        except ValueError:
            raise InvalidInput(fields={"conditions": [_("Keys are return line ids.")]})
        obj = services.return_inspect(return_id=self.get_object().pk, actor=request.user, conditions=conditions,
                                      notes=data["notes"])
        return Response(self._fresh(obj))

    @extend_schema(request=ResolveInput, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, rma=None):
        obj = services.return_resolve(return_id=self.get_object().pk, actor=request.user,
                                      **_valid(ResolveInput, request))
        return Response(self._fresh(obj))

    @extend_schema(request=NoteInput, responses=ReturnSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, rma=None):
        obj = services.return_close(return_id=self.get_object().pk, actor=request.user,
                                    reason=_valid(NoteInput, request)["reason"])
        return Response(self._fresh(obj))


def register(router):
    router.register("returns", ReturnViewSet, basename="return")
