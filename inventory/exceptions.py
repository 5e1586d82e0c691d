from django.utils.translation import gettext_lazy as _

from shopauto.exceptions import Conflict, InvalidInput, NotFound


class InsufficientStock(Conflict):
    """One error naming every short line: `.shortages` is a list of
    {"sku", "variant_id", "requested", "available"}."""

    code = "insufficient_stock"
    default_message = _("Not enough stock for some lines.")

    def __init__(self, shortages: list[dict], message=None):
        self.shortages = shortages
        fields = {
            item["sku"] or str(item["variant_id"]): [
                str(_("Only %(available)d available (you asked for %(requested)d).")
                    % {"available": max(item["available"], 0), "requested": item["requested"]})
            ]
            for item in shortages
        }
        super().__init__(message, fields=fields)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "shortages": self.shortages}


class StockBusy(Conflict):
    """The stock rows stayed locked longer than the lock timeout: nothing changed, retry."""

    code = "stock_busy"
    default_message = _("Stock is being updated by someone else right now; nothing was changed, please try again.")


class StockOperationInvalid(InvalidInput):
    code = "invalid_stock_operation"
    default_message = _("This stock operation is not valid.")


class NothingReserved(Conflict):
    code = "nothing_reserved"
    default_message = _("Nothing is reserved under this reference (it may have expired).")


class AlreadyInStock(Conflict):
    code = "in_stock"
    default_message = _("This item is in stock: you can order it now.")


class SubscriptionNotFound(NotFound):
    default_message = _("No such back-in-stock alert.")


class VariantNotFound(NotFound):
    default_message = _("No such item.")
