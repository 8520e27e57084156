"""Reading functions' CloudWatch Logs: ``lamctl logs``.

:class:`LogsGateway` wraps a CloudWatch Logs client (FilterLogEvents, and the
Live Tail API where the endpoint answers it). :func:`read` returns the lines of
one or more functions since a time, newest last, interleaved by time;
:func:`follow` keeps printing new lines: through a Live Tail session on AWS,
else by polling FilterLogEvents on the injected clock (the local cloud, or an
endpoint without Live Tail).

Each line carries its function, time and request id: ``START``/``END``/``REPORT``
name it, and the lines in between belong to the invocation the stream is in
(an execution environment runs one invocation at a time); a line that names a
request id itself (Python's logging format on Lambda) keeps its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from lamctl.release.clock import Clock
from lamctl.schemas.errors import CloudError, UsageError, error_code, error_message

# Lambda's maximum timeout: a START line is written when its invocation ends, up to this much later than it says
LOOKBACK_MS = 15 * 60 * 1000
START_PATTERN = '"START RequestId"'
_RID = re.compile(r"^(START|END|REPORT) RequestId: ([0-9a-fA-F-]{8,})")
_INLINE_RID = re.compile(r"^\S+\t([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\t")
_SINCE = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# what an endpoint without the Live Tail API answers
_NO_LIVE_TAIL = {"UnknownOperationException", "InvalidAction", "NotImplemented", "UnrecognizedClientException",
                 "404", "501"}


def parse_since(text: str) -> float:
    """``30s``, ``10m``, ``2h``, ``1d``, ``1w`` (a bare number is seconds) -> seconds."""
    match = _SINCE.match(text or "")
    if not match or int(match.group(1)) <= 0:
        raise UsageError(f"--since {text!r} is not a duration", where="--since",
                         hint="a number and a unit: 30s, 10m, 2h, 1d or 1w")
    return float(int(match.group(1)) * _UNITS[match.group(2)])


def log_group(function: str) -> str:
    """The log group Lambda writes a function's logs to."""
    return f"/aws/lambda/{function}"


@dataclass(frozen=True)
class LogLine:
    timestamp: int  # milliseconds since the epoch
    function: str
    stream: str
    message: str
    request_id: str | None
    event_id: str

    def as_dict(self) -> dict:
        return {"timestamp": self.timestamp, "function": self.function, "stream": self.stream,
                "request_id": self.request_id, "message": self.message}


@dataclass(frozen=True)
class RawEvent:
    timestamp: int
    group: str
    stream: str
    message: str
    event_id: str


class LiveTailUnavailable(Exception):
    """The endpoint does not answer StartLiveTail: poll instead."""


