"""Automation rules: priority, stop, outcomes per action, waits on the original version,
failures alerted and retried, default rules replacing hidden handlers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from automation import defaults, rules
from automation.exceptions import RuleInvalid, RuleRunNotRetryable
from automation.models import ActionRun, Event, Rule, RuleRun, RuleVersion
from automation.services import emit, event_process
from automation.tasks import _resume_rule_runs
from notifications.models import OutgoingMessage
from orders.models import Order
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def make_rule(name="Rule", trigger="test.happened", conditions=None, actions=None, **fields) -> Rule:
    rule = Rule(name=name, trigger=trigger, conditions=conditions or [],
                actions=actions or [{"type": "alert", "group": "Sales", "subject": "{{ number }}"}], **fields)
    return rules.rule_save(rule=rule)


def alerts_to(email) -> list[OutgoingMessage]:
    return list(OutgoingMessage.objects.filter(recipient_email=email, template_key="staff.alert").order_by("pk"))


def subjects(email) -> list[str]:
    # The staff.alert template prefixes the shop's name: "[ShopAuto] …".
    return [message.subject.split("] ", 1)[-1] for message in alerts_to(email)]


def test_a_matching_rule_runs_its_actions_and_records_each_outcome(sales):
    rule = make_rule(conditions=[{"field": "total", "operator": "gte", "value": "100"}],
                     actions=[{"type": "alert", "group": "Sales", "subject": "Big {{ number }}: {{ total }}"},
                              {"type": "alert", "group": "Support", "subject": "nobody in Support"},
                              {"type": "tag", "tag": "x"}])
    event = emit("test.happened", payload={"number": "N-1", "total": "150.00"})
    event_process(event_id=event.pk)

    run = RuleRun.objects.get(rule=rule, event=event)
    assert run.status == RuleRun.Status.DONE
    assert run.version == rule.current_version
    steps = list(run.action_runs.values_list("index", "action_type", "status"))
    assert steps == [(0, "alert", "done"), (1, "alert", "skipped"), (2, "tag", "skipped")]
    assert "Support" in run.action_runs.get(index=1).detail  # skipped, and why
    assert "cannot be tagged" in run.action_runs.get(index=2).detail
    [message] = alerts_to("sales@shop.example")
    assert message.subject.endswith("Big N-1: 150.00")


def test_conditions_not_met_skips_the_run_with_the_reason_and_does_nothing(sales):
    rule = make_rule(conditions=[{"field": "total", "operator": "gte", "value": "100"}])
    event = emit("test.happened", payload={"number": "N-2", "total": "99.99"})
    event_process(event_id=event.pk)

    run = RuleRun.objects.get(rule=rule, event=event)
    assert run.status == RuleRun.Status.SKIPPED
    assert "total gte" in run.reason
    assert not run.action_runs.exists()
    assert alerts_to("sales@shop.example") == []


def test_trigger_patterns_priority_order_and_stop_other_rules(sales):
    late = make_rule(name="late", trigger="test.*", priority=50)
    first = make_rule(name="first", trigger="test.happened", priority=10, stop_other_rules=True,
                      conditions=[{"field": "vip", "operator": "eq", "value": "yes"}])
    make_rule(name="other trigger", trigger="order.*", priority=1)
    make_rule(name="disabled", trigger="*", priority=1, enabled=False)

    vip = emit("test.happened", payload={"vip": "yes", "number": "V"})
    event_process(event_id=vip.pk)
    assert list(RuleRun.objects.filter(event=vip).values_list("rule__name", flat=True)) == ["first"]

    normal = emit("test.happened", payload={"vip": "no", "number": "N"})
    event_process(event_id=normal.pk)
    # The stopping rule's conditions did not hold, so the next rule still runs.
    runs = dict(RuleRun.objects.filter(event=normal).values_list("rule__name", "status"))
    assert runs == {"first": "skipped", "late": "done"}
    assert first.runs.count() == 2 and late.runs.count() == 1


def test_a_rule_runs_once_per_event_even_if_the_handler_runs_again(sales):
    rule = make_rule()
    event = emit("test.happened", payload={"number": "N-3"})
    rules.rules_handle_event(event)
    rules.rules_handle_event(event)
    assert rule.runs.count() == 1
    assert len(alerts_to("sales@shop.example")) == 1


def test_editing_a_rule_creates_a_version_and_unchanged_saves_do_not():
    rule = make_rule()
    first = rule.current_version
    assert first.number == 1
    rule.name = "Renamed"  # not part of the behaviour: same version
    rules.rule_save(rule=rule)
    assert rule.versions.count() == 1
    rule.conditions = [{"field": "total", "operator": "gt", "value": 5}]
    rules.rule_save(rule=rule)
    rule.refresh_from_db()
    assert rule.current_version.number == 2
    assert RuleVersion.objects.get(pk=first.pk).conditions == []  # the old snapshot is untouched


def test_an_invalid_rule_is_refused_and_nothing_is_saved():
    with pytest.raises(RuleInvalid) as error:
        make_rule(conditions=[{"field": "total", "operator": "bigger", "value": 1}],
                  actions=[{"type": "alert", "group": "Everyone"}])
    assert len(error.value.fields["__all__"]) == 2
    assert not Rule.objects.filter(name="Rule").exists()


def test_wait_step_resumes_on_the_version_the_run_started_with(sales, managers):
    rule = make_rule(actions=[{"type": "wait", "hours": 2},
                              {"type": "alert", "group": "Sales", "subject": "v1 {{ number }}"}])
    event = emit("test.happened", payload={"number": "W-1"})
    event_process(event_id=event.pk)
    run = RuleRun.objects.get(event=event)
    assert run.status == RuleRun.Status.WAITING
    assert timezone.now() + timedelta(minutes=119) < run.resume_at < timezone.now() + timedelta(minutes=121)
    assert run.action_runs.get(index=0).status == ActionRun.Status.WAITING

    # Staff edit the rule while the run waits.
    rule.actions = [{"type": "alert", "group": "Managers", "subject": "v2 {{ number }}"}]
    rules.rule_save(rule=rule)
    rule.refresh_from_db()
    assert rule.current_version.number == 2

    assert _resume_rule_runs(now=timezone.now() + timedelta(minutes=30)) == {"resumed": 0}  # not due yet
    later = timezone.now() + timedelta(hours=3)
    assert _resume_rule_runs(now=later) == {"resumed": 1}
    assert _resume_rule_runs(now=later) is None  # same beat slot: no second pass
    assert rules.rule_runs_resume_due(now=later + timedelta(minutes=5)) == 0  # nothing left waiting

    run.refresh_from_db()
    assert run.status == RuleRun.Status.DONE
    assert run.version.number == 1
    assert subjects("sales@shop.example") == ["v1 W-1"]
    assert alerts_to("manager@shop.example") == []
    assert list(run.action_runs.values_list("status", flat=True)) == ["done", "done"]

    # A new event runs on the new version.
    fresh = emit("test.happened", payload={"number": "W-2"})
    event_process(event_id=fresh.pk)
    assert subjects("manager@shop.example") == ["v2 W-2"]


def test_after_a_wait_the_conditions_are_checked_against_the_subjects_current_state(place_order, sales):
    rule = make_rule(trigger="order.placed", conditions=[{"field": "status", "operator": "eq", "value": "placed"}],
              actions=[{"type": "wait", "days": 1},
                       {"type": "alert", "group": "Sales", "subject": "Unpaid {{ number }}"}])
    still_unpaid = place_order(payment="bank_transfer")
    paid = place_order(payment="bank_transfer")
    for event in Event.objects.filter(name="order.placed"):
        event_process(event_id=event.pk)
    from orders.services import order_mark_paid

    order_mark_paid(order_id=paid.pk, amount=paid.total, reference="bank")

    assert rules.rule_runs_resume_due(now=timezone.now() + timedelta(days=1, minutes=1)) == 2
    statuses = {run.event.subject_id: (run.status, run.reason) for run in rule.runs.select_related("event")}
    assert statuses[str(still_unpaid.pk)][0] == RuleRun.Status.DONE, statuses
    assert statuses[str(paid.pk)][0] == RuleRun.Status.SKIPPED
    assert "no longer met" in statuses[str(paid.pk)][1]
    assert subjects("sales@shop.example") == [f"Unpaid {still_unpaid.number}"]


def test_a_failed_action_is_recorded_alerts_staff_and_is_retried_once(temp_transition, sales, managers):
    calls = []

    def flaky(*, subject_id, reason):
        calls.append(subject_id)
        if len(calls) == 1:
            raise RuntimeError("ERP is down")

    temp_transition("test.flaky", flaky)
    rule = make_rule(actions=[{"type": "alert", "group": "Sales", "subject": "before"},
                              {"type": "transition", "transition": "test.flaky"},
                              {"type": "alert", "group": "Sales", "subject": "after"}])
    event = emit("test.happened", payload={"number": "F-1"})
    event_process(event_id=event.pk)

    run = RuleRun.objects.get(rule=rule)
    assert event.handler_runs.get(handler="automation.rules").status == "done"  # recorded, not an event failure
    assert run.status == RuleRun.Status.FAILED
    assert "Step 2 (transition) failed" in run.reason
    failed = run.action_runs.get(index=1)
    assert failed.status == ActionRun.Status.FAILED and "ERP is down" in failed.error
    assert not run.action_runs.filter(index=2).exists()
    [alert] = alerts_to("manager@shop.example")
    assert rule.name in alert.subject and "ERP is down" in alert.body_text
    assert subjects("sales@shop.example") == ["before"]

    rules.rule_run_retry(rule_run_id=run.pk)

    run.refresh_from_db()
    assert run.status == RuleRun.Status.DONE
    assert calls == ["", ""]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error) == (ActionRun.Status.DONE, 2, "")
    # The step before the failure is not run again.
    assert subjects("sales@shop.example") == ["before", "after"]
    with pytest.raises(RuleRunNotRetryable):
        rules.rule_run_retry(rule_run_id=run.pk)


def test_tag_and_hold_an_order_through_the_orders_services(place_order):
    rule = make_rule(trigger="order.placed", conditions=[{"field": "total", "operator": "gte", "value": "100"}],
              actions=[{"type": "tag", "tag": "big-{{ currency }}"},
                       {"type": "transition", "transition": "order.hold", "reason": "Check {{ number }}"}])
    from orders.services import order_mark_paid

    held = place_order(quantity=20, price="10.00")  # bank transfer: placed until paid, so holdable
    confirmed = place_order(quantity=20, price="10.00")
    order_mark_paid(order_id=confirmed.pk, amount=confirmed.total, reference="bank")  # confirmed before rules run
    for event in Event.objects.filter(name="order.placed").order_by("pk"):
        event_process(event_id=event.pk)

    held.refresh_from_db()
    confirmed.refresh_from_db()
    assert held.status == Order.Status.ON_HOLD and held.tags == ["big-EUR"]
    assert Event.objects.filter(name="order.on_hold", subject_id=str(held.pk)).exists()
    assert confirmed.tags == ["big-EUR"]
    run = rule.runs.get(event__subject_id=str(confirmed.pk), event__name="order.placed")
    hold = run.action_runs.get(index=1)
    assert hold.status == ActionRun.Status.SKIPPED and "not possible now" in hold.detail


def test_default_large_order_rule_replaces_the_hidden_handler(place_order, settings, sales):
    defaults.install(Rule, RuleVersion)
    from automation.registry import handlers_for

    assert "orders.alert_sales_on_large_order" not in dict(handlers_for("order.placed"))
    threshold = settings.ORDER_ALERT_THRESHOLD
    big = place_order(quantity=int(threshold / Decimal("100")) + 1, price="100.00", payment="bank_transfer")
    small = place_order(quantity=1, price="10.00", payment="bank_transfer")
    for event in Event.objects.filter(name="order.placed").order_by("pk"):
        event_process(event_id=event.pk)

    [alert] = alerts_to("sales@shop.example")
    assert alert.subject.endswith(f"Large order {big.number}: {big.total} EUR")
    rule = Rule.objects.get(key="large-order-alert")
    assert rule.runs.get(event__subject_id=str(small.pk)).status == RuleRun.Status.SKIPPED

    # Released from a hold, the order is "placed" again, announced as order.released (not a
    # second order.placed): Sales is not alerted twice.
    from orders.services import order_hold, order_release

    staff = StaffFactory()
    staff.user_permissions.add(*Permission.objects.filter(codename="hold_order"))
    order_hold(order_id=big.pk, actor=None, reason="check")
    order_release(order_id=big.pk, actor=staff)
    for event in Event.objects.filter(status="pending").order_by("pk"):
        event_process(event_id=event.pk)
    assert Event.objects.filter(name="order.placed", subject_id=str(big.pk)).count() == 1
    assert Event.objects.filter(name="order.released", subject_id=str(big.pk)).count() == 1
    assert len(alerts_to("sales@shop.example")) == 1

    # Staff tune it (raise the threshold) or switch it off without a deploy.
    rule.enabled = False
    rules.rule_save(rule=rule)
    place_order(quantity=int(threshold / Decimal("100")) + 1, price="100.00", payment="bank_transfer")
    for event in Event.objects.filter(name="order.placed", status="pending"):
        event_process(event_id=event.pk)
    assert len(alerts_to("sales@shop.example")) == 1


def test_default_rules_install_once_and_never_overwrite_staff_changes():
    Rule.objects.all().delete()
    assert defaults.install(Rule, RuleVersion) == len(defaults.default_rules())
    rule = Rule.objects.get(key="hold-large-orders")
    assert rule.enabled is False and rule.current_version.number == 1
    rule.enabled = True
    rules.rule_save(rule=rule)
    assert defaults.install(Rule, RuleVersion) == 0
    assert Rule.objects.get(key="hold-large-orders").enabled is True


def test_admin_edit_creates_a_version_and_failed_runs_are_filterable_and_retried(client, temp_transition, sales):
    admin = StaffFactory()
    admin.user_permissions.add(*Permission.objects.filter(content_type__app_label="automation"))
    client.force_login(admin)
    calls = []
    temp_transition("test.once", lambda **kwargs: calls.append(1) or (len(calls) == 1 and 1 / 0))
    rule = make_rule(actions=[{"type": "transition", "transition": "test.once"}])
    url = f"/admin/automation/rule/{rule.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "name": rule.name, "description": "", "enabled": "on", "trigger": "test.*", "match": "all",
        "conditions": "[]", "actions": '[{"type": "transition", "transition": "test.once"}]', "priority": "5",
        "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert rule.current_version.number == 2 and rule.current_version.trigger == "test.*"

    bad = client.post(url, {"name": rule.name, "trigger": "test.*", "match": "all", "conditions": "[]",
                            "actions": '[{"type": "launch"}]', "priority": "5",
                            "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0"})
    assert bad.status_code == 200 and "type must be one of" in bad.content.decode()

    event = emit("test.other", payload={})
    event_process(event_id=event.pk)
    run = RuleRun.objects.get(event=event)
    assert run.status == RuleRun.Status.FAILED
    listing = client.get("/admin/automation/rulerun/?status__exact=failed")
    assert listing.status_code == 200 and f"#{event.pk}" in listing.content.decode()
    assert client.get(f"/admin/automation/rulerun/{run.pk}/change/").status_code == 200
    assert client.get("/admin/automation/actionrun/?status__exact=failed").status_code == 200
    client.post("/admin/automation/rulerun/", {"action": "retry", "_selected_action": [run.pk]})
    run.refresh_from_db()
    assert run.status == RuleRun.Status.DONE and calls == [1, 1]


def test_notify_sends_a_template_to_the_customer_or_a_fixed_address_once(place_order):
    rule = make_rule(trigger="order.placed", actions=[
        {"type": "notify", "template": "order.confirmed", "to": "customer"},
        {"type": "notify", "template": "order.confirmed", "to": "email", "email": "erp-inbox@shop.example"},
        {"type": "notify", "template": "order.confirmed", "to": "email"},
    ])
    order = place_order()
    event = Event.objects.get(name="order.placed", subject_id=str(order.pk))
    event_process(event_id=event.pk)

    run = rule.runs.get(event=event)
    steps = list(run.action_runs.values_list("status", flat=True))
    assert steps == ["done", "done", "skipped"]
    assert "no recipient" in run.action_runs.get(index=2).detail
    to_customer = OutgoingMessage.objects.get(idempotency_key=f"rule-run:{run.pk}:0")
    assert (to_customer.recipient_email, to_customer.template_key, to_customer.status) == (
        "ana@example.com", "order.confirmed", "queued")
    assert to_customer.context["number"] == order.number and to_customer.event_id == event.pk
    assert OutgoingMessage.objects.get(idempotency_key=f"rule-run:{run.pk}:1").recipient_email == \
        "erp-inbox@shop.example"


def test_preview_dry_runs_the_draft_on_recent_events_without_writing(admin_client):
    emit("order.placed", payload={"total": "50"})
    emit("order.placed", payload={"total": "500"})
    emit("order.shipped", payload={"total": "500"})
    rule = make_rule(trigger="order.placed", conditions=[{"field": "total", "operator": "gte", "value": "100"}])

    preview = rules.rule_preview(rule=rule)

    assert [(row["event"].payload["total"], row["holds"]) for row in preview] == [("500", True), ("50", False)]
    assert "total gte" in preview[1]["why"]
    assert not RuleRun.objects.filter(rule=rule).exists()
    page = admin_client.get(f"/admin/automation/rule/{rule.pk}/change/").content.decode()
    assert "would run" in page and "skipped" in page
