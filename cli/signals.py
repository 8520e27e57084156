"""Ctrl-C and SIGTERM, handled alike.

SIGTERM is what CI cancellation, ``timeout`` and ``kill`` send. Each is turned
into a KeyboardInterrupt in the main thread (:class:`Terminated` for SIGTERM),
so every layer cleans up as it does for Ctrl-C: uploads are aborted, a release
is left resumable with its lock given back, each saying what it stopped. While
that cleanup runs, another SIGTERM is ignored, and another Ctrl-C ends the
process at once. The run then ends with one line and exit 130 (Ctrl-C) or 143
(SIGTERM).
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would raise KeyboardInterrupt."""


_stopping: list[int] = []  # the signal that started the stop, while it is handled


def _on_signal(signum: int, frame: Any) -> None:
    if _stopping:
        if signum == signal.SIGINT:
            try:
                sys.stderr.write("\nstopped at once (second Ctrl-C): what was being cleaned up may be left behind\n")
                sys.stderr.flush()
            finally:
                os._exit(EXIT_INTERRUPTED)
        return
    _stopping.append(signum)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


class Stop:
    def exit_code(self, code: int, output: Callable[[], Any]) -> int:
        """``code``, or 130 / 143 with the run's last line when a signal (or typer's 130) stopped it."""
        if not _stopping and code != EXIT_INTERRUPTED:
            return code
        terminated = bool(_stopping) and _stopping[0] == signal.SIGTERM
        code = EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
        what = "stopped by SIGTERM" if terminated else "interrupted (Ctrl-C)"
        out = output()
        if out.json:
            out.result(ok=False, exit_code=code, error=what)
        else:
            try:
                sys.stderr.write(f"{what}\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
        return code


@contextmanager
def handled() -> Iterator[Stop]:
    """SIGINT and SIGTERM handled as above for the duration (from the main thread; elsewhere, left alone)."""
    _stopping.clear()
    try:
        previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread (lamctl run from a thread of another program)
        previous = {}
    try:
        yield Stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
