"""Execution environments per function, handed out the way Lambda does.

* one invocation at a time in each environment;
* an idle warm environment is reused, the most recently freed first (so a
  trickle of calls keeps hitting the same warm process, as on Lambda);
* a new environment starts only when all of the function's are busy;
* over the concurrency limit (``ReservedConcurrentExecutions`` of the
  function, or the pool's ``max_concurrency`` for all functions together)
  :class:`TooManyRequests` is raised instead of queueing;
* idle environments are stopped after ``idle_timeout`` seconds; ``close()``
  stops every one of them (no orphan processes);
* ``replace(spec)`` switches a function to new code: idle environments are
  stopped at once, busy ones when they are released; ``retire(names)`` does the
  same for functions that were deleted.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any, Callable
from dataclasses import dataclass, field

from .environment import Environment, FunctionSpec, InvokeResult, check_supported


class TooManyRequests(Exception):
    def __init__(self, function: str, limit: int, reason: str):
        super().__init__(f"Rate Exceeded. {function} is at its concurrency limit of {limit} ({reason})")
        self.function = function
        self.limit = limit
        self.reason = reason


@dataclass
class _Function:
    spec: FunctionSpec
    idle: list = field(default_factory=list)  # [(Environment, freed_at)], most recently freed last
    busy: set = field(default_factory=set)
    started: int = 0  # environments ever started (cold starts)


class Pool:
    def __init__(self, max_concurrency: int | None = None, idle_timeout: float | None = 300.0,
                 environment_factory=Environment, clock=time.monotonic):
        self.max_concurrency = max_concurrency
        # called with (environment, result) after every invocation: the local cloud writes the log with it
        self.on_result: Callable[[Any, InvokeResult], None] | None = None
        self._clock = clock  # seconds, monotonic: when an environment was freed, and now for the reaper
        self.idle_timeout = idle_timeout
        self._factory = environment_factory
        self._lock = threading.Condition()
        self._functions: dict[str, _Function] = {}
        self._in_flight = 0
        self._closed = False
        self._reaper: threading.Thread | None = None
        if idle_timeout is not None and idle_timeout > 0:
            self._reaper = threading.Thread(target=self._reap_loop, name="lamctl-env-reaper", daemon=True)
            self._reaper.start()

    # -- configuration -----------------------------------------------------------------

    def spec(self, name: str) -> FunctionSpec | None:
        with self._lock:
            fn = self._functions.get(name)
            return fn.spec if fn else None

    def replace(self, spec: FunctionSpec) -> None:
        """Use ``spec`` for the function from now on; environments of the old code are retired."""
        with self._lock:
            fn = self._functions.get(spec.name)
            if fn is not None and fn.spec == spec:
                return
        check_supported(spec)
        with self._lock:
            fn = self._functions.get(spec.name)
            if fn is None:
                self._functions[spec.name] = _Function(spec)
                return
            if fn.spec == spec:
                return
            old_idle = [env for env, _ in fn.idle]
            fn.idle.clear()
            fn.spec = spec
        for env in old_idle:
            env.stop()

    # -- handing environments out ---------------------------------------------------------

    @contextmanager
    def environment(self, name: str):
        env = self.acquire(name)
        try:
            yield env
        finally:
            self.release(env)

    def acquire(self, name: str) -> Environment:
        stale = []
        try:
            with self._lock:
                if self._closed:
                    raise RuntimeError("the pool is closed")
                fn = self._functions[name]
                reserved = fn.spec.reserved_concurrency
                # reserved concurrency belongs to the function: its versions share it
                if reserved is not None and self._busy_of(fn.spec.arn) >= reserved:
                    raise TooManyRequests(name, reserved, "ReservedConcurrentExecutions")
                if self.max_concurrency is not None and self._in_flight >= self.max_concurrency:
                    raise TooManyRequests(name, self.max_concurrency, "--max-concurrency")
                env = None
                while fn.idle:
                    candidate, _ = fn.idle.pop()
                    if candidate.dead or (candidate.proc is not None and candidate.proc.poll() is not None):
                        stale.append(candidate)  # exited while idle: never hand out a dead process
                        continue
                    env = candidate
                    break
                if env is None:
                    env = self._factory(fn.spec)
                    fn.started += 1
                fn.busy.add(env)
                self._in_flight += 1
                return env
        finally:
            for env in stale:
                env.stop()

    def _busy_of(self, arn: str) -> int:
        return sum(len(f.busy) for f in self._functions.values() if f.spec.arn == arn)

    def release(self, env: Environment) -> None:
        stop = False
        with self._lock:
            fn = self._functions.get(env.spec.name)
            self._in_flight -= 1
            if fn is not None:
                fn.busy.discard(env)
            if fn is None or env.dead or self._closed or env.spec != fn.spec or self.idle_timeout == 0:
                stop = True  # idle_timeout 0: no warm reuse, every invocation is a cold start
            else:
                fn.idle.append((env, self._clock()))
            self._lock.notify_all()
        if stop:
            env.stop()

    def invoke(self, name: str, payload: bytes, **kwargs) -> InvokeResult:
        with self.environment(name) as env:
            result = env.invoke(payload, **kwargs)
        if self.on_result is not None:
            self.on_result(env, result)
        return result

    # -- observing -------------------------------------------------------------------------

    def stats(self, name: str) -> dict:
        with self._lock:
            fn = self._functions[name]
            return {"idle": len(fn.idle), "busy": len(fn.busy), "started": fn.started}

    def pids(self) -> list[int]:
        """Process IDs of every live environment (idle or busy)."""
        with self._lock:
            envs = [env for fn in self._functions.values() for env in list(fn.busy) + [e for e, _ in fn.idle]]
        return [env.pid for env in envs if env.pid is not None and not env.dead]

    # -- stopping ----------------------------------------------------------------------------

    def clear(self) -> int:
        """Forget every function: idle environments stop now, busy ones when their invocation ends.
        Returns how many were stopped now."""
        with self._lock:
            idle = [env for fn in self._functions.values() for env, _ in fn.idle]
            self._functions.clear()
        for env in idle:
            env.stop()
        return len(idle)

    def retire(self, names: Callable[[str], bool]) -> int:
        """Forget the functions whose name ``names(name)`` accepts (deleted ones): their idle environments stop
        now, busy ones when their invocation ends. Returns how many were stopped now."""
        with self._lock:
            gone = [name for name in self._functions if names(name)]
            idle = [env for name in gone for env, _ in self._functions.pop(name).idle]
        for env in idle:
            env.stop()
        return len(idle)

    def reap(self, now: float | None = None) -> int:
        """Stop environments idle for longer than ``idle_timeout``; returns how many were stopped."""
        if self.idle_timeout is None:
            return 0
        now = self._clock() if now is None else now
        victims = []
        with self._lock:
            for fn in self._functions.values():
                keep = []
                for env, freed in fn.idle:
                    (victims if now - freed >= self.idle_timeout else keep).append((env, freed))
                fn.idle[:] = keep
        for env, _ in victims:
            env.stop()
        return len(victims)

    def _reap_loop(self) -> None:
        interval = max(0.05, min(self.idle_timeout or 1.0, 5.0) / 4)
        while True:
            with self._lock:
                if self._closed:
                    return
                self._lock.wait(interval)
                if self._closed:
                    return
            self.reap()

    def close(self) -> None:
        """Stop every environment, busy ones included (their invocations fail as the process dies)."""
        with self._lock:
            self._closed = True
            envs = [env for fn in self._functions.values() for env in list(fn.busy) + [e for e, _ in fn.idle]]
            for fn in self._functions.values():
                fn.idle.clear()
            self._lock.notify_all()
        for env in envs:
            env.stop()
        if self._reaper is not None and self._reaper is not threading.current_thread():
            self._reaper.join(timeout=2)
