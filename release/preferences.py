"""The traffic shifts a CloudFormation template asks of CodeDeploy, read for the local cloud.

SAM's ``DeploymentPreference`` becomes an ``AWS::Lambda::Alias`` with an
``UpdatePolicy: CodeDeployLambdaAliasUpdate`` (application, deployment group,
``BeforeAllowTrafficHook`` / ``AfterAllowTrafficHook``) and an
``AWS::CodeDeploy::DeploymentGroup`` (``DeploymentConfigName``,
``AlarmConfiguration``). On AWS, CloudFormation hands each such alias update to
CodeDeploy. The local cloud has no CodeDeploy: its CloudFormation leaves such an
alias where it was, and ``lamctl deploy`` runs the same shift with lamctl's
release engine once the stack is up (:func:`alias_shifts` reads what to do
before anything is deployed; :func:`resolve` maps it onto the stack's physical
resources afterwards).

Pure functions of the template, the parameters and the stack's resource list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from lamctl.release import strategy as S
from lamctl.release.plan import AFTER, BEFORE
from lamctl.schemas.errors import UsageError

UPDATE_POLICY = "CodeDeployLambdaAliasUpdate"
HOOK_KEYS = {"BeforeAllowTrafficHook": BEFORE, "AfterAllowTrafficHook": AFTER}
_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


@dataclass(frozen=True)
class AliasShift:
    """One alias the template shifts through CodeDeploy (logical IDs, not yet physical names)."""

    alias_id: str
    config: str  # the CodeDeploy config as named, e.g. CodeDeployDefault.LambdaCanary10Percent5Minutes
    strategy: S.Strategy
    alarms: tuple[Any, ...] = ()  # each an alarm name, or {"Ref": logical id}
    hooks: Mapping[str, Any] = field(default_factory=dict)  # BeforeAllowTraffic/AfterAllowTraffic -> name or Ref


@dataclass(frozen=True)
class ResolvedShift:
    alias_id: str
    function: str
    alias: str
    target: str | None  # the version the stack wants the alias on; None when the stack has no such version
    config: str
    strategy: S.Strategy
    alarms: tuple[str, ...]
    hooks: Mapping[str, str]
    unwatched: tuple[str, ...] = ()  # alarms of the template the stack did not create (not watched)
    missing: tuple[str, ...] = ()  # why it cannot run, when it cannot


def alias_shifts(template: Mapping[str, Any], parameters: Mapping[str, str] | None = None,
                 where: str = "template") -> list[AliasShift]:
    """Every alias of the (transformed) template with a CodeDeploy update policy, in template order.

    Raises :class:`UsageError` (naming the deployment group) when a deployment config cannot be read:
    a value lamctl cannot resolve without AWS, or a name CodeDeploy does not predefine."""
    resources = template.get("Resources") or {}
    params = _parameter_values(template, parameters or {})
    shifts: list[AliasShift] = []
    for logical_id, res in resources.items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Lambda::Alias":
            continue
        policy = (res.get("UpdatePolicy") or {}).get(UPDATE_POLICY)
        if not isinstance(policy, dict):
            continue
        group_id = _ref(policy.get("DeploymentGroupName"))
        group = resources.get(group_id) if group_id else None
        props = (group.get("Properties") or {}) if isinstance(group, dict) else {}
        config, strategy = _config(props.get("DeploymentConfigName"), resources, params,
                                   f"{where}: {group_id or logical_id}")
        alarms: tuple[Any, ...] = ()
        alarm_conf = props.get("AlarmConfiguration") or {}
        if isinstance(alarm_conf, dict) and alarm_conf.get("Enabled", True) not in (False, "false", "False"):
            alarms = tuple(a.get("Name") for a in alarm_conf.get("Alarms") or [] if isinstance(a, dict))
        hooks = {event: policy[key] for key, event in HOOK_KEYS.items() if policy.get(key) is not None}
        shifts.append(AliasShift(logical_id, config, strategy, alarms, hooks))
    return shifts


def resolve(shift: AliasShift, template: Mapping[str, Any], physical: Mapping[str, str | None],
            parameters: Mapping[str, str] | None = None) -> ResolvedShift:
    """Map ``shift`` onto the stack: ``physical`` is logical ID -> physical ID from the stack's resources."""
    resources = template.get("Resources") or {}
    props = (resources.get(shift.alias_id) or {}).get("Properties") or {}
    params = _parameter_values(template, parameters or {})
    missing: list[str] = []
    alias_arn = physical.get(shift.alias_id) or ""
    if ":function:" in alias_arn and alias_arn.count(":") >= 7:
        function, alias = alias_arn.split(":function:", 1)[1].split(":")[:2]
    else:
        function = _name(props.get("FunctionName"), physical, params) or ""
        alias = str(props.get("Name") or "")
        if not alias_arn:
            missing.append(f"the stack has no alias {shift.alias_id}")
    version_ref = props.get("FunctionVersion")
    target: str | None = None
    if isinstance(version_ref, dict) and "Fn::GetAtt" in version_ref:
        version_id = _getatt_id(version_ref["Fn::GetAtt"])
        version_arn = physical.get(version_id or "") or ""
        if version_arn.rsplit(":", 1)[-1].isdigit():
            target = version_arn.rsplit(":", 1)[-1]
        else:
            missing.append(f"the stack has no published version {version_id}")
    elif version_ref is not None and str(version_ref).isdigit():
        target = str(version_ref)
    else:
        missing.append(f"{shift.alias_id}'s FunctionVersion is not a version lamctl can read")
    alarms, unwatched = [], []
    for alarm in shift.alarms:
        name = _name(alarm, physical, params)
        label = _ref(alarm) or str(alarm)
        if name:
            alarms.append(name)
        else:
            unwatched.append(label)
    hooks: dict[str, str] = {}
    for event, ref in shift.hooks.items():
        name = _name(ref, physical, params)
        if name:
            hooks[event] = name
        else:
            missing.append(f"the stack has no {event} hook function {_ref(ref) or ref}")
    return ResolvedShift(shift.alias_id, function, alias, target, shift.config, shift.strategy, tuple(alarms),
                         hooks, tuple(unwatched), tuple(missing))


