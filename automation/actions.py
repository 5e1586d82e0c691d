"""What a rule can do. Each action calls an existing service; none writes another app's
tables itself.

Other apps extend the allow-lists from their handlers.py (imported at start):

    from automation.actions import register_transition, register_tagger

    register_transition("order.hold", _("Put the order on hold"),
                        lambda *, subject_id, reason: order_hold(order_id=int(subject_id), actor=None, reason=reason),
                        subject_type="orders.order")
    register_tagger("orders.order", lambda *, subject_id, tag: order_tag(order_id=int(subject_id), tag=tag))

Transitions run as the system (actor=None): only services that accept a system actor
belong in the allow-list.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.template import Context, Engine
from django.utils.translation import gettext_lazy as _

from shopauto.exceptions import TransitionNotAllowed

ACTION_TYPES = {
    "notify": _("Send a notification template"),
    "alert": _("Alert a staff group"),
    "tag": _("Tag the subject"),
    "transition": _("Run a transition"),
    "webhook": _("Call a webhook endpoint"),
    "wait": _("Wait, then re-check the conditions"),
}
STAFF_GROUPS = ("Managers", "Purchasing", "Support", "Sales")


class ActionSkipped(Exception):
    """The action did not apply (no recipient, a duplicate…): recorded as skipped with why."""


@dataclass(frozen=True)
class Transition:
    key: str
    label: str
    subject_type: str
    func: Callable[..., object]


_transitions: dict[str, Transition] = {}
_taggers: dict[str, Callable[..., object]] = {}


def register_transition(key: str, label, func: Callable[..., object], *, subject_type: str) -> None:
    """Allow rules to call `func(subject_id=..., reason=...)` on subjects of `subject_type`
    (an app_label.model, as in Event.subject_type)."""
    _transitions[key] = Transition(key=key, label=label, subject_type=subject_type, func=func)


def unregister_transition(key: str) -> None:
    _transitions.pop(key, None)


def transitions() -> dict[str, Transition]:
    return dict(_transitions)


def register_tagger(subject_type: str, func: Callable[..., object]) -> None:
    """Allow rules to tag subjects of `subject_type` with `func(subject_id=..., tag=...)`."""
    _taggers[subject_type] = func


@functools.cache
def _engine() -> Engine:
    # Plain text (no HTML escaping), default filters only: no tags that load or include.
    return Engine(autoescape=False, libraries={}, builtins=["django.template.defaultfilters"])


@functools.lru_cache(maxsize=512)
def _compiled(template: str):
    return _engine().from_string(template)


def render_text(template: str, payload: dict) -> str:
    """Staff write alert texts with the payload's fields: "Order {{ number }}: {{ total }}"."""
    if not template:
        return ""
    return _compiled(template).render(Context(payload))


def wait_delta(action: dict) -> timedelta:
    return timedelta(days=float(action.get("days") or 0), hours=float(action.get("hours") or 0),
                     minutes=float(action.get("minutes") or 0))


# ---------------------------------------------------------------------- executors ---
# Each takes (action, run, index, payload) and returns a one-line detail, raises
# ActionSkipped with why, or raises any other error (recorded as failed).

def _notify(action, run, index, payload) -> str:
    from customers.models import CustomerProfile
    from notifications.services import message_queue

    customer = None
    if action.get("to", "customer") == "customer":
        if payload.get("customer_id"):
            customer = CustomerProfile.objects.select_related("user").filter(pk=payload["customer_id"]).first()
        email = customer.email if customer else payload.get("email", "")
    else:
        email = action.get("email", "")
    if not email:
        raise ActionSkipped(_("no recipient email in the event"))
    language = customer.language if customer else payload.get("language") or "en"
    message = message_queue(template_key=action["template"], recipient_email=email, language=language,
                            context=payload, idempotency_key=f"rule-run:{run.pk}:{index}",
                            marketing=bool(action.get("marketing")), customer=customer, event=run.event)
    if message is None:
        raise ActionSkipped(_("not sent: a duplicate, a disabled template, or no consent"))
    return f"message #{message.pk} to {email} ({message.status})"


