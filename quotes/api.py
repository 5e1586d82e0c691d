import hashlib
import json

from django.db import IntegrityError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog.exceptions import NotInCatalog
from catalog.selectors import variants_visible_to
from customers.selectors import customer_for_user
from orders.api import CheckoutInput, ReasonInput, TimelineEntrySerializer
from orders.exceptions import IdempotencyKeyReused, NotAllowed
from shopauto.exceptions import InvalidInput

from . import selectors, services
from .exceptions import QuoteNotFound
from .models import Quote, QuoteVersion
from .pdf import quote_pdf_response


# ------------------------------------------------------------------ serializers ---
class RequestedLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="variant.sku")
    name = serializers.CharField(source="variant.display_name")
    quantity = serializers.IntegerField()
    target_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)


class QuoteLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    name = serializers.CharField()
    quantity = serializers.IntegerField()
    list_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True,
                                          help_text="The customer's own price for this quantity today.")
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount_percent = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)


class VersionSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="number")
    lines = QuoteLineSerializer(many=True, read_only=True)

    class Meta:
        model = QuoteVersion
        fields = ["version", "sent_at", "valid_until", "currency", "subtotal", "shipping", "note",
                  "changes_requested", "lines"]


class StaffVersionSerializer(VersionSerializer):
    approved_by = serializers.StringRelatedField()

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "is_draft", "list_subtotal", "max_discount_percent",
                  "needs_approval", "approved_by", "approved_at"]


class QuoteListSerializer(serializers.ModelSerializer):
    company = serializers.SlugRelatedField(slug_field="code", read_only=True)
    order = serializers.SlugRelatedField(slug_field="number", read_only=True)

    class Meta:
        model = Quote
        fields = ["number", "status", "source", "company", "currency", "requested_at", "needed_by", "valid_until",
                  "accepted_at", "order"]


class ConversionErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField()
    at = serializers.DateTimeField()


class QuoteDetailSerializer(QuoteListSerializer):
    requested_lines = RequestedLineSerializer(many=True, read_only=True, source="request_lines")
    versions = serializers.SerializerMethodField()
    conversion_error = serializers.SerializerMethodField()

    class Meta(QuoteListSerializer.Meta):
        fields = [*QuoteListSerializer.Meta.fields, "notes", "requested_lines", "versions", "conversion_error",
                  "close_reason"]

    @extend_schema_field(StaffVersionSerializer(many=True))
    def get_versions(self, quote) -> list[dict]:
        staff = self.context.get("staff", False)
        versions = selectors.quote_versions(quote=quote, include_drafts=staff)
        return (StaffVersionSerializer if staff else VersionSerializer)(versions, many=True).data

    @extend_schema_field(ConversionErrorSerializer(allow_null=True))
    def get_conversion_error(self, quote) -> dict | None:
        return quote.conversion_error or None


class RequestLineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    target_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False,
                                            allow_null=True, default=None)


class QuoteCreateInput(serializers.Serializer):
    lines = RequestLineInput(many=True, required=False, max_length=services.MAX_LINES)
    cart = serializers.IntegerField(required=False, help_text="Request a quote for this open cart of yours "
                                                              "instead of giving lines.")
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    needed_by = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, data):
        if bool(data.get("lines")) == bool(data.get("cart")):
            raise serializers.ValidationError(_("Give either lines or a cart."))
        return data


class PriceLineInput(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class PriceInput(serializers.Serializer):
    lines = PriceLineInput(many=True, allow_empty=False, max_length=services.MAX_LINES)
    valid_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    shipping = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False,
                                        allow_null=True, default=None)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class CommentInput(serializers.Serializer):
    comment = serializers.CharField(max_length=4000)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _variant_ids(queryset, skus: list[str]) -> dict[str, int]:
    found = dict(queryset.filter(sku__in=skus).values_list("sku", "pk"))
    if set(skus) - set(found):
        raise NotInCatalog(fields={"sku": sorted(set(skus) - set(found))})
    return found


