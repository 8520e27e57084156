"""Test seams for crash-safety tests, read from the environment (never set in normal use).

``LAMCTL_FAULT_KILL=POINT:N`` makes the process SIGKILL itself when it reaches
that point, exactly as an outside kill would. ``LAMCTL_FAULT_PAUSE=POINT:N:FIFO``
stops it there until the named pipe FIFO, opened for reading at that point, is
closed by its writer (the test opening it learns that the process got there).
Points: ``part:N`` (part N of a multipart upload was sent), ``tune-invoke:N`` (before the Nth measured
invocation of ``lamctl tune``), and the release
engine's points (``fault(point, index)`` calls in :mod:`lamctl.release.engine`: ``after``,
``before-write``, ``written``, ``checked-lock``, ``before-lock``, ...).
"""

from __future__ import annotations

import os
from typing import Callable

FAULT_ENV = "LAMCTL_FAULT_KILL"
PAUSE_ENV = "LAMCTL_FAULT_PAUSE"


def fault_from_env() -> Callable[[str, int], None] | None:
    kill, pause = os.environ.get(FAULT_ENV), os.environ.get(PAUSE_ENV)
    if not kill and not pause:
        return None
    kill_at = tuple(kill.split(":", 1)) if kill else None
    pause_at, fifo = (tuple(pause.split(":", 2)[:2]), pause.split(":", 2)[2]) if pause else (None, "")
    paused = []

    def fault(at: str, i: int) -> None:
        if (at, str(i)) == kill_at:
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        if (at, str(i)) == pause_at and not paused:
            paused.append(True)  # once: the gate is one rendezvous
            with open(fifo, encoding="utf-8") as gate:  # blocks until the test opens it, then until it closes it
                gate.read()

    return fault
