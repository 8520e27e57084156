"""Releases on the local cloud, where invocations run the code: a canary really splits traffic between
the two versions while it holds, and a BeforeAllowTraffic hook really runs (and can stop a bad version).

The local cloud's server runs in this process (``local_cloud``); ``lamctl shift`` with a 5-minute hold
runs as a real process and is promoted from here once the split has been measured."""

from __future__ import annotations

import collections
import io
import json
import os
import subprocess
import sys
import time
import zipfile

import pytest

APP = """\
import os
def handler(event, context):
    return {{"answer": {answer!r}, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"]}}
"""
# A pre-traffic smoke test, as teams write them: invoke the new version, check its answer.
HOOK = """\
import json, boto3
def handler(event, context):
    lam = boto3.client("lambda")
    got = lam.invoke(FunctionName=event["Function"], Qualifier=event["TargetVersion"], Payload=b"{}")
    answer = json.loads(got["Payload"].read())
    ok = "FunctionError" not in got and answer.get("answer") == 42
    return {"status": "Succeeded" if ok else "Failed", "seen": answer}
"""


def code(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source)
    return buf.getvalue()


@pytest.fixture
def app(local_cloud, cli, tmp_path):
    """Function ``app`` at version 1 behind alias ``live``; $LATEST holds new code."""
    lam = local_cloud.client("lambda")
    role = local_cloud.client("iam").create_role(RoleName="app-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName="app", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": code(APP.format(answer=41))}, Timeout=10)
    lam.create_function(FunctionName="app-smoke", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": code(HOOK)}, Timeout=30)
    assert cli("publish", "app", cwd=tmp_path).exit_code == 0
    assert cli("alias", "app", "live", "--version", "1", cwd=tmp_path).exit_code == 0
    local_cloud.lam = lam
    return local_cloud


def new_code(app, answer) -> None:
    app.lam.update_function_code(FunctionName="app", ZipFile=code(APP.format(answer=answer)))


def test_a_canary_on_the_local_cloud_sends_about_one_invocation_in_ten_to_the_new_version(app, cli, tmp_path):
    new_code(app, 42)
    env = dict(os.environ)
    shift = subprocess.Popen(
        [sys.executable, "-m", "lamctl.cli", "--output", "json", "shift", "--function", "app", "--alias", "live",
         "--canary", "10%5m", "--poll-interval", "0.2"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:  # wait for the canary step: version 2 gets 10 %
            routing = app.lam.get_alias(FunctionName="app", Name="live").get("RoutingConfig") or {}
            if routing.get("AdditionalVersionWeights"):
                break
            assert shift.poll() is None, shift.communicate()
            assert time.monotonic() < deadline, "the canary step never started"
            time.sleep(0.05)
        assert routing["AdditionalVersionWeights"] == {"2": pytest.approx(0.1)}

        seen = collections.Counter()
        for _ in range(300):
            resp = app.lam.invoke(FunctionName="app", Qualifier="live", Payload=b"{}")
            answer = json.loads(resp["Payload"].read())
            assert resp["ExecutedVersion"] == answer["version"]
            assert answer["answer"] == {"1": 41, "2": 42}[answer["version"]]
            seen[answer["version"]] += 1
        # 10 % of 300 is 30 (standard deviation 5.2)
        assert 10 <= seen["2"] <= 60 and seen["1"] + seen["2"] == 300, seen

        promoted = cli("promote", "--function", "app", "--alias", "live", cwd=tmp_path)
        assert promoted.exit_code == 0, promoted
        out, err = shift.communicate(timeout=120)
    finally:
        if shift.poll() is None:
            shift.kill()
            shift.communicate()
    assert shift.returncode == 0, out + err
    assert json.loads(out.strip().splitlines()[-1])["state"] == "succeeded"
    alias = app.lam.get_alias(FunctionName="app", Name="live")
    assert alias["FunctionVersion"] == "2" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    for _ in range(20):
        resp = app.lam.invoke(FunctionName="app", Qualifier="live", Payload=b"{}")
        assert resp["ExecutedVersion"] == "2"


def test_a_pre_traffic_hook_runs_on_the_local_cloud_and_keeps_a_bad_version_out(app, cli, tmp_path):
    new_code(app, 40)  # the wrong answer
    bad = cli("--output", "json", "shift", "--function", "app", "--alias", "live", "--all-at-once",
              "--before-hook", "app-smoke", cwd=tmp_path)
    assert bad.exit_code == 3, bad  # rolled back
    done = [line for line in bad.json_lines() if line["type"] == "done"][-1]
    assert done["state"] == "rolled_back" and "app-smoke reported status Failed" in done["reason"], done
    alias = app.lam.get_alias(FunctionName="app", Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")

    new_code(app, 42)  # fixed
    good = cli("--output", "json", "shift", "--function", "app", "--alias", "live", "--all-at-once",
               "--before-hook", "app-smoke", cwd=tmp_path)
    assert good.exit_code == 0, good
    assert app.lam.get_alias(FunctionName="app", Name="live")["FunctionVersion"] == "3"
    resp = app.lam.invoke(FunctionName="app", Qualifier="live", Payload=b"{}")
    assert json.loads(resp["Payload"].read()) == {"answer": 42, "version": "3"}


SILENT = """\
def handler(event, context):
    return None  # neither a status nor a PutLifecycleEventHookExecutionStatus report
"""

# A hook that takes its time: it runs until the test lets it go (bounded), then passes.
SLOW = """\
import os, time
def handler(event, context):
    open(os.environ["STARTED"], "w").close()
    deadline = time.time() + 60
    while not os.path.exists(os.environ["GO"]) and time.time() < deadline:
        time.sleep(0.05)
    return {"status": "Succeeded"}
"""


def test_a_hook_that_gives_no_verdict_fails_the_release_when_its_time_runs_out(app, cli, tmp_path):
    role = app.client("iam").get_role(RoleName="app-role")["Role"]["Arn"]
    app.lam.create_function(FunctionName="silent", Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": code(SILENT)}, Timeout=10)
    new_code(app, 42)
    r = cli("shift", "--function", "app", "--alias", "live", "--all-at-once", "--before-hook", "silent",
            "--hook-timeout", "2", cwd=tmp_path)
    assert r.exit_code == 3, r
    assert "waiting up to" in r.stderr and "PutLifecycleEventHookExecutionStatus" in r.stderr
    assert "BeforeAllowTraffic hook silent gave no verdict" in r.stderr and "within the hook timeout of 2s" in r.stderr
    assert '{"status": "Succeeded"}' in r.stderr
    alias = app.lam.get_alias(FunctionName="app", Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")


def test_a_rollback_asked_while_a_hook_runs_is_said_and_done_when_the_hook_returns(app, tmp_path):
    role = app.client("iam").get_role(RoleName="app-role")["Role"]["Arn"]
    started, go = tmp_path / "hook-started", tmp_path / "hook-go"
    app.lam.create_function(FunctionName="gate", Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": code(SLOW)}, Timeout=90,
                            Environment={"Variables": {"STARTED": str(started), "GO": str(go)}})
    new_code(app, 42)
    env = dict(os.environ)
    run = lambda *args: subprocess.Popen([sys.executable, "-m", "lamctl.cli", *args], cwd=tmp_path, env=env,  # noqa
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    shift = run("shift", "--function", "app", "--alias", "live", "--canary", "10%1h", "--before-hook", "gate")
    asker = None
    control = tmp_path / ".lamctl" / "releases" / "app" / "live" / "control.json"
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert shift.poll() is None, shift.communicate()
            assert time.monotonic() < deadline, "the hook never started"
            time.sleep(0.05)
        # the asker's stderr goes to a file, read while it waits: the hook is let go only once the asker has
        # passed the release's note on (it reads every quarter second; a hook this quick would race it)
        asked_err = tmp_path / "asker.err"
        with asked_err.open("w") as sink:
            asker = subprocess.Popen([sys.executable, "-m", "lamctl.cli", "rollback", "--function", "app",
                                      "--alias", "live"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                     stderr=sink, text=True)
        while not (control.exists() and "note" in json.loads(control.read_text() or "{}")):
            assert asker.poll() is None, asker.communicate()
            assert time.monotonic() < deadline + 30, "the release never said it saw the request"
            time.sleep(0.05)
        while "saw the request" not in asked_err.read_text():
            assert asker.poll() is None, (asker.communicate(), asked_err.read_text())
            assert time.monotonic() < deadline + 30, "the waiting command never passed the release's note on"
            time.sleep(0.05)
        go.touch()  # the hook returns (and passes): the rollback happens now
        out, _ = asker.communicate(timeout=60)
        err = asked_err.read_text()
        assert shift.wait(timeout=60) == 3
    finally:
        go.touch()
        for p in (shift, asker):
            if p is not None and p.poll() is None:
                p.kill()
                p.communicate()
    assert asker.returncode == 0, out + err
    assert "saw the request: the rollback takes effect when the BeforeAllowTraffic hook gate returns" in err
    assert "rolled back: rollback requested by an operator; app:live serves version 1 at 100%" in out
    alias = app.lam.get_alias(FunctionName="app", Name="live")
    assert alias["FunctionVersion"] == "1" and not (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
