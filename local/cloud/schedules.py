"""EventBridge schedules on the local cloud: rules with a ``ScheduleExpression`` fire on time.

A rule with ``rate(5 minutes)`` or ``cron(0 12 * * ? *)`` (SAM's ``Schedule`` event makes one) sends its
targets the event EventBridge sends (``detail-type: Scheduled Event``, ``source: aws.events``, the rule's ARN in
``resources``) when its time comes, in UTC: a Lambda target is invoked asynchronously (retries, destinations),
other targets as moto delivers them. A ``rate`` rule fires first one period after the local cloud first sees it
(EventBridge: about one period after its creation). ``lamctl local trigger RULE`` fires one now, whatever its
schedule (``POST /lamctl-api/rules/{name}/trigger``).

Cron follows EventBridge's six fields (minutes, hours, day of month, month, day of week, year) with ``*``,
``?``, lists, ranges, ``/`` steps, and month and day names (``1`` or ``SUN`` is Sunday); ``L``, ``W`` and ``#``
are refused with an error naming them (not emulated).
"""

from __future__ import annotations

import calendar
import datetime
import json
import re
import threading
import time
import uuid
from typing import Any, Callable

from lamctl.schemas.errors import UsageError

from . import moto_ext

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
TICK = 1.0  # seconds between two looks at the schedules
# moto's rules are the process's: of two local clouds in one process (tests), the one started last fires them
_STARTED: list = []


def _field(text: str, low: int, high: int, names: dict[str, int], what: str, expr: str) -> set[int] | None:
    """The values a cron field allows (None for ``?``)."""
    if text == "?":
        return None
    if any(c in text for c in "LW#"):
        raise UsageError(f"the schedule {expr} uses {what} {text!r}: L, W and # are not emulated on the local "
                         "cloud", where=expr, hint="use lists, ranges and steps, or fire it with lamctl local trigger")
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        if base in ("*", ""):
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _value(a, names, what, expr), _value(b, names, what, expr)
        else:
            start = _value(base, names, what, expr)
            end = high if step else start
        if not (low <= start <= high and low <= end <= high):
            raise UsageError(f"the schedule {expr}: {what} {part!r} is outside {low}-{high}", where=expr)
        values.update(range(start, end + 1, int(step) if step else 1))
    return values


def _value(text: str, names: dict[str, int], what: str, expr: str) -> int:
    if text.upper() in names:
        return names[text.upper()]
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"the schedule {expr}: {what} {text!r} is not a number", where=expr) from None


class Schedule:
    """A ``rate(...)`` or ``cron(...)`` expression: :meth:`next_after` a time (epoch seconds, UTC)."""

    def __init__(self, expression: str):
        self.expression = expression.strip()
        self.period: float | None = None
        rate = _RATE.match(self.expression)
        cron = _CRON.match(self.expression)
        if rate:
            count, unit = int(rate.group(1)), rate.group(2).rstrip("s")
            if count < 1:
                raise UsageError(f"the schedule {expression} needs a positive rate", where=expression)
            self.period = float(count * _UNIT[unit])
        elif cron:
            fields = cron.group(1).split()
            if len(fields) != 6:
                raise UsageError(f"the schedule {expression} needs six fields (minutes hours day-of-month month "
                                 "day-of-week year)", where=expression)
            self.minutes = _field(fields[0], 0, 59, {}, "minutes", expression)
            self.hours = _field(fields[1], 0, 23, {}, "hours", expression)
            self.days = _field(fields[2], 1, 31, {}, "day of month", expression)
            self.months = _field(fields[3], 1, 12, _MONTHS, "month", expression)
            self.weekdays = _field(fields[4], 1, 7, _DAYS, "day of week", expression)
            self.years = _field(fields[5], 1970, 2199, {}, "year", expression)
            if (self.days is None) == (self.weekdays is None):
                raise UsageError(f"the schedule {expression}: one of day-of-month and day-of-week must be '?'",
                                 where=expression)
        else:
            raise UsageError(f"{expression!r} is not a schedule expression", where=expression,
                             hint="write rate(5 minutes) or cron(0 12 * * ? *)")

    def next_after(self, after: float) -> float:
        if self.period is not None:
            return after + self.period
        start = datetime.datetime.fromtimestamp(after, datetime.timezone.utc).replace(second=0, microsecond=0)
        day = start.replace(hour=0, minute=0)
        for _ in range(366 * 8):
            weekday = (day.weekday() + 1) % 7 + 1  # Monday is 0 in Python; EventBridge counts SUN as 1
            if ((self.years is None or day.year in self.years) and (self.months is None or day.month in self.months)
                    and (self.days is None or day.day in self.days)
                    and (self.weekdays is None or weekday in self.weekdays)):
                for hour in sorted(self.hours if self.hours is not None else range(24)):
                    for minute in sorted(self.minutes if self.minutes is not None else range(60)):
                        at = day.replace(hour=hour, minute=minute)
                        if at.timestamp() > after:
                            return at.timestamp()
            day += datetime.timedelta(days=1)
        raise UsageError(f"the schedule {self.expression} never fires", where=self.expression)


