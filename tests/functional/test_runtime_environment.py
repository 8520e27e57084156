"""Execution environments with a real Runtime API client on the other side.

Python handlers run through awslambdaric (AWS's own client); the custom
runtime is a shell ``bootstrap`` speaking the protocol with curl. Every test
checks that no function process outlives it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap

import pytest

from lamctl.local.runtime.environment import Environment, FunctionSpec, check_supported
from lamctl.schemas.errors import UsageError

PY = "python3.12"


def _leftovers(root) -> list[int]:
    """Processes whose working folder is under ``root`` (function processes of this test)."""
    root = os.path.realpath(str(root))
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (cwd == root or cwd.startswith(root + os.sep)):
            out.append(int(entry))
    return out


@pytest.fixture
def code(tmp_path):
    """Write a function folder: code({"app.py": "..."}) -> path."""
    folders = []

    def write(files: dict[str, str], name: str = "fn") -> str:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        for rel, text in files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        folders.append(folder)
        return str(folder)

    yield write
    assert _leftovers(tmp_path) == [], "a function process outlived the test"


@pytest.fixture
def envs():
    made = []

    def make(spec: FunctionSpec) -> Environment:
        env = Environment(spec)
        made.append(env)
        return env

    yield make
    for env in made:
        env.stop()


HANDLER = """
    import json, os, sys, time
    INIT_PID = os.getpid()
    print("init ran")

    def handler(event, context):
        print("handling", json.dumps(event))
        if event.get("fail"):
            raise ValueError("the event asked to fail")
        if event.get("sleep"):
            time.sleep(event["sleep"])
        if event.get("exit") is not None:
            sys.stdout.flush()
            os._exit(event["exit"])
        if event.get("kill"):
            os.kill(os.getpid(), 9)
        if event.get("grow"):
            global BLOB
            BLOB = bytearray(event["grow"] * 1024 * 1024)
            for i in range(0, len(BLOB), 4096):
                BLOB[i] = 1
        return {
            "event": event,
            "pid": os.getpid(),
            "init_pid": INIT_PID,
            "request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "memory": context.memory_limit_in_mb,
            "arn": context.invoked_function_arn,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "log_group": context.log_group_name,
            "log_stream": context.log_stream_name,
            "client_context": context.client_context.custom if context.client_context else None,
            "identity": context.identity.cognito_identity_id if context.identity else None,
            "env": {k: v for k, v in os.environ.items()},
            "cwd": os.getcwd(),
            "sys_path": sys.path,
        }
