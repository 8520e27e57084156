"""SAM's DeploymentPreference on the local cloud, which has no CodeDeploy: `lamctl deploy` shifts the alias
itself once the stack is up, with the preference's strategy, hooks and alarms, as CodeDeploy would on AWS.

The local cloud's server runs in this process; lamctl runs in-process on an instant clock (a five-minute
canary hold takes no real time), and the world is looked at from inside the hold."""

from __future__ import annotations

import collections
import json
import shutil

import pytest

from tests.functional.test_deploy_workshop import SAMPLE, new_code

PREFERENCE = """\
      Runtime: python3.12
      AutoPublishAlias: live
      DeploymentPreference:
        Type: {type}
"""

HOOK_FUNCTION = """\
  PreTrafficHook:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: CodeDeployHook_workshop_pre
      CodeUri: hook/
      Handler: hook.handler
      Runtime: python3.12
      Timeout: 30
"""

# A pre-traffic hook as SAM users write them: it checks the new version, then reports its verdict to
# CodeDeploy (PutLifecycleEventHookExecutionStatus) instead of returning it.
HOOK = """\
import json, os, boto3

def handler(event, context):
    lam = boto3.client("lambda")
    answer = lam.invoke(FunctionName=os.environ["TARGET"], Qualifier="live", Payload=b"{{}}")
    verdict = {verdict!r}
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"], lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=verdict)
"""


@pytest.fixture
def workshop(tmp_path):
    dest = tmp_path / "workshop"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns(".lamctl"))
    return dest


def with_preference(workshop, type_: str, hook_verdict: str | None = None) -> None:
    template = workshop / "template.yaml"
    text = template.read_text().replace("      Runtime: python3.12\n", PREFERENCE.format(type=type_), 1)
    if hook_verdict is not None:
        text = text.replace(f"        Type: {type_}\n",
                            f"        Type: {type_}\n        Hooks:\n          PreTraffic: !Ref PreTrafficHook\n", 1)
        text = text.replace("\nOutputs:\n", "\n" + HOOK_FUNCTION + "\nOutputs:\n", 1)
        text = text.replace("      Handler: hook.handler\n",
                            "      Handler: hook.handler\n      Environment:\n        Variables:\n"
                            "          TARGET: workshop-hello\n", 1)
        set_hook(workshop, hook_verdict)
    template.write_text(text)


def set_hook(workshop, verdict: str) -> None:
    (workshop / "hook").mkdir(exist_ok=True)
    (workshop / "hook" / "hook.py").write_text(HOOK.format(verdict=verdict))


def new_hello(workshop, text: str) -> None:
    new_code(workshop, text)


def deploy(cli, cloud, workshop, json_output=True):
    return cli("--endpoint-url", cloud.endpoint, *(["--output", "json"] if json_output else []), "deploy", cwd=workshop)


