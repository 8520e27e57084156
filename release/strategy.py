"""Release strategies: lamctl's shorthand and CodeDeploy's predefined names, parsed into data.

::

    --canary 10%5m            10 % for 5 minutes, then 100 %
    --linear 10%1m            10 %, 20 %, ... 90 %, each held 1 minute, then 100 %
    --steps 5%1m,25%5m,50%5m  each weight held for its duration, then 100 %
    --all-at-once             straight to 100 %
    --config CodeDeployDefault.LambdaCanary10Percent5Minutes   (prefix optional)

Durations take ``s``, ``m`` or ``h``. Everything here is pure: a malformed
strategy is a :class:`UsageError` long before any AWS call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lamctl.schemas.errors import UsageError

CANARY = "canary"
LINEAR = "linear"
STEPS = "steps"
ALL_AT_ONCE = "all-at-once"

CODEDEPLOY_PREFIX = "CodeDeployDefault."

# Every predefined CodeDeploy configuration for Lambda (docs/architecture.md, facts of the platform),
# short name -> lamctl shorthand.
PREDEFINED = {
    "LambdaCanary10Percent5Minutes": (CANARY, "10%5m"),
    "LambdaCanary10Percent10Minutes": (CANARY, "10%10m"),
    "LambdaCanary10Percent15Minutes": (CANARY, "10%15m"),
    "LambdaCanary10Percent30Minutes": (CANARY, "10%30m"),
    "LambdaLinear10PercentEvery1Minute": (LINEAR, "10%1m"),
    "LambdaLinear10PercentEvery2Minutes": (LINEAR, "10%2m"),
    "LambdaLinear10PercentEvery3Minutes": (LINEAR, "10%3m"),
    "LambdaLinear10PercentEvery10Minutes": (LINEAR, "10%10m"),
    "LambdaAllAtOnce": (ALL_AT_ONCE, ""),
}

_UNITS = {"s": 1, "m": 60, "h": 3600}
_STEP_RX = re.compile(r"^\s*(?P<pct>\d+(?:\.\d+)?)\s*%\s*(?P<num>\d+)\s*(?P<unit>[A-Za-z]*)\s*$")
MAX_HOLD_SECONDS = 24 * 3600  # one step held longer than a day is almost surely a typo


@dataclass(frozen=True)
class Step:
    """Hold ``percent`` of the traffic on the target for ``seconds``."""

    percent: float
    seconds: int

    @property
    def weight(self) -> float:
        """As Lambda's ``AdditionalVersionWeights`` wants it: 0.0-1.0."""
        return round(self.percent / 100.0, 6)


@dataclass(frozen=True)
class Strategy:
    kind: str
    steps: tuple[Step, ...] = ()
    spec: str = ""  # as given, e.g. "10%5m"

    @property
    def total_seconds(self) -> int:
        return sum(s.seconds for s in self.steps)

    def describe(self) -> str:
        if self.kind == ALL_AT_ONCE:
            return ALL_AT_ONCE
        return f"{self.kind} {self.spec}"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "spec": self.spec,
                "steps": [{"percent": s.percent, "seconds": s.seconds} for s in self.steps]}

    @classmethod
    def from_dict(cls, data: dict) -> "Strategy":
        return cls(kind=data["kind"], spec=data.get("spec", ""),
                   steps=tuple(Step(float(s["percent"]), int(s["seconds"])) for s in data.get("steps", ())))


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds and seconds % 60 == 0:
        return f"{seconds // 60}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def _fmt_pct(p: float) -> str:
    return f"{p:g}"


def parse_duration(text: str, flag: str) -> int:
    m = re.match(r"^\s*(\d+)\s*([A-Za-z]*)\s*$", text)
    if not m:
        raise UsageError(f"{flag}: {text!r} is not a duration", hint="write a whole number with s, m or h: 30s, 5m, 1h")
    return _seconds(int(m.group(1)), m.group(2), flag, text)


