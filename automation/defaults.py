"""The default rules ShopAuto ships: built-in behaviour staff can see, tune or switch off.

Installed by a data migration (and again by demo_data / `manage.py automation_defaults`,
which never overwrite a rule staff changed: they only create missing ones).

Customer status emails and the Purchasing low-stock alert are NOT duplicated here: they
are the notification routing table (notifications.routing), switched per template in
the admin (Notifications › Notification switches). Two places able to send the same email
would send it twice.
"""

from django.conf import settings


def default_rules() -> list[dict]:
    threshold = str(settings.ORDER_ALERT_THRESHOLD)
    return [
        {
            "key": "large-order-alert",
            "name": "Alert Sales on large orders",
            "description": "Sales hears about every order at or above the threshold (was ORDER_ALERT_THRESHOLD).",
            "trigger": "order.placed",
            # order.placed is emitted again when an approval or a hold is released (with a
            # "transition"): alert on new orders only.
            "conditions": [{"field": "total", "operator": "gte", "value": threshold},
                           {"field": "transition", "operator": "is_empty"}],
            "actions": [{"type": "alert", "group": "Sales",
                         "subject": "Large order {{ number }}: {{ total }} {{ currency }}",
                         "body": "{{ company|default:email }} placed order {{ number }} for {{ total }} "
                                 "{{ currency }}.\n{{ url }}"}],
            "priority": 50,
            "enabled": True,
        },
        {
            "key": "hold-large-orders",
            "name": "Hold large orders for a risk check",
            "description": "Orders at or above 5000 that are still 'placed' (e.g. awaiting a bank transfer) go on "
                           "hold until staff release them. Orders already confirmed are skipped.",
            "trigger": "order.placed",
            "conditions": [{"field": "total", "operator": "gte", "value": "5000"},
                           {"field": "transition", "operator": "is_empty"}],
            "actions": [{"type": "transition", "transition": "order.hold", "reason": "Risk check: large order"},
                        {"type": "tag", "tag": "risk-check"},
                        {"type": "alert", "group": "Managers", "subject": "Order {{ number }} held for a risk check",
                         "body": "{{ total }} {{ currency }} — release it in the admin when checked.\n{{ url }}"}],
            "priority": 10,
            "enabled": False,
        },
        {
            "key": "delivery-exception-alert",
            "name": "Alert Support on delivery exceptions",
            "description": "The carrier reported a problem with a shipment.",
            "trigger": "order.delivery_exception",
            "conditions": [],
            "actions": [{"type": "alert", "group": "Support",
                         "subject": "Delivery problem on order {{ number }}",
                         "body": "The carrier reported a problem with order {{ number }} (tracking "
                                 "{{ tracking_numbers|join:', '|default:'—' }}, {{ email }}).\n{{ url }}"}],
            "priority": 100,
            "enabled": True,
        },
        {
            "key": "approval-stalled",
            "name": "Tell Sales about orders waiting for approval 2 days",
            "description": "Waits 2 days, re-checks that the order still awaits approval, then alerts Sales.",
            "trigger": "order.awaiting_approval",
            "conditions": [{"field": "status", "operator": "eq", "value": "awaiting_approval"}],
            "actions": [{"type": "wait", "days": 2},
                        {"type": "alert", "group": "Sales", "subject": "Order {{ number }} still awaits approval",
                         "body": "{{ company }} has not approved {{ number }} ({{ total }} {{ currency }}) "
                                 "for 2 days.\n{{ url }}"}],
            "priority": 100,
            "enabled": False,
        },
    ]


def install(rule_model, version_model) -> int:
    """Create the default rules that do not exist yet (by key). Works with the real
    models and with a migration's historical ones. Returns how many were created."""
    created = 0
    for spec in default_rules():
        spec = dict(spec)
        key = spec.pop("key")
        if rule_model.objects.filter(key=key).exists():
            continue
        rule = rule_model.objects.create(key=key, match="all", **spec)
        version = version_model.objects.create(rule=rule, number=1, trigger=rule.trigger, match=rule.match,
                                               conditions=rule.conditions, actions=rule.actions)
        rule_model.objects.filter(pk=rule.pk).update(current_version=version)
        created += 1
    return created
