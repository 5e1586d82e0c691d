"""Event handlers: one per row of the routing table (notifications.routing.ROUTES).

Each runs once per event (automation's HandlerRun), in a transaction with it; the
messages it queues are unique per (event, template, recipient), and sent after commit.
"""

import logging
from functools import partial

from django.conf import settings

from automation.registry import on
from customers.models import CustomerProfile
from customers.selectors import approvers_for_company

from . import services
from .routing import COMPANY_APPROVERS, CUSTOMER, ROUTES, STAFF_GROUP, Route

logger = logging.getLogger(__name__)


def _customer(payload: dict) -> CustomerProfile | None:
    customer_id = payload.get("customer_id")
    if not customer_id:
        return None
    return CustomerProfile.objects.select_related("user").filter(pk=customer_id).first()


def recipients_for(route: Route, payload: dict) -> list[tuple[str, str, CustomerProfile | None]]:
    """(email, language, customer) for each recipient of the route."""
    if route.recipients == CUSTOMER:
        customer = _customer(payload)
        if customer is not None and customer.user.email:
            return [(customer.user.email, customer.language, customer)]
        if payload.get("email") and not route.marketing:  # a guest: the payload's address, shop language
            return [(payload["email"], settings.LANGUAGE_CODE, None)]
        return []
    if route.recipients == COMPANY_APPROVERS:
        customer = _customer(payload)
        if customer is None or not customer.company_id:
            return []
        return [(approver.user.email, approver.language, approver)
                for approver in approvers_for_company(company_id=customer.company_id) if approver.user.email]
    raise ValueError(f"unknown recipients kind {route.recipients!r}")


def route_handle(route: Route, event) -> None:
    if not services.template_enabled(route.template_key):
        return
    payload = event.payload or {}
    context = {**payload, "event_name": event.name}
    if route.recipients == STAFF_GROUP:
        services.staff_message(group=route.group, template_key=route.template_key,
                               idempotency_key=f"{event.pk}:{route.template_key}", context=context, event=event)
        return
    for email, language, customer in recipients_for(route, payload):
        name = customer.display_name if customer is not None else ""
        services.message_queue(
            template_key=route.template_key, recipient_email=email, language=language,
            context={**context, "recipient_name": name}, idempotency_key=f"{event.pk}:{route.template_key}:{email}",
            marketing=route.marketing, customer=customer, event=event,
        )


for _route in ROUTES:
    on(_route.event, name=_route.handler_name)(partial(route_handle, _route))