"""


def _spec(code_dir: str, **kw) -> FunctionSpec:
    base = dict(name="Fn", runtime=PY, handler="app.handler", code_dir=code_dir, timeout=1.0, memory_size=256)
    base.update(kw)
    return FunctionSpec(**base)


def test_python_handler_gets_the_payload_context_and_lambda_environment(code, envs):
    env = envs(_spec(code({"app.py": HANDLER}), environment=(("STAGE", "test"), ("AWS_REGION", "nope")),
                     region="eu-west-1"))
    cc = json.dumps({"custom": {"tenant": "t1"}, "client": {}, "env": {}})
    ident = json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"})
    result = env.invoke(b'{"name": "world"}', request_id="req-1", client_context=cc, cognito_identity=ident)
    assert result.ok, result.payload
    body = json.loads(result.payload)
    assert body["event"] == {"name": "world"}
    assert body["request_id"] == "req-1"
    assert body["function_name"] == "Fn"
    assert body["function_version"] == "$LATEST"
    assert body["memory"] == "256"
    assert body["arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:Fn"
    assert 0 < body["remaining_ms"] <= 1000
    assert body["log_group"] == "/aws/lambda/Fn"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", body["log_stream"])
    assert body["client_context"] == {"tenant": "t1"}
    assert body["identity"] == "id-1"
    e = body["env"]
    assert e["STAGE"] == "test"
    assert e["AWS_REGION"] == e["AWS_DEFAULT_REGION"] == "eu-west-1"  # a function cannot override reserved names
    assert e["_HANDLER"] == "app.handler"
    assert e["LAMBDA_TASK_ROOT"] == body["cwd"] == os.path.realpath(env.spec.code_dir)
    assert e["AWS_LAMBDA_FUNCTION_NAME"] == "Fn"
    assert e["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert e["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert e["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/Fn"
    assert e["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert e["TZ"] == ":UTC"
    assert e["AWS_ACCESS_KEY_ID"] == e["AWS_SECRET_ACCESS_KEY"] == e["AWS_SESSION_TOKEN"] == "testing"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", e["AWS_LAMBDA_RUNTIME_API"])
    assert e["_X_AMZN_TRACE_ID"].startswith("Root=1-")


def test_the_host_environment_does_not_leak_into_the_function(code, envs, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-secret")
    monkeypatch.setenv("LAMCTL_TEST_HOST_ONLY", "1")
    env = envs(_spec(code({"app.py": HANDLER})))
    body = json.loads(env.invoke(b"{}").payload)
    assert body["env"]["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert "LAMCTL_TEST_HOST_ONLY" not in body["env"]


def test_real_credentials_only_when_given(code, envs):
    creds = (("AWS_ACCESS_KEY_ID", "AKIAREAL"), ("AWS_SECRET_ACCESS_KEY", "real-secret"))
    env = envs(_spec(code({"app.py": HANDLER}), credentials=creds))
    e = json.loads(env.invoke(b"{}").payload)["env"]
    assert e["AWS_ACCESS_KEY_ID"] == "AKIAREAL" and e["AWS_SECRET_ACCESS_KEY"] == "real-secret"
    assert "AWS_SESSION_TOKEN" not in e


def test_logs_have_start_end_report_with_init_duration_only_on_a_cold_start(code, envs):
    env = envs(_spec(code({"app.py": HANDLER})))
    first = env.invoke(b'{"n": 1}', request_id="r-1")
    second = env.invoke(b'{"n": 2}', request_id="r-2")
    lines = first.log.splitlines()
    assert lines[0] == "init ran"  # init output comes before START, as on Lambda
    assert lines[1] == "START RequestId: r-1 Version: $LATEST"
    assert lines[2] == 'handling {"n": 1}'
    assert lines[3] == "END RequestId: r-1"
    report = lines[4]
    m = re.fullmatch(r"REPORT RequestId: r-1\tDuration: ([\d.]+) ms\tBilled Duration: (\d+) ms\t"
                     r"Memory Size: 256 MB\tMax Memory Used: (\d+) MB\tInit Duration: ([\d.]+) ms\t", report)
    assert m, report
    duration, billed, used, init = float(m[1]), int(m[2]), int(m[3]), float(m[4])
    assert billed >= duration and billed - duration < 1
    assert used > 5  # a Python interpreter: measured from the process, not copied from MemorySize
    assert init > 0
    assert "Init Duration" not in second.log and second.init_duration_ms is None
    assert second.log.splitlines()[0] == "START RequestId: r-2 Version: $LATEST"
    assert "init ran" not in second.log
    assert json.loads(second.payload)["pid"] == json.loads(first.payload)["pid"]  # warm: the same process


def test_max_memory_used_follows_the_process(code, envs):
    env = envs(_spec(code({"app.py": HANDLER})))
    small = env.invoke(b"{}")
    big = env.invoke(b'{"grow": 64}')
    assert big.max_memory_mb >= small.max_memory_mb + 60
    assert f"Max Memory Used: {big.max_memory_mb} MB" in big.log


def test_function_error_returns_lambdas_error_object(code, envs):
    env = envs(_spec(code({"app.py": HANDLER})))
    result = env.invoke(b'{"fail": true}')
    assert not result.ok and result.function_error == "Unhandled"
    err = json.loads(result.payload)
    assert err["errorType"] == "ValueError"
    assert err["errorMessage"] == "the event asked to fail"
    assert any("app.py" in frame for frame in err["stackTrace"])
    assert "[ERROR] ValueError: the event asked to fail" in result.log
    # the environment survives a handled error
    assert env.invoke(b"{}").ok and not env.dead


def test_timeout_kills_the_process_and_fails_like_lambda(code, envs, tmp_path):
    env = envs(_spec(code({"app.py": HANDLER})))
    pid = json.loads(env.invoke(b"{}").payload)["pid"]
    result = env.invoke(b'{"sleep": 30}', request_id="slow-1")
    assert not result.ok and result.error_type == "Sandbox.Timedout"
    err = json.loads(result.payload)
    assert err["errorMessage"] == "RequestId: slow-1 Error: Task timed out after 1.00 seconds"
    assert re.search(r"^\S+Z slow-1 Task timed out after 1\.00 seconds$", result.log, re.M)
    assert "Duration: 1000.00 ms" in result.log
    assert env.dead
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("event,reason", [
    (b'{"exit": 3}', "Runtime exited with error: exit status 3"),
    (b'{"kill": true}', "Runtime exited with error: signal: killed"),
])
def test_a_crash_mid_invocation_is_runtime_exit_error(code, envs, event, reason):
    env = envs(_spec(code({"app.py": HANDLER})))
    result = env.invoke(event, request_id="crash-1")
    assert result.error_type == "Runtime.ExitError"
    assert json.loads(result.payload) == {"errorType": "Runtime.ExitError",
                                          "errorMessage": f"RequestId: crash-1 Error: {reason}"}
    assert "END RequestId: crash-1" in result.log
    assert env.dead


def test_init_error_fails_the_invocation_with_the_runtimes_error(code, envs):
    env = envs(_spec(code({"app.py": "import not_a_module_anywhere\n"})))
    result = env.invoke(b"{}")
    assert result.error_type == "Runtime.ImportModuleError"
    err = json.loads(result.payload)
    assert err["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'app'" in err["errorMessage"]
    assert "not_a_module_anywhere" in err["errorMessage"]
    assert "Runtime.ImportModuleError" in result.log
    assert env.dead


def test_missing_handler_function_is_an_init_error(code, envs):
    env = envs(_spec(code({"app.py": "x = 1\n"}), handler="app.nothing"))
    result = env.invoke(b"{}")
    assert result.error_type == "Runtime.HandlerNotFound"
    assert "Handler 'nothing' missing on module 'app'" in json.loads(result.payload)["errorMessage"]


def test_layers_are_on_the_path_the_way_opt_is(code, envs, tmp_path):
    fn = code({"app.py": """
        import shared, vendored, subprocess
        def handler(event, context):
            return {"shared": shared.WHO, "vendored": vendored.WHO,
                    "tool": subprocess.run(["layer-tool"], capture_output=True, text=True).stdout.strip()}
    """})
    layer1 = code({"python/shared.py": "WHO = 'layer1'\n",
                   "python/lib/python3.12/site-packages/vendored.py": "WHO = 'layer1-site'\n",
                   "bin/layer-tool": "#!/bin/sh\necho tool-from-layer1\n"}, name="layer1")
    os.chmod(os.path.join(layer1, "bin", "layer-tool"), 0o755)
    layer2 = code({"python/shared.py": "WHO = 'layer2'\n"}, name="layer2")
    env = envs(_spec(fn, layer_dirs=(layer1, layer2)))
    result = env.invoke(b"{}")
    assert result.ok, result.log
    # a later layer wins over an earlier one, as when both are unpacked into /opt in order
    assert json.loads(result.payload) == {"shared": "layer2", "vendored": "layer1-site", "tool": "tool-from-layer1"}


def test_function_code_wins_over_layers(code, envs):
    fn = code({"app.py": "import shared\ndef handler(e, c):\n    return shared.WHO\n", "shared.py": "WHO = 'code'\n"})
    layer = code({"python/shared.py": "WHO = 'layer'\n"}, name="layer")
    assert json.loads(envs(_spec(fn, layer_dirs=(layer,))).invoke(b"{}").payload) == "code"


CURL_BOOTSTRAP = """\
#!/bin/sh
set -eu
echo "bootstrap init"
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r')"
  DEADLINE="$(grep -i '^Lambda-Runtime-Deadline-Ms:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r')"
  ARN="$(grep -i '^Lambda-Runtime-Invoked-Function-Arn:' "$HEADERS" | cut -d' ' -f2 | tr -d '\\r')"
  rm -f "$HEADERS"
  echo "got $EVENT"
  case "$EVENT" in
    *fail*)
      curl -sS -o /dev/null -X POST -H "Lambda-Runtime-Function-Error-Type: Custom.Failure" \\
        -d '{"errorMessage":"shell said no","errorType":"Custom.Failure"}' "$API/invocation/$ID/error" ;;
    *)
      curl -sS -o /dev/null -X POST -d "{\\"echo\\":$EVENT,\\"id\\":\\"$ID\\",\\"arn\\":\\"$ARN\\",\\"deadline\\":$DEADLINE,\\"handler\\":\\"$_HANDLER\\",\\"tz\\":\\"$TZ\\"}" \\
        "$API/invocation/$ID/response" ;;
  esac
