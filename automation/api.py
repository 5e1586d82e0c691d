"""Staff API: webhook endpoints (CRUD), their deliveries (read + redeliver), events (read)."""

from datetime import UTC

import django_filters
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import webhooks
from .models import Event, WebhookDelivery, WebhookEndpoint


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff only, following Django model permissions (reading needs view_*)."""

    perms_map = {**permissions.DjangoModelPermissions.perms_map, "GET": ["%(app_label)s.view_%(model_name)s"],
                 "HEAD": ["%(app_label)s.view_%(model_name)s"]}

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_staff and super().has_permission(request, view))


class CanRedeliver(permissions.BasePermission):
    """Redelivering is operating the endpoint: staff with change_webhookendpoint."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_staff and user.has_perm("automation.change_webhookendpoint"))


class WebhookEndpointSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(write_only=True, required=False, min_length=16, max_length=200,
                                   help_text="Leave out to have one generated (returned once, in the create response).")
    secondary_secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200)
    events = serializers.ListField(child=serializers.CharField(max_length=100), required=False)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "name", "url", "events", "active", "secret", "secondary_secret", "consecutive_failures",
                  "disabled_at", "disabled_reason", "created_at"]
        read_only_fields = ["consecutive_failures", "disabled_at", "disabled_reason", "created_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        view = self.context.get("view")
        if view is not None and getattr(view, "action", None) == "create":
            data["secret"] = instance.secret  # shown once, so the receiver can be configured
        return data


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "endpoint", "event", "event_name", "source", "redelivery_of", "status", "attempts",
                  "next_attempt_at", "last_attempt_at", "response_status", "response_body", "duration_ms", "error",
                  "created_at", "delivered_at", "body"]
        read_only_fields = fields


class WebhookEndpointViewSet(viewsets.ModelViewSet):
    queryset = WebhookEndpoint.objects.order_by("pk")
    serializer_class = WebhookEndpointSerializer
    permission_classes = [StaffModelPermissions]
    filterset_fields = ["active"]

    def perform_update(self, serializer):
        enabling = serializer.validated_data.get("active") and not serializer.instance.active
        with transaction.atomic():
            endpoint = serializer.save()
            if enabling:  # back from auto-disable: the failure count starts over
                serializer.instance = webhooks.webhook_endpoint_enable(endpoint_id=endpoint.pk, actor=self.request.user)


class DeliveryFilter(django_filters.FilterSet):
    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_name", "source", "event"]


class WebhookDeliveryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = WebhookDelivery.objects.order_by("-pk")
    serializer_class = WebhookDeliverySerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = DeliveryFilter

    def get_permissions(self):
        if self.action == "redeliver":
            return [CanRedeliver()]
        return super().get_permissions()

    @extend_schema(request=None, responses={201: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = webhooks.webhook_delivery_redeliver(delivery_id=self.get_object().pk, actor=request.user)
        return Response(self.get_serializer(delivery).data, status=status.HTTP_201_CREATED)


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["id", "name", "subject_type", "subject_id", "payload", "status", "created_at", "processed_at",
                  "attempts", "last_error"]
        read_only_fields = fields


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO date-time compared in UTC: any offset a client sends (even -17:40, which
    PostgreSQL refuses to store) is converted before the query."""

    def filter(self, qs, value):
        if value is not None:
            value = value.astimezone(UTC)
        return super().filter(qs, value)


class EventFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(field_name="name")
    name_prefix = django_filters.CharFilter(field_name="name", lookup_expr="startswith")
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Event
        fields = ["name", "subject_type", "subject_id", "status"]


class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Event.objects.order_by("-pk")
    serializer_class = EventSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = EventFilter


def register(router):
    router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
    router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
    router.register("events", EventViewSet, basename="event")
