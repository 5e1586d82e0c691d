"""What the orders app does when things happen (the spine calls these once per event)."""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from automation.registry import on


@on("order.placed", name="orders.alert_sales_on_large_order")
def alert_sales_on_large_order(event):
    """Sales hears about orders above ORDER_ALERT_THRESHOLD (in the order's currency)."""
    payload = event.payload
    if Decimal(payload["total"]) < settings.ORDER_ALERT_THRESHOLD:
        return
    from notifications.services import staff_alert

    staff_alert(
        group="Sales",
        subject=_("Large order %(number)s: %(total)s %(currency)s") % payload,
        body=_("%(company)s placed order %(number)s for %(total)s %(currency)s.\n%(url)s")
        % {**payload, "company": payload.get("company") or payload.get("email")},
        idempotency_key=f"large-order:{payload['number']}",
        context=payload,
    )


@on("order.delivery_exception", name="orders.alert_support_on_delivery_exception")
def alert_support_on_delivery_exception(event):
    """Support hears about parcels the carrier could not deliver."""
    from notifications.services import staff_alert

    payload = event.payload
    staff_alert(
        group="Support",
        subject=_("Delivery problem: order %(number)s") % payload,
        body=_("The carrier reported a problem with order %(number)s (tracking %(tracking)s).\n%(url)s")
        % {**payload, "tracking": ", ".join(payload.get("tracking_numbers") or []) or "—"},
        idempotency_key=f"delivery-exception:{event.pk}",
        context=payload,
    )
