"""``lamctl publish / alias / shift / promote / rollback / status`` in-process, against the emulator over HTTP.

Releases here have no holds (all-at-once, hooks, dry runs): the timed paths run
with a fake clock in tests/unit/test_release_engine.py and as real processes in
tests/functional/test_release_crash.py.
"""

from __future__ import annotations

import json
import urllib.request

import pytest
from tests.helpers import returning_zip as _zip


@pytest.fixture
def cloud(aws):
    iam, lam = aws.client("iam"), aws.client("lambda")
    role = iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for name in ("app", "pre", "post"):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": _zip(name)}, Publish=True)
    lam.update_function_code(FunctionName="app", ZipFile=_zip("v2"))
    lam.publish_version(FunctionName="app")
    lam.create_alias(FunctionName="app", Name="live", FunctionVersion="1")
    aws.client("s3").create_bucket(Bucket="artifacts")
    aws.lam = lam
    aws.role = role
    return aws


def hook_answers(aws, *answers: str) -> None:
    """What the emulator's next invokes return (it runs no code without Docker)."""
    body = json.dumps({"results": list(answers), "region": "us-east-1"}).encode()
    req = urllib.request.Request(aws.endpoint + "/moto-api/static/lambda-simple/response", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


SUCCEEDED = json.dumps({"status": "Succeeded"})


def alias_of(aws):
    a = aws.lam.get_alias(FunctionName="app", Name="live")
    return a["FunctionVersion"], (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}


def journal(aws):
    raw = aws.client("s3").get_object(Bucket="artifacts", Key="lamctl/releases/app/live/latest.json")["Body"].read()
    return json.loads(raw)


def test_publish_prints_the_version_and_says_when_nothing_changed(cloud, cli):
    cloud.lam.update_function_code(FunctionName="app", ZipFile=_zip("v3"))
    r = cli("--output", "json", "publish", "app", "--description", "third")
    assert r.exit_code == 0, r
    assert r.json_lines()[-1] | {} == {"type": "result", "ok": True, "function": "app", "version": "3",
                                       "code_sha256": r.json_lines()[-1]["code_sha256"], "new": True}
    r = cli("publish", "app")
    assert r.exit_code == 0 and r.stdout.strip() == "app version 3 (unchanged: no new version)"


def test_alias_creates_moves_and_refuses_latest(cloud, cli):
    r = cli("alias", "app", "beta", "--version", "2")
    assert r.exit_code == 0 and "created app:beta at version 2" in r.stdout
    r = cli("alias", "app", "beta", "--version", "1")
    assert r.exit_code == 0 and "moved app:beta from version 2 100% to version 1" in r.stdout
    r = cli("alias", "app", "beta", "--version", "$LATEST")
    assert r.exit_code == 2 and "not $LATEST" in r.stderr


def test_alias_is_refused_while_a_release_holds_the_alias(cloud, cli, monkeypatch):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    cloud.client("s3").put_object(Bucket="artifacts", Key="lamctl/releases/app/live/lock.json",
                                  Body=json.dumps({"owner": "ci:1", "release": "r-elsewhere",
                                                   "expires": 4_000_000_000}).encode())
    r = cli("alias", "app", "live", "--version", "2")
    assert r.exit_code == 1 and "release r-elsewhere is running on app:live" in r.stderr
    assert alias_of(cloud) == ("1", {})


def test_shift_all_at_once_with_hooks_in_json(cloud, cli, monkeypatch):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    hook_answers(cloud, SUCCEEDED, SUCCEEDED)
    r = cli("--output", "json", "shift", "--function", "app", "--alias", "live", "--to-version", "2",
            "--all-at-once", "--before-hook", "pre", "--after-hook", "post")
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert [l["type"] for l in lines] == ["start", "hook", "step", "hook", "done", "result"]
    assert lines[2]["version"] == "2" and lines[2]["weight"] == 1.0
    assert lines[-1]["ok"] and lines[-1]["state"] == "succeeded" and lines[-1]["version"] == "2"
    assert alias_of(cloud) == ("2", {})
    j = journal(cloud)
    assert j["state"] == "succeeded" and j["snapshot"]["version"] == "1" and j["completed"] == [0, 1, 2]
    # the same release again: nothing to shift, exit 0
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2")
    assert r.exit_code == 0 and "already at version 2" in r.stdout


def test_a_failing_hook_rolls_back_with_exit_3_and_a_job_summary(cloud, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    hook_answers(cloud, json.dumps({"status": "Succeeded"}), json.dumps({"status": "Failed"}))
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", "--all-at-once",
            "--before-hook", "pre", "--after-hook", "post")
    assert r.exit_code == 3, r
    assert "rolled back" in r.stderr and "AfterAllowTraffic hook post reported status Failed" in r.stderr
    assert alias_of(cloud) == ("1", {})
    text = summary.read_text()
    assert "rolled back" in text and "AfterAllowTraffic hook post reported status Failed" in text
    assert "| at | step | weights | checks | state |" in text


def test_a_hook_without_a_verdict_fails_the_release_with_exit_3(cloud, cli, monkeypatch):
    """This emulator keeps no PutLifecycleEventHookExecutionStatus reports (as AWS, for lamctl's engine): a hook
    answering without a status has given no verdict, and lamctl says which answer it expected."""
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    hook_answers(cloud, json.dumps({"statusCode": 200}))
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", "--all-at-once",
            "--before-hook", "pre")
    assert r.exit_code == 3, r
    assert "BeforeAllowTraffic hook pre gave no verdict" in r.stderr
    assert '{"status": "Succeeded"}' in r.stderr
    assert alias_of(cloud) == ("1", {})
    assert journal(cloud)["state"] == "rolled_back"


