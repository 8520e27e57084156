"""CodeDeploy Lambda deployments carried out by the local cloud (``lamctl --local shift --engine codedeploy``).

The local cloud's server runs in this process (``local_cloud``); its CodeDeploy minute is
shortened (``LAMCTL_LOCAL_CODEDEPLOY_MINUTE``'s attribute) so that a five-minute canary holds
for a second. Hooks are real functions on the local runtime that read the deployment and report
through ``PutLifecycleEventHookExecutionStatus``, as hooks written for CodeDeploy do.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile

import pytest

ROLE = "arn:aws:iam::123456789012:role/codedeploy"
APP = """\
import os
def handler(event, context):
    return {{"answer": {answer!r}, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}}
"""
# A traffic hook as teams write them for CodeDeploy: read the deployment's AppSpec, invoke the new
# version (BeforeAllowTraffic) or the alias (AfterAllowTraffic), report the verdict to CodeDeploy.
HOOK = """\
import json, boto3
def handler(event, context):
    cd = boto3.client("codedeploy")
    dep = cd.get_deployment(deploymentId=event["DeploymentId"])["deploymentInfo"]
    spec = json.loads(dep["revision"]["appSpecContent"]["content"])
    props = spec["Resources"][0]["Function"]["Properties"]
    qualifier = props["TargetVersion"] if {before!r} else props["Alias"]
    got = boto3.client("lambda").invoke(FunctionName=props["Name"], Qualifier=qualifier, Payload=b"{{}}")
    ok = "FunctionError" not in got and json.loads(got["Payload"].read()).get("answer") == 42
    cd.put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"], lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status="Succeeded" if ok else "Failed")