# ---------------------------------------------------------------- helpers


def _parameter_values(template: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in (template.get("Parameters") or {}).items():
        if isinstance(spec, dict) and "Default" in spec:
            values[name] = spec["Default"]
    values.update(given)
    return values


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return value["Ref"]
    return None


def _getatt_id(value: Any) -> str | None:
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    if isinstance(value, str):
        return value.split(".", 1)[0]
    return None


def _name(value: Any, physical: Mapping[str, str | None], params: Mapping[str, Any]) -> str | None:
    """A plain name, or the physical ID of a ``Ref``'d resource (or the value of a ``Ref``'d parameter)."""
    if isinstance(value, str):
        return value
    ref = _ref(value)
    if ref is None:
        return None
    if ref in physical:
        return physical[ref] or None
    if ref in params:
        return str(params[ref])
    return None


def _config(value: Any, resources: Mapping[str, Any], params: Mapping[str, Any], where: str) -> tuple[str, S.Strategy]:
    """(the config's name as CodeDeploy knows it, the strategy it stands for)."""
    if value is None:
        return "CodeDeployDefault.LambdaAllAtOnce", S.all_at_once()  # CodeDeploy's default for Lambda
    ref = _ref(value)
    if ref is not None and isinstance(resources.get(ref), dict):
        res = resources[ref]
        if res.get("Type") != "AWS::CodeDeploy::DeploymentConfig":
            raise UsageError(f"DeploymentConfigName refers to {ref}, a {res.get('Type')}, not a deployment config",
                             where=where, hint="refer to an AWS::CodeDeploy::DeploymentConfig, or name a predefined one")
        return ref, _custom_config(ref, (res.get("Properties") or {}).get("TrafficRoutingConfig"), where)
    name = _plain(value, params, where)
    return name, _predefined(name, where)


def _plain(value: Any, params: Mapping[str, Any], where: str) -> str:
    if isinstance(value, str):
        return value
    ref = _ref(value)
    if ref is not None and ref in params:
        return str(params[ref])
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, names = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1] if len(sub) > 1 else {})
        if isinstance(text, str) and isinstance(names, dict):
            def fill(m: re.Match) -> str:
                key = m.group(1)
                if key in names:
                    return _plain(names[key], params, where)
                if key in params:
                    return str(params[key])
                raise _unresolved(where)

            return _SUB_VAR.sub(fill, text)
    raise _unresolved(where)


def _unresolved(where: str) -> UsageError:
    return UsageError("the DeploymentPreference Type (DeploymentConfigName) cannot be worked out without AWS",
                      where=where, hint="give DeploymentPreference a literal Type or a parameter, or deploy with "
                                        "the alias moved by 'lamctl shift' instead")


def _predefined(name: str, where: str) -> S.Strategy:
    try:
        return S.codedeploy_config(name)
    except UsageError as exc:
        raise UsageError(f"DeploymentPreference Type {name}: not a predefined CodeDeploy Lambda configuration",
                         where=where, hint=f"{exc.hint}. A deployment config made outside the template exists only "
                         "on AWS; on the local cloud, define it in the template (AWS::CodeDeploy::DeploymentConfig) "
                         "or use a predefined Type") from None


def _custom_config(ref: str, routing: Any, where: str) -> S.Strategy:
    """An ``AWS::CodeDeploy::DeploymentConfig``'s ``TrafficRoutingConfig`` (intervals in minutes)."""
    if not isinstance(routing, dict):
        raise UsageError(f"deployment config {ref} has no TrafficRoutingConfig", where=where,
                         hint="give it TrafficRoutingConfig: {Type: TimeBasedCanary|TimeBasedLinear|AllAtOnce, ...}")
    kind = routing.get("Type")
    try:
        if kind == "TimeBasedCanary":
            c = routing["TimeBasedCanary"]
            return S.canary(f"{_number(c['CanaryPercentage'])}%{int(c['CanaryInterval'])}m")
        if kind == "TimeBasedLinear":
            c = routing["TimeBasedLinear"]
            return S.linear(f"{_number(c['LinearPercentage'])}%{int(c['LinearInterval'])}m")
        if kind == "AllAtOnce":
            return S.all_at_once()
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"deployment config {ref}: {kind} is incomplete ({exc})", where=where,
                         hint="TimeBasedCanary needs CanaryPercentage and CanaryInterval (minutes); "
                              "TimeBasedLinear needs LinearPercentage and LinearInterval") from None
    raise UsageError(f"deployment config {ref}: traffic routing {kind!r} is not one CodeDeploy knows", where=where,
                     hint="use TimeBasedCanary, TimeBasedLinear or AllAtOnce")


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number == int(number) else f"{number:g}"


