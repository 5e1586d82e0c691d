"""FSM transitions as admin buttons that call the app's services (one helper for
orders, returns, quotes ...).

A ModelAdmin mixes in TransitionButtonsMixin, lists its buttons in `transition_actions`
(name → TransitionAction) and shows the read-only field "transition_buttons". A button
appears when the user has its permission, its guard allows it and `transition_allowed`
agrees; pressing it POSTs to `<pk>/transition/`, which checks the permission again and
calls the service; a DomainError is shown as a message and changes nothing.
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
    call: Callable  # (obj, user, note: str) -> anything; a service call
    permission: str
    guard: str | None = None  # FSM transition method checked with can_proceed
    available: Callable | None = None  # (obj) -> bool, extra condition


class TransitionButtonsMixin:
    transition_actions: dict[str, TransitionAction] = {}
    transition_note_placeholder = _("Reason / note (optional)")

    def _transition_url_name(self) -> str:
        meta = self.model._meta
        return f"{meta.app_label}_{meta.model_name}_transition"

    def transition_allowed(self, request, obj, name: str) -> bool:
        """Extra conditions beyond permission, guard and `available` (override)."""
        return True

    def available_actions(self, request, obj) -> list[tuple[str, str]]:
        available = []
        for name, action in self.transition_actions.items():
            if not request.user.has_perm(action.permission):
                continue
            if action.guard and not can_proceed(getattr(obj, action.guard)):
                continue
            if action.available and not action.available(obj):
                continue
            if self.transition_allowed(request, obj, name):
                available.append((name, action.label))
        return available

    available_transitions = available_actions

    @property
    def _admin_request(self):
        return getattr(self, "_request", None)

    def transition_buttons(self, obj):
        request = self._admin_request
        if obj is None or obj.pk is None or request is None:
            return "—"
        url = reverse(f"admin:{self._transition_url_name()}", args=[obj.pk])
        buttons = [
            format_html('<button type="submit" name="action_name" value="{}" class="button" '
                        'formaction="{}" formmethod="post" style="margin:0 .4rem .4rem 0">{}</button>',
                        name, url, label)
            for name, label in self.available_actions(request, obj)
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
                result = self.run_transition(request, obj, action)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                self.transition_done(request, obj, name, action, result)
        meta = self.model._meta
        return redirect(f"admin:{meta.app_label}_{meta.model_name}_change", object_id)

    def run_transition(self, request, obj, action: TransitionAction):
        return action.call(obj, request.user, request.POST.get("reason", "").strip())

    def transition_done(self, request, obj, name, action, result) -> None:
        messages.success(request, _("%(action)s: done.") % {"action": action.label})
