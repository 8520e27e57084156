"""Crash safety and concurrency with real ``lamctl`` processes against the emulator.

A release is SIGKILLed after each of its steps (and between a journal save and
its alias write), then ``lamctl shift --resume`` or ``lamctl rollback`` must end
with the alias on one version at 100 % and a complete journal. Two shifts
started together on one alias: exactly one proceeds. A release holding a long
bake is promoted, rolled back, or killed from outside.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import Gate, wait_for, returning_zip as _zip

pytestmark = pytest.mark.slow

# canary 10%1s with hooks and an alarm: 0 BeforeAllowTraffic, 1 weights 10%, 2 bake, 3 alarms, 4 finalize,
# 5 AfterAllowTraffic
STEPS = 6
SHIFT = ["shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1s",
         "--before-hook", "pre", "--after-hook", "post", "--alarm", "errors", "--poll-interval", "0.5"]
KILL_POINTS = [f"after:{i}" for i in range(STEPS)] + ["before-write:1", "before-write:4", "written:1", "written:4"]


@pytest.fixture
def cloud(aws, tmp_path):
    iam, lam = aws.client("iam"), aws.client("lambda")
    role = iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for name in ("app", "pre", "post"):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": _zip(name)}, Publish=True)
    lam.update_function_code(FunctionName="app", ZipFile=_zip("v2"))
    lam.publish_version(FunctionName="app")
    lam.create_alias(FunctionName="app", Name="live", FunctionVersion="1")
    aws.client("s3").create_bucket(Bucket="artifacts")
    cw = aws.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="errors", StateValue="OK", StateReason="fine")
    aws.lam, aws.s3, aws.cw, aws.cwd = lam, aws.client("s3"), cw, tmp_path
    hook_answers(aws, *[json.dumps({"status": "Succeeded"})] * 20)
    return aws


def hook_answers(aws, *answers: str) -> None:
    """What the emulator's next invokes return (it runs no code without Docker): the hooks' verdicts."""
    import urllib.request

    body = json.dumps({"results": list(answers), "region": "us-east-1"}).encode()
    req = urllib.request.Request(aws.endpoint + "/moto-api/static/lambda-simple/response", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def env(**extra: str) -> dict:
    out = dict(os.environ)
    out.update({"LAMCTL_S3_BUCKET": "artifacts", "CI": "1"})
    out.pop("GITHUB_STEP_SUMMARY", None)
    out.update(extra)
    return out


def lamctl(cloud, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lamctl.cli", *args], capture_output=True, text=True,
                          env=env(**extra), cwd=cloud.cwd, timeout=120)


def start(cloud, *args: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lamctl.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(**extra), cwd=cloud.cwd)


def alias_of(cloud):
    a = cloud.lam.get_alias(FunctionName="app", Name="live")
    return a["FunctionVersion"], (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}


def journal(cloud):
    try:
        raw = cloud.s3.get_object(Bucket="artifacts", Key="lamctl/releases/app/live/latest.json")["Body"].read()
    except cloud.s3.exceptions.NoSuchKey:
        return None
    return json.loads(raw)


def lock_present(cloud) -> bool:
    keys = [o["Key"] for o in cloud.s3.list_objects_v2(Bucket="artifacts").get("Contents", [])]
    return "lamctl/releases/app/live/lock.json" in keys


def killed_at(cloud, point: str):
    proc = lamctl(cloud, *SHIFT, LAMCTL_FAULT_KILL=point)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    saved = journal(cloud)
    assert saved is not None and saved["state"] == "running"
    return saved


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_release_resumes_to_the_target(cloud, point):
    killed_at(cloud, point)
    r = lamctl(cloud, "--output", "json", "shift", "--resume", "--function", "app", "--alias", "live")
    assert r.returncode == 0, r.stderr
    assert alias_of(cloud) == ("2", {})
    saved = journal(cloud)
    assert saved["state"] == "succeeded" and sorted(saved["completed"]) == list(range(STEPS))
    assert saved["pending"] is None and saved["snapshot"]["version"] == "1"
    assert not lock_present(cloud)
    # a hook is never skipped: each ran at least once across the two processes (the journal keeps the events
    # of both, the killed one's included)
    hooks = [e["message"] for e in saved["events"] if e["kind"] == "hook"]
    assert "BeforeAllowTraffic hook pre succeeded" in hooks and "AfterAllowTraffic hook post succeeded" in hooks, hooks
    assert json.loads(r.stdout.splitlines()[-1])["state"] == "succeeded"


@pytest.mark.parametrize("point", KILL_POINTS)
def test_killed_release_rolls_back_to_the_snapshot(cloud, point):
    killed_at(cloud, point)
    r = lamctl(cloud, "rollback", "--function", "app", "--alias", "live")
    assert r.returncode == 0, r.stderr
    assert alias_of(cloud) == ("1", {})
    saved = journal(cloud)
    assert saved["state"] == "rolled_back" and saved["reason"] == "rollback requested by an operator"
    assert saved["finished"] is not None and not lock_present(cloud)
    archived = cloud.s3.get_object(Bucket="artifacts", Key=f"lamctl/releases/app/live/{saved['id']}.json")
    assert json.loads(archived["Body"].read())["state"] == "rolled_back"


def test_two_concurrent_shifts_exactly_one_proceeds(cloud):
    args = ["shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%3s"]
    procs = [start(cloud, *args), start(cloud, *args)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 1], results
    loser = [r for r in results if r[0] == 1][0]
    assert "is running on app:live" in loser[2]
    winner_id = journal(cloud)["id"]
    assert f"release {winner_id}" in loser[2]
    assert alias_of(cloud) == ("2", {})


def test_a_shift_that_read_no_lock_just_before_another_took_it_is_refused_as_running(cloud, tmp_path):
    """The race seen under load: B read no lock, A then took it and saved its journal, B read A's journal. B
    must say A is running (exit 1), never that A is unfinished and should be resumed."""
    args = ["shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1h",
            "--poll-interval", "0.5"]
    gate = Gate(tmp_path, "b")
    b = start(cloud, *args, **gate.env("checked-lock:0"))
    try:
        gate.reached(b)
        a = start(cloud, *args)
        wait_for(lambda: alias_of(cloud)[1] == {"2": 0.1}, "A's 10% weight")
        gate.open_()
        code, out, err = b.wait(timeout=60), *b.communicate()
        assert code == 1, err
        assert f"release {journal(cloud)['id']} is running on app:live" in err
        assert "--resume" not in err
        assert lamctl(cloud, "rollback", "--function", "app", "--alias", "live").returncode == 0
        assert a.wait(timeout=60) == 3
    finally:
        for p in (a, b) if "a" in dir() else (b,):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert alias_of(cloud) == ("1", {})


def test_a_shift_whose_alias_moved_while_it_was_starting_writes_nothing(cloud, tmp_path):
    """B passed pre-flight, then A ran to the end before B took the lock: B finds the alias at the target and
    changes nothing; a B for another target is refused (exit 1) instead of writing over A's result."""
    cloud.lam.update_function_code(FunctionName="app", ZipFile=_zip("v3"))
    assert cloud.lam.publish_version(FunctionName="app")["Version"] == "3"
    gate, other = Gate(tmp_path, "b"), Gate(tmp_path, "c")
    same = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--all-at-once",
                 **gate.env("before-lock:0"))
    back = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "3", "--all-at-once",
                 **other.env("before-lock:0"))
    try:
        gate.reached(same)
        other.reached(back)
        r = lamctl(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1s")
        assert r.returncode == 0, r.stderr
        gate.open_()
        code, out, err = same.wait(timeout=60), *same.communicate()
        assert code == 0, err
        assert "nothing to shift" in out + err
        winner = journal(cloud)["id"]
        other.open_()
        code, out, err = back.wait(timeout=60), *back.communicate()
    finally:
        for p in (same, back):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert code == 1, err
    assert "changed while this release was starting" in err
    assert alias_of(cloud) == ("2", {})
    assert journal(cloud)["id"] == winner and not lock_present(cloud)


def test_promote_a_running_release_skips_its_hold(cloud):
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1h",
                 "--alarm", "errors", "--after-hook", "post", "--poll-interval", "0.5")
    try:
        wait_for(lambda: alias_of(cloud)[1] == {"2": 0.1}, "the 10% weight")
        r = lamctl(cloud, "promote", "--function", "app", "--alias", "live")
        assert r.returncode == 0, r.stderr
        assert "succeeded" in r.stdout
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert alias_of(cloud) == ("2", {})
    saved = journal(cloud)
    assert saved["state"] == "succeeded" and any(e["kind"] == "promote" for e in saved["events"])
    assert any(e["kind"] == "hook" and "AfterAllowTraffic" in e["message"] for e in saved["events"])