done
"""


def test_provided_runtime_runs_the_bootstrap_with_curl(code, envs):
    folder = code({"bootstrap": CURL_BOOTSTRAP})
    os.chmod(os.path.join(folder, "bootstrap"), 0o755)
    env = envs(_spec(folder, runtime="provided.al2023", handler="my.handler", timeout=3))
    first = env.invoke(b'{"a": 1}', request_id="sh-1")
    assert first.ok, first.log
    body = json.loads(first.payload)
    assert body["echo"] == {"a": 1} and body["id"] == "sh-1" and body["handler"] == "my.handler"
    assert body["arn"].endswith(":function:Fn") and body["tz"] == ":UTC"
    assert body["deadline"] > 1_600_000_000_000
    assert first.log.startswith("bootstrap init\nSTART RequestId: sh-1")
    assert 'got {"a": 1}' in first.log and "Init Duration" in first.log
    failed = env.invoke(b'{"fail": 1}')
    assert failed.error_type == "Custom.Failure"
    assert json.loads(failed.payload) == {"errorMessage": "shell said no", "errorType": "Custom.Failure"}
    again = env.invoke(b'{"b": 2}')
    assert again.ok and json.loads(again.payload)["echo"] == {"b": 2}
    assert "Init Duration" not in again.log


def test_provided_runtime_without_bootstrap_is_an_invalid_entrypoint(code, envs):
    env = envs(_spec(code({"main.sh": "echo\n"}), runtime="provided.al2"))
    result = env.invoke(b"{}")
    assert result.error_type == "Runtime.InvalidEntrypoint"
    assert "bootstrap" in json.loads(result.payload)["errorMessage"]


def test_bootstrap_that_exits_during_init_is_runtime_exit_error(code, envs):
    folder = code({"bootstrap": "#!/bin/sh\necho cannot start >&2\nexit 7\n"})
    os.chmod(os.path.join(folder, "bootstrap"), 0o755)
    result = envs(_spec(folder, runtime="provided.al2023")).invoke(b"{}")
    assert result.error_type == "Runtime.ExitError"
    assert "exit status 7" in json.loads(result.payload)["errorMessage"]
    assert "cannot start" in result.log


@pytest.mark.parametrize("runtime", ["java21", "ruby3.3", "dotnet8", ""])
def test_other_runtimes_are_refused_with_the_runtime_named(tmp_path, runtime):
    with pytest.raises(UsageError) as info:
        check_supported(_spec(str(tmp_path), runtime=runtime))
    assert "not supported locally" in info.value.message
    assert (runtime or "(none)") in info.value.message
    assert "python3.x" in info.value.hint


def test_python_shell_not_needed_for_provided(code, envs):
    """A provided runtime gets no Python variables (it is not a Python process)."""
    folder = code({"bootstrap": "#!/bin/sh\nenv > \"$LAMBDA_TASK_ROOT/../env.txt\"\nexit 0\n"})
    os.chmod(os.path.join(folder, "bootstrap"), 0o755)
    envs(_spec(folder, runtime="provided.al2023")).invoke(b"{}")
    text = open(os.path.join(folder, "..", "env.txt")).read()
    assert "PYTHONPATH=" not in text and "AWS_LAMBDA_RUNTIME_API=127.0.0.1:" in text
    assert shutil.which("sh")


STREAMING = """
import os, time
print("init line")
def handler(event, context):
    print("waiting for", event["flag"], flush=True)
    for _ in range(400):  # until the test has seen the line above (or the 3 s timeout)
        if os.path.exists(event["flag"]):
            print("flag seen")
            return "streamed"
        time.sleep(0.01)
    return "never saw the flag"
