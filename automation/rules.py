"""Automation rules: versioning, running them on events, waits, retries.

Guarantees:
- a rule runs at most once per event (RuleRun unique per (event, rule));
- a run keeps the RuleVersion it started on, through any wait: editing a rule never
  changes runs already under way;
- every action's outcome is a row (ActionRun: done, skipped with why, failed with the
  error); an action runs in a savepoint, so a failure leaves nothing half done; a failed
  run alerts staff (AUTOMATION_ALERT_GROUP) and can be retried from the failed step.
"""

import logging
import traceback
from datetime import datetime
from fnmatch import fnmatchcase

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import actions as action_registry
from . import conditions as condition_engine
from .exceptions import RuleInvalid, RuleRunNotRetryable
from .models import ActionRun, Event, Rule, RuleRun, RuleVersion

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------- editing ---

def rule_problems(*, trigger: str, conditions, actions) -> list[str]:
    problems = [] if trigger and trigger.strip() else ["trigger is required"]
    return problems + condition_engine.validate(conditions) + action_registry.validate(actions)


@transaction.atomic
def rule_save(*, rule: Rule, actor=None) -> Rule:
    """Save a rule (new or edited) and publish its draft as a new version when it
    changed. Runs already started keep their version."""
    problems = rule_problems(trigger=rule.trigger, conditions=rule.conditions, actions=rule.actions)
    if problems:
        raise RuleInvalid(fields={"__all__": problems})
    rule.save()
    rule_publish(rule=rule, actor=actor)
    return rule


@transaction.atomic
def rule_publish(*, rule: Rule, actor=None) -> RuleVersion:
    """The rule's current version, creating one from its draft if that changed."""
    locked = Rule.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=rule.pk)
    current = locked.current_version
    if current is None or current.snapshot() != locked.snapshot():
        number = (locked.versions.aggregate(last=Max("number"))["last"] or 0) + 1
        current = RuleVersion.objects.create(rule=locked, number=number, created_by=actor if getattr(actor, "pk", None)
                                             else None, **locked.snapshot())
        Rule.objects.filter(pk=locked.pk).update(current_version=current)
    rule.current_version = current
    return current


# ----------------------------------------------------------------------- running ---

def rules_for_event(event_name: str) -> list[Rule]:
    rules = Rule.objects.filter(enabled=True, current_version__isnull=False).select_related("current_version")
    return [rule for rule in rules.order_by("priority", "id") if fnmatchcase(event_name, rule.current_version.trigger)]


def rules_handle_event(event: Event) -> list[RuleRun]:
    """Run every enabled rule whose trigger matches, in priority order (the event
    handler "automation.rules"). A rule with stop_other_rules whose conditions hold ends
    the list."""
    runs = []
    # A re-run of the handler (after a crash) finds the runs already made and skips them.
    existing = {run.rule_id: run for run in RuleRun.objects.filter(event=event)}
    for rule in rules_for_event(event.name):
        run = existing.get(rule.pk)
        if run is None:
            run = RuleRun.objects.create(event=event, rule=rule, version=rule.current_version)
            run.event, run.rule, run.fresh = event, rule, True
            _start(run)
        else:
            run.event, run.rule = event, rule
        runs.append(run)
        if rule.stop_other_rules and run.status != RuleRun.Status.SKIPPED:
            break
    return runs


def _start(run: RuleRun) -> None:
    version = run.version
    try:
        holds, why = condition_engine.conditions_hold(version.conditions, run.event.payload, match=version.match)
    except condition_engine.ConditionError as exc:
        _finish(run, RuleRun.Status.FAILED, _("Conditions could not be evaluated: %(error)s") % {"error": exc})
        return
    if not holds:
        _finish(run, RuleRun.Status.SKIPPED, _("Conditions not met: %(why)s") % {"why": why})
        return
    _advance(run, payload=run.event.payload)


def _finish(run: RuleRun, status: str, reason: str = "") -> None:
    run.status = status
    run.reason = reason[:500]
    run.resume_at = None
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "reason", "resume_at", "finished_at", "next_action"])


