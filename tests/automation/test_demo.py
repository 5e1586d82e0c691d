import io

import pytest
from django.core.management import call_command

from automation.models import Rule, RuleRun, WebhookEndpoint


@pytest.mark.django_db
def test_demo_loads_default_rules_a_harmless_endpoint_and_rule_runs_idempotently():
    call_command("demo_data", stdout=io.StringIO())
    # automation loads before orders: its rule runs use the order events of the first load
    # (in the running demo the worker processes them anyway).
    call_command("demo_data", stdout=io.StringIO())
    runs = RuleRun.objects.count()
    call_command("demo_data", stdout=io.StringIO())

    assert Rule.objects.filter(key="large-order-alert", enabled=True).exists()
    assert Rule.objects.filter(key="hold-large-orders", enabled=False).exists()
    [endpoint] = WebhookEndpoint.objects.all()
    assert not endpoint.active and endpoint.url.startswith("http://127.0.0.1:")
    assert runs > 0 and RuleRun.objects.count() == runs  # rule runs on the demo's orders, once
    out = io.StringIO()
    call_command("automation_defaults", stdout=out)
    assert "0 default rule(s) created" in out.getvalue()