"""


def test_logs_are_passed_on_while_the_function_runs(code, envs, tmp_path):
    env = envs(_spec(code({"app.py": STREAMING}), timeout=3.0))
    flag = tmp_path / "flag"
    pieces = []

    def on_log(text: str) -> None:
        pieces.append(text)
        if "waiting for" in "".join(pieces) and not flag.exists():
            flag.write_text("seen")  # only possible if the line arrived while the handler still runs

    result = env.invoke(json.dumps({"flag": str(flag)}).encode(), on_log=on_log)
    assert json.loads(result.payload) == "streamed", result.log
    assert "".join(pieces) == result.log  # the same text, in pieces
    assert result.log.index("init line") < result.log.index("START RequestId") < result.log.index("flag seen")
    # a warm invocation streams too, and a failing one ends with END and REPORT
    flag.unlink()
    pieces.clear()
    again = env.invoke(json.dumps({"flag": str(flag)}).encode(), on_log=on_log)
    assert json.loads(again.payload) == "streamed" and "".join(pieces) == again.log


@pytest.mark.parametrize("files,event,error_type", [
    ({"app.py": HANDLER}, b'{"sleep": 30}', "Sandbox.Timedout"),
    ({"app.py": HANDLER}, b'{"exit": 2}', "Runtime.ExitError"),
    ({"app.py": HANDLER}, b'{"fail": 1}', "ValueError"),
    ({"app.py": "print('half a line', end='')\nimport nowhere_to_be_found\n"}, b"{}", "Runtime.ImportModuleError"),
])
def test_streamed_log_equals_the_result_log_on_failures(code, envs, files, event, error_type):
    pieces = []
    result = envs(_spec(code(files))).invoke(event, on_log=pieces.append)
    assert result.error_type == error_type
    assert "".join(pieces) == result.log
    assert result.log.rstrip("\n").splitlines()[-1].startswith("REPORT RequestId: ")


INSTALLED_LATER = """
import importlib.metadata, importlib.util, json, os, sys