"""


def code(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


def wait_for(what: str, check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.02)


@pytest.fixture
def app(local_cloud, monkeypatch):
    """Function ``app``: version 1 (answers 41) behind alias ``live``, version 2 given by ``new_version``."""
    codedeploy = local_cloud.server.app.codedeploy
    monkeypatch.setattr(codedeploy, "minute", 0.1)  # a CodeDeploy minute lasts 0.1 s here
    lam = local_cloud.client("lambda")
    role = local_cloud.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName="app", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": code(APP.format(answer=41))}, Timeout=10, Publish=True)
    lam.create_alias(FunctionName="app", Name="live", FunctionVersion="1")
    for name, before in (("pre-traffic", True), ("post-traffic", False)):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": code(HOOK.format(before=before))}, Timeout=30)
    local_cloud.lam = lam
    local_cloud.cd = local_cloud.client("codedeploy")
    local_cloud.codedeploy = codedeploy
    return local_cloud


def new_version(app, answer: int) -> str:
    app.lam.update_function_code(FunctionName="app", ZipFile=code(APP.format(answer=answer)))
    return app.lam.publish_version(FunctionName="app")["Version"]


def alias(app) -> tuple[str, dict]:
    got = app.lam.get_alias(FunctionName="app", Name="live")
    return got["FunctionVersion"], (got.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}


def shift_args(app, *strategy: str) -> list[str]:
    return ["--local", "--endpoint-url", app.endpoint, "--output", "json", "shift", "--function", "app",
            "--alias", "live", "--to-version", "2", *strategy, "--engine", "codedeploy",
            "--codedeploy-role", ROLE, "--poll-interval", "0.05"]


def deployment(app, deployment_id: str) -> dict:
    return app.cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]


def test_all_at_once_with_a_pre_traffic_hook_moves_the_alias(app, cli, tmp_path):
    new_version(app, 42)
    r = cli(*shift_args(app, "--all-at-once", "--before-hook", "pre-traffic"), cwd=tmp_path)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["status"] == "Succeeded" and result["config"] == "CodeDeployDefault.LambdaAllAtOnce", result
    statuses = [l["status"] for l in r.json_lines() if l.get("type") == "codedeploy" and "status" in l]
    assert statuses[-1] == "Succeeded" and "Created" not in statuses[1:], statuses
    assert alias(app) == ("2", {})
    for _ in range(5):
        assert app.lam.invoke(FunctionName="app", Qualifier="live", Payload=b"{}")["ExecutedVersion"] == "2"
    info = deployment(app, result["deployment_id"])
    assert info["status"] == "Succeeded" and info["startTime"] and info["completeTime"]
    assert info["deploymentOverview"]["Succeeded"] == 1 and not info.get("errorInformation")


def test_a_canary_holds_its_split_then_completes(app, tmp_path):
    """CodeDeployDefault.LambdaCanary10Percent5Minutes: 10 % for five (short) minutes, then 100 %."""
    app.codedeploy.minute = 0.4  # a two-second hold: long enough to see it from here
    new_version(app, 42)
    env = dict(os.environ)
    shift = subprocess.Popen([sys.executable, "-m", "lamctl.cli", *shift_args(app, "--canary", "10%5m")],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = wait_for("the canary step", lambda: alias(app)[1] or (shift.poll() is not None and "exited"))
        assert seen == {"2": pytest.approx(0.1)}, (seen, shift.poll() is not None and shift.communicate())
        assert alias(app)[0] == "1"
        out, err = shift.communicate(timeout=60)
    finally:
        if shift.poll() is None:
            shift.kill()
            shift.communicate()
    assert shift.returncode == 0, out + err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["config"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes" and result["status"] == "Succeeded"
    assert alias(app) == ("2", {})


def test_a_custom_linear_config_is_created_and_run(app, cli, tmp_path):
    new_version(app, 42)
    r = cli(*shift_args(app, "--linear", "25%1m", "--after-hook", "post-traffic"), cwd=tmp_path)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["config"] == "lamctl.Linear25PercentEvery1Minutes" and result["status"] == "Succeeded", result
    config = app.cd.get_deployment_config(deploymentConfigName="lamctl.Linear25PercentEvery1Minutes")
    assert config["deploymentConfigInfo"]["trafficRoutingConfig"] == {
        "type": "TimeBasedLinear", "timeBasedLinear": {"linearPercentage": 25, "linearInterval": 1}}
    assert config["deploymentConfigInfo"]["computePlatform"] == "Lambda"
    assert alias(app) == ("2", {})


def test_a_failing_post_traffic_hook_rolls_the_alias_back(app, cli, tmp_path):
    new_version(app, 40)  # a wrong answer: the post-traffic check through the alias fails
    r = cli(*shift_args(app, "--all-at-once", "--after-hook", "post-traffic"), cwd=tmp_path)
    assert r.exit_code == 3, r  # rolled back
    assert "AfterAllowTraffic hook post-traffic reported Failed" in r.stderr + r.stdout, r
    assert alias(app) == ("1", {})
    dep_id = [l for l in r.json_lines() if l.get("deployment_id")][0]["deployment_id"]
    info = deployment(app, dep_id)
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    back = deployment(app, info["rollbackInfo"]["rollbackDeploymentId"])
    assert back["creator"] == "codeDeployRollback" and back["status"] == "Succeeded"
    assert back["rollbackInfo"]["rollbackTriggeringDeploymentId"] == dep_id


def test_a_failing_pre_traffic_hook_keeps_the_new_version_out(app, cli, tmp_path):
    new_version(app, 40)
    r = cli(*shift_args(app, "--canary", "10%5m", "--before-hook", "pre-traffic"), cwd=tmp_path)
    assert r.exit_code == 3, r
    assert alias(app) == ("1", {})
    dep_id = [l for l in r.json_lines() if l.get("deployment_id")][0]["deployment_id"]
    info = deployment(app, dep_id)
    assert info["status"] == "Failed" and "BeforeAllowTraffic hook pre-traffic reported Failed" in \
        info["errorInformation"]["message"]
    assert "rollbackDeploymentId" not in (info.get("rollbackInfo") or {})  # no traffic moved: nothing to undo
    batch = app.cd.batch_get_deployments(deploymentIds=[dep_id])["deploymentsInfo"][0]
    assert batch["status"] == "Failed" and batch["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    (execution_id,) = app.codedeploy.runs[dep_id].issued  # the one the hook was handed (and reported for)
    with pytest.raises(app.cd.exceptions.LifecycleEventAlreadyCompletedException):
        app.cd.put_lifecycle_event_hook_execution_status(deploymentId=dep_id, lifecycleEventHookExecutionId=execution_id,
                                                         status="Succeeded")


def _group(app, *, rollback_events=("DEPLOYMENT_FAILURE",), alarms=()) -> None:
    app.cd.create_application(applicationName="a", computePlatform="Lambda")
    kwargs = {}
    if alarms:
        kwargs["alarmConfiguration"] = {"enabled": True, "alarms": [{"name": a} for a in alarms]}
    app.cd.create_deployment_group(
        applicationName="a", deploymentGroupName="g", serviceRoleArn=ROLE,
        deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent5Minutes",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        autoRollbackConfiguration={"enabled": bool(rollback_events), "events": list(rollback_events)}, **kwargs)


def _deploy(app, current: str = "1", target: str = "2", hooks: dict | None = None) -> str:
    content = json.dumps({"version": 0.0, "Resources": [{"Function": {"Type": "AWS::Lambda::Function", "Properties": {
        "Name": "app", "Alias": "live", "CurrentVersion": current, "TargetVersion": target}}}],
        "Hooks": [{event: fn} for event, fn in (hooks or {}).items()]})
    return app.cd.create_deployment(applicationName="a", deploymentGroupName="g", revision={
        "revisionType": "AppSpecContent", "appSpecContent": {"content": content}})["deploymentId"]


def test_stop_deployment_with_auto_rollback_rolls_back_a_running_shift(app, tmp_path):
    app.codedeploy.minute = 60.0  # a real five-minute canary: it is stopped long before
    new_version(app, 42)
    env = dict(os.environ)
    shift = subprocess.Popen([sys.executable, "-m", "lamctl.cli", *shift_args(app, "--canary", "10%5m")],
                             cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for("the canary step", lambda: alias(app)[1]) == {"2": pytest.approx(0.1)}
        dep_id = app.cd.list_deployments(includeOnlyStatuses=["InProgress"])["deployments"][0]
        stopped = app.cd.stop_deployment(deploymentId=dep_id, autoRollbackEnabled=True)
        assert stopped["status"] == "Succeeded", stopped
        out, err = shift.communicate(timeout=60)
    finally:
        if shift.poll() is None:
            shift.kill()
            shift.communicate()
    assert shift.returncode == 3, out + err  # rolled back
    assert alias(app) == ("1", {})
    info = deployment(app, dep_id)
    assert info["status"] == "Stopped" and info["errorInformation"]["code"] == "MANUAL_STOP"
    assert deployment(app, info["rollbackInfo"]["rollbackDeploymentId"])["status"] == "Succeeded"
    with pytest.raises(app.cd.exceptions.DeploymentAlreadyCompletedException):
        app.cd.stop_deployment(deploymentId=dep_id, autoRollbackEnabled=True)


def test_stop_deployment_without_rollback_leaves_the_split(app):
    app.codedeploy.minute = 60.0
    new_version(app, 42)
    _group(app)
    dep_id = _deploy(app)
    wait_for("the canary step", lambda: alias(app)[1])
    # one deployment at a time per group, as CodeDeploy has it
    with pytest.raises(app.cd.exceptions.DeploymentLimitExceededException):
        _deploy(app)
    # a hook report must name one of the deployment's hook executions
    with pytest.raises(app.cd.exceptions.InvalidLifecycleEventHookExecutionIdException):
        app.cd.put_lifecycle_event_hook_execution_status(deploymentId=dep_id,
                                                         lifecycleEventHookExecutionId="made-up", status="Succeeded")
    assert app.cd.stop_deployment(deploymentId=dep_id, autoRollbackEnabled=False)["status"] == "Succeeded"
    info = deployment(app, dep_id)
    assert info["status"] == "Stopped" and "rollbackDeploymentId" not in (info.get("rollbackInfo") or {})
    assert alias(app) == ("1", {"2": pytest.approx(0.1)})  # as CodeDeploy leaves a stop without rollback


@pytest.mark.parametrize("fired", ["errors", "latency"])  # each watched alarm, not only the first
def test_an_alarm_stops_and_rolls_back(app, fired):
    app.codedeploy.minute = 60.0
    cw = app.client("cloudwatch")
    for name, metric in (("errors", "Errors"), ("latency", "Duration")):
        cw.put_metric_alarm(AlarmName=name, MetricName=metric, Namespace="AWS/Lambda", Statistic="Sum",
                            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    new_version(app, 42)
    _group(app, rollback_events=("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"), alarms=("errors", "latency"))
    dep_id = _deploy(app)
    wait_for("the canary step", lambda: alias(app)[1])
    cw.set_alarm_state(AlarmName=fired, StateValue="ALARM", StateReason=f"{fired} went up")
    info = wait_for("the stop", lambda: (d := deployment(app, dep_id))["status"] != "InProgress" and d)
    assert info["status"] == "Stopped" and info["errorInformation"]["code"] == "ALARM_ACTIVE", info
    assert fired in info["errorInformation"]["message"]
    assert alias(app) == ("1", {})


def test_a_deployment_from_an_alias_elsewhere_fails_with_nothing_moved(app):
    new_version(app, 42)
    new_version(app, 43)
    _group(app)
    dep_id = _deploy(app, current="2", target="3")  # the alias is on version 1, not 2
    info = wait_for("the end", lambda: (d := deployment(app, dep_id))["status"] in ("Failed", "Succeeded") and d)
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "INVALID_LAMBDA_CONFIGURATION", info
    assert "points at version 1" in info["errorInformation"]["message"]
    assert alias(app) == ("1", {})


def test_deployment_configs_are_checked_and_listed(app):
    cd = app.cd
    with pytest.raises(cd.exceptions.InvalidTrafficRoutingConfigurationException):
        cd.create_deployment_config(deploymentConfigName="bad", computePlatform="Lambda", trafficRoutingConfig={
            "type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 100, "canaryInterval": 5}})
    cd.create_deployment_config(deploymentConfigName="mine", computePlatform="Lambda", trafficRoutingConfig={
        "type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 20, "canaryInterval": 2}})
    with pytest.raises(cd.exceptions.DeploymentConfigAlreadyExistsException):
        cd.create_deployment_config(deploymentConfigName="mine", computePlatform="Lambda",
                                    trafficRoutingConfig={"type": "AllAtOnce"})
    names = cd.list_deployment_configs()["deploymentConfigsList"]
    assert "mine" in names and "CodeDeployDefault.LambdaLinear10PercentEvery1Minute" in names
    predefined = cd.get_deployment_config(deploymentConfigName="CodeDeployDefault.LambdaCanary10Percent30Minutes")
    assert predefined["deploymentConfigInfo"]["trafficRoutingConfig"]["timeBasedCanary"] == {
        "canaryPercentage": 10, "canaryInterval": 30}
    with pytest.raises(cd.exceptions.DeploymentConfigDoesNotExistException):
        cd.get_deployment_config(deploymentConfigName="nope")
    _group(app)
    with pytest.raises(cd.exceptions.DeploymentConfigDoesNotExistException):
        cd.create_deployment(applicationName="a", deploymentGroupName="g", deploymentConfigName="nope", revision={
            "revisionType": "AppSpecContent", "appSpecContent": {"content": "{}"}})
    with pytest.raises(cd.exceptions.InvalidOperationException):
        cd.delete_deployment_config(deploymentConfigName="CodeDeployDefault.LambdaAllAtOnce")
    cd.delete_deployment_config(deploymentConfigName="mine")
    assert "mine" not in cd.list_deployment_configs()["deploymentConfigsList"]


def test_a_yaml_appspec_in_a_string_revision_with_a_custom_config(app):
    app.cd.create_deployment_config(deploymentConfigName="half", computePlatform="Lambda", trafficRoutingConfig={
        "type": "TimeBasedCanary", "timeBasedCanary": {"canaryPercentage": 50, "canaryInterval": 1}})
    new_version(app, 42)
    _group(app)
    appspec = ("version: 0.0\nResources:\n  - app:\n      Type: AWS::Lambda::Function\n      Properties:\n"
               "        Name: app\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\n")
    dep_id = app.cd.create_deployment(applicationName="a", deploymentGroupName="g", deploymentConfigName="half",
                                      revision={"revisionType": "String", "string": {"content": appspec}})[
        "deploymentId"]
    info = wait_for("the end", lambda: (d := deployment(app, dep_id))["status"] in ("Failed", "Succeeded") and d)
    assert info["status"] == "Succeeded", (info, app.codedeploy.runs[dep_id].error)
    assert alias(app) == ("2", {})


def test_deployments_of_other_platforms_are_left_as_moto_records_them(app):
    app.cd.create_application(applicationName="servers", computePlatform="Server")
    app.cd.create_deployment_group(applicationName="servers", deploymentGroupName="g", serviceRoleArn=ROLE)
    dep_id = app.cd.create_deployment(applicationName="servers", deploymentGroupName="g", revision={
        "revisionType": "S3", "s3Location": {"bucket": "b", "key": "k", "bundleType": "zip"}})["deploymentId"]
    assert dep_id not in app.codedeploy.runs
    assert deployment(app, dep_id)["status"] == "Created"
    with pytest.raises(app.cd.exceptions.UnsupportedActionForDeploymentTypeException):
        app.cd.stop_deployment(deploymentId=dep_id)
    with pytest.raises(app.cd.exceptions.DeploymentDoesNotExistException):
        app.cd.stop_deployment(deploymentId="d-NOSUCHONE")


def test_a_reset_ends_the_deployments_under_way(app):
    app.codedeploy.minute = 60.0
    new_version(app, 42)
    _group(app)
    dep_id = _deploy(app)
    wait_for("the canary step", lambda: alias(app)[1])
    thread = app.codedeploy.runs[dep_id].thread
    app.reset()
    assert not thread.is_alive() and app.codedeploy.runs == {}
    assert app.client("codedeploy").list_applications()["applications"] == []


def test_the_issue_run_against_lamctl_local_start_ends_with_the_alias_moved(cli, monkeypatch, tmp_path):
    """The report: ``lamctl --local shift ... --engine codedeploy`` against ``lamctl local start`` waited
    forever with the alias unchanged. The background emulator now carries the deployment out."""
    import socket

    import boto3

    from lamctl.local.cloud import lifecycle

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LAMCTL_LOCAL_CODEDEPLOY_MINUTE", "0.1")  # read by the emulator process
    try:
        assert cli("local", "start", "--port", port).exit_code == 0
        kwargs = dict(region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
        role = boto3.client("iam", **kwargs).create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lam = boto3.client("lambda", **kwargs)
        lam.create_function(FunctionName="app", Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": code(APP.format(answer=41))}, Publish=True)
        lam.create_alias(FunctionName="app", Name="live", FunctionVersion="1")
        lam.update_function_code(FunctionName="app", ZipFile=code(APP.format(answer=42)))
        lam.publish_version(FunctionName="app")
        r = cli("--local", "--output", "json", "shift", "--function", "app", "--alias", "live", "--to-version", "2",
                "--canary", "10%5m", "--engine", "codedeploy", "--codedeploy-role", ROLE, "--poll-interval", "0.1",
                cwd=tmp_path)
        assert r.exit_code == 0, r
        assert r.json_lines()[-1]["status"] == "Succeeded"
        got = lam.get_alias(FunctionName="app", Name="live")
        assert got["FunctionVersion"] == "2" and not (got.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    finally:
        lifecycle.stop()


@pytest.mark.parametrize("source,why", [
    ("def handler(event, context):\n    raise RuntimeError('smoke test crashed')\n",
     "failed without reporting a status"),
    ("def handler(event, context):\n    return 'forgot to report'\n",
     "did not report a status through PutLifecycleEventHookExecutionStatus within one hour"),
])
def test_a_hook_that_does_not_report_fails_the_deployment(app, source, why):
    app.codedeploy.minute = 0.05  # the hook's hour: three seconds
    role = app.client("iam").get_role(RoleName="r")["Role"]["Arn"]
    app.lam.create_function(FunctionName="silent", Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": code(source)}, Timeout=10)
    new_version(app, 42)
    _group(app)
    dep_id = _deploy(app, hooks={"BeforeAllowTraffic": "silent"})
    info = wait_for("the end", lambda: (d := deployment(app, dep_id))["status"] in ("Failed", "Succeeded") and d)
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE", info
    assert why in info["errorInformation"]["message"] and "silent" in info["errorInformation"]["message"]
    assert alias(app) == ("1", {})
