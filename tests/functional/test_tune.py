"""``lamctl tune`` over real HTTP: the gateway against the emulator's Lambda API, the whole experiment on the
local cloud (table, picks, chart, JSON, the function as it was after, also after Ctrl-C), and the local
runtime's limits (CPU quota and memory limit from MemorySize where this machine has cgroups, else the warning).
Figures are never asserted: only what was measured, on which size, and what was put back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET


from lamctl.local.runtime.environment import Environment, FunctionSpec
from lamctl.local.runtime.limits import cpu_quota_us, support
from lamctl.release.clock import FakeClock
from lamctl.release.tune import TuneGateway
from tests.helpers import Gate, code_zip

CPU_BOUND = """\
def handler(event, context):
    total = 0
    for i in range(int(event.get("loops", 20000))):
        total += i * i
    print("loops done")
    return {"total": total, "memory": context.memory_limit_in_mb}
"""
GREEDY = """\
def handler(event, context):
    data = b"x" * (int(event["mb"]) * 1024 * 1024)  # written, so resident
    return {"held": len(data)}
"""


def _function(cloud, name="work", memory=640, source=CPU_BOUND, timeout=30):
    role = cloud.client("iam").create_role(RoleName=f"r-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = cloud.client("lambda")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": code_zip(source)}, MemorySize=memory, Timeout=timeout)
    lam.publish_version(FunctionName=name)  # the user's version 1: tune must leave it alone
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return lam


def _state(lam, name="work"):
    cfg = lam.get_function_configuration(FunctionName=name)
    versions = sorted(v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"])
    alias = lam.get_alias(FunctionName=name, Name="live")
    return cfg["MemorySize"], versions, alias["FunctionVersion"], alias.get("RoutingConfig")


def test_the_gateway_against_the_emulators_lambda_api(aws):
    lam = _function(aws)
    gw = TuneGateway(aws.client("lambda"), FakeClock())
    state = gw.state("work")
    assert (state.memory_size, state.architecture, state.last_update) == (640, "x86_64", "Successful")
    assert gw.versions("work") == {"$LATEST", "1"}
    gw.set_memory("work", 256)
    version = gw.publish("work", "lamctl tune: 256 MB")
    assert lam.get_function_configuration(FunctionName="work", Qualifier=version)["MemorySize"] == 256
    gw.set_memory("work", 640)
    gw.delete_version("work", version)
    gw.delete_version("work", version)  # already gone: nothing to do
    assert _state(lam) == (640, ["$LATEST", "1"], "1", None)


def test_tune_on_the_local_cloud_measures_each_size_and_restores_the_function(local_cloud, cli, tmp_path,
                                                                               monkeypatch):
    monkeypatch.setenv("LAMCTL_LOCAL_LIMITS", "on")
    lam = _function(local_cloud)
    before = _state(lam)
    event = tmp_path / "event.json"
    event.write_text('{"loops": 5000}')
    plot = tmp_path / "tune.svg"
    result = cli("tune", "work", "--memory", "256,1769", "-n", "2", "-e", str(event), "--plot", str(plot))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    table = [line for line in out.splitlines() if line.lstrip().startswith(("256 MB", "1769 MB"))]
    assert len(table) >= 2, out  # one table row (and one chart line) per size
    for pick in ("fastest:", "cheapest:", "balance:"):
        line = next(x for x in out.splitlines() if x.startswith(pick))
        assert line.split()[1] in ("256", "1769"), line
    assert "restored: work has 640 MB again" in result.stderr
    assert _state(lam) == before  # memory, versions, alias: as they were
    svg = ET.parse(plot).getroot()
    assert svg.tag.endswith("svg")
    labels = [t.text for t in svg.iter() if t.tag.endswith("text")]
    assert "256 MB" in labels and "1769 MB" in labels
    # every invocation ran on a version with its size, never on $LATEST or the alias
    logs = local_cloud.client("logs")
    messages = [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/work")["events"]]
    reports = [m for m in messages if m.startswith("REPORT ")]
    assert len(reports) == 6  # a warm-up and two measured invocations per size
    assert sorted(int(m.split("Memory Size: ")[1].split()[0]) for m in reports) == [256] * 3 + [1769] * 3
    starts = [m for m in messages if m.startswith("START ")]
    assert len(starts) == 6 and not any(m.rstrip().endswith(("Version: $LATEST", "Version: 1")) for m in starts)


def test_tune_json_output_has_each_size_and_the_picks(local_cloud, cli):
    lam = _function(local_cloud, memory=128)
    result = cli("--output", "json", "tune", "work", "--memory", "128,512", "-n", "2")
    assert result.exit_code == 0, result.stderr
    lines = result.json_lines()
    sizes = [x for x in lines if x["type"] == "tune_size"]
    assert [s["memory"] for s in sizes] == [128, 512]
    for s in sizes:
        assert s["invocations"] == 2 and s["errors"] == {}
        assert s["median_ms"] > 0 and s["p90_ms"] >= s["median_ms"] and s["max_memory_used_mb"] > 0
        assert s["cost_per_million_usd"] > 0.20  # the requests' price, plus the duration's
    final = lines[-1]
    assert final["type"] == "result" and final["ok"] is True
    assert set(final["picks"]) == {"fastest", "cheapest", "balance"}
    assert all(v in (128, 512) for v in final["picks"].values())
    assert final["prices"]["region"] == "us-east-1" and final["original_memory"] == 128
    assert any(x["type"] == "tune_restored" for x in lines)
    assert _state(lam)[:2] == (128, ["$LATEST", "1"])


def test_bad_input_is_refused_before_anything_changes(local_cloud, cli, tmp_path):
    lam = _function(local_cloud)
    before = _state(lam)
    for args, where in ((["--memory", "128,huge"], "--memory"), (["--memory", "64"], "--memory"),
                        (["-n", "0"], "-n"), (["--plot", str(tmp_path / "chart.png")], "--plot"),
                        (["--plot", str(tmp_path / "no-such-folder" / "c.svg")], "--plot")):
        result = cli("tune", "work", *args)
        assert result.exit_code == 2, (args, result.stderr)
        assert f"{where}" in result.stderr and "hint:" in result.stderr
    missing = cli("tune", "nobody", "--memory", "128")
    assert missing.exit_code == 2 and "nobody" in missing.stderr
    assert _state(lam) == before
    assert not (tmp_path / "chart.png").exists()


def test_on_the_local_cloud_without_limits_tune_says_memory_does_not_change_speed(local_cloud, cli):
    _function(local_cloud)
    result = cli("--local", "--endpoint-url", local_cloud.endpoint, "tune", "work", "--memory", "128", "-n", "1")
    assert result.exit_code == 0, result.stderr
    assert "memory does not change a function's speed" in result.stderr
    assert "LAMCTL_LOCAL_LIMITS=off" in result.stderr


def _env(endpoint: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()}
    env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1", "PYTHONUNBUFFERED": "1"}, **extra)
    return env


def test_ctrl_c_in_the_middle_of_tune_restores_the_function(local_cloud, tmp_path):
    lam = _function(local_cloud)
    before = _state(lam)
    gate = Gate(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", "tune", "work", "--memory", "256,1024", "-n", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env=_env(local_cloud.endpoint, **gate.env("tune-invoke:3")))
    try:
        gate.reached(proc)  # both versions published; 256 MB measured; about to measure 1024 MB
        mid = _state(lam)
        assert mid[0] == 640 and len(mid[1]) == 4  # $LATEST already has its memory back; two versions added
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 130
    finally:
        gate.open_()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    assert "restored: work has 640 MB again; versions deleted: 2, 3" in err, err
    assert err.rstrip().endswith("interrupted (Ctrl-C)") and "Traceback" not in err
    assert _state(lam) == before


def _spec(tmp_path, memory: int, source: str) -> FunctionSpec:
    code = tmp_path / f"code-{memory}"
    code.mkdir()
    (code / "app.py").write_text(source)
    return FunctionSpec(name="fn", runtime="python3.12", handler="app.handler", code_dir=str(code),
                        memory_size=memory, timeout=30)


def _cgroup_value(pid: int, controller: str, name: str) -> str:
    with open(f"/proc/{pid}/cgroup") as fh:
        for line in fh:
            _, ctls, path = line.rstrip("\n").split(":", 2)
            if controller in ctls.split(",") or ctls == "":
                target = os.path.join("/sys/fs/cgroup", controller if ctls else "", path.lstrip("/"), name)
                if os.path.exists(target):
                    with open(target) as f:
                        return f.read().strip()
    raise AssertionError(f"no {controller} cgroup with {name} for {pid}")


def test_the_runtime_gives_cpu_in_proportion_to_memory_or_says_it_cannot(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("LAMCTL_LOCAL_LIMITS", "on")
    env = Environment(_spec(tmp_path, 256, CPU_BOUND))
    try:
        result = env.invoke(b'{"loops": 10}')
        assert result.ok, result.payload
        info = support()
        if info.cpu:
            name = "cpu.max" if info.kind == "cgroup2" else "cpu.cfs_quota_us"
            value = _cgroup_value(env.pid, "cpu", name)
            assert value.split()[0] == str(cpu_quota_us(256)) == "14471"  # 256/1769 of each 100 ms period
        else:
            assert "memory does not change a function's speed locally" in capfd.readouterr().err
    finally:
        env.stop()


def test_going_over_memory_size_ends_the_invocation_as_out_of_memory(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("LAMCTL_LOCAL_LIMITS", "on")
    env = Environment(_spec(tmp_path, 128, GREEDY))
    try:
        fits = env.invoke(b'{"mb": 8}')
        assert fits.ok, fits.payload
        result = env.invoke(b'{"mb": 400}')
    finally:
        env.stop()
    if support().memory:
        assert result.error_type == "Runtime.OutOfMemory"
        body = json.loads(result.payload)
        assert body["errorType"] == "Runtime.OutOfMemory" and "signal: killed" in body["errorMessage"]
        assert "Runtime.OutOfMemory" in result.log and "Max Memory Used: 128 MB" in result.log
        assert env.dead  # the next invocation gets a fresh environment
    else:
        assert result.ok  # not enforced here, and said so
        assert "MemorySize is not enforced as a memory limit" in capfd.readouterr().err


BARRIER = """\
import os, time, uuid
def handler(event, context):
    # waits until event["n"] invocations of this version are in the function at the same time (or fails)
    folder, version = event["dir"], context.function_version
    open(os.path.join(folder, f"{version}-{os.getpid()}-{uuid.uuid4().hex}"), "w").close()
    deadline = time.monotonic() + 20
    while len([f for f in os.listdir(folder) if f.startswith(version + "-")]) < event["n"]:
        if time.monotonic() > deadline:
            raise RuntimeError("not run in parallel")
        time.sleep(0.02)
    return {"pid": os.getpid()}
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _environments(cloud) -> list[int]:
    import urllib.request

    with urllib.request.urlopen(cloud.endpoint + "/lamctl-api/status", timeout=30) as resp:
        return json.loads(resp.read())["environments"]