def test_dry_run_prints_the_plan_and_writes_nothing(cloud, cli, monkeypatch):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", "--linear", "50%2m", "--dry-run")
    assert r.exit_code == 0, r
    out = r.stdout.splitlines()
    assert out[0].split() == ["at", "step", "weights", "checks"]
    assert "+0s" in out[1] and "route 50% to version 2" in out[1] and "v1 50% / v2 50%" in out[1]
    assert out[2].split()[:5] == ["+0s", "hold", "50%", "for", "2m"]
    assert out[-2].split()[:5] == ["+2m", "route", "100%", "to", "version"]
    assert "nothing was written" in out[-1]
    assert alias_of(cloud) == ("1", {})
    assert cloud.client("s3").list_objects_v2(Bucket="artifacts")["KeyCount"] == 0


def test_shift_from_an_appspec(cloud, cli, monkeypatch, tmp_path):
    spec = tmp_path / "appspec.yml"
    spec.write_text("version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n"
                    "        Name: app\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\n"
                    "Hooks:\n  - BeforeAllowTraffic: pre\n")
    hook_answers(cloud, SUCCEEDED)
    r = cli("--output", "json", "shift", "--appspec", str(spec), "--all-at-once", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert [l["hook"] for l in r.json_lines() if l["type"] == "hook"] == ["pre"]
    assert alias_of(cloud) == ("2", {})
    # without a bucket the journal lives under .lamctl/releases/ in the working folder
    saved = json.loads((tmp_path / ".lamctl" / "releases" / "app" / "live" / "latest.json").read_text())
    assert saved["state"] == "succeeded"
    # the AppSpec's CurrentVersion no longer matches the alias: refused, pointing at the line
    r = cli("shift", "--appspec", str(spec), cwd=tmp_path)
    assert r.exit_code == 2 and f"{spec}:8:25" in r.stderr and "CurrentVersion 1" in r.stderr


@pytest.mark.parametrize("text,where,needle", [
    ("version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties:\n"
     "        Name: app\n        Alias: live\n        TargetVersoin: 2\n", ":8:9", "did you mean TargetVersion"),
    ("version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n      Properties: {Name: app, "
     "Alias: live, TargetVersion: 2}\nHooks:\n  - DuringTraffic: x\n", ":7:5", "unknown key 'DuringTraffic'"),
    ("version: 0.0\nResources: [\n", ":3:1", "invalid YAML"),
])
def test_a_malformed_appspec_is_exit_2_with_file_line_col(cli, tmp_path, text, where, needle):
    spec = tmp_path / "appspec.yml"
    spec.write_text(text)
    r = cli("shift", "--appspec", str(spec))
    assert r.exit_code == 2, r
    assert f"{spec}{where}" in r.stderr and needle in r.stderr


@pytest.mark.parametrize("args,needle", [
    (["--canary", "10%"], "no duration"),
    (["--canary", "150%5m"], "less than 100%"),
    (["--canary", "0%5m"], "more than 0%"),
    (["--canary", "10%5d"], "unknown duration unit"),
    (["--canary", "100%5m"], "less than 100%"),
    (["--config", "LambdaCanary99Percent1Minute"], "not a predefined"),
    (["--canary", "10%5m", "--linear", "10%1m"], "choose one strategy"),
])
def test_bad_strategies_fail_before_any_aws_call(cli, args, needle):
    # no emulator and no credentials here: reaching AWS would be a credentials error (exit 1), not exit 2
    r = cli("shift", "--function", "app", "--alias", "live", *args)
    assert r.exit_code == 2, r
    assert needle in r.stderr


@pytest.mark.parametrize("flag", ["--canary", "--linear", "--steps", "--config"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_strategy_flag_is_exit_2_naming_it_and_nothing_moves(cloud, cli, monkeypatch, flag, value):
    """`--canary "$CANARY"` with the variable unset must not become "all at once"."""
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", flag, value)
    assert r.exit_code == 2, r
    assert f"{flag}: {flag} was given an empty value" in r.stderr
    assert alias_of(cloud) == ("1", {})
    assert cloud.client("s3").list_objects_v2(Bucket="artifacts")["KeyCount"] == 0


@pytest.mark.parametrize("value", ['""', '"   "'])
def test_an_empty_strategy_in_lamctl_toml_is_exit_2_at_its_line(cloud, cli, tmp_path, value):
    (tmp_path / "lamctl.toml").write_text(f'[default]\ns3_bucket = "artifacts"\nstrategy = {value}\n')
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "lamctl.toml:3: the strategy setting is empty" in r.stderr
    assert alias_of(cloud) == ("1", {})
    assert cloud.client("s3").list_objects_v2(Bucket="artifacts")["KeyCount"] == 0
    # a flag still wins over the file
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", "--all-at-once", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert alias_of(cloud) == ("2", {})


def test_unknown_function_and_nothing_to_promote_are_exit_2(cloud, cli, monkeypatch):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    r = cli("shift", "--function", "nope", "--alias", "live", "--all-at-once")
    assert r.exit_code == 2 and "function nope does not exist" in r.stderr
    r = cli("promote", "--function", "app", "--alias", "live")
    assert r.exit_code == 2 and "no release is running on app:live" in r.stderr
    r = cli("rollback", "--function", "app", "--alias", "live")
    assert r.exit_code == 2 and "nothing to roll back" in r.stderr


def test_preflight_refuses_a_split_alias_and_a_firing_alarm(cloud, cli, monkeypatch):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    cw = cloud.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="5 errors")
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", "--alarm", "errors")
    assert r.exit_code == 2 and "already in ALARM" in r.stderr and "5 errors" in r.stderr
    cloud.lam.update_alias(FunctionName="app", Name="live", FunctionVersion="1",
                           RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2")
    assert r.exit_code == 2 and "already splits traffic (version 1 70%, version 2 30%)" in r.stderr
    assert cloud.client("s3").list_objects_v2(Bucket="artifacts")["KeyCount"] == 0


def test_status_shows_weights_and_the_last_release(cloud, cli, monkeypatch):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    assert cli("shift", "--function", "app", "--alias", "live", "--to-version", "2").exit_code == 0
    r = cli("--output", "json", "status", "--function", "app", "--alias", "live")
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert [l for l in lines if l["type"] == "weight"] == [{"type": "weight", "version": "2", "weight": 1.0}]
    result = lines[-1]
    assert result["release"]["state"] == "succeeded" and result["release"]["target"] == "2"
    assert [l["state"] for l in lines if l["type"] == "release_step"] == ["done"]
    r = cli("rollback", "--function", "app", "--alias", "live")
    assert r.exit_code == 0 and "rolled back" in r.stdout
    assert alias_of(cloud) == ("1", {})
    r = cli("status", "--function", "app", "--alias", "live")
    assert "release r-" in r.stdout and "rolled_back" in r.stdout


def test_status_in_the_middle_of_a_canary_shows_the_split_step_done_and_the_hold_in_progress(
        cloud, cli, monkeypatch, instant_clock):
    import os
    import subprocess
    import sys

    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    seen = []

    def look(clock):  # while the shift holds 10 %, another process asks for the status
        if not seen and alias_of(cloud)[1]:
            out = subprocess.run([sys.executable, "-m", "lamctl.cli", "--output", "json", "status", "--function",
                                  "app", "--alias", "live"], capture_output=True, text=True, env=dict(os.environ))
            seen.append([json.loads(line) for line in out.stdout.splitlines()])

    instant_clock.on_sleep.append(look)
    assert cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%5m").exit_code == 0
    steps = [(l["step"], l["state"]) for l in seen[0] if l["type"] == "release_step"]
    assert steps == [("route 10% to version 2", "done"), ("hold 10% for 5m", "in progress"),
                     ("route 100% to version 2, empty routing", "")]
    assert seen[0][-1]["release"]["state"] == "running"


def test_codedeploy_engine_submits_the_release(cloud, cli, monkeypatch):
    r = cli("--output", "json", "shift", "--function", "app", "--alias", "live", "--to-version", "2",
            "--canary", "10%5m", "--engine", "codedeploy", "--codedeploy-role", "arn:aws:iam::123456789012:role/cd",
            "--wait-timeout", "0")
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["config"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    assert result["application"] == "lamctl-app" and result["group"] == "app-live"
    dep = cloud.client("codedeploy").get_deployment(deploymentId=result["deployment_id"])["deploymentInfo"]
    assert json.loads(dep["revision"]["appSpecContent"]["content"])["Resources"][0]["Function"]["Properties"] == {
        "Name": "app", "Alias": "live", "CurrentVersion": "1", "TargetVersion": "2"}
    assert alias_of(cloud) == ("1", {})  # CodeDeploy moves the alias, not lamctl
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", "--steps", "5%1m,50%1m",
            "--engine", "codedeploy")
    assert r.exit_code == 2 and "CodeDeploy cannot run --steps" in r.stderr


def test_the_default_strategy_and_alarms_come_from_lamctl_toml(cloud, cli, tmp_path):
    cw = cloud.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="errors", StateValue="OK", StateReason="fine")
    (tmp_path / "lamctl.toml").write_text('[default]\nstrategy = "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"\n'
                                          'alarms = ["errors"]\nfunction = "app"\nalias = "live"\n')
    r = cli("--output", "json", "shift", "--to-version", "2", "--dry-run", cwd=tmp_path)
    assert r.exit_code == 0, r
    lines = r.json_lines()
    weights = [l["weights"] for l in lines if l["type"] == "plan_step" and l["kind"] == "weights"]
    assert weights == [f"v1 {100 - p}% / v2 {p}%" for p in range(10, 100, 10)]
    assert lines[-1]["strategy"] == "linear 10%1m" and lines[-1]["total_seconds"] == 540
    assert all("errors" in l["checks"] for l in lines if l["type"] == "plan_step" and l["kind"] == "alarms")
    # a flag wins over the file
    r = cli("--output", "json", "shift", "--to-version", "2", "--all-at-once", "--dry-run", cwd=tmp_path)
    assert r.json_lines()[-1]["strategy"] == "all-at-once"


def test_a_successful_release_appends_a_job_summary(cloud, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    hook_answers(cloud, SUCCEEDED)
    r = cli("shift", "--function", "app", "--alias", "live", "--to-version", "2", "--after-hook", "post")
    assert r.exit_code == 0, r
    text = summary.read_text()
    assert text.startswith("earlier step\n")
    assert "succeeded" in text and "`app:live`: version 1 → 2, all-at-once" in text
    assert "| +0s | AfterAllowTraffic hook: invoke post |  | Succeeded expected | done |" in text


def test_without_to_version_latest_is_published_then_shifted(cloud, cli, monkeypatch):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    cloud.lam.update_function_code(FunctionName="app", ZipFile=_zip("v3"))
    r = cli("--output", "json", "shift", "--function", "app", "--alias", "live", "--description", "third")
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert lines[0]["type"] == "publish" and lines[0]["version"] == "3"
    result = lines[-1]
    assert result["version"] == "3" and result["state"] == "succeeded"
    assert result["aws_calls"]["PublishVersion"] == 1 and result["aws_calls"]["UpdateAlias"] == 1
    assert alias_of(cloud) == ("3", {})
    assert cloud.lam.get_function_configuration(FunctionName="app", Qualifier="3")["Description"] == "third"
    # nothing changed since: no new version, nothing to shift, exit 0
    r = cli("shift", "--function", "app", "--alias", "live")
    assert r.exit_code == 0 and "has not changed since version 3" in r.stdout


def test_shift_takes_a_logical_id_with_stack_as_invoke_does(cloud, cli, monkeypatch):
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    template = {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "stack-physical-name", "Runtime": "python3.12", "Handler": "index.handler",
            "Role": cloud.role, "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"}}},
        "Queue": {"Type": "AWS::SQS::Queue"}}}
    cloud.client("cloudformation").create_stack(StackName="app-stack", TemplateBody=json.dumps(template))
    cloud.lam.publish_version(FunctionName="stack-physical-name")
    cloud.lam.update_function_code(FunctionName="stack-physical-name", ZipFile=_zip("v2"))
    cloud.lam.publish_version(FunctionName="stack-physical-name")
    cloud.lam.create_alias(FunctionName="stack-physical-name", Name="live", FunctionVersion="1")

    r = cli("shift", "--stack", "app-stack", "--function", "Fn", "--alias", "live", "--to-version", "2",
            "--all-at-once")
    assert r.exit_code == 0, r
    assert cloud.lam.get_alias(FunctionName="stack-physical-name", Name="live")["FunctionVersion"] == "2"

    r = cli("shift", "--stack", "app-stack", "--function", "Fnn", "--alias", "live", "--to-version", "1",
            "--all-at-once")
    assert r.exit_code == 2 and "stack app-stack has no resource Fnn" in r.stderr and "did you mean Fn?" in r.stderr
    r = cli("shift", "--stack", "app-stack", "--function", "Queue", "--alias", "live", "--to-version", "1",
            "--all-at-once")
    assert r.exit_code == 2 and "is a AWS::SQS::Queue, not a function" in r.stderr
    r = cli("shift", "--stack", "no-such-stack", "--function", "Fn", "--alias", "live", "--all-at-once")
    assert r.exit_code == 2 and "stack no-such-stack does not exist" in r.stderr
    assert cloud.lam.get_alias(FunctionName="stack-physical-name", Name="live")["FunctionVersion"] == "2"


