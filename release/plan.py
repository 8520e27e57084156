"""A release as data: the ordered steps the engine executes, each with its time offset.

``build_plan`` is pure: it takes what the planner read (current and target
versions, strategy, alarms, hooks) and returns a :class:`Plan`. ``--dry-run``
renders the same plan the engine would run; the journal stores it, so a
resumed release continues exactly the plan it started with.

Order (CodeDeploy's): ``RunHook(BeforeAllowTraffic)``, then per strategy step
``SetAliasWeights(target, w)`` + ``Bake(seconds)`` (+ ``CheckAlarms`` when
alarms are watched), then ``Finalize`` (100 % on the target, empty routing),
then ``RunHook(AfterAllowTraffic)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Union

from lamctl.release.strategy import Strategy, format_duration

BEFORE = "BeforeAllowTraffic"
AFTER = "AfterAllowTraffic"
HOOK_EVENTS = (BEFORE, AFTER)
LATEST = "$LATEST"


@dataclass(frozen=True)
class PublishVersion:
    function: str
    at: float = 0.0
    kind: str = "publish"

    def describe(self) -> str:
        return f"publish {LATEST} of {self.function} as a new version"


def version_label(version: str) -> str:
    """``version 7``, or, before $LATEST is published, what the plan's target will be."""
    return f"the version published from {LATEST}" if version == LATEST else f"version {version}"


def _short(version: str) -> str:
    return "new" if version == LATEST else f"v{version}"


@dataclass(frozen=True)
class CreateAlias:
    version: str
    at: float = 0.0
    kind: str = "create-alias"

    def describe(self) -> str:
        return f"create the alias at {version_label(self.version)} (100%)"


@dataclass(frozen=True)
class RunHook:
    event: str
    function: str
    at: float = 0.0
    kind: str = "hook"

    def describe(self) -> str:
        return f"{self.event} hook: invoke {self.function}"


@dataclass(frozen=True)
class SetAliasWeights:
    version: str  # the target version
    weight: float  # its share, 0.0-1.0 (the rest stays on the current version)
    at: float = 0.0
    kind: str = "weights"

    def describe(self) -> str:
        return f"route {self.weight * 100:g}% to {version_label(self.version)}"


@dataclass(frozen=True)
class Bake:
    seconds: int
    weight: float = 0.0
    at: float = 0.0
    kind: str = "bake"

    def describe(self) -> str:
        return f"hold {self.weight * 100:g}% for {format_duration(self.seconds)}"


@dataclass(frozen=True)
class CheckAlarms:
    alarms: tuple[str, ...]
    at: float = 0.0
    kind: str = "alarms"

    def describe(self) -> str:
        return "check alarms " + ", ".join(self.alarms)


@dataclass(frozen=True)
class Finalize:
    version: str
    at: float = 0.0
    kind: str = "finalize"

    def describe(self) -> str:
        return f"route 100% to {version_label(self.version)}, empty routing"


PlanStep = Union[PublishVersion, CreateAlias, RunHook, SetAliasWeights, Bake, CheckAlarms, Finalize]
_KINDS = {cls.kind: cls for cls in (PublishVersion, CreateAlias, RunHook, SetAliasWeights, Bake, CheckAlarms, Finalize)}
ALIAS_WRITES = (CreateAlias, SetAliasWeights, Finalize)


def step_to_dict(step: PlanStep) -> dict:
    data = dataclasses.asdict(step)
    if "alarms" in data:
        data["alarms"] = list(data["alarms"])
    return data


def step_from_dict(data: dict) -> PlanStep:
    cls = _KINDS[data["kind"]]
    args = {k: v for k, v in data.items() if k != "kind"}
    if "alarms" in args:
        args["alarms"] = tuple(args["alarms"])
    return cls(**args)


