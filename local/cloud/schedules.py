"""EventBridge schedules on the local cloud: rules with a ``ScheduleExpression`` fire on time.

A rule with ``rate(5 minutes)`` or ``cron(0 12 * * ? *)`` (SAM's ``Schedule`` event makes one) sends its
targets the event EventBridge sends (``detail-type: Scheduled Event``, ``source: aws.events``, the rule's ARN in
``resources``) when its time comes, in UTC: a Lambda target is invoked asynchronously (retries, destinations),
other targets as moto delivers them. A ``rate`` rule fires first one period after the local cloud first sees it
(EventBridge: about one period after its creation). ``lamctl local trigger RULE`` fires one now, whatever its
schedule (``POST /lamctl-api/rules/{name}/trigger``).

EventBridge Scheduler's schedules (``CreateSchedule``, ``AWS::Scheduler::Schedule``, SAM's ``ScheduleV2`` event)
fire the same way, with ``at(yyyy-mm-ddThh:mm:ss)`` once, ``ScheduleExpressionTimezone`` (an IANA zone; UTC by
default), ``State``, ``StartDate`` and ``EndDate``: a Lambda target is invoked asynchronously with the target's
``Input`` (``{}`` without one), an SQS or SNS target gets the ``Input`` as its message; the schedule's own
``RetryPolicy``, ``DeadLetterConfig`` and ``FlexibleTimeWindow`` are not emulated (it fires at the start of the
window). ``lamctl local trigger NAME`` fires a schedule too (by name, ``group/name`` or ARN).

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
from .loops import LastStartedLoop

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d: i + 1 for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
TICK = 1.0  # seconds between two looks at the schedules


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

    def __init__(self, expression: str, timezone: str | None = None):
        self.expression = expression.strip()
        self.period: float | None = None
        self.at: float | None = None
        self.tz: datetime.tzinfo = datetime.timezone.utc
        if timezone and timezone != "UTC":
            import zoneinfo

            try:
                self.tz = zoneinfo.ZoneInfo(timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise UsageError(f"the schedule {expression}: {timezone!r} is not a time zone", where=expression,
                                 hint="write an IANA zone name such as Europe/Paris") from None
        at = _AT.match(self.expression)
        rate = _RATE.match(self.expression)
        cron = _CRON.match(self.expression)
        if at:
            moment = datetime.datetime.fromisoformat(at.group(1)).replace(tzinfo=self.tz)
            self.at = moment.timestamp()
        elif rate:
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
                             hint="write rate(5 minutes), cron(0 12 * * ? *) or at(2030-01-01T12:00:00)")

    def next_after(self, after: float) -> float:
        """The first firing after ``after``; infinity for a one-time schedule whose time has passed."""
        if self.at is not None:
            return self.at if self.at > after else float("inf")
        if self.period is not None:
            return after + self.period
        start = datetime.datetime.fromtimestamp(after, self.tz).replace(second=0, microsecond=0)
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


def _moment(value: Any) -> float | None:
    """A schedule's StartDate / EndDate (epoch seconds from the API, ISO 8601 text from CloudFormation)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc).timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)).timestamp()