def test_rollback_a_running_release_from_another_process(cloud):
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1h",
                 "--alarm", "errors", "--poll-interval", "0.5")
    try:
        wait_for(lambda: alias_of(cloud)[1] == {"2": 0.1}, "the 10% weight")
        r = lamctl(cloud, "rollback", "--function", "app", "--alias", "live")
        assert r.returncode == 0, r.stderr
        assert proc.wait(timeout=60) == 3  # the release itself reports it was rolled back
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert alias_of(cloud) == ("1", {})
    assert journal(cloud)["state"] == "rolled_back"


def test_an_alarm_during_a_real_hold_rolls_back_with_exit_3(cloud):
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1h",
                 "--alarm", "errors", "--poll-interval", "0.5")
    try:
        wait_for(lambda: alias_of(cloud)[1] == {"2": 0.1}, "the 10% weight")
        cloud.cw.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="errors > 1")
        assert proc.wait(timeout=60) == 3
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "alarm in ALARM: errors (errors > 1)" in err
    assert alias_of(cloud) == ("1", {})


def test_killed_from_outside_during_a_long_hold_then_resumed(cloud):
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1h",
                 "--poll-interval", "0.5")
    wait_for(lambda: alias_of(cloud)[1] == {"2": 0.1}, "the 10% weight")
    proc.kill()
    proc.wait()
    # a new shift is refused and says what to do
    r = lamctl(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2")
    assert r.returncode == 2 and "unfinished" in r.stderr and "--resume" in r.stderr
    # resume promotes through `promote` (the hold has 59 minutes left)
    r = lamctl(cloud, "promote", "--function", "app", "--alias", "live")
    assert r.returncode == 0, r.stderr
    assert alias_of(cloud) == ("2", {}) and journal(cloud)["state"] == "succeeded"


def test_a_terminal_gets_a_live_view(cloud):
    import pty

    master, slave = pty.openpty()
    environ = env(TERM="xterm", COLUMNS="120")
    environ.pop("CI")
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", "shift", "--function", "app", "--alias", "live",
                             "--to-version", "2", "--canary", "10%2s", "--alarm", "errors", "--poll-interval", "1"],
                            stdin=slave, stdout=slave, stderr=slave, env=environ, cwd=cloud.cwd)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    text = seen.decode("utf-8", "replace")
    assert "app:live" in text and "v1 90%" in text and "v2 10%" in text
    # a countdown: its figure depends on when the view was drawn, so only its form is asserted
    assert re.search(r"next: route 100% to version 2, empty routing in \d+s", text), text
    assert "alarms: errors OK" in text
    assert "\x1b[" in text  # redrawn in place, not appended lines
    assert "app:live now serves version 2 at 100%" in text


