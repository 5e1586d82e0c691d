"""FSM transitions as buttons on an admin change page, each calling a service.

A ModelAdmin lists its actions once; the mixin shows the ones the user's permissions
and the object's state allow, posts them to one URL, calls the service and reports its
DomainError as a message. The service still checks everything itself.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from .exceptions import DomainError


@dataclass(frozen=True)
class TransitionAction:
    label: str
    call: Callable  # (obj, user, note: str) -> anything; raises DomainError
    permission: str
    guard: str | None = None  # the FSM transition method that must be able to proceed


class TransitionButtonsMixin:
    transition_actions: dict[str, TransitionAction] = {}
    transition_note_placeholder = _("Reason (optional)")

    def transition_allowed(self, request, obj, name: str) -> bool:
        """Extra conditions beyond permission and FSM guard (override)."""
        return True

    def available_transitions(self, request, obj) -> list[tuple[str, str]]:
        available = []
        for name, action in self.transition_actions.items():
            if not request.user.has_perm(action.permission):
                continue
            if action.guard and not can_proceed(getattr(obj, action.guard)):
                continue
            if self.transition_allowed(request, obj, name):
                available.append((name, action.label))
        return available

    def _transition_url_name(self) -> str:
        meta = self.model._meta
        return f"{meta.app_label}_{meta.model_name}_transition"

    @property
    def _change_url_name(self) -> str:
        meta = self.model._meta
        return f"admin:{meta.app_label}_{meta.model_name}_change"

    def transition_buttons(self, obj):
        request = getattr(self, "_request", None)
        if obj is None or obj.pk is None or request is None:
            return "—"
        url = reverse(f"admin:{self._transition_url_name()}", args=[obj.pk])
        buttons = [
            format_html('<button type="submit" name="action_name" value="{}" class="button" '
                        'formaction="{}" formmethod="post" style="margin:0 .4rem .4rem 0">{}</button>',
                        name, url, label)
            for name, label in self.available_transitions(request, obj)
        ]
        if not buttons:
            return _("No action available in this state.")
        note = format_html('<input type="text" name="reason" placeholder="{}" style="width:20rem"><br>',
                           self.transition_note_placeholder)
        return format_html("{}{}", note, format_html_join("", "{}", ((button,) for button in buttons)))

    transition_buttons.short_description = _("actions")

    def get_form(self, request, obj=None, **kwargs):
        self._request = request
        return super().get_form(request, obj, **kwargs)

    def get_urls(self):
        return [path("<int:object_id>/transition/", self.admin_site.admin_view(self.transition_view),
                     name=self._transition_url_name()), *super().get_urls()]

    def transition_view(self, request, object_id):
        if request.method != "POST":
            raise PermissionDenied
        obj = get_object_or_404(self.model, pk=object_id)
        name = request.POST.get("action_name", "")
        action = self.transition_actions.get(name)
        if action is None:
            messages.error(request, _("Unknown action."))
        else:
            if not request.user.has_perm(action.permission):
                raise PermissionDenied
            try:
                result = action.call(obj, request.user, request.POST.get("reason", "").strip())
            except DomainError as error:
                messages.error(request, error.message)
            else:
                self.transition_done(request, obj, name, action, result)
        return redirect(self._change_url_name, object_id)

    def transition_done(self, request, obj, name, action, result) -> None:
        messages.success(request, _("%(action)s: done.") % {"action": action.label})