def _advance(run: RuleRun, *, payload: dict, now: datetime | None = None) -> None:
    """Run the version's actions from run.next_action until the end, a wait or a failure."""
    steps = run.version.actions
    now = now or timezone.now()
    while run.next_action < len(steps):
        index = run.next_action
        action = steps[index]
        kind = action.get("type", "")
        if kind == "wait":
            resume_at = now + action_registry.wait_delta(action)
            _record(run, index, kind, ActionRun.Status.WAITING,
                    detail=_("waiting until %(when)s") % {"when": resume_at.isoformat(timespec="minutes")})
            run.status = RuleRun.Status.WAITING
            run.resume_at = resume_at
            run.next_action = index + 1
            run.save(update_fields=["status", "resume_at", "next_action"])
            return
        executor = action_registry.EXECUTORS.get(kind)
        try:
            if executor is None:
                raise LookupError(f"unknown action type {kind!r}")
            with transaction.atomic():
                detail = executor(action, run, index, payload)
        except action_registry.ActionSkipped as exc:
            _record(run, index, kind, ActionRun.Status.SKIPPED, detail=str(exc))
        except Exception as exc:
            error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
            logger.warning("rule %s, step %s (%s) failed on event %s: %s", run.rule_id, index + 1, kind,
                           run.event_id, error)
            action_run = _record(run, index, kind, ActionRun.Status.FAILED, error=error)
            _finish(run, RuleRun.Status.FAILED,
                    _("Step %(step)s (%(type)s) failed: %(error)s") % {"step": index + 1, "type": kind, "error": error})
            _alert_failure(run, action_run)
            return
        else:
            _record(run, index, kind, ActionRun.Status.DONE, detail=str(detail or ""))
        run.next_action = index + 1
    _finish(run, RuleRun.Status.DONE)


def _record(run: RuleRun, index: int, kind: str, status: str, *, detail: str = "", error: str = "") -> ActionRun:
    values = {"action_type": kind, "status": status, "detail": detail[:500], "error": error}
    if getattr(run, "fresh", False):  # a run started in this transaction has no step rows yet
        return ActionRun.objects.create(rule_run=run, index=index, **values)
    action_run, created = ActionRun.objects.get_or_create(rule_run=run, index=index, defaults=values)
    if not created:
        if action_run.status != ActionRun.Status.WAITING:
            action_run.attempts += 1  # a retry of this step (a resumed wait is the same attempt)
        action_run.status, action_run.detail, action_run.error = status, detail[:500], error
        action_run.finished_at = timezone.now()
        action_run.save()
    return action_run


def _alert_failure(run: RuleRun, action_run: ActionRun) -> None:
    from notifications.services import staff_alert

    link = settings.SITE_URL + reverse("admin:automation_rulerun_change", args=[run.pk])
    staff_alert(
        group=settings.AUTOMATION_ALERT_GROUP,
        subject=_("Automation rule failed: %(rule)s") % {"rule": run.rule.name},
        body=_("Step %(step)s (%(type)s) failed on event %(event)s:\n%(error)s\n\nRetry it from %(link)s")
        % {"step": action_run.index + 1, "type": action_run.action_type, "event": run.event.name,
           "error": action_run.error[:1000], "link": link},
        idempotency_key=f"automation-action-failed:{action_run.pk}:{action_run.attempts}",
    )


def current_payload(event: Event) -> dict:
    """The event's payload refreshed from its subject when the subject describes itself
    (event_payload()), so a check after a wait sees today's state (e.g. the order's status)."""
    payload = dict(event.payload)
    if not event.subject_type or not event.subject_id:
        return payload
    try:
        model = apps.get_model(event.subject_type)
    except (LookupError, ValueError):
        return payload
    if not hasattr(model, "event_payload"):
        return payload
    subject = model._default_manager.filter(pk=event.subject_id).first()
    if subject is None:
        return payload
    return {**payload, **subject.event_payload()}


