from django.db.models import QuerySet

from customers.models import CustomerProfile

from .models import OutgoingMessage

# What a customer may see of their mail: not skipped rows (internal) nor staff mail.
CUSTOMER_VISIBLE = [OutgoingMessage.Status.QUEUED, OutgoingMessage.Status.SENDING, OutgoingMessage.Status.SENT,
                    OutgoingMessage.Status.DELIVERED, OutgoingMessage.Status.BOUNCED,
                    OutgoingMessage.Status.COMPLAINED, OutgoingMessage.Status.FAILED]


def message_list_for_customer(*, customer: CustomerProfile) -> QuerySet[OutgoingMessage]:
    """The emails sent to this customer (their own only), newest first."""
    return OutgoingMessage.objects.filter(customer=customer, status__in=CUSTOMER_VISIBLE).order_by("-created_at", "-pk")


def message_get_for_customer(*, customer: CustomerProfile, message_id: int) -> OutgoingMessage:
    from .exceptions import MessageNotFound

    message = message_list_for_customer(customer=customer).filter(pk=message_id).first()
    if message is None:
        raise MessageNotFound()
    return message
