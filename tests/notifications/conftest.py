import pytest

from notifications import services
from tests.notifications.backends import ScriptedESP


@pytest.fixture
def esp(settings):
    """The scripted stand-in ESP (anymail's test backend underneath)."""
    settings.EMAIL_BACKEND = "tests.notifications.backends.ScriptedESP"
    ScriptedESP.script = []
    ScriptedESP.calls = 0
    yield ScriptedESP
    ScriptedESP.script = []


@pytest.fixture(autouse=True)
def _fresh_message_broker_state():
    services.reset_broker_backoff()
    yield
    services.reset_broker_backoff()
