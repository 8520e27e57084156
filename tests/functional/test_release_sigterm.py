"""SIGTERM (CI cancellation, ``timeout``) stops a real ``lamctl shift`` process as Ctrl-C does: at its hold,
the journal as last saved, the lock given back, a line saying how to go on, exit 143; ``shift --resume`` then
finishes the release."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import wait_for, returning_zip as _zip

pytestmark = pytest.mark.slow


@pytest.fixture
def cloud(aws, tmp_path):
    iam, lam = aws.client("iam"), aws.client("lambda")
    role = iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName="app", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": _zip("v1")}, Publish=True)
    lam.update_function_code(FunctionName="app", ZipFile=_zip("v2"))
    lam.publish_version(FunctionName="app")
    lam.create_alias(FunctionName="app", Name="live", FunctionVersion="1")
    aws.client("s3").create_bucket(Bucket="artifacts")
    aws.lam, aws.s3, aws.cwd = lam, aws.client("s3"), tmp_path
    return aws


def env() -> dict:
    out = dict(os.environ)
    out.update({"LAMCTL_S3_BUCKET": "artifacts", "CI": "1"})
    out.pop("GITHUB_STEP_SUMMARY", None)
    return out


def alias_of(cloud):
    a = cloud.lam.get_alias(FunctionName="app", Name="live")
    return a["FunctionVersion"], (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}


def journal(cloud):
    raw = cloud.s3.get_object(Bucket="artifacts", Key="lamctl/releases/app/live/latest.json")["Body"].read()
    return json.loads(raw)


def lock_present(cloud) -> bool:
    keys = [o["Key"] for o in cloud.s3.list_objects_v2(Bucket="artifacts").get("Contents", [])]
    return "lamctl/releases/app/live/lock.json" in keys


def test_sigterm_during_a_hold_stops_the_shift_resumably_with_exit_143(cloud):
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", "shift", "--function", "app", "--alias", "live",
                             "--to-version", "2", "--canary", "10%6s", "--poll-interval", "0.5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(), cwd=cloud.cwd)
    try:
        wait_for(lambda: alias_of(cloud)[1] == {"2": 0.1}, "the 10% weight")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        out, err = proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 143, err
    assert "was interrupted and left as it was" in err and "lamctl shift --resume --function app --alias live" in err
    assert err.rstrip().endswith("stopped by SIGTERM") and "Traceback" not in err
    saved = journal(cloud)
    assert saved["state"] == "running"
    assert alias_of(cloud) == ("1", {"2": 0.1})  # the traffic stays as the journal says
    assert not lock_present(cloud)  # given back: resume needs no wait for a lease to run out

    r = subprocess.run([sys.executable, "-m", "lamctl.cli", "shift", "--resume", "--function", "app", "--alias",
                        "live", "--poll-interval", "0.5"], capture_output=True, text=True, env=env(), cwd=cloud.cwd,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert alias_of(cloud) == ("2", {}) and journal(cloud)["state"] == "succeeded"
