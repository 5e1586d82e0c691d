"""A test-only ESP: anymail's test backend that fails the next sends as scripted.
It stands in for the external email provider, not for the database or the broker."""

import requests
from anymail.backends.test import EmailBackend
from anymail.exceptions import AnymailRequestsAPIError

RESPONSES = {
    "transient": (503, "Service Unavailable", b'{"ErrorCode": 100, "Message": "Maintenance"}'),
    "rate_limited": (429, "Too Many Requests", b'{"ErrorCode": 429, "Message": "Slow down"}'),
    "permanent": (422, "Unprocessable Entity", b'{"ErrorCode": 300, "Message": "Invalid \'To\' address"}'),
}


class ScriptedESP(EmailBackend):
    script: list[str] = []  # outcomes of the next calls: "transient", "rate_limited", "permanent"
    calls = 0

    def post_to_esp(self, payload, message):
        type(self).calls += 1
        if type(self).script:
            status, reason, body = RESPONSES[type(self).script.pop(0)]
            response = requests.Response()
            response.status_code, response.reason, response._content = status, reason, body
            raise AnymailRequestsAPIError("ESP refused the send", email_message=message, payload=payload,
                                          response=response, backend=self)
        return super().post_to_esp(payload, message)
