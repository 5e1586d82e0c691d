from django.utils.translation import gettext_lazy as _

from shopauto.exceptions import Conflict, InvalidInput


class RuleInvalid(InvalidInput):
    code = "rule_invalid"
    default_message = _("The rule's trigger, conditions or actions are not valid.")


class RuleRunNotRetryable(Conflict):
    code = "rule_run_not_retryable"
    default_message = _("Only a failed rule run can be retried.")


class WebhookEndpointDisabled(Conflict):
    code = "webhook_endpoint_disabled"
    default_message = _("The webhook endpoint is disabled; enable it first.")
