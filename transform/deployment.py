"""DeploymentPreference: the CodeDeploy application, service role and one deployment group per function."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .intrinsics import is_if, is_intrinsic, is_no_value

APPLICATION = "ServerlessDeploymentApplication"
SERVICE_ROLE = "CodeDeployServiceRole"
CONDITION = "ServerlessCodeDeployCondition"
PREDEFINED = ["Canary10Percent5Minutes", "Canary10Percent10Minutes", "Canary10Percent15Minutes",
              "Canary10Percent30Minutes", "Linear10PercentEvery1Minute", "Linear10PercentEvery2Minutes",
              "Linear10PercentEvery3Minutes", "Linear10PercentEvery10Minutes", "AllAtOnce"]


@dataclass
class Preference:
    deployment_type: Any = None
    pre_traffic_hook: Any = None
    post_traffic_hook: Any = None
    alarms: Any = None
    enabled: Any = False
    role: Any = None
    trigger_configurations: Any = None
    condition: Any = None
    tags: Any = None
    propagate_tags: Any = None

    @classmethod
    def parse(cls, fn, dp: dict) -> "Preference":
        enabled = dp.get("Enabled", True)
        enabled = False if enabled in ("false", "False") else enabled
        if not enabled:
            return cls()
        if "Type" not in dp:
            raise fn.error("DeploymentPreference needs Type (e.g. Canary10Percent5Minutes)", "DeploymentPreference")
        hooks = dp.get("Hooks", {})
        if not isinstance(hooks, dict):
            raise fn.error("DeploymentPreference.Hooks must be a mapping (PreTraffic, PostTraffic)",
                           "DeploymentPreference", "Hooks")
        tags = fn.p.get("Tags")
        propagate = fn.p.get("PropagateTags")
        return cls(dp["Type"], hooks.get("PreTraffic"), hooks.get("PostTraffic"), dp.get("Alarms"), enabled,
                   dp.get("Role"), dp.get("TriggerConfigurations"),
                   fn.passthrough.get("Condition") if dp.get("PassthroughCondition") else None,
                   tags if propagate and tags else None, propagate)


def _alarms(alarms: Any) -> Any:
    if not alarms or is_no_value(alarms):
        return None
    if is_if(alarms):
        out = copy.deepcopy(alarms)
        items = out["Fn::If"]
        if not isinstance(items, list) or len(items) != 3:
            raise ValueError("Fn::If needs [condition, value_if_true, value_if_false]")
        items[1] = _alarm_config(items[1])
        items[2] = _alarm_config(items[2])
        return out
    return _alarm_config(alarms)


def _alarm_config(alarms: Any) -> dict:
    if not isinstance(alarms, list):
        raise ValueError("Alarms must be a list")
    if not alarms or is_no_value(alarms[0]):
        return {}
    return {"Enabled": True, "Alarms": [{"Name": a} for a in alarms]}


def _config_name(value: Any, key: str | None = None) -> Any:
    if isinstance(value, list):
        return [_config_name(v) for v in value]
    if is_intrinsic(value):
        return {k: _config_name(v, k) for k, v in value.items()}
    if isinstance(value, str) and value in PREDEFINED:
        if key == "Fn::Sub":
            return ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": value}]
        return {"Fn::Sub": ["CodeDeployDefault.Lambda${ConfigName}", {"ConfigName": value}]}
    return value


def _tag_list(tags: dict) -> list:
    return [{"Key": k, "Value": v if v is not None else ""} for k, v in tags.items()]


def combined_condition(conditions: list, name: str) -> dict | None:
    if len(conditions) < 2:
        return None
    out = {}
    n = 1 + (len(conditions) - 2) // 9 - 1
    conditions = list(conditions)
    while len(conditions) > 1:
        new = name
        if n > 0:
            new = f"{name}{n}"
            n -= 1
        out[new] = {"Fn::Or": [{"Condition": c} for c in conditions[:10]]}
        conditions = conditions[10:]
        conditions.append(new)
    return out


def finish(ctx) -> None:
    """Add the CodeDeploy resources once every function is translated."""
    prefs: dict[str, Preference] = ctx.deployment_preferences
    if not any(p.enabled for p in prefs.values()):
        return
    needs_condition = bool(prefs) and not any(not p.condition and p.enabled for p in prefs.values())
    conditions = sorted({p.condition for p in prefs.values() if p.condition is not None})
    merged_tags: dict = {}
    for p in prefs.values():
        if p.enabled and p.propagate_tags and p.tags:
            merged_tags.update(p.tags)
    app = {"Type": "AWS::CodeDeploy::Application", "Properties": {"ComputePlatform": "Lambda"}}
    if merged_tags:
        app["Properties"]["Tags"] = _tag_list(merged_tags)
    shared_condition = None
    if needs_condition:
        shared_condition = CONDITION if len(conditions) > 1 else conditions[0]
        app = {"Type": app["Type"], "Condition": shared_condition, "Properties": app["Properties"]}
        extra = combined_condition(conditions, CONDITION)
        if extra:
            ctx.conditions.update(extra)
    ctx.add(APPLICATION, app)
    if not all(p.role or not p.enabled for p in prefs.values()):
        partition = ctx.partition
        policy = ("AWSCodeDeployRoleForLambdaLimited" if partition in ("aws-iso", "aws-iso-b")
                  else "AWSCodeDeployRoleForLambda")
        props = {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Action": ["sts:AssumeRole"], "Effect": "Allow", "Principal": {"Service": ["codedeploy.amazonaws.com"]}}]},
            "ManagedPolicyArns": [f"arn:{partition}:iam::aws:policy/service-role/{policy}"]}
        if merged_tags:
            props["Tags"] = _tag_list(merged_tags)
        role = {"Type": "AWS::IAM::Role"}
        if shared_condition:
            role["Condition"] = shared_condition
        role["Properties"] = props
        ctx.add(SERVICE_ROLE, role)
    for lid, p in prefs.items():
        if not p.enabled:
            continue
        try:
            alarms = _alarms(p.alarms)
        except ValueError as exc:
            raise ctx.error(f"function {lid}: DeploymentPreference.Alarms: {exc}",
                            ("Resources", lid, "Properties", "DeploymentPreference", "Alarms")) from None
        props = {"AlarmConfiguration": alarms, "ApplicationName": {"Ref": APPLICATION},
                 "AutoRollbackConfiguration": {"Enabled": True, "Events": [
                     "DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM", "DEPLOYMENT_STOP_ON_REQUEST"]},
                 "DeploymentConfigName": _config_name(copy.deepcopy(p.deployment_type)),
                 "DeploymentStyle": {"DeploymentType": "BLUE_GREEN", "DeploymentOption": "WITH_TRAFFIC_CONTROL"},
                 "ServiceRoleArn": p.role if p.role else {"Fn::GetAtt": [SERVICE_ROLE, "Arn"]},
                 "TriggerConfigurations": p.trigger_configurations or None,
                 "Tags": _tag_list(p.tags) if p.tags else None}
        group = {"Type": "AWS::CodeDeploy::DeploymentGroup"}
        if p.condition:
            group["Condition"] = p.condition
        group["Properties"] = {k: v for k, v in props.items() if v is not None}
        ctx.add(f"{lid}DeploymentGroup", group)
