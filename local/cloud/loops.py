"""The background loops of the local cloud that look at moto's state on a timer (stream pollers, the scheduler).

moto's state belongs to the process, so of two local clouds in one process (tests, an embedded cloud) only the
loop of each kind started last does its rounds: two stream pollers would each deliver every record, two
schedulers would fire every schedule twice.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

_STARTED: dict[str, list] = {}  # loop kind (its thread name) -> the loops of that kind started, oldest first


class LastStartedLoop:
    """A thread calling :meth:`round` every ``interval`` seconds while this loop is the last of its kind started.

    A subclass sets ``thread_name`` and ``interval``, defines :meth:`round`, and has ``log(text)``; an exception
    in a round is logged and the loop goes on (one bad mapping or rule must not stop the others)."""

    thread_name = "lamctl-loop"
    interval = 1.0
    log: Callable[[str], Any]

    def start(self) -> Any:
        self._closed = threading.Event()
        _STARTED.setdefault(self.thread_name, []).append(self)
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        closed = getattr(self, "_closed", None)
        if closed is None:
            return  # never started
        closed.set()
        started = _STARTED.get(self.thread_name, [])
        if self in started:
            started.remove(self)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._closed.wait(self.interval):
            started = _STARTED.get(self.thread_name)
            if not started or started[-1] is not self:
                continue
            try:
                self.round()
            except Exception as exc:  # noqa: BLE001 - the loop outlives one bad round
                self.log(f"{self.thread_name.removeprefix('lamctl-').replace('-', ' ')}: {exc}\n")

    def round(self) -> None:
        raise NotImplementedError
