"""Release engine overhead on the emulator: API calls per step and wall time beyond the configured holds.

Run on demand::

    python tests/benchmarks/bench_release.py            # or: pytest tests/benchmarks/bench_release.py -s

Two measurements of ``--canary 10%5s``:

1. in-process, the real gateways over HTTP to the emulator, the system clock: calls counted per
   API and split into pre-flight, lock, steps and alarm polling; wall time of the steps minus 5 s;
2. the real ``lamctl shift`` command as a process (start-up, imports, client creation included).

3. ``lamctl promote`` and ``lamctl rollback`` of a running ``--canary 10%1h``: from the command's start to the
   alias on its final version at 100 % (read by polling it every 20 ms), and the command's own wall time (it
   waits for the release to act and reports the end state).

Goals (issue 5): at most 2 calls per step besides alarm polling; the release within 1 s of its 5 s. A promote
or rollback takes effect in about 1 s (the running release looks for requests every second).
CodeDeploy, the peer, cannot run locally and its shortest hold is one minute, so it has no figure here.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from collections import Counter

HOLD = 5.0


def _zip(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", f"def handler(event, context):\n    return {text!r}\n")
    return buf.getvalue()


def _setup(endpoint: str, fn: str):
    import boto3
    import json
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/config", method="POST",
                                                  data=json.dumps({"lambda": {"use_docker": False}}).encode(),
                                                  headers={"Content-Type": "application/json"})).read()
    kw = dict(region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing",
              aws_secret_access_key="testing")
    iam, lam, s3, cw = (boto3.client(s, **kw) for s in ("iam", "lambda", "s3", "cloudwatch"))
    try:
        role = iam.create_role(RoleName="bench-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="bench-role")["Role"]["Arn"]
    lam.create_function(FunctionName=fn, Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": _zip("v1")}, Publish=True)
    lam.update_function_code(FunctionName=fn, ZipFile=_zip("v2"))
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    try:
        s3.create_bucket(Bucket="bench-artifacts")
    except Exception:
        pass
    cw.put_metric_alarm(AlarmName="bench-errors", MetricName="Errors", Namespace="AWS/Lambda", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.set_alarm_state(AlarmName="bench-errors", StateValue="OK", StateReason="bench")
    return kw


def in_process(endpoint: str, alarms: bool) -> dict:
    import boto3

    from lamctl.release import strategy as S
    from lamctl.release.aws import AlarmGateway, LambdaGateway, S3ObjectStore
    from lamctl.release.clock import SystemClock
    from lamctl.release.engine import Engine

    fn = f"bench-{'alarms' if alarms else 'plain'}"
    kw = _setup(endpoint, fn)
    lam = LambdaGateway(boto3.client("lambda", **kw))
    cw = AlarmGateway(boto3.client("cloudwatch", **kw))
    store = S3ObjectStore(boto3.client("s3", **kw), "bench-artifacts")
    clock = SystemClock()
    marks: dict[str, tuple[float, Counter]] = {}

    def snapshot() -> Counter:
        return Counter(lam.calls) + Counter(store.calls) + Counter(cw.calls)

    def on_event(ev):
        if ev.type in ("start", "done"):
            marks[ev.type] = (time.perf_counter(), snapshot())

    engine = Engine(lam, cw, store, clock, on_event=on_event)
    t0 = time.perf_counter()
    plan, info = engine.plan(fn, "live", "2", S.canary("10%5s"), ["bench-errors"] if alarms else [])
    base = snapshot()
    engine.shift(plan, info)
    t_end = time.perf_counter()
    total = snapshot() - base
    t_start, c_start = marks["start"]
    t_done, c_done = marks["done"]
    steps = c_done - c_start
    polls = steps.get("DescribeAlarms", 0)
    writes = steps.copy()
    writes.pop("DescribeAlarms", None)
    n_steps = len(plan.steps)
    return {
        "steps": n_steps,
        "plan": [s.kind for s in plan.steps],
        "calls_total": dict(total),
        "calls_in_steps_besides_polling": sum(writes.values()),
        "calls_per_step": sum(writes.values()) / n_steps,
        "alarm_polls": polls,
        "preflight_and_lock": sum((c_start - base).values()),
        "unlock": sum((total - (c_done - base)).values()),
        "wall_steps": t_done - t_start,
        "wall_total": t_end - t0,
    }


def as_process(endpoint: str, bucket: bool) -> dict:
    import tempfile

    fn = f"bench-cli-{'s3' if bucket else 'local'}"
    _setup(endpoint, fn)
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION="us-east-1", CI="1")
    if bucket:
        env["LAMCTL_S3_BUCKET"] = "bench-artifacts"
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "lamctl.cli", "shift", "--function", fn, "--alias", "live",
                        "--to-version", "2", "--canary", "10%5s"], capture_output=True, text=True, env=env,
                       cwd=tempfile.mkdtemp(prefix="bench-release-"))
    wall = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lamctl.cli", "--version"], capture_output=True, env=env)
    startup = time.perf_counter() - t0
    return {"wall": wall, "startup": startup}


def control_latency(endpoint: str, action: str, run: int) -> dict:
    """Seconds from the start of ``lamctl ACTION`` to the alias at its final state, and the command's wall time."""
    import tempfile

    import boto3

    fn = f"bench-{action}-{run}"
    _setup(endpoint, fn)
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_REGION="us-east-1", CI="1", LAMCTL_S3_BUCKET="bench-artifacts")
    lam = boto3.client("lambda", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    cwd = tempfile.mkdtemp(prefix="bench-control-")
    shift = subprocess.Popen([sys.executable, "-m", "lamctl.cli", "shift", "--function", fn, "--alias", "live",
                              "--to-version", "2", "--canary", "10%1h"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env, cwd=cwd)

    def alias():
        a = lam.get_alias(FunctionName=fn, Name="live")
        return a["FunctionVersion"], (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}

    try:
        deadline = time.monotonic() + 120
        while alias()[1] != {"2": 0.1}:  # the canary's 10 % step is in place: the hold has begun
            assert time.monotonic() < deadline and shift.poll() is None, "the canary did not start"
            time.sleep(0.02)
        final = ("1", {}) if action == "rollback" else ("2", {})
        t0 = time.perf_counter()
        cmd = subprocess.Popen([sys.executable, "-m", "lamctl.cli", action, "--function", fn, "--alias", "live"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
        while alias() != final:
            assert time.perf_counter() - t0 < 60, f"{action} did not take effect in 60 s"
            time.sleep(0.02)
        effect = time.perf_counter() - t0
        assert cmd.wait(timeout=60) == 0, cmd.stderr.read()
        wall = time.perf_counter() - t0
        shift.wait(timeout=60)
    finally:
        if shift.poll() is None:
            shift.kill()
    return {"effect": effect, "wall": wall}


def main() -> None:
    from lamctl.local.cloud.emulator import EmulatorServer

    server = EmulatorServer().start()  # the local cloud's emulator, served from a thread, no access log
    endpoint = server.endpoint
    try:
        for alarms in (False, True):
            m = in_process(endpoint, alarms)
            label = "with 1 alarm" if alarms else "no alarms"
            print(f"--canary 10%5s in-process ({label}); plan: {' -> '.join(m['plan'])}")
            print(f"  calls during the steps besides alarm polling: {m['calls_in_steps_besides_polling']} "
                  f"over {m['steps']} steps = {m['calls_per_step']:.2f} per step (goal <= 2)")
            print(f"  alarm polls: {m['alarm_polls']}; pre-flight + lock: {m['preflight_and_lock']} calls; "
                  f"unlock: {m['unlock']} calls")
            print(f"  by API: {dict(sorted(m['calls_total'].items()))}")
            print(f"  wall: steps {m['wall_steps']:.3f} s (overhead beyond the 5 s hold: {m['wall_steps'] - HOLD:.3f} s);"
                  f" plan to unlock {m['wall_total']:.3f} s (overhead {m['wall_total'] - HOLD:.3f} s, goal <= 1 s)")
        for bucket in (True, False):
            p = as_process(endpoint, bucket)
            where = "journal and lock in S3" if bucket else "journal and lock in .lamctl/"
            print(f"lamctl shift --canary 10%5s as a process ({where}): {p['wall']:.3f} s, {p['wall'] - HOLD:.3f} s "
                  f"beyond the hold (goal <= 1 s); process start-up alone (lamctl --version) {p['startup']:.3f} s")
        for action in ("rollback", "promote"):
            runs = [control_latency(endpoint, action, i) for i in range(3)]
            print(f"lamctl {action} of a running --canary 10%1h (journal in S3), 3 runs: takes effect in "
                  + ", ".join(f"{r['effect']:.2f}" for r in runs) + " s; the command returns after "
                  + ", ".join(f"{r['wall']:.2f}" for r in runs) + " s (goal: about 1 s)")
    finally:
        server.stop()


def test_bench_release():  # pytest tests/benchmarks/bench_release.py -s
    main()


if __name__ == "__main__":
    main()
