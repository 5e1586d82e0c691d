"""Demo data: the default rules, a webhook endpoint on 127.0.0.1 that fails harmlessly,
and a few rule runs to look at in the admin."""

from django.db import transaction

from . import defaults, rules
from .models import Event, Rule, RuleRun, RuleVersion, WebhookEndpoint

DEMO_ENDPOINT_URL = "http://127.0.0.1:9/shopauto-webhooks"  # discard port: nothing listens, deliveries fail


def load(out) -> str:
    created = defaults.install(Rule, RuleVersion)
    endpoint, _ = WebhookEndpoint.objects.get_or_create(
        name="Demo ERP (local, disabled)",
        defaults={"url": DEMO_ENDPOINT_URL, "events": ["order.*", "stock.low"], "active": False,
                  "secret": "whsec_demo_not_secret_0123456789"},
    )
    tagger, _ = Rule.objects.get_or_create(
        name="Tag wholesale orders",
        defaults={"trigger": "order.placed", "conditions": [{"field": "company", "operator": "is_not_empty"}],
                  "actions": [{"type": "tag", "tag": "b2b"}], "priority": 200},
    )
    rules.rule_publish(rule=tagger)
    runs = 0
    # Run the rules on the demo shop's recent order events once (idempotent per event).
    for event in Event.objects.filter(name="order.placed").order_by("-pk")[:10]:
        if RuleRun.objects.filter(event=event).exists():
            continue
        with transaction.atomic():
            runs += len(rules.rules_handle_event(event))
    out.write(f"  automation: {created} default rules, endpoint {endpoint.url}, {runs} rule runs\n")
    return f"automation: {Rule.objects.count()} rules, 1 webhook endpoint (disabled), {runs} new rule runs"
