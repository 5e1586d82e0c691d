from django.utils.translation import gettext_lazy as _

from shopauto.exceptions import Conflict, InvalidInput, NotFound


class ReturnNotFound(NotFound):
    default_message = _("Return not found.")


class OrderNotReturnable(Conflict):
    code = "order_not_returnable"
    default_message = _("Only delivered orders can be returned.")


class ReturnQuantityExceeded(InvalidInput):
    code = "return_quantity_exceeded"
    default_message = _("You cannot return more than was delivered and not yet returned.")


class ReturnNotAllowed(Conflict):
    code = "not_allowed"
    status = 403
    default_message = _("You are not allowed to do this.")