# ---------------------------------------------------------------- state machine aliases

STATE_MACHINE_ALIAS = "AWS::StepFunctions::StateMachineAlias"
GRADUAL = {"CANARY": S.CANARY, "LINEAR": S.LINEAR}


def state_machine_shifts(template: Mapping[str, Any], parameters: Mapping[str, str] | None = None,
                         where: str = "template") -> list[AliasShift]:
    """Every ``AWS::StepFunctions::StateMachineAlias`` of the template with a ``DeploymentPreference``
    (``CANARY`` or ``LINEAR``: ``Percentage`` 1-99 of the executions, after or every ``Interval`` minutes;
    ``ALL_AT_ONCE``), in template order. On AWS, CloudFormation shifts it itself when the state machine's
    revision changes; the local cloud's leaves it where it was, and ``lamctl deploy`` runs the shift
    afterwards (an alias already on the stack's version is left as it is)."""
    resources = template.get("Resources") or {}
    params = _parameter_values(template, parameters or {})
    shifts: list[AliasShift] = []
    for logical_id, res in resources.items():
        if not isinstance(res, dict) or res.get("Type") != STATE_MACHINE_ALIAS:
            continue
        pref = (res.get("Properties") or {}).get("DeploymentPreference")
        if not isinstance(pref, dict):
            continue
        kind = str(_plain(pref.get("Type"), params, f"{where}: {logical_id}") or "").upper()
        if kind == "ALL_AT_ONCE":  # moto's CloudFormation does not update an alias whose template is the same
            shifts.append(AliasShift(logical_id, kind, S.all_at_once(), tuple(pref.get("Alarms") or ())))
            continue
        if kind not in GRADUAL:
            continue
        values = {}
        for key, low, high in (("Percentage", 1, 99), ("Interval", 1, 2100)):
            raw = pref.get(key)
            if raw is None:
                raw = ""
            elif isinstance(raw, int) and not isinstance(raw, bool):
                raw = str(raw)
            else:
                raw = _plain(raw, params, f"{where}: {logical_id}")
            if not str(raw).isdigit() or not low <= int(raw) <= high:
                raise UsageError(f"{logical_id}: DeploymentPreference {key} {raw or '(missing)'} is not a whole "
                                 f"number from {low} to {high}", where=f"{where}: {logical_id}",
                                 hint=f"a {kind} deployment of a state machine alias needs Percentage (1-99) and "
                                      "Interval (minutes)")
            values[key] = int(raw)
        spec = f"{values['Percentage']}%{values['Interval']}m"
        strategy = S.canary(spec) if kind == "CANARY" else S.linear(spec)
        alarms = tuple(pref.get("Alarms") or ())
        shifts.append(AliasShift(logical_id, f"{kind} {values['Percentage']}% {values['Interval']}m", strategy,
                                 alarms))
    return shifts


def resolve_state_machine(shift: AliasShift, template: Mapping[str, Any], physical: Mapping[str, str | None],
                          parameters: Mapping[str, str] | None = None) -> ResolvedShift:
    """:func:`resolve` for a state machine alias: ``function`` is the state machine's name, ``target`` the
    version number of its ``StateMachineVersionArn``."""
    resources = template.get("Resources") or {}
    props = (resources.get(shift.alias_id) or {}).get("Properties") or {}
    pref = props.get("DeploymentPreference") or {}
    params = _parameter_values(template, parameters or {})
    missing: list[str] = []
    alias_arn = physical.get(shift.alias_id) or ""
    machine = alias = ""
    if ":stateMachine:" in alias_arn:
        machine, _, alias = alias_arn.split(":stateMachine:", 1)[1].partition(":")
    else:
        missing.append(f"the stack has no state machine alias {shift.alias_id}")
    version_arn = _name(pref.get("StateMachineVersionArn"), physical, params) or ""
    target = version_arn.rsplit(":", 1)[-1] if version_arn.rsplit(":", 1)[-1].isdigit() else None
    if target is None:
        missing.append(f"the stack has no published version {_ref(pref.get('StateMachineVersionArn')) or version_arn}")
    alarms, unwatched = [], []
    for alarm in shift.alarms:
        name = _name(alarm, physical, params)
        if name:
            alarms.append(name)
        else:
            unwatched.append(_ref(alarm) or str(alarm))
    return ResolvedShift(shift.alias_id, machine, alias, target, shift.config, shift.strategy, tuple(alarms), {},
                         tuple(unwatched), tuple(missing))
