"""Which event sends which template to whom: the one table to read.

Other apps only emit events; this table decides what is mailed. Each row becomes an
event handler (notifications.handlers) whose name is its identity in the HandlerRun log.
Staff switch a row off in the admin (Notification switches) without a deploy.
"""

from dataclasses import dataclass

CUSTOMER = "customer"  # payload["customer_id"] → CustomerProfile (email, language, consent)
COMPANY_APPROVERS = "company_approvers"  # approvers of that customer's company
STAFF_GROUP = "staff_group"  # active staff users of a Django auth group

STAFF_GROUPS = ("Managers", "Purchasing", "Support", "Sales")


@dataclass(frozen=True)
class Route:
    event: str  # an event name or a pattern ending in "*"
    template_key: str
    recipients: str
    group: str | None = None  # for STAFF_GROUP
    marketing: bool = False  # needs consent, carries unsubscribe, counts against the cap

    @property
    def handler_name(self) -> str:
        return f"notifications.route:{self.event}:{self.template_key}"


ROUTES: tuple[Route, ...] = (
    Route("order.placed", "order.placed", CUSTOMER),
    Route("order.awaiting_approval", "order.awaiting_approval", CUSTOMER),
    Route("order.awaiting_approval", "order.approval_requested", COMPANY_APPROVERS),
    Route("order.confirmed", "order.confirmed", CUSTOMER),
    Route("order.shipped", "order.shipped", CUSTOMER),
    Route("order.delivered", "order.delivered", CUSTOMER),
    Route("order.cancelled", "order.cancelled", CUSTOMER),
    Route("order.refunded", "order.refunded", CUSTOMER),
    Route("order.approval_reminder", "order.approval_requested", COMPANY_APPROVERS),
    Route("order.partially_shipped", "order.partially_shipped", CUSTOMER),
    Route("order.delivery_exception", "order.delivery_exception", CUSTOMER),
    Route("customer.back_in_stock", "customer.back_in_stock", CUSTOMER, marketing=True),
    Route("cart.abandoned", "cart.abandoned", CUSTOMER, marketing=True),
    # Any promotion.* event with {"customer_id", "title", "body", "url"}.
    Route("promotion.*", "promotion", CUSTOMER, marketing=True),
    Route("stock.low", "stock.low", STAFF_GROUP, group="Purchasing"),
)

# Templates sent by the code itself rather than by an event route.
SYSTEM_TEMPLATES = ("staff.alert", "staff.digest", "staff.message_failed")


def template_keys() -> list[str]:
    return sorted({route.template_key for route in ROUTES} | set(SYSTEM_TEMPLATES))


def route_for_template(template_key: str) -> Route | None:
    return next((route for route in ROUTES if route.template_key == template_key), None)
