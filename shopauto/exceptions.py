"""Domain errors: every service raises these, with a stable `code`.

The API maps them to `{"error": {"code", "message", "fields"}}` (shopauto.api), and
portal views show `message` on the form. Subclass per app (`InsufficientStock`,
`ReturnWindowClosed`, ...) and set `code`, `status` and a translated default message.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "invalid"
    status = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.fields = fields or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), "fields": self.fields}


class InvalidInput(DomainError):
    code = "invalid"
    status = 400


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    default_message = _("This action is not allowed in the current state.")
