"""The local cloud as a user runs it: a real background process, started, found, used and stopped
with no process left behind. Each test has its own XDG_STATE_HOME (conftest) and a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lamctl.local.cloud import lifecycle as cloud


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_state(pid: int) -> str | None:
    """The process's state letter (R, S, Z, ...), or None when it does not exist at all."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return text.rsplit(")", 1)[1].split()[0]


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in the process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def gone(pid: int) -> bool:
    return process_state(pid) in (None, "Z", "X")


@pytest.fixture
def stopped_afterwards():
    """Whatever a test starts is stopped at the end, even when the test fails."""
    yield
    cloud.stop()


def test_start_status_stop_leaves_no_process(cli, stopped_afterwards):
    port = free_port()
    started = cli("--output", "json", "local", "start", "--port", port)
    assert started.exit_code == 0, started
    result = started.json_lines()[-1]
    assert result["type"] == "result" and result["running"] is True
    pid, endpoint = result["pid"], result["endpoint"]
    assert endpoint == f"http://127.0.0.1:{port}"

    # recorded under the user's state folder
    state = json.loads((Path(os.environ["XDG_STATE_HOME"]) / "lamctl" / "cloud.json").read_text())
    assert state["pid"] == pid and state["port"] == port
    assert not gone(pid)
    assert b"lamctl.local.cloud.emulator" in Path(f"/proc/{pid}/cmdline").read_bytes()
    # bound to loopback only
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local_addrs = {line.split()[1] for line in listening if line.split()[3] == "0A"}  # 0A: LISTEN
    assert f"0100007F:{port:04X}" in local_addrs
    assert f"00000000:{port:04X}" not in local_addrs

    status = cli("local", "status")
    assert status.exit_code == 0, status
    assert "running" in status.stdout and endpoint in status.stdout and str(pid) in status.stdout
    assert "runs the deployed code" in status.stdout

    stopped = cli("local", "stop")
    assert stopped.exit_code == 0, stopped
    assert f"pid {pid}" in stopped.stdout
    assert gone(pid)
    assert group_members(pid) == []
    assert not (Path(os.environ["XDG_STATE_HOME"]) / "lamctl" / "cloud.json").exists()
    with socket.socket() as sock:  # the port is free again
        sock.bind(("127.0.0.1", port))

    again = cli("local", "status")
    assert again.exit_code == 0 and "not running" in again.stdout
    assert cli("local", "stop").stdout.strip() == "the local cloud is not running"


def test_lambda_invokes_run_the_deployed_code_and_stop_leaves_no_function_process(cli, stopped_afterwards):
    import io
    import zipfile

    import boto3

    port = free_port()
    assert cli("local", "start", "--port", port).exit_code == 0
    endpoint = f"http://127.0.0.1:{port}"
    kwargs = dict(region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing",
                  aws_secret_access_key="testing")
    iam = boto3.client("iam", **kwargs)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "import os\n"
                              "def handler(event, context):\n"
                              "    return {'got': event, 'pid': os.getpid(), 'name': context.function_name}\n")
    lam = boto3.client("lambda", **kwargs)
    lam.create_function(FunctionName="fn", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": buf.getvalue()})
    response = lam.invoke(FunctionName="fn", Payload=b'{"hello": "world"}')
    assert response["StatusCode"] == 200 and response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    answer = json.loads(response["Payload"].read())
    assert answer["got"] == {"hello": "world"} and answer["name"] == "fn"  # the handler ran, not an echo
    function_pid = answer["pid"]
    assert not gone(function_pid)

    status = cli("--output", "json", "local", "status").json_lines()[-1]
    assert status["lambda_runtime"] == "lamctl" and status["environments"] == 1

    emulator = status["pid"]
    assert cli("local", "stop").exit_code == 0
    assert gone(emulator) and gone(function_pid)
    assert group_members(function_pid) == []


def test_a_second_start_reuses_the_running_one(cli, stopped_afterwards):
    port = free_port()
    first = cli("--output", "json", "local", "start", "--port", port).json_lines()[-1]
    second = cli("--output", "json", "local", "start", "--port", port).json_lines()[-1]
    assert second["already"] is True and second["pid"] == first["pid"]
    text = cli("local", "start", "--port", port)
    assert text.exit_code == 0 and "already running" in text.stdout and str(first["pid"]) in text.stdout
    other = free_port()
    asked = cli("local", "start", "--port", other)  # another port: it is not used, and that is said
    assert asked.exit_code == 1, asked
    assert f"port {other} (--port) was not used" in asked.stderr and first["endpoint"] in asked.stderr
    assert "lamctl local stop" in asked.stderr
    assert cloud.status().pid == first["pid"] and cloud.status().port == port


def test_the_log_is_plain_text_without_colour_codes(cli, stopped_afterwards):
    import urllib.error
    import urllib.request

    started = cli("--output", "json", "local", "start", "--port", free_port()).json_lines()[-1]
    for method in ("GET", "POST"):  # a 404 and a 4xx/5xx: the statuses werkzeug colours
        request = urllib.request.Request(started["endpoint"] + "/no-such-bucket-here", method=method, data=None)
        try:
            urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=30).read()
        except urllib.error.HTTPError:
            pass
    cloud.stop()
    text = Path(started["log_file"]).read_text()
    assert '"GET /no-such-bucket-here HTTP/1.1" 404' in text
    assert '"POST /no-such-bucket-here HTTP/1.1"' in text
    assert "\x1b" not in text


