from django.utils.translation import gettext_lazy as _

from shopauto.exceptions import Conflict, InvalidInput, NotFound


class OrderNotFound(NotFound):
    default_message = _("Order not found.")


class CartEmpty(InvalidInput):
    code = "cart_empty"
    default_message = _("Your cart is empty.")


class CartClosed(Conflict):
    code = "cart_closed"
    default_message = _("This cart was already ordered.")


class CurrencyMismatch(InvalidInput):
    code = "currency_mismatch"
    default_message = _("This item is priced in another currency than the rest of your cart.")


class CreditLimitExceeded(Conflict):
    code = "credit_limit_exceeded"
    default_message = _("This order would exceed your company's credit limit. Pay by bank transfer or contact us.")


class PaymentMethodNotAllowed(InvalidInput):
    code = "payment_method_not_allowed"
    default_message = _("This payment method is not available for your account.")


class ShippingNotAvailable(InvalidInput):
    code = "shipping_not_available"
    default_message = _("This shipping method does not deliver to the chosen address.")


class NotAllowed(Conflict):
    code = "not_allowed"
    status = 403
    default_message = _("You are not allowed to do this.")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = _("This Idempotency-Key was already used with a different request body.")