class Scheduler(LastStartedLoop):
    """Fires the scheduled rules and EventBridge Scheduler's schedules on time (a background thread looking every
    :data:`TICK` seconds, or :meth:`tick` with a given time). ``invoke_async(function ARN, payload, account,
    region)`` hands a schedule's Lambda invocation to the asynchronous queue."""

    def __init__(self, log: Callable[[str], Any] | None = None, clock: Callable[[], float] = time.time,
                 invoke_async: Callable[[str, bytes, str, str], Any] | None = None):
        self.log = log or (lambda text: None)
        self.clock = clock
        self.invoke_async = invoke_async
        self._next: dict[str, tuple[str, float]] = {}  # rule ARN -> (expression, next firing)
        self._lock = threading.Lock()

    thread_name = "lamctl-scheduler"
    interval = TICK  # of two local clouds in one process, the one started last fires the schedules

    def round(self) -> None:
        self.tick(self.clock())

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
            for account, region, schedule in list(moto_ext.scheduler_schedules()):
                seen.add(schedule.arn)
                if self._due(schedule, now):
                    self.fire_schedule(schedule, account, region)
                    fired.append(schedule.arn)
            for arn in set(self._next) - seen:
                del self._next[arn]
        return fired

    def _due(self, schedule: Any, now: float) -> bool:
        """Whether an EventBridge Scheduler schedule fires at ``now`` (its next firing is then armed)."""
        key = (schedule.schedule_expression, schedule.schedule_expression_timezone or "UTC")
        signature = "\0".join(key)
        known = self._next.get(schedule.arn)
        start, end = _moment(schedule.start_date), _moment(schedule.end_date)
        try:
            when = Schedule(*key)
        except UsageError as exc:
            if known is None or known[0] != signature:
                self.log(f"schedule {schedule.name}: {exc}\n")
            self._next[schedule.arn] = (signature, float("inf"))
            return False
        if known is None or known[0] != signature:
            self._next[schedule.arn] = (signature, when.next_after(max(now, start or now)))  # armed
            return False
        due = schedule.state == "ENABLED" and now >= known[1] and (end is None or known[1] <= end)
        if now >= known[1]:
            self._next[schedule.arn] = (signature, when.next_after(max(now, known[1])))
        return due

    def fire_schedule(self, schedule: Any, account: str, region: str) -> None:
        """Deliver a schedule's target now: a Lambda function invoked asynchronously with the target's Input."""
        target = schedule.target or {}
        arn = str(target.get("Arn") or "")
        text = target.get("Input")
        self.log(f"schedule {schedule.group_name}/{schedule.name}: fired ({arn})\n")
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        if service == "lambda" and self.invoke_async is not None:
            self.invoke_async(arn, (text if text is not None else "{}").encode(), account, region)
        elif service == "sqs":
            parts = arn.split(":")
            moto_ext.sqs_send(parts[4], parts[3], parts[5], text if text is not None else "{}", {})
        elif service == "sns":
            moto_ext.sns_publish(arn.split(":")[4], arn.split(":")[3], arn, text if text is not None else "{}", {})
        else:
            self.log(f"schedule {schedule.name}: its target {arn} is not invoked on the local cloud (Lambda, "
                     "SQS and SNS targets are)\n")

    def fire(self, rule: Any, account: str, region: str, now: float | None = None) -> None:
        event = scheduled_event(rule, account, region, self.clock() if now is None else now)
        self.log(f"rule {rule.name}: fired ({len(rule.targets)} target(s))\n")
        rule.send_to_targets(event)

    def trigger(self, name: str) -> dict | None:
        """Fire the rule, or else the EventBridge Scheduler schedule, named ``name`` (a schedule also as
        ``group/name``; either by ARN) now; what was fired, or None when there is none."""
        for account, region, rule in list(moto_ext.event_rules()):
            if name in (rule.name, rule.arn):
                self.fire(rule, account, region)
                return {"rule": rule.name, "arn": rule.arn, "targets": [t.get("Arn") for t in rule.targets],
                        "schedule": getattr(rule, "scheduled_expression", None)}
        for account, region, schedule in list(moto_ext.scheduler_schedules()):
            if name in (schedule.name, schedule.arn, f"{schedule.group_name}/{schedule.name}"):
                self.fire_schedule(schedule, account, region)
                return {"rule": schedule.name, "arn": schedule.arn, "targets": [(schedule.target or {}).get("Arn")],
                        "schedule": schedule.schedule_expression, "kind": "EventBridge Scheduler schedule"}
        return None

    def rules(self) -> list[dict]:
        return [{"rule": arn, "schedule": expression, "next": nxt} for arn, (expression, nxt) in
                sorted(self._next.items())]


def trigger_reply(scheduler: Scheduler, name: str) -> tuple[int, bytes]:
    found = scheduler.trigger(name)
    if found is None:
        return 404, json.dumps({"message": f"no EventBridge rule {name} on the local cloud"}).encode()
    return 200, json.dumps(found).encode()
