from django.utils.translation import gettext_lazy as _

from shopauto.exceptions import Conflict, InvalidInput, NotFound


class TemplateMissing(NotFound):
    code = "template_missing"
    default_message = _("No template exists for this notification in any language.")


class TemplateInvalid(InvalidInput):
    code = "template_invalid"
    default_message = _("The template has a syntax error.")


class MessageNotResendable(Conflict):
    code = "message_not_resendable"
    default_message = _("Only failed, bounced or skipped messages can be sent again.")


class UnsubscribeLinkInvalid(InvalidInput):
    code = "unsubscribe_link_invalid"
    default_message = _("This unsubscribe link is not valid.")


class MessageNotFound(NotFound):
    code = "not_found"
    default_message = _("Message not found.")