def test_tune_parallel_runs_each_sizes_invocations_at_once_and_leaves_no_process(local_cloud, cli, tmp_path):
    lam = _function(local_cloud, memory=256, source=BARRIER)
    before = _state(lam)
    seen = tmp_path / "seen"
    seen.mkdir()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"dir": str(seen), "n": 2}))
    result = cli("--output", "json", "tune", "work", "--memory", "128,512", "-n", "2", "--parallel", "-e", str(event))
    assert result.exit_code == 0, result.stderr
    lines = result.json_lines()
    sizes = [x for x in lines if x["type"] == "tune_size"]
    # each invocation waited for another of its size to be running: none failed, so they ran side by side
    assert [(s["memory"], s["invocations"], s["errors"]) for s in sizes] == [(128, 2, {}), (512, 2, {})]
    assert lines[-1]["parallel"] is True and lines[-1]["ok"] is True
    assert _state(lam) == before
    # two environments per size (a warm-up of two at once, then the two measured ones), one log stream each
    streams = [s["logStreamName"] for s in
               local_cloud.client("logs").describe_log_streams(logGroupName="/aws/lambda/work")["logStreams"]]
    versions = sorted(name.split("[")[1].split("]")[0] for name in streams)
    assert len(versions) == 4 and len(set(versions)) == 2 and "1" not in versions, streams
    # the versions tune deleted took their warm processes with them (not left to the idle timeout)
    pids = {int(f.split("-")[1]) for f in os.listdir(seen)}
    assert len(pids) == 4
    assert _environments(local_cloud) == [] and not any(_alive(p) for p in pids)