def _seconds(num: int, unit: str, flag: str, text: str) -> int:
    if unit == "":
        raise UsageError(f"{flag} {text}: the duration has no unit", hint="add s, m or h, e.g. 10%5m")
    if unit not in _UNITS:
        raise UsageError(f"{flag} {text}: unknown duration unit {unit!r}",
                         hint="durations take s (seconds), m (minutes) or h (hours)")
    seconds = num * _UNITS[unit]
    if seconds <= 0:
        raise UsageError(f"{flag} {text}: a step must be held for at least 1s",
                         hint="use --all-at-once to shift without holding")
    if seconds > MAX_HOLD_SECONDS:
        raise UsageError(f"{flag} {text}: a step held for more than 24h", hint="hold each step for at most 24h")
    return seconds


def _parse_step(text: str, flag: str) -> Step:
    m = _STEP_RX.match(text)
    if not m:
        if re.match(r"^\s*\d+(?:\.\d+)?\s*%\s*$", text):
            raise UsageError(f"{flag} {text}: the step has no duration",
                             hint="write PERCENT%DURATION, e.g. 10%5m (s, m or h)")
        raise UsageError(f"{flag} {text!r} is not a step", hint="write PERCENT%DURATION, e.g. 10%5m (s, m or h)")
    pct = float(m.group("pct"))
    if pct <= 0:
        raise UsageError(f"{flag} {text}: the weight must be more than 0%", hint="e.g. 10%5m")
    if pct >= 100:
        raise UsageError(f"{flag} {text}: the weight must be less than 100% (100% is where every release ends)",
                         hint="use --all-at-once to shift everything at once")
    if round(pct, 2) != pct:
        raise UsageError(f"{flag} {text}: at most two decimals in a weight", hint="e.g. 2.5%1m")
    return Step(pct, _seconds(int(m.group("num")), m.group("unit"), flag, text))


def canary(spec: str) -> Strategy:
    step = _parse_step(spec, "--canary")
    return Strategy(CANARY, (step,), spec.strip())


def linear(spec: str) -> Strategy:
    step = _parse_step(spec, "--linear")
    steps = []
    k = 1
    while step.percent * k < 100 - 1e-9:
        steps.append(Step(round(step.percent * k, 2), step.seconds))
        k += 1
    return Strategy(LINEAR, tuple(steps), spec.strip())


def stepped(spec: str) -> Strategy:
    parts = [p for p in spec.split(",")]
    if not spec.strip() or any(not p.strip() for p in parts):
        raise UsageError(f"--steps {spec!r}: an empty step", hint="write steps separated by commas: 5%1m,25%5m,50%5m")
    steps = tuple(_parse_step(p, "--steps") for p in parts)
    for before, after in zip(steps, steps[1:]):
        if after.percent <= before.percent:
            raise UsageError(f"--steps {spec}: weights must go up ({_fmt_pct(before.percent)}% then "
                             f"{_fmt_pct(after.percent)}%)", hint="list the steps in increasing order")
    return Strategy(STEPS, steps, ",".join(p.strip() for p in parts))


def all_at_once() -> Strategy:
    return Strategy(ALL_AT_ONCE, (), "")


def codedeploy_config(name: str) -> Strategy:
    """A predefined CodeDeploy name, with or without ``CodeDeployDefault.`` (and ``Lambda``)."""
    short = name.strip()
    if short.startswith(CODEDEPLOY_PREFIX):
        short = short[len(CODEDEPLOY_PREFIX):]
    if not short.startswith("Lambda"):
        short = "Lambda" + short
    if short not in PREDEFINED:
        import difflib

        close = difflib.get_close_matches(short, list(PREDEFINED), n=1)
        hint = (f"did you mean {CODEDEPLOY_PREFIX}{close[0]}? " if close else "") + \
            "predefined Lambda configs: " + ", ".join(sorted(PREDEFINED))
        raise UsageError(f"--config {name}: not a predefined CodeDeploy Lambda configuration", hint=hint)
    kind, spec = PREDEFINED[short]
    if kind == CANARY:
        return canary(spec)
    if kind == LINEAR:
        return linear(spec)
    return all_at_once()