from lamctl.local.runtime.pool import Pool
from lamctl.local.runtime.environment import FunctionSpec
from lamctl.schemas.errors import UsageError

code_dir, later = sys.argv[1], sys.argv[2]
real = importlib.util.find_spec("awslambdaric")
site = os.path.realpath(os.path.dirname(os.path.dirname(real.origin)))
# what pip would install: the files of awslambdaric and of its dependencies (from their RECORD)
tops = {f.parts[0] for dist in ("awslambdaric", "simplejson", "snapshot-restore-py")
        for f in importlib.metadata.distribution(dist).files or ()
        if ".dist-info" not in f.parts[0] and f.parts[0] not in ("..", "__pycache__")}
# the runtime interface client is not installed: the folder holding it leaves the path, an empty one takes its place
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != site] + [later]
spec = FunctionSpec(name="Fn", runtime="python3.12", handler="app.handler", code_dir=code_dir, timeout=5.0)
pool = Pool(idle_timeout=None)
out = {}
try:
    pool.replace(spec)
    out["before"] = "no error"
except UsageError as exc:
    out["before"] = exc.message
    out["hint"] = exc.hint
# ... now it is installed (as pip puts packages into a folder on the path), while the same process runs on
for name in tops:
    os.symlink(os.path.join(site, name), os.path.join(later, name))
try:
    pool.replace(spec)
    result = pool.invoke("Fn", b'{"who": "later"}')
    out["after"] = json.loads(result.payload)
finally:
    pool.close()
print(json.dumps(out))
"""


def test_a_runtime_client_installed_while_the_server_runs_is_found_without_a_restart(code, tmp_path):
    """Nothing remembers that awslambdaric was missing: the first invoke says what to install, and once it is
    installed the next invoke of the same long-running process runs the function."""
    import subprocess
    import sys

    later = tmp_path / "site-packages-later"
    later.mkdir()
    fn = code({"app.py": "def handler(event, context):\n    return {'hello': event['who']}\n"})
    proc = subprocess.run([sys.executable, "-c", INSTALLED_LATER, fn, str(later)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "awslambdaric" in out["before"] and "not installed" in out["before"]
    assert "pip install awslambdaric" in out["hint"]
    assert out["after"] == {"hello": "later"}
