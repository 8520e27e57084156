"""The memory experiment behind ``lamctl tune``: how fast and how costly a function is at each memory size.

For each size the function's ``$LATEST`` is given that ``MemorySize`` and a version is published from it;
then ``$LATEST`` gets its own size back at once, before any invocation, so what callers of ``$LATEST`` and of
the aliases (live traffic) run never changes while the experiment measures. Each size's version is invoked
once to warm it up (the cold start is not measured), then ``n`` times, one after the other (or ``n`` at a
time with ``parallel``); the ``REPORT`` line of each invocation's log (``LogType=Tail``) gives its duration,
billed duration and max memory used. At the end, and also when the run fails or is interrupted (Ctrl-C), the
versions the experiment published are deleted and ``$LATEST``'s memory is what it was.

What is reported per size (:class:`SizeResult`): the median and 90th percentile (nearest rank) of the
durations, the cost of a million invocations (the mean billed duration times the memory in GB times the
price per GB-second of the function's architecture, plus the price of a million requests, :data:`PRICES`),
and the max memory used. Three picks (:class:`Picks`) among the sizes where every invocation succeeded:

* fastest: the lowest median duration (a tie goes to the cheaper);
* cheapest: the lowest cost per million invocations (a tie goes to the faster);
* balance: the lowest ``cost / cheapest cost + median / fastest median``, that is the size whose cost and
  duration together stay closest to the best of each (2.0 would be the best at both).

The gateway is :class:`TuneGateway` (boto3's Lambda client), or ``FakeTuneLambda`` of
:mod:`lamctl.release.fakes` in tests; time goes through the injected clock.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from lamctl.schemas.errors import CloudError, UsageError, error_code, error_message

# Lambda's prices in US East (N. Virginia), first tier, read from aws.amazon.com/lambda/pricing on 2026-12-06:
# USD per GB-second of duration by architecture (GB = 1,024 MB of MemorySize), and per million requests.
PRICES = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
REQUEST_PRICE_PER_MILLION = 0.20
PRICE_REGION = "us-east-1"
PRICE_DATE = "2026-12-06"
DEFAULT_SIZES = (128, 256, 512, 1024, 1769, 2048, 3008)
MIN_MEMORY, MAX_MEMORY = 128, 10240  # Lambda's MemorySize range, in MB
UPDATE_TIMEOUT = 300.0
DESCRIPTION = "lamctl tune: {size} MB (deleted when the experiment ends)"

_REPORT = re.compile(r"REPORT RequestId: (?P<rid>\S+)\s+Duration: (?P<duration>[\d.]+) ms\s+"
                     r"Billed Duration: (?P<billed>\d+) ms\s+Memory Size: (?P<size>\d+) MB\s+"
                     r"Max Memory Used: (?P<used>\d+) MB")


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Report:
    """One invocation, as its REPORT line tells it."""

    duration_ms: float
    billed_ms: int
    memory_size: int
    max_memory_mb: int
    error: str | None = None  # the FunctionError's errorType, when the invocation failed


@dataclass(frozen=True)
class Invocation:
    """What one Invoke answered: the function's error type (None when it succeeded) and the log's tail."""

    error: str | None
    log_tail: str


@dataclass(frozen=True)
class FunctionState:
    name: str
    memory_size: int
    architecture: str
    last_update: str  # LastUpdateStatus: Successful, InProgress, Failed


@dataclass
class SizeResult:
    memory: int
    reports: list[Report] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)  # errorType -> how many
    median_ms: float | None = None
    p90_ms: float | None = None
    mean_billed_ms: float | None = None
    cost_per_million: float | None = None
    max_memory_mb: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.reports) and not self.errors

    def as_dict(self) -> dict:
        return {"memory": self.memory, "invocations": len(self.reports) + sum(self.errors.values()),
                "errors": dict(self.errors), "median_ms": _round(self.median_ms), "p90_ms": _round(self.p90_ms),
                "mean_billed_ms": _round(self.mean_billed_ms),
                "cost_per_million_usd": None if self.cost_per_million is None else round(self.cost_per_million, 4),
                "max_memory_used_mb": self.max_memory_mb}


@dataclass(frozen=True)
class Picks:
    fastest: int | None
    cheapest: int | None
    balance: int | None

    def as_dict(self) -> dict:
        return {"fastest": self.fastest, "cheapest": self.cheapest, "balance": self.balance}


@dataclass
class TuneResult:
    function: str
    architecture: str
    original_memory: int
    sizes: list[SizeResult]
    picks: Picks
    invocations: int
    parallel: bool

    def as_dict(self) -> dict:
        return {"function": self.function, "architecture": self.architecture,
                "original_memory": self.original_memory, "invocations": self.invocations,
                "parallel": self.parallel, "sizes": [s.as_dict() for s in self.sizes],
                "picks": self.picks.as_dict(),
                "prices": {"region": PRICE_REGION, "date": PRICE_DATE,
                           "gb_second_usd": PRICES.get(self.architecture, PRICES["x86_64"]),
                           "million_requests_usd": REQUEST_PRICE_PER_MILLION}}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# ---------------------------------------------------------------- pure parts


def parse_sizes(text: str, where: str = "--memory") -> list[int]:
    """``128,256,1769`` -> sizes in MB, in the order given, each once; a bad one is a UsageError naming it."""
    sizes: list[int] = []
    for part in (p.strip() for p in str(text).split(",")):
        if not part:
            continue
        raw = part[:-2].strip() if part.lower().endswith("mb") else part
        if not raw.isdigit():
            raise UsageError(f"{where}: {part!r} is not a memory size in MB", where=where,
                             hint="give whole megabytes separated by commas, for example --memory 128,512,1769")
        size = int(raw)
        if not MIN_MEMORY <= size <= MAX_MEMORY:
            raise UsageError(f"{where}: {size} MB is outside Lambda's range of {MIN_MEMORY}-{MAX_MEMORY} MB",
                             where=where, hint=f"choose sizes from {MIN_MEMORY} to {MAX_MEMORY} MB")
        if size not in sizes:
            sizes.append(size)
    if not sizes:
        raise UsageError(f"{where} names no memory size", where=where,
                         hint="for example --memory 128,256,512,1024,1769,2048,3008")
    return sizes


def parse_report(log_tail: str) -> Report | None:
    """The last REPORT line of an invocation's log, or None when the tail has none."""
    found = None
    for m in _REPORT.finditer(log_tail or ""):
        found = m
    if found is None:
        return None
    return Report(duration_ms=float(found["duration"]), billed_ms=int(found["billed"]),
                  memory_size=int(found["size"]), max_memory_mb=int(found["used"]))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p50 of an even count is the mean of the middle two: the median)."""
    ordered = sorted(values)
    if pct == 50:
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def cost_per_million(memory_mb: int, billed_ms: float, architecture: str) -> float:
    """USD for a million invocations of ``billed_ms`` each at ``memory_mb`` (duration plus requests)."""
    price = PRICES.get(architecture, PRICES["x86_64"])
    return 1_000_000 * (billed_ms / 1000) * (memory_mb / 1024) * price + REQUEST_PRICE_PER_MILLION


def summarise(result: SizeResult, architecture: str) -> SizeResult:
    if result.reports:
        durations = [r.duration_ms for r in result.reports]
        result.median_ms = percentile(durations, 50)
        result.p90_ms = percentile(durations, 90)
        result.mean_billed_ms = sum(r.billed_ms for r in result.reports) / len(result.reports)
        result.cost_per_million = cost_per_million(result.memory, result.mean_billed_ms, architecture)
        result.max_memory_mb = max(r.max_memory_mb for r in result.reports)
    return result


def pick(sizes: list[SizeResult]) -> Picks:
    """Fastest, cheapest and best balance among the sizes where every invocation succeeded (module docstring)."""
    good = [s for s in sizes if s.ok and s.median_ms is not None and s.cost_per_million is not None]
    if not good:
        return Picks(None, None, None)
    fastest = min(good, key=lambda s: (s.median_ms, s.cost_per_million, s.memory))
    cheapest = min(good, key=lambda s: (s.cost_per_million, s.median_ms, s.memory))
    best_ms = max(fastest.median_ms, 1e-9)
    best_cost = max(cheapest.cost_per_million, 1e-12)
    balance = min(good, key=lambda s: (s.cost_per_million / best_cost + s.median_ms / best_ms, s.memory))
    return Picks(fastest.memory, cheapest.memory, balance.memory)


def balance_score(size: SizeResult, sizes: list[SizeResult]) -> float | None:
    """The balance score of ``size`` among ``sizes`` (lower is better; 2.0 is the best at both)."""
    good = [s for s in sizes if s.ok and s.median_ms is not None]
    if not size.ok or not good:
        return None
    best_ms = max(min(s.median_ms for s in good), 1e-9)
    best_cost = max(min(s.cost_per_million for s in good), 1e-12)
    return size.cost_per_million / best_cost + size.median_ms / best_ms


# ---------------------------------------------------------------- gateway


class Gateway(Protocol):
    calls: Counter

    def state(self, function: str) -> FunctionState: ...
    def versions(self, function: str) -> set[str]: ...
    def set_memory(self, function: str, memory: int) -> None: ...
    def publish(self, function: str, description: str) -> str: ...
    def invoke(self, function: str, qualifier: str, payload: bytes) -> Invocation: ...
    def delete_version(self, function: str, version: str) -> None: ...


def _client_error():
    import botocore.exceptions

    return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)


class TuneGateway:
    """The Lambda calls of the experiment, over a boto3 Lambda client; waits go through ``clock``."""

    def __init__(self, client: Any, clock: Any, poll: float = 1.0):
        self.client = client
        self.clock = clock
        self.poll = poll
        self.calls: Counter = Counter()

    def _fail(self, call: str, exc: Exception, function: str) -> CloudError:
        return CloudError(f"{call} failed: {error_code(exc) or type(exc).__name__}: {error_message(exc) or exc}",
                          where=function, hint="check the credentials, the region and the function's name")

    def _get(self, function: str) -> dict:
        self.calls["GetFunctionConfiguration"] += 1
        try:
            return self.client.get_function_configuration(FunctionName=function)
        except _client_error() as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise UsageError(f"function {function} does not exist", where=function,
                                 hint="check the name and the region (--region / --local), or deploy it first") \
                    from None
            raise self._fail("GetFunctionConfiguration", exc, function) from None

    def state(self, function: str) -> FunctionState:
        cfg = self._get(function)
        return FunctionState(name=cfg.get("FunctionName", function), memory_size=int(cfg.get("MemorySize") or 128),
                             architecture=(cfg.get("Architectures") or ["x86_64"])[0],
                             last_update=cfg.get("LastUpdateStatus") or "Successful")

    def versions(self, function: str) -> set[str]:
        found: set[str] = set()
        marker = None
        while True:
            self.calls["ListVersionsByFunction"] += 1
            kwargs: dict[str, Any] = {"FunctionName": function, "MaxItems": 50}
            if marker:
                kwargs["Marker"] = marker
            try:
                resp = self.client.list_versions_by_function(**kwargs)
            except _client_error() as exc:
                raise self._fail("ListVersionsByFunction", exc, function) from None
            found.update(str(v["Version"]) for v in resp.get("Versions", []))
            marker = resp.get("NextMarker")
            if not marker:
                return found

    def set_memory(self, function: str, memory: int) -> None:
        """``UpdateFunctionConfiguration(MemorySize)``, then wait until ``LastUpdateStatus`` is ``Successful``."""
        self.calls["UpdateFunctionConfiguration"] += 1
        try:
            self.client.update_function_configuration(FunctionName=function, MemorySize=memory)
        except _client_error() as exc:
            raise self._fail("UpdateFunctionConfiguration", exc, function) from None
        deadline = self.clock.now() + UPDATE_TIMEOUT
        while True:
            cfg = self._get(function)
            status = cfg.get("LastUpdateStatus") or "Successful"
            if status == "Successful":
                return
            if status == "Failed":
                raise CloudError(f"setting {function}'s memory to {memory} MB failed: "
                                 f"{cfg.get('LastUpdateStatusReason') or 'no reason given'}", where=function,
                                 hint="look at the function's configuration, then run lamctl tune again")
            if self.clock.now() >= deadline:
                raise CloudError(f"{function} is still updating after {UPDATE_TIMEOUT:g}s", where=function,
                                 hint="wait for the update to finish, then run lamctl tune again")
            self.clock.sleep(self.poll)

    def publish(self, function: str, description: str) -> str:
        self.calls["PublishVersion"] += 1
        try:
            return str(self.client.publish_version(FunctionName=function, Description=description)["Version"])
        except _client_error() as exc:
            raise self._fail("PublishVersion", exc, function) from None

    def invoke(self, function: str, qualifier: str, payload: bytes) -> Invocation:
        self.calls["Invoke"] += 1
        try:
            resp = self.client.invoke(FunctionName=function, Qualifier=qualifier, InvocationType="RequestResponse",
                                      LogType="Tail", Payload=payload)
        except _client_error() as exc:
            raise self._fail("Invoke", exc, f"{function}:{qualifier}") from None
        body = resp["Payload"].read() if resp.get("Payload") else b""
        error = None
        if resp.get("FunctionError"):
            try:
                error = str(json.loads(body or b"{}").get("errorType") or resp["FunctionError"])
            except (ValueError, AttributeError):
                error = str(resp["FunctionError"])
        tail = base64.b64decode(resp.get("LogResult") or "").decode("utf-8", "replace")
        return Invocation(error=error, log_tail=tail)

    def delete_version(self, function: str, version: str) -> None:
        self.calls["DeleteFunction"] += 1
        try:
            self.client.delete_function(FunctionName=function, Qualifier=version)
        except _client_error() as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise self._fail("DeleteFunction", exc, f"{function}:{version}") from None


# ---------------------------------------------------------------- the experiment


Listener = Callable[[str, dict], None]  # (event type, data)


class Experiment:
    """One run of the experiment; :meth:`run` measures and always restores (see the module docstring)."""

    def __init__(self, gateway: Gateway, function: str, sizes: list[int], payload: bytes = b"{}", n: int = 10,
                 parallel: bool = False, on_event: Listener | None = None,
                 fault: Callable[[str, int], None] | None = None):
        """``fault(point, i)``: a test seam (:mod:`lamctl.cli.faults`), called as ``("tune-invoke", i)``
        before the i-th measured invocation (1-based, over all sizes)."""
        if n < 1:
            raise UsageError(f"-n {n}: at least one invocation per size is needed", where="-n",
                             hint="for example -n 10")
        self.gateway = gateway
        self.function = function
        self.sizes = list(sizes)
        self.payload = payload
        self.n = n
        self.parallel = parallel
        self.on_event = on_event or (lambda kind, data: None)
        self.fault = fault
        self.measured = 0  # measured invocations started so far
        self.published: dict[int, str] = {}  # size -> version used
        self.created: list[str] = []  # versions this run published (deleted at the end)
        self.deleted: list[str] = []
        self.original: FunctionState | None = None
        self.memory_changed = False
        self.restored = False

    def _emit(self, kind: str, **data: Any) -> None:
        self.on_event(kind, data)

    def run(self) -> TuneResult:
        state = self.gateway.state(self.function)
        if state.last_update == "InProgress":
            raise UsageError(f"{self.function} is being updated", where=self.function,
                             hint="wait for the update to finish, then run lamctl tune again")
        self.original = state
        try:
            self._publish_all(state)
            self.restore_memory()
            results = [self._measure(size, self.published[size], state.architecture) for size in self.sizes]
        finally:
            self.restore()
        return TuneResult(function=self.function, architecture=state.architecture,
                          original_memory=state.memory_size, sizes=results, picks=pick(results),
                          invocations=self.n, parallel=self.parallel)

    def _publish_all(self, state: FunctionState) -> None:
        before = self.gateway.versions(self.function)
        for size in self.sizes:
            if size != state.memory_size or self.memory_changed:
                self.memory_changed = True
                self.gateway.set_memory(self.function, size)
            version = self.gateway.publish(self.function, DESCRIPTION.format(size=size))
            if version not in before and version not in self.created:
                self.created.append(version)
            self.published[size] = version
            self._emit("published", memory=size, version=version)

    def _invoke(self, size: int, version: str) -> Report:
        answer = self.gateway.invoke(self.function, version, self.payload)
        report = parse_report(answer.log_tail)
        if report is None:
            if answer.error:  # failed before Lambda wrote a REPORT we can read
                return Report(0.0, 0, size, 0, answer.error)
            raise CloudError(f"the log of {self.function}:{version} has no REPORT line", where=self.function,
                             hint="lamctl tune reads each invocation's REPORT line (Invoke with LogType=Tail); "
                                  "a function that prints more than 4 KB at the end can push it out of the tail")
        if report.memory_size != size:
            raise CloudError(f"{self.function}:{version} ran with {report.memory_size} MB, not {size} MB",
                             where=self.function, hint="someone changed the function meanwhile: run again")
        if answer.error:
            return Report(report.duration_ms, report.billed_ms, report.memory_size, report.max_memory_mb,
                          answer.error)
        return report

    def _step(self) -> None:
        self.measured += 1
        if self.fault is not None:
            self.fault("tune-invoke", self.measured)

    def _batch(self, size: int, version: str, count: int, measured: bool = True) -> list[Report]:
        if not self.parallel or count == 1:
            reports = []
            for _ in range(count):
                if measured:
                    self._step()
                reports.append(self._invoke(size, version))
            return reports
        if measured:
            for _ in range(count):
                self._step()
        out: list[Report | None] = [None] * count
        failures: list[BaseException] = []

        def one(i: int) -> None:
            try:
                out[i] = self._invoke(size, version)
            except BaseException as exc:  # handed to the calling thread
                failures.append(exc)

        workers = [threading.Thread(target=one, args=(i,), daemon=True, name=f"tune-{size}-{i}")
                   for i in range(count)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        if failures:
            raise failures[0]
        return [r for r in out if r is not None]

    def _measure(self, size: int, version: str, architecture: str) -> SizeResult:
        self._emit("warm_up", memory=size, version=version)
        warm = self._batch(size, version, self.n if self.parallel else 1, measured=False)
        result = SizeResult(memory=size)
        if all(r.error for r in warm):  # it cannot run at this size (out of memory, timeout): do not insist
            for r in warm:
                result.errors[r.error or "Unhandled"] += 1
            result.max_memory_mb = max((r.max_memory_mb for r in warm), default=0)
            self._emit("measured", **result.as_dict())
            return result
        for report in self._batch(size, version, self.n):
            if report.error:
                result.errors[report.error] += 1
                result.max_memory_mb = max(result.max_memory_mb, report.max_memory_mb)
            else:
                result.reports.append(report)
        summarise(result, architecture)
        if result.errors:
            result.max_memory_mb = max(result.max_memory_mb, max(r.max_memory_mb for r in result.reports)
                                       if result.reports else 0)
        self._emit("measured", **result.as_dict())
        return result

    def restore_memory(self) -> None:
        if self.original is not None and self.memory_changed:
            self.gateway.set_memory(self.function, self.original.memory_size)
            self.memory_changed = False
            self._emit("restored_memory", memory=self.original.memory_size)

    def restore(self) -> None:
        """``$LATEST``'s memory back and the published versions deleted; each step tried even if one fails."""
        if self.restored:
            return
        problems: list[Exception] = []
        try:
            self.restore_memory()
        except Exception as exc:  # noqa: BLE001 - the versions are still deleted
            problems.append(exc)
        for version in list(self.created):
            try:
                self.gateway.delete_version(self.function, version)
                self.created.remove(version)
                self.deleted.append(version)
            except Exception as exc:  # noqa: BLE001
                problems.append(exc)
        self.restored = True
        self._emit("restored", memory=self.original.memory_size if self.original else None,
                   deleted=list(self.deleted), left=list(self.created))
        if problems:
            raise CloudError(f"could not restore everything on {self.function}: {problems[0]}", where=self.function,
                             hint="set its MemorySize back and delete the versions whose description starts with 'lamctl tune' by hand")