# ---------------------------------------------------------------- promote / rollback reach the release, and say
# what happened

def finish(*procs: subprocess.Popen) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_a_rollback_reaches_a_hold_shorter_than_the_alarm_poll(cloud):
    """Seen: --linear 10%5s with the default 10 s poll never looked for the request; the release went to 100 %
    and rollback said it succeeded."""
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--linear", "10%5s")
    try:
        wait_for(lambda: alias_of(cloud)[1], "the first weight")
        r = lamctl(cloud, "rollback", "--function", "app", "--alias", "live")
        assert proc.wait(timeout=60) == 3, proc.communicate()
    finally:
        finish(proc)
    assert r.returncode == 0, r.stderr
    assert "rolled back: rollback requested by an operator; app:live serves version 1 at 100%" in r.stdout
    assert alias_of(cloud) == ("1", {})
    saved = journal(cloud)
    assert saved["state"] == "rolled_back" and 9 not in saved["completed"]  # never reached 100 %


def test_a_promote_reaches_a_hold_shorter_than_the_alarm_poll(cloud):
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--linear", "10%5s")
    try:
        wait_for(lambda: alias_of(cloud)[1], "the first weight")
        r = lamctl(cloud, "--output", "json", "promote", "--function", "app", "--alias", "live")
        assert proc.wait(timeout=60) == 0, proc.communicate()
    finally:
        finish(proc)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout.splitlines()[-1])
    assert result["ok"] and result["state"] == "succeeded" and result["promoted"] and result["version"] == "2"
    assert alias_of(cloud) == ("2", {})
    saved = journal(cloud)
    # the linear release holds nine weights; promoted during the first, most of its holds were skipped
    assert any(e["kind"] == "promote" for e in saved["events"])


def _control_json(cloud):
    try:
        return json.loads(cloud.s3.get_object(Bucket="artifacts",
                                              Key="lamctl/releases/app/live/control.json")["Body"].read())
    except cloud.s3.exceptions.NoSuchKey:
        return None


def test_a_rollback_the_release_did_not_act_on_before_it_finished_is_exit_1_and_says_how_to_go_back(
        cloud, tmp_path):
    """The release wrote 100 % and was ending when the request came: rollback must not claim success."""
    gate, asker = Gate(tmp_path, "end"), []
    # canary: 0 weights 10 %, 1 hold, 2 finalize; it stops right after writing 100 %, before it ends
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1s",
                 **gate.env("after:2"))
    try:
        gate.reached(proc)
        asker.append(start(cloud, "rollback", "--function", "app", "--alias", "live"))
        wait_for(lambda: _control_json(cloud), "the rollback request")
        gate.open_()
        assert proc.wait(timeout=60) == 0
        code, out, err = asker[0].wait(timeout=60), *asker[0].communicate()
    finally:
        finish(proc, *asker)
    assert code == 1, out + err
    assert "finished before it acted on the rollback: app:live serves version 2 100%; nothing was rolled back" \
        in err
    assert "lamctl alias app live --version 1" in err and "lamctl shift --function app --alias live" in err
    assert alias_of(cloud) == ("2", {}) and journal(cloud)["state"] == "succeeded"
    assert _control_json(cloud) is None  # no request left behind


