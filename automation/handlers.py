"""The automation app's own event handlers: rules and outbound webhooks see every event."""

from automation.registry import on

from . import rules, webhooks


@on("*", name="automation.rules")
def run_rules(event):
    rules.rules_handle_event(event)


@on("*", name="automation.webhooks")
def fan_out_webhooks(event):
    webhooks.webhooks_fan_out(event)
