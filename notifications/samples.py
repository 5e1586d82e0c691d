"""Sample payloads, shaped like the events of /work/notes/interfaces.md, for template
previews and "send me a test" in the admin."""

from copy import deepcopy

from django.conf import settings

_ORDER = {
    "number": "SA-1001", "customer_id": None, "email": "ana@example.com", "company": "acme", "status": "confirmed",
    "currency": "EUR", "subtotal": "118.00", "shipping": "6.50", "total": "124.50",
    "lines": [
        {"sku": "TSHIRT-M-BLUE", "name": "Organic T-shirt, M, blue", "quantity": 2, "unit_price": "19.00",
         "line_total": "38.00"},
        {"sku": "HOODIE-L-GREY", "name": "Hoodie, L, grey", "quantity": 1, "unit_price": "80.00",
         "line_total": "80.00"},
    ],
    "shipping_address": {"name": "Ana Souza", "line1": "Rua Augusta 100", "city": "São Paulo",
                         "postal_code": "01305-000", "country": "BR"},
    "estimated_delivery": "2026-12-01", "tracking_url": "https://tracking.example/ABC123",
    "url": "/orders/SA-1001/",
    "transition": {"name": "cancel", "from": "placed", "to": "cancelled", "reason": "Requested by the customer"},
}

SAMPLES = {
    **{key: {**_ORDER, "status": key.split(".")[1]} for key in (
        "order.placed", "order.awaiting_approval", "order.approval_requested", "order.confirmed", "order.shipped",
        "order.delivered", "order.cancelled", "order.refunded", "order.partially_shipped",
        "order.delivery_exception")},
    "customer.back_in_stock": {"customer_id": None, "email": "ana@example.com", "variant_id": 7,
                               "sku": "HOODIE-L-GREY", "product": "Hoodie", "url": "/catalog/hoodie/",
                               "subscription_id": 1, "unsubscribe_url": "/notifications/unsubscribe/sample/"},
    "cart.abandoned": {"customer_id": None, "email": "ana@example.com", "cart_id": 12, "url": "/orders/cart/",
                       "currency": "EUR", "total": "38.00",
                       "lines": [{"sku": "TSHIRT-M-BLUE", "name": "Organic T-shirt, M, blue", "quantity": 2}],
                       "unsubscribe_url": "/notifications/unsubscribe/sample/"},
    "promotion": {"customer_id": None, "title": "20% off hoodies this weekend",
                  "body": "Use code WARM20 at checkout until Sunday.", "url": "/catalog/",
                  "unsubscribe_url": "/notifications/unsubscribe/sample/"},
    "stock.low": {"variant_id": 7, "sku": "HOODIE-L-GREY", "product": "Hoodie", "warehouse": "Madrid",
                  "warehouse_id": 1, "available": 3, "reorder_point": 10, "purchase_order": "PO-0042"},
    "staff.alert": {"subject": "Carrier API is down", "body": "Shipments are queued until it is back.",
                    "group": "Support"},
    "staff.message_failed": {"message_id": 42, "template_key": "order.confirmed", "recipient_email": "ana@example.com",
                             "error": "AnymailAPIError: 422 Invalid 'To' address", "attempts": 1,
                             "admin_url": "/admin/notifications/outgoingmessage/42/change/"},
    "staff.digest": {"day": "2026-11-22", "sections": [
        {"title": "Orders and revenue", "lines": ["12 orders, 3456.00 EUR"], "available": True},
        {"title": "Low stock", "lines": ["HOODIE-L-GREY Hoodie @ Madrid: 3 left (reorder point 10), PO-0042"],
         "available": True},
        {"title": "Failed emails", "lines": ["1 failed", "#42 order.confirmed → ana@example.com"], "available": True},
    ]},
}


def sample_context(template_key: str) -> dict:
    context = deepcopy(SAMPLES.get(template_key, {}))
    context.setdefault("recipient_name", "Ana")
    for key in ("url", "unsubscribe_url"):
        if isinstance(context.get(key), str) and context[key].startswith("/"):
            context[key] = settings.SITE_URL + context[key]
    return context
