"""API fuzzing: schemathesis generates requests for every operation of the OpenAPI
schema (/api/schema/) and sends them, authenticated as a customer and as staff, to the
WSGI application in this process. No response may be a 5xx, and every documented
response must match its schema.

Time-bounded for CI: SHOPAUTO_FUZZ_EXAMPLES examples per operation (default 15).
"""

import os

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.factories import StaffFactory

pytestmark = pytest.mark.fuzz

MAX_EXAMPLES = int(os.environ.get("SHOPAUTO_FUZZ_EXAMPLES", "15"))

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def not_a_server_error(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"{case.method} {case.formatted_path} answered {response.status_code}: "
                             f"{response.content[:300]!r}")


@pytest.fixture
def in_process_wsgi():
    """Like Django's test client: a request must not close the test's connection."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db, settings, in_process_wsgi):
    from tests.orders.conftest import Shop

    settings.PUBLIC_LOOKUP_RATE_LIMIT = "100000/m"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    shop = Shop()
    shop.variant("FUZZ-1")
    from tests.factories import AddressFactory, CustomerFactory

    customer = CustomerFactory()
    AddressFactory(profile=customer)
    staff = StaffFactory()
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=[
        "orders", "catalog", "inventory", "customers", "notifications", "automation", "quotes", "returns"]))
    return {"customer": Token.objects.create(user=customer.user).key,
            "staff": Token.objects.create(user=staff).key}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_responses_match_the_schema(case, tokens):
    for who in ("customer", "staff"):
        case.call_and_validate(headers={"Authorization": f"Token {tokens[who]}"},
                               checks=[not_a_server_error, response_schema_conformance, content_type_conformance])