@transaction.atomic
def rule_run_resume(*, rule_run_id: int, now: datetime | None = None) -> RuleRun | None:
    """Go on with a run whose wait is over, on the version it started with: re-check the
    conditions against the subject's current state, then run the remaining actions."""
    now = now or timezone.now()
    run = (RuleRun.objects.select_for_update(of=("self",)).select_related("version", "event", "rule")
           .filter(pk=rule_run_id, status=RuleRun.Status.WAITING, resume_at__lte=now).first())
    if run is None:
        return None  # resumed already, or not due
    version = run.version
    payload = current_payload(run.event)
    wait_index = run.next_action - 1
    try:
        holds, why = condition_engine.conditions_hold(version.conditions, payload, match=version.match)
    except condition_engine.ConditionError as exc:
        holds, why = False, str(exc)
    if not holds:
        _record(run, wait_index, "wait", ActionRun.Status.SKIPPED,
                detail=_("after the wait: conditions no longer met (%(why)s)") % {"why": why})
        _finish(run, RuleRun.Status.SKIPPED, _("Conditions no longer met after the wait: %(why)s") % {"why": why})
        return run
    _record(run, wait_index, "wait", ActionRun.Status.DONE, detail=_("resumed; conditions still met"))
    run.status = RuleRun.Status.RUNNING
    run.resume_at = None
    run.save(update_fields=["status", "resume_at"])
    _advance(run, payload=payload, now=now)
    return run


def rule_runs_resume_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Beat, every minute: resume the waiting runs that are due (each in its own
    transaction; a run resumed twice does nothing the second time)."""
    now = now or timezone.now()
    due = list(RuleRun.objects.filter(status=RuleRun.Status.WAITING, resume_at__lte=now)
               .order_by("resume_at", "id").values_list("id", flat=True)[:limit])
    resumed = 0
    for run_id in due:
        try:
            resumed += rule_run_resume(rule_run_id=run_id, now=now) is not None
        except Exception as exc:  # one broken run must not hold up the others every minute
            logger.exception("resuming rule run %s failed", run_id)
            RuleRun.objects.filter(pk=run_id, status=RuleRun.Status.WAITING).update(
                status=RuleRun.Status.FAILED, reason=f"Resuming failed: {exc}"[:500], finished_at=timezone.now())
    return resumed


@transaction.atomic
def rule_run_retry(*, rule_run_id: int, actor=None) -> RuleRun:
    """Run a failed run again from the step that failed, on its own version."""
    run = (RuleRun.objects.select_for_update(of=("self",)).select_related("version", "event", "rule")
           .get(pk=rule_run_id))
    if run.status != RuleRun.Status.FAILED:
        raise RuleRunNotRetryable()
    if not run.action_runs.filter(status=ActionRun.Status.FAILED).exists():
        # The conditions themselves failed to evaluate: start over.
        run.status, run.reason, run.finished_at = RuleRun.Status.RUNNING, "", None
        run.save(update_fields=["status", "reason", "finished_at"])
        _start(run)
        return run
    run.status, run.reason, run.finished_at = RuleRun.Status.RUNNING, "", None
    run.save(update_fields=["status", "reason", "finished_at"])
    _advance(run, payload=current_payload(run.event))
    return run


def rule_preview(*, rule: Rule, limit: int = 5) -> list[dict]:
    """A dry run of the rule's current draft on the latest events its trigger matches:
    which would run and why not. Nothing is written and no action runs."""
    prefix = rule.trigger.split("*", 1)[0]
    candidates = Event.objects.filter(name__startswith=prefix).order_by("-pk")[: limit * 20]
    preview = []
    for event in candidates:
        if not fnmatchcase(event.name, rule.trigger):
            continue
        try:
            holds, why = condition_engine.conditions_hold(rule.conditions, event.payload, match=rule.match)
        except condition_engine.ConditionError as exc:
            holds, why = False, str(exc)
        preview.append({"event": event, "holds": holds, "why": why})
        if len(preview) == limit:
            break
    return preview
