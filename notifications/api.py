"""/api/v1/messages/: staff see the outbox (by model permission) and resend failed
messages; a customer sees the emails sent to them, and nobody else's (404)."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from customers.selectors import customer_for_user

from . import selectors, services
from .models import OutgoingMessage


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutgoingMessage
        fields = ["id", "template_key", "event_name", "recipient_email", "language", "subject", "status", "attempts",
                  "last_error", "esp_message_id", "marketing", "created_at", "sent_at", "status_changed_at",
                  "resend_of", "body_text", "body_html"]
        read_only_fields = fields


class MessageFilter(django_filters.FilterSet):
    recipient_email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = OutgoingMessage
        fields = ["status", "template_key", "event_name", "recipient_email", "marketing"]


class MessageViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MessageSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_class = MessageFilter

    def get_queryset(self):
        user = self.request.user
        customer = customer_for_user(user)
        if customer is not None:
            return selectors.message_list_for_customer(customer=customer)
        if user.has_perm("notifications.view_outgoingmessage"):
            return OutgoingMessage.objects.order_by("-pk")
        return OutgoingMessage.objects.none()

    @extend_schema(request=None, responses={201: MessageSerializer},
                   summary="Send a failed, bounced or skipped message again (a new message; staff)")
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        message = self.get_object()  # 404 for what the caller cannot see
        if not request.user.has_perm("notifications.change_outgoingmessage"):
            raise PermissionDenied()
        new = services.message_resend(message=message, actor=request.user)
        return Response(MessageSerializer(new).data, status=status.HTTP_201_CREATED)


def register(router):
    router.register("messages", MessageViewSet, basename="message")