def scheduled_event(rule: Any, account: str, region: str, now: float) -> dict:
    """What EventBridge sends a scheduled rule's targets."""
    stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": account, "time": stamp, "region": region, "resources": [rule.arn], "detail": {}}


class Scheduler:
    """Fires the scheduled rules on time (a background thread looking every :data:`TICK` seconds, or
    :meth:`tick` with a given time)."""

    def __init__(self, log: Callable[[str], Any] | None = None, clock: Callable[[], float] = time.time):
        self.log = log or (lambda text: None)
        self.clock = clock
        self._next: dict[str, tuple[str, float]] = {}  # rule ARN -> (expression, next firing)
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> "Scheduler":
        _STARTED.append(self)
        self._thread = threading.Thread(target=self._run, name="lamctl-scheduler", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        if self in _STARTED:
            _STARTED.remove(self)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._closed.wait(TICK):
            if not _STARTED or _STARTED[-1] is not self:
                continue
            try:
                self.tick(self.clock())
            except Exception as exc:  # noqa: BLE001 - one bad rule must not stop the others
                self.log(f"scheduler: {exc}\n")

    def tick(self, now: float) -> list[str]:
        """Fire every enabled scheduled rule whose time has come; the ARNs of those fired."""
        fired = []
        with self._lock:
            seen = set()
            for account, region, rule in list(moto_ext.event_rules()):
                expression = getattr(rule, "scheduled_expression", None)
                if not expression or rule.state != "ENABLED":
                    continue
                seen.add(rule.arn)
                known = self._next.get(rule.arn)
                if known is None or known[0] != expression:
                    try:
                        self._next[rule.arn] = (expression, Schedule(expression).next_after(now))
                    except UsageError as exc:
                        self.log(f"rule {rule.name}: {exc}\n")
                        self._next[rule.arn] = (expression, float("inf"))
                    continue
                if now >= known[1]:
                    self.fire(rule, account, region, now)
                    self._next[rule.arn] = (expression, Schedule(expression).next_after(max(now, known[1])))
                    fired.append(rule.arn)
            for arn in set(self._next) - seen:
                del self._next[arn]
        return fired

    def fire(self, rule: Any, account: str, region: str, now: float | None = None) -> None:
        event = scheduled_event(rule, account, region, self.clock() if now is None else now)
        self.log(f"rule {rule.name}: fired ({len(rule.targets)} target(s))\n")
        rule.send_to_targets(event)

    def trigger(self, name: str) -> dict | None:
        """Fire the rule named ``name`` (or with that ARN) now; what was fired, or None when there is none."""
        for account, region, rule in list(moto_ext.event_rules()):
            if name in (rule.name, rule.arn):
                self.fire(rule, account, region)
                return {"rule": rule.name, "arn": rule.arn, "targets": [t.get("Arn") for t in rule.targets],
                        "schedule": getattr(rule, "scheduled_expression", None)}
        return None

    def rules(self) -> list[dict]:
        return [{"rule": arn, "schedule": expression, "next": nxt} for arn, (expression, nxt) in
                sorted(self._next.items())]


def trigger_reply(scheduler: Scheduler, name: str) -> tuple[int, bytes]:
    found = scheduler.trigger(name)
    if found is None:
        return 404, json.dumps({"message": f"no EventBridge rule {name} on the local cloud"}).encode()
    return 200, json.dumps(found).encode()