def test_dry_run_without_to_version_names_the_version_to_be_published_and_its_code(cloud, cli, monkeypatch):
    import base64
    import hashlib

    monkeypatch.setenv("LAMCTL_S3_BUCKET", "artifacts")
    code = _zip("v3")
    cloud.lam.update_function_code(FunctionName="app", ZipFile=code)
    sha = hashlib.sha256(code).hexdigest()
    r = cli("shift", "--function", "app", "--alias", "live", "--canary", "10%5m", "--dry-run")
    assert r.exit_code == 0, r
    assert "version $LATEST" not in r.stdout and "v$LATEST" not in r.stdout
    assert "route 10% to the version published from $LATEST" in r.stdout
    assert "v1 90% / new 10%" in r.stdout
    last = r.stdout.splitlines()[-1]
    assert "to the version that will be published from $LATEST" in last and sha in last
    r = cli("--output", "json", "shift", "--function", "app", "--alias", "live", "--canary", "10%5m", "--dry-run")
    result = r.json_lines()[-1]
    assert result["sha256"] == sha and result["code_sha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert result["publish_from_latest"] is True
    assert [v["Version"] for v in cloud.lam.list_versions_by_function(FunctionName="app")["Versions"]] == \
        ["$LATEST", "1", "2"]  # nothing was published