def test_tune_with_stack_takes_a_logical_id_on_the_local_cloud(local_cloud, cli, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(CPU_BOUND)
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Work:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: python3.12\n"
        "      Handler: app.handler\n"
        "      CodeUri: src/\n"
        "      MemorySize: 640\n"
        "      Timeout: 30\n")
    r = cli("--local", "--endpoint-url", local_cloud.endpoint, "deploy", "--stack", "tuned", cwd=tmp_path)
    assert r.exit_code == 0, r
    physical = local_cloud.client("cloudformation").describe_stack_resource(
        StackName="tuned", LogicalResourceId="Work")["StackResourceDetail"]["PhysicalResourceId"]
    assert physical != "Work"
    result = cli("--output", "json", "tune", "Work", "--stack", "tuned", "--memory", "128,256", "-n", "2",
                 cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    lines = result.json_lines()
    assert [(s["memory"], s["invocations"], s["errors"]) for s in lines if s["type"] == "tune_size"] == [
        (128, 2, {}), (256, 2, {})]
    assert lines[-1]["function"] == physical and lines[-1]["original_memory"] == 640
    lam = local_cloud.client("lambda")
    assert lam.get_function_configuration(FunctionName=physical)["MemorySize"] == 640
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=physical)["Versions"]] == ["$LATEST"]
    messages = [e["message"] for e in local_cloud.client("logs").filter_log_events(
        logGroupName=f"/aws/lambda/{physical}")["events"]]
    assert sorted(int(m.split("Memory Size: ")[1].split()[0]) for m in messages if m.startswith("REPORT ")) == [
        128, 128, 128, 256, 256, 256]
    assert _environments(local_cloud) == []
    missing = cli("tune", "Nobody", "--stack", "tuned", "--memory", "128", cwd=tmp_path)
    assert missing.exit_code == 2 and "Nobody" in missing.stderr, missing.stderr
