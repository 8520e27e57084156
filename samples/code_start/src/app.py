"""Keeps a random container id and a use counter in globals: they live as long as the execution environment."""

import os
import time
import uuid

CONTAINER = uuid.uuid4().hex[:12]
USES = 0


def handler(event, context):
    global USES
    USES += 1
    seconds = float(os.environ.get("SLEEP_SECONDS") or 0)
    if seconds:
        time.sleep(seconds)
    return {"container": CONTAINER, "uses": USES}
