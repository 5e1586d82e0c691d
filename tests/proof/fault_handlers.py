"""A slow event handler for the SIGKILL fault test. The test's worker subprocesses import
it with `celery worker --include tests.proof.fault_handlers`; the test process imports it
too so that both register the same handler name.

On `proof.slow` it appends "<pid>" to the file named in the payload (outside the handler's
transaction, so the test sees each start), sleeps, then emits `proof.effect` in the
handler's transaction: the effect that must happen exactly once however often it starts.
"""

import os
import time

from automation.registry import on
from automation.services import emit


@on("proof.slow", name="proof.slow_handler")
def slow_handler(event):
    with open(event.payload["marker"], "a") as marker:
        marker.write(f"{os.getpid()}\n")
    time.sleep(float(event.payload.get("sleep", 4)))
    emit("proof.effect", payload={"of_event": event.pk})