@dataclass(frozen=True)
class Plan:
    function: str
    alias: str
    current: str | None  # None: the alias does not exist yet
    target: str  # a version number, or $LATEST until PublishVersion has run
    strategy: Strategy
    alarms: tuple[str, ...] = ()
    hooks: tuple[tuple[str, str], ...] = ()  # (event, function)
    steps: tuple[PlanStep, ...] = field(default=())

    @property
    def total_seconds(self) -> float:
        return sum(s.seconds for s in self.steps if isinstance(s, Bake))

    def with_target(self, version: str) -> "Plan":
        """The same plan once ``$LATEST`` was published as ``version``."""
        steps = []
        for s in self.steps:
            if isinstance(s, (SetAliasWeights, Finalize, CreateAlias)) and s.version == LATEST:
                s = dataclasses.replace(s, version=version)
            steps.append(s)
        return dataclasses.replace(self, target=version, steps=tuple(steps))

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "alias": self.alias,
            "current": self.current,
            "target": self.target,
            "strategy": self.strategy.to_dict(),
            "alarms": list(self.alarms),
            "hooks": [list(h) for h in self.hooks],
            "steps": [step_to_dict(s) for s in self.steps],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Plan":
        return cls(
            function=data["function"], alias=data["alias"], current=data.get("current"), target=data["target"],
            strategy=Strategy.from_dict(data["strategy"]), alarms=tuple(data.get("alarms", ())),
            hooks=tuple((h[0], h[1]) for h in data.get("hooks", ())),
            steps=tuple(step_from_dict(s) for s in data.get("steps", ())),
        )


def build_plan(function: str, alias: str, current: str | None, target: str | None, strategy: Strategy,
               alarms: tuple[str, ...] | list[str] = (), hooks: dict[str, str] | None = None) -> Plan:
    """The steps of one release. ``target=None`` publishes ``$LATEST`` first; ``current=None``
    (no alias yet) creates the alias at the target directly, no shifting."""
    hooks = dict(hooks or {})
    alarms = tuple(alarms)
    steps: list[PlanStep] = []
    t = 0.0
    if target is None:
        steps.append(PublishVersion(function, at=t))
        target = LATEST
    if hooks.get(BEFORE):
        steps.append(RunHook(BEFORE, hooks[BEFORE], at=t))
    if current is None:
        steps.append(CreateAlias(target, at=t))
    else:
        for s in strategy.steps:
            steps.append(SetAliasWeights(target, s.weight, at=t))
            steps.append(Bake(s.seconds, s.weight, at=t))
            t += s.seconds
            if alarms:
                steps.append(CheckAlarms(alarms, at=t))
        steps.append(Finalize(target, at=t))
    if hooks.get(AFTER):
        steps.append(RunHook(AFTER, hooks[AFTER], at=t))
    return Plan(function, alias, current, target, strategy, alarms,
                tuple((e, hooks[e]) for e in HOOK_EVENTS if hooks.get(e)), tuple(steps))


def plan_lines(plan: Plan) -> list[tuple[str, str, str, str]]:
    """(offset, step, weights, checks) rows for ``--dry-run`` and ``status``."""
    rows = []
    current = plan.current or "-"
    for step in plan.steps:
        weights = ""
        if isinstance(step, SetAliasWeights):
            weights = f"v{current} {100 - step.weight * 100:g}% / {_short(step.version)} {step.weight * 100:g}%"
        elif isinstance(step, (Finalize, CreateAlias)):
            weights = f"{_short(step.version)} 100%"
        checks = ""
        if isinstance(step, Bake) and plan.alarms:
            checks = "alarms every <=10s: " + ", ".join(plan.alarms)
        elif isinstance(step, CheckAlarms):
            checks = ", ".join(step.alarms)
        elif isinstance(step, RunHook):
            checks = "Succeeded expected"
        rows.append((f"+{format_duration(step.at)}", step.describe(), weights, checks))
    return rows


def step_states(release: Any, plan: Plan, info: Any, driven: bool = True) -> list[str]:
    """For ``status``: each step of ``release`` (a journal entry of ``plan``) as ``done``, ``in flight`` (its
    alias write saved, not yet seen on the alias ``info``), ``in progress`` (the next one of a running
    release), ``interrupted`` (that step, when no process drives the release any more: ``driven`` false), or
    ``""``."""
    done = set(release.completed)
    if release.pending is not None and landed(plan.steps[release.pending], plan, info):
        done.add(release.pending)  # the journal is saved before a write, the next save comes later
    current = next((i for i in range(len(plan.steps)) if i not in done), None) \
        if release.state == "running" else None
    now = "in progress" if driven else "interrupted"
    return ["done" if i in done else "in flight" if release.pending == i else now if i == current else ""
            for i in range(len(plan.steps))]


def landed(step: PlanStep, plan: Plan, info: Any) -> bool:
    """Whether the alias already shows what ``step`` writes."""
    if info is None or not isinstance(step, ALIAS_WRITES):
        return False
    if isinstance(step, SetAliasWeights):
        got = info.weights.get(step.version)
        return info.version == plan.current and got is not None and abs(got - step.weight) < 1e-6
    return info.version == step.version and not info.weights