# ------------------------------------------------------------------- viewset ---
class QuoteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Quotes: a customer's own (approvers: their company's; anyone else's is 404);
    every quote for staff with `quotes.view_quote`. Every action calls the same
    services as the portal and the admin."""

    lookup_field = "number"
    filterset_fields = ["status", "source"]

    def _staff(self) -> bool:
        user = self.request.user
        return bool(user.is_staff and user.has_perm("quotes.view_quote"))

    def get_queryset(self):
        if self._staff():
            queryset = Quote.objects.all()
        else:
            customer = customer_for_user(self.request.user)
            if customer is None:
                return Quote.objects.none()
            queryset = selectors.quotes_visible_to(customer=customer)
        queryset = queryset.select_related("company", "order").order_by("-requested_at", "-pk")
        if self.action != "list":
            queryset = queryset.prefetch_related("request_lines__variant__product")
        return queryset

    def get_serializer_class(self):
        return QuoteListSerializer if self.action == "list" else QuoteDetailSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "staff": self._staff()}

    def get_object(self):
        quote = self.get_queryset().filter(number=self.kwargs["number"]).first()
        if quote is None:
            raise QuoteNotFound()
        return quote

    def _body(self, quote, code=status.HTTP_200_OK) -> Response:
        quote = self.get_queryset().get(pk=quote.pk)
        return Response(QuoteDetailSerializer(quote, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        request=QuoteCreateInput, responses={201: QuoteDetailSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                     description="Same key + same body → the same quote; same key + another "
                                                 "body → 409.")],
    )
    def create(self, request):
        customer = customer_for_user(request.user)
        if customer is None:
            raise NotAllowed(_("Requests for quote come from customers."))
        data = _valid(QuoteCreateInput, request)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 200:
            raise InvalidInput(fields={"Idempotency-Key": [_("At most 200 characters.")]})
        request_hash = hashlib.sha256(json.dumps(request.data, sort_keys=True, default=str).encode()).hexdigest()
        if key:
            replay = self._replay(customer, key, request_hash)
            if replay is not None:
                return replay
        try:
            quote = self._create(customer, data, key, request_hash if key else "")
        except IntegrityError:  # the same key raced in from another request: answer with its quote
            replay = self._replay(customer, key, request_hash)
            if replay is None:
                raise
            return replay
        return self._body(quote, status.HTTP_201_CREATED)

    def _replay(self, customer, key, request_hash):
        existing = Quote.objects.filter(customer=customer, idempotency_key=key).first()
        if existing is None:
            return None
        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused()
        response = self._body(existing, status.HTTP_201_CREATED)
        response["Idempotent-Replayed"] = "true"
        return response

    def _create(self, customer, data, key, request_hash):
        if data.get("cart"):
            return services.quote_request_from_cart(customer=customer, cart_id=data["cart"], notes=data["notes"],
                                                    needed_by=data["needed_by"], actor=self.request.user,
                                                    idempotency_key=key, request_hash=request_hash)
        ids = _variant_ids(variants_visible_to(customer=customer), [line["sku"] for line in data["lines"]])
        return services.quote_request(
            customer=customer, notes=data["notes"], needed_by=data["needed_by"], source=Quote.Source.API,
            actor=self.request.user, idempotency_key=key, request_hash=request_hash,
            lines=[services.RequestedLine(ids[line["sku"]], line["quantity"], line["target_price"])
                   for line in data["lines"]])

    # --- the buyer ---
    @extend_schema(request=CheckoutInput, responses=QuoteDetailSerializer,
                   description="Accept the version sent, with the checkout choices the order is placed with. "
                               "The acceptance is kept even when the order cannot be placed yet: the quote is "
                               "then `accepted` with `conversion_error` set (e.g. insufficient_stock) and Sales "
                               "are alerted; it becomes `converted` with `order` once placed.")
    @action(detail=True, methods=["post"])
    def accept(self, request, number=None):
        details = CheckoutInput(data=request.data)
        details.is_valid(raise_exception=True)
        quote = services.quote_accept(quote_id=self.get_object().pk, actor=request.user, details=details.details())
        return self._body(quote)

    @extend_schema(request=ReasonInput, responses=QuoteDetailSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, number=None):
        quote = services.quote_decline(quote_id=self.get_object().pk, actor=request.user,
                                       reason=_valid(ReasonInput, request)["reason"])
        return self._body(quote)

    @extend_schema(request=CommentInput, responses=QuoteDetailSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, number=None):
        quote = services.quote_request_changes(quote_id=self.get_object().pk, actor=request.user,
                                               comment=_valid(CommentInput, request)["comment"])
        return self._body(quote)

    @extend_schema(request=ReasonInput, responses=QuoteDetailSerializer,
                   description="Staff cancel an open quote; a buyer withdraws a request not yet answered.")
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        quote = services.quote_cancel(quote_id=self.get_object().pk, actor=request.user,
                                      reason=_valid(ReasonInput, request)["reason"])
        return self._body(quote)

    @extend_schema(responses=TimelineEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, number=None):
        entries = selectors.quote_timeline(quote=self.get_object(), customer_view=not self._staff())
        return Response(TimelineEntrySerializer(entries, many=True).data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, number=None):
        quote = self.get_object()
        version = quote.current_version()
        if version is None:
            raise QuoteNotFound(_("There is no priced version yet."))
        return quote_pdf_response(quote, version)

    # --- staff ---
    def _require_staff_view(self):
        if not self._staff():
            raise QuoteNotFound()  # customers never learn staff actions exist on a quote

    @extend_schema(request=PriceInput, responses=QuoteDetailSerializer,
                   description="Write the draft of the next version (staff, quotes.change_quote). Discounts are "
                               "measured against the customer's own price for each quantity.")
    @action(detail=True, methods=["post"])
    def price(self, request, number=None):
        self._require_staff_view()
        quote = self.get_object()
        data = _valid(PriceInput, request)
        ids = _variant_ids(variants_visible_to(customer=quote.customer), [line["sku"] for line in data["lines"]])
        services.quote_price(quote_id=quote.pk, actor=request.user, valid_until=data["valid_until"],
                             shipping=data["shipping"], note=data["note"],
                             lines=[services.PricedLine(ids[line["sku"]], line["quantity"], line["unit_price"])
                                    for line in data["lines"]])
        return self._body(quote)

    @extend_schema(request=None, responses=QuoteDetailSerializer,
                   description="Send the draft; beyond QUOTE_MAX_DISCOUNT_PERCENT it goes to pending_approval.")
    @action(detail=True, methods=["post"])
    def send(self, request, number=None):
        self._require_staff_view()
        return self._body(services.quote_send(quote_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=None, responses=QuoteDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, number=None):
        self._require_staff_view()
        return self._body(services.quote_approve(quote_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=ReasonInput, responses=QuoteDetailSerializer)
    @action(detail=True, methods=["post"], url_path="reject-approval")
    def reject_approval(self, request, number=None):
        self._require_staff_view()
        return self._body(services.quote_reject_approval(quote_id=self.get_object().pk, actor=request.user,
                                                         reason=_valid(ReasonInput, request)["reason"]))

    @extend_schema(request=None, responses=QuoteDetailSerializer,
                   description="Retry placing the order of an accepted quote (idempotent).")
    @action(detail=True, methods=["post"])
    def convert(self, request, number=None):
        self._require_staff_view()
        return self._body(services.quote_convert(quote_id=self.get_object().pk, actor=request.user))


def register(router):
    router.register("quotes", QuoteViewSet, basename="quote")

