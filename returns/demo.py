"""A default return policy and three returns on the demo orders (made through the
services, so their decisions, events, emails and timelines are real): one approved by
the policy, one waiting for review, one rejected (outside the window)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from .models import Reason, ReturnPolicy, ReturnRequest

BUYER = "buyer@acme.example"


def load(out) -> str:
    policy, _created = ReturnPolicy.objects.get_or_create(is_active=True, defaults={
        "name": "Standard returns", "window_days": 30, "auto_approve_max_value": Decimal("250.00"),
        "limit_count": 5, "limit_period_days": 365, "restocking_fee_percent": Decimal("10.00"),
        "restocking_fee_fixed": Decimal("0.00")})
    if ReturnRequest.objects.exists():
        return "return policy (returns already there)"
    made = _demo_returns(out, policy)
    return f"return policy '{policy.name}', {made} returns"


def _demo_returns(out, policy) -> int:
    from orders import services as orders
    from orders.models import Order
    from shopauto.exceptions import DomainError

    from .services import ReturnLineInput, return_request_create

    orders_of_buyer = Order.objects.filter(customer__user__username=BUYER).order_by("placed_at", "pk")
    delivered = orders_of_buyer.filter(status__in=[Order.Status.DELIVERED, Order.Status.COMPLETED]).first()
    made = 0
    if delivered is not None:
        lines = list(delivered.lines.all())
        plans = [(lines[0], Reason.CHANGED_MIND, "refund", "Ordered one too many."),
                 (lines[-1], Reason.DAMAGED, "store_credit", "The box was crushed and one unit is dented.")]
        for line, reason, resolution, comments in plans:
            out.write(f"      return of {line.sku} from {delivered.number} ({reason}) …")
            try:
                return_request_create(customer=delivered.customer, order_number=delivered.number,
                                      lines=[ReturnLineInput(order_line_id=line.pk, quantity=1)], reason=reason,
                                      resolution=resolution, comments=comments)
                made += 1
            except DomainError as error:
                out.write(f"      skipped: {error.message}")
    # Outside the window: the second demo order, delivered now and (demo only) dated back
    # past the window, since a delivery date is only ever set by the carrier webhook.
    shipped = orders_of_buyer.filter(status=Order.Status.SHIPPED).first()
    if shipped is not None:
        for tracking in shipped.shipments.values_list("tracking_number", flat=True):
            if tracking:
                orders.shipment_tracking_update(tracking_number=tracking, status="delivered")
        shipped.refresh_from_db()
        if shipped.status == Order.Status.DELIVERED:
            Order.objects.filter(pk=shipped.pk).update(
                delivered_at=timezone.now() - timedelta(days=policy.window_days + 15))
            line = shipped.lines.first()
            out.write(f"      late return of {line.sku} from {shipped.number} …")
            try:
                return_request_create(customer=shipped.customer, order_number=shipped.number,
                                      lines=[ReturnLineInput(order_line_id=line.pk, quantity=1)],
                                      reason=Reason.CHANGED_MIND, resolution="refund")
                made += 1
            except DomainError as error:
                out.write(f"      skipped: {error.message}")
    return made