def test_a_canary_preference_splits_traffic_for_its_hold_then_moves_the_alias(cli, local_cloud, workshop,
                                                                             instant_clock):
    with_preference(workshop, "Canary10Percent5Minutes")
    r = deploy(cli, local_cloud, workshop)
    assert r.exit_code == 0, r
    first = r.json_lines()[-1]
    assert first["status"] == "CREATE_COMPLETE"
    assert first["traffic"][0]["state"] == "unchanged"  # a new alias is created at its version: nothing to shift
    lam = local_cloud.client("lambda")
    assert lam.get_alias(FunctionName="workshop-hello", Name="live")["FunctionVersion"] == "1"

    new_hello(workshop, "Hello, version 2")
    during = collections.Counter()
    weights_seen = []

    def look(clock):  # runs while lamctl deploy waits: in the canary's hold, invoke the alias as clients do
        routing = lam.get_alias(FunctionName="workshop-hello", Name="live").get("RoutingConfig") or {}
        if routing.get("AdditionalVersionWeights") and not during:
            weights_seen.append(routing["AdditionalVersionWeights"])
            for _ in range(200):
                during[lam.invoke(FunctionName="workshop-hello", Qualifier="live", Payload=b"{}")["ExecutedVersion"]] += 1

    instant_clock.on_sleep.append(look)
    r = deploy(cli, local_cloud, workshop)
    assert r.exit_code == 0, r
    assert weights_seen == [{"2": pytest.approx(0.1)}]  # 10 % to the new version, as the canary's first step
    assert set(during) == {"1", "2"} and 5 <= during["2"] <= 45, during  # about one call in ten
    assert instant_clock.slept >= 300  # the five-minute hold was held (on the injected clock)
    result = r.json_lines()[-1]
    assert result["status"] == "UPDATE_COMPLETE"
    (shift,) = result["traffic"]
    assert shift["state"] == "succeeded" and shift["current"] == "1" and shift["target"] == "2"
    assert shift["config"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    alias = lam.get_alias(FunctionName="workshop-hello", Name="live")
    assert alias["FunctionVersion"] == "2" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    body = json.loads(lam.invoke(FunctionName="workshop-hello", Qualifier="live", Payload=b"{}")["Payload"].read())
    assert json.loads(body["body"]) == {"message": "Hello, version 2"}
    steps = [e for e in r.json_lines() if e.get("type") == "step"]
    assert steps, "the release's steps are reported as lamctl shift reports them"


def test_a_hook_that_reports_failure_to_codedeploy_rolls_back_and_the_next_deploy_shifts_again(
        cli, local_cloud, workshop, instant_clock):
    with_preference(workshop, "Linear10PercentEvery1Minute", hook_verdict="Failed")
    assert deploy(cli, local_cloud, workshop).exit_code == 0
    lam = local_cloud.client("lambda")

    new_hello(workshop, "Hello, version 2")
    r = deploy(cli, local_cloud, workshop, json_output=False)
    assert r.exit_code == 3, r  # rolled back
    assert "BeforeAllowTraffic hook CodeDeployHook_workshop_pre reported status Failed" in r.stderr
    assert "workshop-hello:live stays on version 1" in r.stderr
    alias = lam.get_alias(FunctionName="workshop-hello", Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert instant_clock.slept < 60  # stopped before any traffic moved: no linear step was held

    # deploying again without a fix: the stack has nothing to change, the shift is tried again (and fails again)
    r = deploy(cli, local_cloud, workshop, json_output=False)
    assert r.exit_code == 3, r
    assert "No changes" not in r.stdout and "reported status Failed" in r.stderr
    assert lam.get_alias(FunctionName="workshop-hello", Name="live")["FunctionVersion"] == "1"

    set_hook(workshop, "Succeeded")  # the fix: only the hook changes, the alias still owes its shift
    r = deploy(cli, local_cloud, workshop, json_output=False)
    assert r.exit_code == 0, r
    assert "Stack workshop: UPDATE_COMPLETE (1 change(s)); workshop-hello:live shifted to version 2" in r.stdout
    assert "shifting workshop-hello:live from version 1 to 2: CodeDeployDefault.LambdaLinear10PercentEvery1Minute" \
        in r.stderr
    assert instant_clock.slept >= 9 * 60  # ten linear steps a minute apart
    assert lam.get_alias(FunctionName="workshop-hello", Name="live")["FunctionVersion"] == "2"


def test_an_unknown_preference_type_stops_the_deploy_before_anything_is_created(cli, local_cloud, workshop):
    with_preference(workshop, "Canary10Percent7Minutes")
    r = deploy(cli, local_cloud, workshop, json_output=False)
    assert r.exit_code == 2, r
    assert "Canary10Percent7Minutes" in r.stderr and "not a predefined CodeDeploy Lambda configuration" in r.stderr
    assert not local_cloud.client("cloudformation").list_stacks()["StackSummaries"]


def test_on_aws_the_alias_is_left_to_codedeploy(cli, local_cloud, workshop, instant_clock):
    """Against a CloudFormation that is not the local cloud, deploy never shifts aliases itself: there,
    CloudFormation and CodeDeploy do (lamctl deploy only reports the stack)."""
    with_preference(workshop, "Canary10Percent5Minutes")
    (workshop / "lamctl.toml").write_text('[default]\nstack = "workshop"\ns3_bucket = "artifacts"\n')
    local_cloud.client("s3").create_bucket(Bucket="artifacts")
    # the emulator's address given as any custom endpoint: lamctl takes it for AWS (no local-cloud record)
    r = deploy(cli, local_cloud, workshop)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["traffic"] == []


ALARM = """\
  HelloErrors:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: errors of the hello function's live alias
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: workshop-hello
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
"""


def test_an_alarm_of_the_template_going_off_mid_canary_rolls_the_alias_back(cli, local_cloud, workshop,
                                                                           instant_clock):
    with_preference(workshop, "Canary10Percent5Minutes")
    template = workshop / "template.yaml"
    template.write_text(template.read_text()
                        .replace("        Type: Canary10Percent5Minutes\n",
                                 "        Type: Canary10Percent5Minutes\n        Alarms:\n"
                                 "          - !Ref HelloErrors\n", 1)
                        .replace("\nOutputs:\n", "\n" + ALARM + "\nOutputs:\n", 1))
    assert deploy(cli, local_cloud, workshop).exit_code == 0
    cw = local_cloud.client("cloudwatch")
    (alarm,) = cw.describe_alarms()["MetricAlarms"]  # the local cloud creates the template's alarms
    assert alarm["AlarmName"].startswith("workshop-HelloErrors-") and alarm["MetricName"] == "Errors"
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "workshop-hello"}]

    new_hello(workshop, "Hello, version 2")
    fired = []

    def fire(clock):  # a minute into the canary's hold, the errors alarm goes off
        lam = local_cloud.client("lambda")
        split = (lam.get_alias(FunctionName="workshop-hello", Name="live").get("RoutingConfig") or {})
        if split.get("AdditionalVersionWeights") and not fired and clock.slept >= 60:
            cw.set_alarm_state(AlarmName=alarm["AlarmName"], StateValue="ALARM", StateReason="3 errors in 1 minute")
            fired.append(clock.slept)

    instant_clock.on_sleep.append(fire)
    r = deploy(cli, local_cloud, workshop, json_output=False)
    assert r.exit_code == 3, r
    assert f"rolled back: alarm in ALARM: {alarm['AlarmName']} (3 errors in 1 minute)" in r.stderr
    assert fired and instant_clock.slept - fired[0] <= 10  # stopped within one alarm poll, not after the hold
    alias = local_cloud.client("lambda").get_alias(FunctionName="workshop-hello", Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")

    assert cli("--endpoint-url", local_cloud.endpoint, "delete", "--stack", "workshop", "--yes",
               cwd=workshop).exit_code == 0
    assert cw.describe_alarms()["MetricAlarms"] == []  # deleted with the stack


TWO = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    AutoPublishAlias: live
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: two-orders
      CodeUri: orders/
      Handler: app.handler
      DeploymentPreference:
        Type: Canary10Percent5Minutes
  Billing:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: two-billing
      CodeUri: billing/
      Handler: app.handler
      DeploymentPreference:
        Type: Canary10Percent5Minutes
@@HOOKS@@
  Gate:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: two-gate
      CodeUri: gate/
      Handler: app.handler
"""


def two_functions(tmp_path, gate: str, billing_hook: bool):
    for name, answer in (("orders", "orders v1"), ("billing", "billing v1")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(f"def handler(event, context):\n    return {answer!r}\n")
    (tmp_path / "gate").mkdir()
    (tmp_path / "gate" / "app.py").write_text(f"def handler(event, context):\n    return {{'status': {gate!r}}}\n")
    hooks = "        Hooks:\n          PreTraffic: !Ref Gate" if billing_hook else ""
    (tmp_path / "template.yaml").write_text(TWO.replace("@@HOOKS@@", hooks))


def bump(tmp_path) -> None:
    for name in ("orders", "billing"):
        app = tmp_path / name / "app.py"
        app.write_text(app.read_text().replace("v1", "v2"))


def test_two_aliases_shift_at_the_same_time_as_cloudformation_updates_them(cli, local_cloud, tmp_path,
                                                                            instant_clock):
    two_functions(tmp_path, "Succeeded", billing_hook=False)
    args = ("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--stack", "two")
    assert cli(*args, cwd=tmp_path).exit_code == 0
    lam = local_cloud.client("lambda")
    bump(tmp_path)
    both_split = []

    def look(clock):
        weights = [(lam.get_alias(FunctionName=f, Name="live").get("RoutingConfig") or {})
                   .get("AdditionalVersionWeights") for f in ("two-orders", "two-billing")]
        if all(weights) and not both_split:
            both_split.append(weights)

    instant_clock.on_sleep.append(look)
    r = cli(*args, cwd=tmp_path)
    assert r.exit_code == 0, r
    assert both_split == [[{"2": pytest.approx(0.1)}, {"2": pytest.approx(0.1)}]]  # in their holds together
    traffic = {t["function"]: t["state"] for t in r.json_lines()[-1]["traffic"]}
    assert traffic == {"two-orders": "succeeded", "two-billing": "succeeded"}
    steps = [e for e in r.json_lines() if e.get("type") == "step"]
    assert {e["function"] for e in steps} == {"two-orders", "two-billing"}  # each event names its alias
    for f in ("two-orders", "two-billing"):
        assert lam.get_alias(FunctionName=f, Name="live")["FunctionVersion"] == "2"


def test_when_one_shift_fails_every_alias_goes_back(cli, local_cloud, tmp_path, instant_clock):
    two_functions(tmp_path, "Failed", billing_hook=True)
    args = ("--local", "--endpoint-url", local_cloud.endpoint, "deploy", "--stack", "two")
    assert cli(*args, cwd=tmp_path).exit_code == 0
    bump(tmp_path)
    r = cli(*args, cwd=tmp_path)
    assert r.exit_code == 3, r
    assert "two-billing:live: " in r.stderr and "BeforeAllowTraffic hook two-gate reported status Failed" in r.stderr
    lam = local_cloud.client("lambda")
    for f in ("two-orders", "two-billing"):
        alias = lam.get_alias(FunctionName=f, Name="live")
        assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get(
            "AdditionalVersionWeights"), f


def test_a_reviewed_change_set_executed_later_shifts_its_preference_too(cli, local_cloud, workshop, instant_clock):
    """deploy --no-execute, then deploy --execute: the DeploymentPreference runs as a plain deploy runs it (the
    template is read from the stack once executed: the emulator returns no change set's template)."""
    with_preference(workshop, "AllAtOnce")
    assert deploy(cli, local_cloud, workshop).exit_code == 0
    new_hello(workshop, "Hello, reviewed")
    made = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--no-execute", cwd=workshop)
    assert made.exit_code == 0, made
    lam = local_cloud.client("lambda")
    assert lam.get_alias(FunctionName="workshop-hello", Name="live")["FunctionVersion"] == "1"
    done = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--execute",
               made.json_lines()[-1]["arn"], cwd=workshop)
    assert done.exit_code == 0, done
    traffic = done.json_lines()[-1]["traffic"]
    assert [(t["alias"], t["state"], t["target"]) for t in traffic] == [("live", "succeeded", "2")], done.stdout[-2500:]
    assert lam.get_alias(FunctionName="workshop-hello", Name="live")["FunctionVersion"] == "2"
    answer = lam.invoke(FunctionName="workshop-hello", Qualifier="live", Payload=b"{}")["Payload"].read()
    assert b"Hello, reviewed" in answer
