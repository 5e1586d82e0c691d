from django.utils.translation import gettext_lazy as _

from shopauto.exceptions import Conflict, InvalidInput, NotFound


class QuoteNotFound(NotFound):
    default_message = _("Quote not found.")


class QuoteExpired(Conflict):
    code = "quote_expired"
    default_message = _("This quote is no longer valid. Ask us for a new one.")


class NothingToSend(InvalidInput):
    code = "quote_not_priced"
    default_message = _("Price the quote (create a version) before sending it.")


class ApprovalRequired(Conflict):
    code = "approval_required"
    status = 403
    default_message = _("Only a manager can approve a discount beyond the limit.")