def test_a_promote_that_came_as_the_release_ended_reports_what_happened(cloud, tmp_path):
    gate, asker = Gate(tmp_path, "end"), []
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1s",
                 **gate.env("after:2"))
    try:
        gate.reached(proc)
        asker.append(start(cloud, "promote", "--function", "app", "--alias", "live"))
        wait_for(lambda: _control_json(cloud), "the promote request")
        gate.open_()
        assert proc.wait(timeout=60) == 0
        code, out, err = asker[0].wait(timeout=60), *asker[0].communicate()
    finally:
        finish(proc, *asker)
    assert code == 0, out + err
    assert "succeeded before the promote was needed: app:live serves version 2 at 100%" in out
    assert alias_of(cloud) == ("2", {})


def test_rollback_racing_a_resume_is_acted_on_by_the_resumed_release(cloud, tmp_path):
    """Seen in 2 of 5 races: `shift --resume` took the lock, rollback asked it, the resumed release finished
    its short hold without looking, and rollback said it succeeded."""
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%5s")
    wait_for(lambda: alias_of(cloud)[1], "the 10% weight")
    proc.kill()
    proc.wait()
    gate, asker = Gate(tmp_path, "resumed"), []
    resumed = start(cloud, "shift", "--resume", "--function", "app", "--alias", "live", **gate.env("resumed:0"))
    try:
        gate.reached(resumed)  # it holds the lock now
        asker.append(start(cloud, "rollback", "--function", "app", "--alias", "live"))
        wait_for(lambda: _control_json(cloud), "the rollback request")
        gate.open_()
        code, out, err = asker[0].wait(timeout=60), *asker[0].communicate()
        assert resumed.wait(timeout=60) == 3
    finally:
        finish(resumed, *asker)
    assert code == 0, out + err
    assert "asked " in err and "rolled back" in out
    assert alias_of(cloud) == ("1", {}) and journal(cloud)["state"] == "rolled_back"


def test_status_of_a_release_whose_process_died_says_so_and_how_to_go_on(cloud):
    proc = start(cloud, "shift", "--function", "app", "--alias", "live", "--to-version", "2", "--canary", "10%1h",
                 "--poll-interval", "0.5")
    wait_for(lambda: alias_of(cloud)[1] == {"2": 0.1}, "the 10% weight")
    proc.kill()
    proc.wait()
    resume = "lamctl shift --resume --function app --alias live"
    undo = "lamctl rollback --function app --alias live"
    r = lamctl(cloud, "status", "--function", "app", "--alias", "live")
    assert r.returncode == 0, r.stderr
    assert f"unfinished: its process " in r.stdout and f":{proc.pid} is gone (killed or crashed)" in r.stdout
    assert "running" not in r.stdout
    assert f"continue it with '{resume}' or undo it with '{undo}'" in r.stderr
    assert "interrupted" in r.stdout and "in progress" not in r.stdout
    r = lamctl(cloud, "--output", "json", "status", "--function", "app", "--alias", "live")
    result = json.loads(r.stdout.splitlines()[-1])
    assert result["release"]["state"] == "running"  # as the journal says; the driver says nobody runs it
    driver = result["release"]["driver"]
    assert driver["running"] is False and driver["state"] == "process-gone"
    assert driver["owner"].endswith(f":{proc.pid}") and driver["commands"] == [resume, undo]
    # the same release seen from another machine: its owner's lease ran out
    lock_key = "lamctl/releases/app/live/lock.json"
    held = json.loads(cloud.s3.get_object(Bucket="artifacts", Key=lock_key)["Body"].read())
    cloud.s3.put_object(Bucket="artifacts", Key=lock_key, Body=json.dumps(
        {**held, "owner": "ci-runner-7:4242", "expires": time.time() - 30}).encode())
    r = lamctl(cloud, "--output", "json", "status", "--function", "app", "--alias", "live")
    driver = json.loads(r.stdout.splitlines()[-1])["release"]["driver"]
    assert driver["running"] is False and driver["state"] == "lease-expired" and "ran out" in driver["message"]
    assert driver["commands"] == [resume, undo]
    # ... and while that machine still renews it: running, the hold in progress
    cloud.s3.put_object(Bucket="artifacts", Key=lock_key, Body=json.dumps(
        {**held, "owner": "ci-runner-7:4242", "expires": time.time() + 60}).encode())
    r = lamctl(cloud, "status", "--function", "app", "--alias", "live")
    assert "in progress" in r.stdout and "unfinished" not in r.stdout and "--resume" not in r.stderr