def _alert(action, run, index, payload) -> str:
    from notifications.services import staff_alert

    subject = render_text(action.get("subject", ""), payload) or run.rule.name
    body = render_text(action.get("body", ""), payload)
    messages = staff_alert(group=action["group"], subject=subject, body=body,
                           idempotency_key=f"rule-run:{run.pk}:{index}", context=payload)
    if not messages:
        raise ActionSkipped(_("no active staff member with an email in %(group)s") % {"group": action["group"]})
    return f"{len(messages)} message(s) to {action['group']}"


def _tag(action, run, index, payload) -> str:
    subject_type = run.event.subject_type
    tagger = _taggers.get(subject_type)
    if tagger is None:
        raise ActionSkipped(_("%(type)s cannot be tagged") % {"type": subject_type or "-"})
    tag = render_text(action["tag"], payload).strip()
    tagger(subject_id=run.event.subject_id, tag=tag)
    return f"tagged {subject_type} {run.event.subject_id} with {tag!r}"


def _transition(action, run, index, payload) -> str:
    transition = _transitions.get(action["transition"])
    if transition is None:
        raise LookupError(f"transition {action['transition']!r} is not allowed for rules")
    if run.event.subject_type != transition.subject_type:
        raise ActionSkipped(_("the event is about %(type)s, not %(expected)s")
                            % {"type": run.event.subject_type or "-", "expected": transition.subject_type})
    reason = render_text(action.get("reason", ""), payload) or str(run.rule.name)
    try:
        transition.func(subject_id=run.event.subject_id, reason=reason)
    except TransitionNotAllowed as exc:
        # The subject moved on since the event (e.g. the order was confirmed): not an error.
        raise ActionSkipped(_("not possible now: %(why)s") % {"why": exc.message})
    return f"{transition.key} on {run.event.subject_id}"


def _webhook(action, run, index, payload) -> str:
    from .webhooks import webhook_delivery_for_action

    delivery = webhook_delivery_for_action(endpoint_id=int(action["endpoint"]), run=run, index=index)
    if delivery is None:
        raise ActionSkipped(_("the webhook endpoint is disabled"))
    return f"webhook delivery #{delivery.pk} to {delivery.endpoint.url}"


EXECUTORS = {"notify": _notify, "alert": _alert, "tag": _tag, "transition": _transition, "webhook": _webhook}


def validate(actions) -> list[str]:
    """Problems with a list of actions, for the admin form."""
    if not isinstance(actions, list) or not actions:
        return ["actions must be a non-empty list"]
    problems = []
    required = {"notify": ["template"], "alert": ["group"], "tag": ["tag"], "transition": ["transition"],
                "webhook": ["endpoint"], "wait": []}
    for number, action in enumerate(actions, start=1):
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            problems.append(f"action {number}: type must be one of {', '.join(ACTION_TYPES)}")
            continue
        kind = action["type"]
        for key in required[kind]:
            if not action.get(key):
                problems.append(f"action {number} ({kind}): {key} is required")
        if kind == "alert" and action.get("group") and action["group"] not in STAFF_GROUPS:
            problems.append(f"action {number}: group must be one of {', '.join(STAFF_GROUPS)}")
        if kind == "transition" and action.get("transition") and action["transition"] not in _transitions:
            problems.append(f"action {number}: transition must be one of {', '.join(sorted(_transitions)) or '-'}")
        if kind == "wait":
            try:
                if wait_delta(action) <= timedelta(0):
                    problems.append(f"action {number}: wait needs days, hours or minutes > 0")
            except (TypeError, ValueError):
                problems.append(f"action {number}: wait needs numbers")
        if kind == "webhook" and action.get("endpoint") and not str(action["endpoint"]).isdigit():
            problems.append(f"action {number}: endpoint is a webhook endpoint id")
    return problems