class LogsGateway:
    """CloudWatch Logs for ``lamctl logs``: FilterLogEvents pages, log group ARNs, Live Tail sessions."""

    def __init__(self, client: Any):
        self.client = client

    def _fail(self, what: str, exc: Exception) -> CloudError:
        return CloudError(f"{what} failed ({error_code(exc)}): {error_message(exc) or exc}")

    def exists(self, group: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            resp = self.client.describe_log_groups(logGroupNamePrefix=group)
        except ClientError as exc:
            raise self._fail(f"reading log group {group}", exc) from None
        return any(g.get("logGroupName") == group for g in resp.get("logGroups") or [])

    def group_arn(self, group: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            resp = self.client.describe_log_groups(logGroupNamePrefix=group)
        except ClientError as exc:
            raise self._fail(f"reading log group {group}", exc) from None
        for g in resp.get("logGroups") or []:
            if g.get("logGroupName") == group:
                arn = g.get("logGroupArn") or g.get("arn") or ""
                return arn[:-2] if arn.endswith(":*") else arn
        return None

    def filter(self, group: str, start_ms: int, pattern: str | None = None) -> list[RawEvent]:
        """Every event of ``group`` from ``start_ms`` on, in time order (all pages); [] for a missing group."""
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": int(start_ms), "interleaved": True}
        if pattern:
            kwargs["filterPattern"] = pattern
        events: list[RawEvent] = []
        while True:
            try:
                resp = self.client.filter_log_events(**kwargs)
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    return []
                raise self._fail(f"reading {group}", exc) from None
            for e in resp.get("events") or []:
                events.append(RawEvent(int(e.get("timestamp") or 0), group, str(e.get("logStreamName") or ""),
                                       str(e.get("message") or ""), str(e.get("eventId") or "")))
            token = resp.get("nextToken")
            if not token or not resp.get("events"):
                break
            kwargs["nextToken"] = token
        events.sort(key=lambda e: e.timestamp)
        return events

    def live_tail(self, arns: dict[str, str], pattern: str | None = None) -> Iterator[list[RawEvent]]:
        """Batches of new events of the groups ``{arn: group name}`` from a Live Tail session; raises
        :class:`LiveTailUnavailable` when the endpoint has no Live Tail API."""
        from botocore.exceptions import ClientError, EndpointConnectionError

        if not hasattr(self.client, "start_live_tail"):
            raise LiveTailUnavailable()
        kwargs: dict[str, Any] = {"logGroupIdentifiers": list(arns)}
        if pattern:
            kwargs["logEventFilterPattern"] = pattern
        try:
            resp = self.client.start_live_tail(**kwargs)
        except EndpointConnectionError:  # Live Tail is served from the endpoint's stream- host
            raise LiveTailUnavailable() from None
        except ClientError as exc:
            status = str((getattr(exc, "response", {}) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode"))
            if error_code(exc) in _NO_LIVE_TAIL or status in _NO_LIVE_TAIL:
                raise LiveTailUnavailable() from None
            raise self._fail("starting a Live Tail session", exc) from None
        names = {arn.removesuffix(":*"): name for arn, name in arns.items()}
        for event in resp["responseStream"]:
            if "sessionStart" in event:
                yield []  # the session is open: the caller can say so before the first line arrives
                continue
            update = event.get("sessionUpdate")
            if not update:
                continue
            batch = []
            for r in update.get("sessionResults") or []:
                ident = str(r.get("logGroupIdentifier") or "").removesuffix(":*")
                group = names.get(ident) or ident.rsplit(":log-group:", 1)[-1]
                stamp = int(r.get("timestamp") or 0)
                batch.append(RawEvent(stamp, group, str(r.get("logStreamName") or ""), str(r.get("message") or ""),
                                      f"{r.get('logStreamName')}/{stamp}/{r.get('ingestionTime')}"))
            yield batch


class RequestIds:
    """Which invocation each line of a stream belongs to: the last START's request id, until its END/REPORT."""

    def __init__(self) -> None:
        self._current: dict[str, str | None] = {}
        self._starts: dict[str, list[tuple[int, str]]] = {}  # stream -> (time, request id) of START lines

    def learn(self, events: Iterable[RawEvent]) -> None:
        """START lines read apart (a --filter hides them): the lines they precede get their request id."""
        for event in events:
            match = _RID.match(event.message)
            if match and match.group(1) == "START":
                self._starts.setdefault(f"{event.group}/{event.stream}", []).append((event.timestamp, match.group(2)))

    def _started(self, key: str, stamp: int) -> str | None:
        best = None
        for when, rid in self._starts.get(key, ()):
            if when <= stamp and (best is None or when >= best[0]):
                best = (when, rid)
        return best[1] if best else None

    def line(self, function: str, event: RawEvent) -> LogLine:
        message = event.message.rstrip("\n")
        match = _RID.match(message)
        key = f"{event.group}/{event.stream}"
        if match:
            rid: str | None = match.group(2)
            if match.group(1) == "START":
                self._current[key] = rid
            elif match.group(1) == "REPORT":
                self._current[key] = None
        else:
            inline = _INLINE_RID.match(message)
            rid = inline.group(1) if inline else (self._current.get(key) or self._started(key, event.timestamp))
        return LogLine(event.timestamp, function, event.stream, message, rid, event.event_id)


def _groups(functions: Iterable[str]) -> dict[str, str]:
    return {log_group(f): f for f in functions}


def read(gateway: LogsGateway, functions: list[str], since_ms: int, pattern: str | None = None,
         ids: RequestIds | None = None) -> list[LogLine]:
    """The lines of ``functions`` from ``since_ms`` on, oldest first, interleaved by time (a function's own lines
    keep their order)."""
    ids = ids or RequestIds()
    raw: list[RawEvent] = []
    groups = _groups(functions)
    for group in groups:
        raw.extend(gateway.filter(group, since_ms, pattern))
        # the START lines of the invocations the lines belong to, even those that began before --since
        ids.learn(gateway.filter(group, since_ms - LOOKBACK_MS, START_PATTERN))
    raw.sort(key=lambda e: e.timestamp)  # stable: each group's own order stays
    return [ids.line(groups[e.group], e) for e in raw]


def follow(gateway: LogsGateway, functions: list[str], since_ms: int, emit: Callable[[LogLine], None],
           clock: Clock, pattern: str | None = None, poll_seconds: float = 2.0, live_tail: bool = True,
           until: Callable[[], bool] | None = None, on_mode: Callable[[str], None] | None = None) -> None:
    """Print the lines from ``since_ms`` on, then every new line as it arrives, until ``until()`` is true (or
    for ever: Ctrl-C ends it). Live Tail when ``live_tail`` and the endpoint has it, else polling: each poll
    reads back :data:`LOOKBACK_MS` (an invocation's START is written when it ends) and skips what was printed."""
    ids = RequestIds()
    groups = _groups(functions)
    seen: dict[str, int] = {}
    newest = since_ms
    for line in read(gateway, functions, since_ms, pattern, ids):
        seen[f"{line.stream}/{line.event_id}"] = line.timestamp
        newest = max(newest, line.timestamp)
        emit(line)
    done = until or (lambda: False)
    if live_tail and not done():
        arns = {}
        for group in groups:
            arn = gateway.group_arn(group)
            if arn:
                arns[arn] = group
        if len(arns) == len(groups):  # Live Tail needs every group to exist
            try:
                session = gateway.live_tail(arns, pattern)
                first = next(session, None)
                if on_mode:
                    on_mode("live tail")
                batch = first
                while batch is not None and not done():
                    for event in batch:
                        emit(ids.line(groups.get(event.group, event.group), event))
                    batch = next(session, None)
                return
            except LiveTailUnavailable:
                pass
    if on_mode:
        on_mode("polling")
    while not done():
        clock.sleep(poll_seconds)
        start = max(since_ms, newest - LOOKBACK_MS)
        fresh = []
        for group in groups:
            if pattern:
                ids.learn(gateway.filter(group, start, START_PATTERN))
            for event in gateway.filter(group, start, pattern):
                key = f"{event.stream}/{event.event_id}"
                if key not in seen:
                    seen[key] = event.timestamp
                    fresh.append(event)
        fresh.sort(key=lambda e: e.timestamp)
        for event in fresh:
            newest = max(newest, event.timestamp)
            emit(ids.line(groups[event.group], event))
        floor = newest - LOOKBACK_MS
        for key in [k for k, t in seen.items() if t < floor]:
            del seen[key]
