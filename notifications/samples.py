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

_RETURN = {
    "rma": "RMA-7K2M9QXD", "customer_id": None, "email": "ana@example.com", "order_number": "SA-1001",
    "status": "approved", "reason": "changed_mind", "reason_display": "Changed my mind", "resolution": "refund",
    "resolution_display": "Refund", "decision": "approve", "decision_rule": "within_policy",
    "decision_message": "Approved: within the return policy.", "currency": "EUR", "items_value": "38.00",
    "restocking_fee": "3.80", "refund_amount": "34.20", "tracking_number": "", "exchange_order": None,
    "lines": [{"sku": "TSHIRT-M-BLUE", "name": "Organic T-shirt, M, blue", "quantity": 2, "unit_price": "19.00",
               "condition": None, "replacement_sku": None}],
    "url": "/returns/RMA-7K2M9QXD/", "label_url": "/returns/RMA-7K2M9QXD/label.pdf",
}
_QUOTE_VERSION = {
    "version": 2, "valid_until": "2026-12-31T23:59:59+00:00", "subtotal": "4410.00", "shipping": "0.00",
    "max_discount_percent": "18.00", "note": "Free shipping included.",
    "lines": [{"sku": "DRILL-18V", "name": "Cordless drill 18 V", "quantity": 50, "unit_price": "73.80",
               "list_price": "90.00", "line_total": "3690.00"},
              {"sku": "SAW-CIRC", "name": "Circular saw", "quantity": 20, "unit_price": "36.00",
               "list_price": "40.00", "line_total": "720.00"}],
}
_QUOTE = {
    "number": "Q-7K3M9P2D", "customer_id": None, "email": "buyer@acme.example", "company": "acme", "status": "sent",
    "currency": "EUR", "notes": "Site opening in March", "needed_by": "2027-03-01",
    "valid_until": "2026-12-31T23:59:59+00:00",
    "requested_lines": [{"sku": "DRILL-18V", "name": "Cordless drill 18 V", "quantity": 50, "target_price": "70.00"},
                        {"sku": "SAW-CIRC", "name": "Circular saw", "quantity": 20, "target_price": None}],
    "version": _QUOTE_VERSION, "lines": _QUOTE_VERSION["lines"], "total": "4410.00", "order_number": None,
    "url": "/quotes/Q-7K3M9P2D/", "admin_url": "/admin/quotes/quote/1/change/",
    "transition": {"name": "request_changes", "from": "sent", "to": "in_review", "reason": "Can you do 70.00?"},
}

SAMPLES = {
    **{key: {**_QUOTE, "status": key.split(".")[1]} for key in (
        "quote.sent", "quote.expiring", "quote.expired", "quote.accepted", "quote.approval_needed",
        "quote.changes_requested", "quote.declined")},
    "quote.requested": {**_QUOTE, "status": "requested", "version": None, "lines": _QUOTE["requested_lines"],
                        "total": None},
    "quote.rfq_received": {**_QUOTE, "status": "requested", "version": None, "lines": _QUOTE["requested_lines"],
                           "total": None},
    "quote.converted": {**_QUOTE, "status": "converted", "order_number": "SA-4F7K2M9Q"},
    "quote.conversion_failed": {**_QUOTE, "status": "accepted", "error": {
        "code": "insufficient_stock", "message": "Not enough stock for DRILL-18V (50 requested, 12 available).",
        "fields": {}}},
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
    **{key: {**_RETURN, "status": key.split(".")[1]} for key in (
        "return.requested", "return.approved", "return.received", "return.refunded", "return.store_credit",
        "return.closed", "return.reminder")},
    "return.rejected": {**_RETURN, "status": "rejected", "decision": "reject", "decision_rule": "return_window",
                        "decision_message": "The return window for TSHIRT-M-BLUE closed on Nov. 1, 2026."},
    "return.needs_review": {**_RETURN, "status": "requested", "decision": "review", "decision_rule": "value_threshold",
                            "rule_display": "Value above automatic approval"},
    "return.exchanged": {**_RETURN, "status": "exchanged", "resolution": "exchange", "exchange_order": "SA-2002"},
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
    for key in ("url", "unsubscribe_url", "label_url", "admin_url"):
        if isinstance(context.get(key), str) and context[key].startswith("/"):
            context[key] = settings.SITE_URL + context[key]
    return context