def parse_setting(text: str) -> Strategy:
    """The ``strategy`` key of lamctl.toml: ``canary 10%5m``, ``linear 10%1m``, ``steps ...``,
    ``all-at-once`` or a CodeDeploy name."""
    words = text.strip().split(None, 1)
    if not words:
        raise UsageError("strategy is empty", hint="e.g. strategy = \"canary 10%5m\"")
    kind = words[0].lower().lstrip("-")
    rest = words[1] if len(words) > 1 else ""
    if kind in ("all-at-once", "allatonce") and not rest:
        return all_at_once()
    if kind == CANARY and rest:
        return canary(rest)
    if kind == LINEAR and rest:
        return linear(rest)
    if kind == STEPS and rest:
        return stepped(rest)
    if not rest:
        return codedeploy_config(words[0])
    raise UsageError(f"strategy {text!r} is not understood",
                     hint="use canary 10%5m, linear 10%1m, steps 5%1m,25%5m, all-at-once, or a CodeDeploy name")


def choose(canary_: str | None = None, linear_: str | None = None, steps: str | None = None,
           all_at_once_: bool = False, config: str | None = None, default: str | None = None) -> Strategy:
    """The strategy from the flags (at most one), else from the setting, else all at once."""
    given = [(f, v) for f, v in (("--canary", canary_), ("--linear", linear_), ("--steps", steps),
                                 ("--all-at-once", all_at_once_ or None), ("--config", config)) if v]
    if len(given) > 1:
        raise UsageError("choose one strategy: " + " and ".join(f for f, _ in given) + " were both given",
                         hint="pass only one of --canary, --linear, --steps, --all-at-once, --config")
    if given:
        flag, value = given[0]
        if flag == "--canary":
            return canary(value)
        if flag == "--linear":
            return linear(value)
        if flag == "--steps":
            return stepped(value)
        if flag == "--config":
            return codedeploy_config(value)
        return all_at_once()
    if default:
        return parse_setting(default)
    return all_at_once()


@dataclass(frozen=True)
class CodeDeployConfig:
    """How a strategy is expressed to CodeDeploy: a predefined name, or a custom config to create."""

    name: str
    predefined: bool
    routing: dict | None = None  # TrafficRoutingConfig for CreateDeploymentConfig when custom


def to_codedeploy(strategy: Strategy) -> CodeDeployConfig:
    """Map a strategy to CodeDeploy: a predefined name when one matches, else a custom config
    (whole percent, whole minutes, at most 99 % per step); ``--steps`` has no CodeDeploy form."""
    for short, (kind, spec) in PREDEFINED.items():
        if kind == strategy.kind and (kind == ALL_AT_ONCE or _same(spec, strategy)):
            return CodeDeployConfig(CODEDEPLOY_PREFIX + short, True)
    if strategy.kind == STEPS:
        raise UsageError("CodeDeploy cannot run --steps (it knows canary, linear and all-at-once)",
                         hint="use --canary or --linear with --engine codedeploy, or run with --engine lamctl")
    step = strategy.steps[0]
    if step.percent != int(step.percent) or step.seconds % 60:
        raise UsageError(f"CodeDeploy takes whole percents and whole minutes, not {strategy.describe()}",
                         hint="round the step, e.g. 10%5m, or run with --engine lamctl")
    pct, minutes = int(step.percent), step.seconds // 60
    if strategy.kind == CANARY:
        name = f"lamctl.Canary{pct}Percent{minutes}Minutes"
        routing = {"type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": pct, "canaryInterval": minutes}}
    else:
        name = f"lamctl.Linear{pct}PercentEvery{minutes}Minutes"
        routing = {"type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": pct, "linearInterval": minutes}}
    return CodeDeployConfig(name, False, routing)


def _same(spec: str, strategy: Strategy) -> bool:
    other = canary(spec) if strategy.kind == CANARY else linear(spec)
    return other.steps == strategy.steps
