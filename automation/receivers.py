"""django-fsm transitions become events.

A model opts in by naming its events (`event_prefix = "order"`) and describing itself
(`event_payload()`); every transition then emits `<prefix>.<target state>` in the same
transaction, unless the model maps it otherwise with `transition_event_name()`.
"""

from django.dispatch import receiver
from django_fsm.signals import post_transition

from .services import emit


@receiver(post_transition, dispatch_uid="automation.emit_transition_event")
def emit_transition_event(sender, instance, name, source, target, **kwargs):
    prefix = getattr(instance, "event_prefix", None)
    if not prefix:
        return
    naming = getattr(instance, "transition_event_name", None)
    event_name = naming(name=name, source=source, target=target) if naming else f"{prefix}.{target}"
    if not event_name:
        return
    method_kwargs = kwargs.get("method_kwargs") or {}
    payload = instance.event_payload() if hasattr(instance, "event_payload") else {"id": instance.pk}
    payload = {**payload, "transition": {"name": name, "from": source, "to": target}}
    if method_kwargs.get("description"):
        payload["transition"]["reason"] = str(method_kwargs["description"])
    emit(event_name, subject=instance, payload=payload, actor=method_kwargs.get("by"))
