from django.utils.translation import gettext_lazy as _

from shopauto.exceptions import Conflict, DomainError, NotFound


class NotInCatalog(NotFound):
    """The variant does not exist for this customer: hidden by their catalog, inactive, or
    unknown. Same code and status as any missing object, so existence does not leak."""

    code = "not_found"
    default_message = _("Not found.")


class PriceNotFound(DomainError):
    code = "price_not_found"
    status = 400
    default_message = _("This item has no price for you; please ask us for a quote.")


class PriceRuleAlreadyApplied(Conflict):
    code = "price_rule_already_applied"
    default_message = _("This price rule has already been applied.")