def test_a_port_in_use_is_a_clear_error_and_nothing_is_recorded(cli):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("local", "start", "--port", port)
    assert result.exit_code == 2, result
    assert f"port {port}" in result.stderr and "--port" in result.stderr
    assert not cloud.state_file().exists()


def test_a_record_left_by_a_dead_emulator_is_cleaned_up(cli):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cloud.state_dir().mkdir(parents=True, exist_ok=True)
    cloud.state_file().write_text(json.dumps({"pid": dead.pid, "port": 1, "endpoint": "http://127.0.0.1:1"}))
    result = cli("local", "status")
    assert result.exit_code == 0
    assert "had exited" in result.stderr and "not running" in result.stdout
    assert not cloud.state_file().exists()


def test_an_unrelated_process_with_the_recorded_pid_is_never_signalled(cli):
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        cloud.state_dir().mkdir(parents=True, exist_ok=True)
        cloud.state_file().write_text(json.dumps({"pid": bystander.pid, "port": 1}))
        result = cli("local", "stop")
        assert result.exit_code == 0 and "not running" in result.stdout
        assert bystander.poll() is None  # still alive
    finally:
        bystander.kill()
        bystander.wait()


def test_ensure_running_starts_one_and_says_how_to_stop_it(monkeypatch, stopped_afterwards):
    monkeypatch.setenv("LAMCTL_LOCAL_PORT", str(free_port()))
    said: list[str] = []
    endpoint = cloud.ensure_running(said.append)
    assert len(said) == 1 and "lamctl local stop" in said[0] and endpoint in said[0]
    st = cloud.status()
    assert st.running and st.endpoint == endpoint and st.lambda_docker is False
    # a second caller finds it and starts nothing
    assert cloud.ensure_running(said.append) == endpoint
    assert len(said) == 1
    pid = st.pid
    cloud.stop()
    assert gone(pid)


def test_start_takes_its_port_from_lamctl_local_port(cli, monkeypatch, stopped_afterwards):
    port = free_port()
    monkeypatch.setenv("LAMCTL_LOCAL_PORT", str(port))
    result = cli("local", "start")
    assert result.exit_code == 0, result
    assert f"http://127.0.0.1:{port}" in result.stdout
    monkeypatch.setenv("LAMCTL_LOCAL_PORT", "not-a-port")
    bad = cli("local", "start")
    assert bad.exit_code == 2 and "LAMCTL_LOCAL_PORT" in bad.stderr


def test_two_commands_starting_it_at_once_get_one_emulator(monkeypatch, stopped_afterwards):
    monkeypatch.setenv("LAMCTL_LOCAL_PORT", str(free_port()))
    code = "from lamctl.local.cloud import lifecycle as cloud; print(cloud.ensure_running(print))"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    endpoints = {out.strip().splitlines()[-1] for out, _ in outputs}
    assert len(endpoints) == 1
    started = [out for out, _ in outputs if "started the local cloud" in out]
    assert len(started) == 1  # one started it, the other found it running
    pid = cloud.status().pid
    emulators = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()
                 and b"lamctl.local.cloud.emulator" in _cmdline(e) and f"{cloud.configured_port()}".encode() in _cmdline(e)]
    assert emulators == [pid]


def _cmdline(entry: Path) -> bytes:
    try:
        return (entry / "cmdline").read_bytes()
    except OSError:
        return b""
