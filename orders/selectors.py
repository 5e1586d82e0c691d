from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.urls import reverse
from django_fsm_log.models import StateLog

from customers.models import CustomerProfile

from .models import Cart, Order


def orders_visible_to(*, customer: CustomerProfile) -> QuerySet[Order]:
    """A customer's own orders; approvers and company admins see their company's."""
    if customer.can_approve:
        return Order.objects.filter(Q(customer=customer) | Q(company_id=customer.company_id))
    return Order.objects.filter(customer=customer)


def order_list_for_customer(*, customer: CustomerProfile) -> QuerySet[Order]:
    return orders_visible_to(customer=customer).select_related("customer__user").order_by("-placed_at", "-pk")


def order_get_for_customer(*, customer: CustomerProfile, number: str) -> Order:
    """404 (not 403) for anyone else's order, so existence does not leak."""
    from .exceptions import OrderNotFound

    order = (orders_visible_to(customer=customer).filter(number=number)
             .select_related("shipping_method", "customer__user", "company").first())
    if order is None:
        raise OrderNotFound()
    return order


def orders_awaiting_approval(*, customer: CustomerProfile) -> QuerySet[Order]:
    if not customer.can_approve:
        return Order.objects.none()
    return Order.objects.filter(company_id=customer.company_id, status=Order.Status.AWAITING_APPROVAL)


def order_timeline(*, order: Order, customer_view: bool = False) -> list[dict]:
    """Every transition (who, when, from, to, why); customers see no staff names."""
    logs = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Order), object_id=order.pk
    ).select_related("by").order_by("timestamp", "pk")
    entries = [{
        "at": order.placed_at, "status": "placed", "status_display": Order.Status.PLACED.label,
        "from": None, "by": None, "note": "",
    }]
    labels = dict(Order.Status.choices)
    for log in logs:
        by = None
        if log.by_id and not customer_view:
            by = log.by.get_username()
        elif log.by_id and customer_view and not log.by.is_staff:
            by = log.by.get_full_name() or log.by.get_username()
        entries.append({
            "at": log.timestamp, "status": log.state, "status_display": labels.get(log.state, log.state),
            "from": log.source_state, "by": by, "note": log.description or "",
        })
    return entries


def order_url(order: Order) -> str:
    return settings.SITE_URL + reverse("orders:detail", args=[order.number])


def order_payload(order: Order) -> dict:
    """The JSON every order.* event carries (see the payload docs)."""
    lines = [{"sku": line.sku, "name": line.name, "quantity": line.quantity, "unit_price": str(line.unit_price),
              "line_total": str(line.line_total)} for line in order.lines.all()]
    shipments = list(order.shipments.all()) if order.pk else []
    tracking = next((s.tracking_url for s in reversed(shipments) if s.tracking_url), None)
    return {
        "number": order.number,
        "customer_id": order.customer_id,
        "email": order.email,
        "company": order.company.code if order.company_id else None,
        "status": order.status,
        "payment_method": order.payment_method,
        "payment_status": order.payment_status,
        "currency": order.currency,
        "subtotal": str(order.subtotal),
        "shipping": str(order.shipping_total),
        "total": str(order.total),
        "po_number": order.po_number,
        "lines": lines,
        "shipping_address": order.shipping_address,
        "estimated_delivery": order.estimated_delivery.isoformat() if order.estimated_delivery else None,
        "tracking_url": tracking,
        "tracking_numbers": [s.tracking_number for s in shipments if s.tracking_number],
        "url": order_url(order),
    }


def cart_payload(cart: Cart) -> dict:
    lines = [{"sku": line.variant.sku, "name": line.variant.display_name, "quantity": line.quantity,
              "unit_price": str(line.unit_price)} for line in cart.lines.select_related("variant__product")]
    return {
        "cart_id": cart.pk,
        "customer_id": cart.customer_id,
        "email": cart.customer.user.email,
        "currency": cart.currency,
        "lines": lines,
        "total": str(sum((line.unit_price * line.quantity for line in cart.lines.all()), 0)),
        "url": settings.SITE_URL + reverse("orders:cart_restore", args=[cart.token]),
    }


def open_invoices_total(*, company_id: int):
    from django.db.models import Sum

    return (Order.objects.filter(company_id=company_id, payment_status=Order.PaymentStatus.INVOICED)
            .exclude(status=Order.Status.CANCELLED).aggregate(total=Sum("total"))["total"])


def shipping_options(*, region: str, currency: str, now=None) -> list[dict]:
    """Each active shipping method that delivers to `region`, with its price and an
    estimated delivery date from the warehouse serving the region (the order's own date,
    computed from its real allocation, may differ when stock ships from elsewhere)."""
    from datetime import timedelta

    from django.utils import timezone

    from inventory.models import Warehouse

    from . import delivery
    from .models import ShippingMethod, ShippingRate

    now = now or timezone.now()
    warehouse = (Warehouse.objects.filter(region=region, is_active=True).order_by("handling_days", "pk").first()
                 or Warehouse.objects.filter(is_active=True).order_by("handling_days", "pk").first())
    rates = {}
    for rate in ShippingRate.objects.filter(region__in=[region, ""], currency=currency, method__is_active=True):
        if rate.region == region or rate.method_id not in rates:
            rates[rate.method_id] = rate
    holidays = delivery.holidays_between(now.date(), now.date() + timedelta(days=90),
                                         regions=[region] + ([warehouse.region] if warehouse else []))
    options = []
    for method in ShippingMethod.objects.filter(pk__in=rates).order_by("name"):
        rate = rates[method.pk]
        estimate = None
        if warehouse is not None:
            estimate = delivery.estimate_delivery(now=now, cutoff=warehouse.cutoff_time,
                                                  handling_days=warehouse.handling_days,
                                                  transit_days=rate.transit_days, holidays=holidays)
        options.append({"code": method.code, "name": method.name, "carrier": method.carrier, "price": rate.price,
                        "currency": currency, "estimated_delivery": estimate})
    return options


def digest_summary(*, start, end) -> dict:
    """Managers' daily digest: orders and revenue placed in [start, end), and what waits."""
    from decimal import Decimal

    from django.db.models import Count, Sum
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    rows = (Order.objects.filter(placed_at__gte=start, placed_at__lt=end).exclude(status=Order.Status.CANCELLED)
            .values("currency").annotate(count=Count("pk"), revenue=Sum("total")).order_by("currency"))
    lines = [
        ngettext("%(count)s order, %(revenue)s %(currency)s", "%(count)s orders, %(revenue)s %(currency)s",
                 row["count"]) % {**row, "revenue": Decimal(row["revenue"]).quantize(Decimal("0.01"))}
        for row in rows
    ] or [_("No orders.")]
    waiting = Order.objects.filter(status=Order.Status.AWAITING_APPROVAL).count()
    on_hold = Order.objects.filter(status=Order.Status.ON_HOLD).count()
    unpaid = Order.objects.filter(status=Order.Status.PLACED, payment_status=Order.PaymentStatus.PENDING).count()
    lines.append(_("Waiting: %(approval)s for approval, %(hold)s on hold, %(unpaid)s unpaid")
                 % {"approval": waiting, "hold": on_hold, "unpaid": unpaid})
    return {"title": _("Orders and revenue"), "lines": lines}
