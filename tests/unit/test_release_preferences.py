"""What a DeploymentPreference asks of CodeDeploy, read from the transformed template (what lamctl deploy
does itself on the local cloud): strategy, hooks and alarms, mapped onto the stack's physical resources."""

from __future__ import annotations

import pytest

from lamctl.transform import transform
from lamctl.release.preferences import alias_shifts, resolve
from lamctl.schemas.errors import UsageError


def sam(preference: dict, extra: dict | None = None, parameters: dict | None = None,
        values: dict | None = None) -> dict:
    resources = {
        "App": {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": "s3://bucket/app.zip", "Handler": "app.handler", "Runtime": "python3.12",
            "AutoPublishAlias": "live", "DeploymentPreference": preference}},
        "PreHook": {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": "s3://bucket/hook.zip", "Handler": "hook.handler", "Runtime": "python3.12"}},
        "Errors": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "Sum", "Period": 60,
            "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}},
    }
    resources.update(extra or {})
    template = {"Transform": "AWS::Serverless-2016-10-31", "Resources": resources}
    if parameters:
        template["Parameters"] = parameters
    return transform(template, parameters=values)


PHYSICAL = {
    "AppAliaslive": "arn:aws:lambda:us-east-1:123456789012:function:stack-App-1A2B:live",
    "App": "stack-App-1A2B",
    "PreHook": "stack-PreHook-3C4D",
    "Errors": "stack-Errors-5E6F",
}


def physical_with_version(cfn: dict, version: str = "7") -> dict:
    (version_id,) = [k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::Lambda::Version"
                     and k.startswith("AppVersion")]
    return {**PHYSICAL, version_id: f"arn:aws:lambda:us-east-1:123456789012:function:stack-App-1A2B:{version}"}


@pytest.mark.parametrize("type_, spec", [
    ("Canary10Percent5Minutes", "canary 10%5m"),
    ("Linear10PercentEvery1Minute", "linear 10%1m"),
    ("AllAtOnce", "all-at-once"),
])
def test_a_predefined_type_becomes_the_same_strategy(type_, spec):
    cfn = sam({"Type": type_})
    (shift,) = alias_shifts(cfn)
    assert shift.config == f"CodeDeployDefault.Lambda{type_}"
    assert shift.strategy.describe() == spec


def test_hooks_and_alarms_resolve_to_the_stacks_names():
    cfn = sam({"Type": "Canary10Percent5Minutes", "Alarms": [{"Ref": "Errors"}, "shared-latency-alarm"],
               "Hooks": {"PreTraffic": {"Ref": "PreHook"}, "PostTraffic": "smoke-test-fn"}})
    (shift,) = alias_shifts(cfn)
    r = resolve(shift, cfn, physical_with_version(cfn))
    assert (r.function, r.alias, r.target) == ("stack-App-1A2B", "live", "7")
    assert r.alarms == ("stack-Errors-5E6F", "shared-latency-alarm")
    assert dict(r.hooks) == {"BeforeAllowTraffic": "stack-PreHook-3C4D", "AfterAllowTraffic": "smoke-test-fn"}
    assert r.missing == () and r.unwatched == ()


def test_an_alarm_the_stack_did_not_create_is_reported_unwatched_and_a_missing_hook_stops_the_shift():
    cfn = sam({"Type": "Canary10Percent5Minutes", "Alarms": [{"Ref": "Errors"}],
               "Hooks": {"PreTraffic": {"Ref": "PreHook"}}})
    (shift,) = alias_shifts(cfn)
    physical = {k: v for k, v in physical_with_version(cfn).items() if k not in ("Errors", "PreHook")}
    r = resolve(shift, cfn, physical)
    assert r.alarms == () and r.unwatched == ("Errors",)
    assert r.missing == ("the stack has no BeforeAllowTraffic hook function PreHook",)


def test_disabled_alarms_are_not_watched():
    cfn = sam({"Type": "AllAtOnce", "Alarms": [{"Ref": "Errors"}]})
    group = cfn["Resources"]["AppDeploymentGroup"]["Properties"]
    group["AlarmConfiguration"]["Enabled"] = False
    (shift,) = alias_shifts(cfn)
    assert shift.alarms == ()


def test_a_type_from_a_parameter_follows_the_value_given():
    params = {"ReleaseType": {"Type": "String", "Default": "AllAtOnce"}}
    cfn = sam({"Type": {"Ref": "ReleaseType"}}, parameters=params)
    assert alias_shifts(cfn)[0].strategy.describe() == "all-at-once"
    values = {"ReleaseType": "Linear10PercentEvery2Minutes"}  # --parameter-overrides
    (shift,) = alias_shifts(sam({"Type": {"Ref": "ReleaseType"}}, parameters=params, values=values), values)
    assert shift.config == "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes"
    assert shift.strategy.describe() == "linear 10%2m"


@pytest.mark.parametrize("routing, spec", [
    ({"Type": "TimeBasedCanary", "TimeBasedCanary": {"CanaryPercentage": 25, "CanaryInterval": 3}}, "canary 25%3m"),
    ({"Type": "TimeBasedLinear", "TimeBasedLinear": {"LinearPercentage": 20, "LinearInterval": 2}}, "linear 20%2m"),
    ({"Type": "AllAtOnce"}, "all-at-once"),
])
def test_a_deployment_config_of_the_template_is_followed(routing, spec):
    config = {"Type": "AWS::CodeDeploy::DeploymentConfig",
              "Properties": {"ComputePlatform": "Lambda", "TrafficRoutingConfig": routing}}
    cfn = sam({"Type": {"Ref": "GentleRelease"}}, extra={"GentleRelease": config})
    (shift,) = alias_shifts(cfn)
    assert shift.config == "GentleRelease"
    assert shift.strategy.describe() == spec


def test_a_config_lamctl_cannot_follow_stops_before_anything_is_deployed():
    with pytest.raises(UsageError) as err:
        alias_shifts(sam({"Type": "Canary10Percent7Minutes"}), where="template.yaml")
    assert err.value.message == ("DeploymentPreference Type Canary10Percent7Minutes: not a predefined CodeDeploy "
                                 "Lambda configuration")
    assert err.value.where == "template.yaml: AppDeploymentGroup"
    assert "did you mean CodeDeployDefault.LambdaCanary10Percent5Minutes" in err.value.hint

    broken = {"Type": "AWS::CodeDeploy::DeploymentConfig",
              "Properties": {"TrafficRoutingConfig": {"Type": "TimeBasedCanary", "TimeBasedCanary": {}}}}
    with pytest.raises(UsageError, match="deployment config Broken: TimeBasedCanary is incomplete"):
        alias_shifts(sam({"Type": {"Ref": "Broken"}}, extra={"Broken": broken}))


def test_an_alias_without_a_preference_is_not_shifted():
    cfn = sam({"Type": "AllAtOnce", "Enabled": False})
    assert alias_shifts(cfn) == []
