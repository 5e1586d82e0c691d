from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django_fsm_log.models import StateLog

from customers.models import CustomerProfile
from orders.models import Order, OrderLine
from orders.selectors import orders_visible_to

from .exceptions import ReturnNotFound
from .models import ReturnLine, ReturnRequest, StoreCreditEntry

RETURNABLE_ORDER_STATUSES = (Order.Status.DELIVERED, Order.Status.COMPLETED)


def returns_visible_to(*, customer: CustomerProfile) -> QuerySet[ReturnRequest]:
    """Returns of the orders the customer sees (their own; approvers: their company's)."""
    return ReturnRequest.objects.filter(order__in=orders_visible_to(customer=customer).values("pk"))


def return_list_for_customer(*, customer: CustomerProfile) -> QuerySet[ReturnRequest]:
    return returns_visible_to(customer=customer).select_related("order").order_by("-created_at", "-pk")


def return_get_for_customer(*, customer: CustomerProfile, rma: str) -> ReturnRequest:
    """404 (not 403) for anyone else's return, so existence does not leak."""
    found = (returns_visible_to(customer=customer).filter(rma=rma)
             .select_related("order", "customer__user", "exchange_order").first())
    if found is None:
        raise ReturnNotFound()
    return found


def returned_quantities(*, order_line_ids) -> dict[int, int]:
    """Units of each order line already asked back by requests that still count
    (not rejected; not closed before anything was received)."""
    counting = (Q(request__status__in=ReturnRequest.OPEN_OR_DONE)
                | Q(request__status=ReturnRequest.Status.CLOSED, request__received_at__isnull=False))
    rows = (ReturnLine.objects.filter(counting, order_line_id__in=list(order_line_ids))
            .values("order_line_id").annotate(total=Sum("quantity")))
    return {row["order_line_id"]: row["total"] for row in rows}


def returnable_lines(*, order: Order, now=None) -> list[dict]:
    """Per order line: delivered, already returned, still returnable, and its deadline
    under the active policy (for the portal form; the service decides)."""
    from .policy import active_policy, is_returnable, window_days_for

    now = now or timezone.now()
    policy = active_policy()
    lines = list(OrderLine.objects.filter(order=order).select_related("variant__product"))
    returned = returned_quantities(order_line_ids=[line.pk for line in lines])
    rows = []
    for line in lines:
        deadline = (order.delivered_at + timedelta(days=window_days_for(policy=policy, variant=line.variant))
                    if order.delivered_at else None)
        rows.append({
            "line": line, "delivered": line.quantity, "returned": returned.get(line.pk, 0),
            "left": line.quantity - returned.get(line.pk, 0), "deadline": deadline,
            "in_window": deadline is not None and now <= deadline,
            "returnable": is_returnable(policy=policy, variant=line.variant),
        })
    return rows


def return_timeline(*, request: ReturnRequest, customer_view: bool = False) -> list[dict]:
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(ReturnRequest), object_id=request.pk,
    ).select_related("by").order_by("timestamp", "pk")
    labels = dict(ReturnRequest.Status.choices)
    entries = [{"at": request.created_at, "status": "requested", "status_display": labels["requested"],
                "from": None, "by": None, "note": request.comments if not customer_view else ""}]
    for log in logs:
        by = None
        if log.by_id and not customer_view:
            by = log.by.get_username()
        elif log.by_id and customer_view and not log.by.is_staff:
            by = log.by.get_full_name() or log.by.get_username()
        entries.append({"at": log.timestamp, "status": log.state, "status_display": labels.get(log.state, log.state),
                        "from": log.source_state, "by": by, "note": log.description or ""})
    return entries


def return_url(request: ReturnRequest) -> str:
    return settings.SITE_URL + reverse("returns:detail", args=[request.rma])


def return_payload(request: ReturnRequest) -> dict:
    """The JSON every return.* event carries."""
    lines = [{"sku": line.sku, "name": line.name, "quantity": line.quantity, "unit_price": str(line.unit_price),
              "condition": line.condition or None,
              "replacement_sku": line.replacement_variant.sku if line.replacement_variant_id else None}
             for line in request.lines.select_related("replacement_variant")] if request.pk else []
    return {
        "rma": request.rma,
        "customer_id": request.customer_id,
        "email": request.order.email,
        "order_number": request.order.number,
        "status": request.status,
        "reason": request.reason,
        "reason_display": str(request.get_reason_display()),
        "resolution": request.resolution,
        "resolution_display": str(request.get_resolution_display()),
        "decision": request.decision,
        "decision_rule": request.decision_rule,
        "decision_message": request.decision_message,
        "currency": request.currency,
        "items_value": str(request.items_value),
        "restocking_fee": str(request.restocking_fee),
        "refund_amount": str(request.refund_amount),
        "tracking_number": request.tracking_number,
        "exchange_order": request.exchange_order.number if request.exchange_order_id else None,
        "lines": lines,
        "url": return_url(request),
        "label_url": settings.SITE_URL + reverse("returns:label", args=[request.rma]),
    }


def store_credit_balance(*, customer: CustomerProfile) -> dict[str, str]:
    rows = (StoreCreditEntry.objects.filter(customer=customer).values("currency").annotate(total=Sum("amount"))
            .order_by("currency"))
    return {row["currency"]: row["total"] for row in rows}


def returns_needing_attention() -> QuerySet[ReturnRequest]:
    """Staff: waiting for review, or received and not yet inspected."""
    return ReturnRequest.objects.filter(status__in=[ReturnRequest.Status.REQUESTED, ReturnRequest.Status.RECEIVED])
