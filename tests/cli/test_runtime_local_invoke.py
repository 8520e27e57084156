"""``lamctl local invoke`` and ``lamctl local start-lambda`` as a user runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
  Secret:
    Type: String
Globals:
  Function:
    Runtime: python3.12
    Timeout: 2
    Environment:
      Variables:
        FROM_GLOBALS: g
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      MemorySize: 512
      Layers:
        - !Ref Shared
      Environment:
        Variables:
          STAGE: !Ref Stage
          NAME: !Sub "svc-${Stage}-${AWS::Region}"
          SECRET: !Ref Secret
          OVERRIDDEN: template
  Other:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Layers: [!Ref Shared]
      Environment:
        Variables:
          SECRET: x
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
"""

APP = """
import os, json, shared
print("init of hello")
def handler(event, context):
    print("event:", json.dumps(event))
    if event.get("fail"):
        raise KeyError("missing")
    keys = ["STAGE", "NAME", "SECRET", "OVERRIDDEN", "FROM_GLOBALS", "EVERYWHERE", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
    return {"event": event, "env": {k: os.environ.get(k) for k in keys}, "layer": shared.WHO}
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "app.py").write_text(textwrap.dedent(APP))
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "shared.py").write_text("WHO = 'shared layer'\n")
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path


def test_invoke_prints_the_payload_on_stdout_and_logs_on_stderr(cli, project):
    (project / "event.json").write_text('{"name": "world"}')
    r = cli("local", "invoke", "Hello", "-e", "event.json", "--parameter-overrides", "Secret=s3cr3t", cwd=project)
    assert r.exit_code == 0, r
    body = json.loads(r.stdout)
    assert body["event"] == {"name": "world"}
    assert body["layer"] == "shared layer"
    assert body["env"] == {"STAGE": "dev", "NAME": "svc-dev-us-east-1", "SECRET": "s3cr3t", "OVERRIDDEN": "template",
                           "FROM_GLOBALS": "g", "EVERYWHERE": None, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}
    lines = r.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("START RequestId: "))
    assert "init of hello" in lines[:start]
    assert lines[start + 1] == 'event: {"name": "world"}'
    assert lines[start + 2].startswith("END RequestId: ")
    assert re.match(r"REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\t"
                    r"Max Memory Used: \d+ MB\tInit Duration: [\d.]+ ms", lines[start + 3])


def test_env_vars_file_overrides_per_function_and_for_all(cli, project):
    (project / "env.json").write_text(json.dumps({
        "Parameters": {"EVERYWHERE": "all", "OVERRIDDEN": "from-parameters", "FROM_GLOBALS": "p"},
        "Hello": {"OVERRIDDEN": "from-function", "STAGE": 7, "NOT_DECLARED": "x"},
    }))
    r = cli("local", "invoke", "Hello", "--env-vars", "env.json", "--parameter-overrides",
            "Secret=x Stage=prod", cwd=project)
    assert r.exit_code == 0, r
    env = json.loads(r.stdout)["env"]
    assert env["EVERYWHERE"] is None  # as SAM: only variables the template declares are overridden
    assert env["FROM_GLOBALS"] == "p"
    assert "Hello.NOT_DECLARED is not in the Environment of Hello" in r.stderr
    assert env["OVERRIDDEN"] == "from-function"
    assert env["STAGE"] == "7"
    assert env["NAME"] == "svc-prod-us-east-1"


def test_lamctl_toml_gives_template_env_vars_and_the_start_lambda_port(cli, project):
    import shutil

    (project / "app").mkdir()
    shutil.move(project / "template.yaml", project / "app" / "service.yaml")
    (project / "app" / "hello").symlink_to(project / "hello")
    (project / "app" / "layer").symlink_to(project / "layer")
    (project / "env.json").write_text(json.dumps({"Hello": {"OVERRIDDEN": "from-toml-env-vars"}}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        (project / "lamctl.toml").write_text(f'[default]\ntemplate = "app/service.yaml"\nenv_vars = "env.json"\n'
                                             f'port = {port}\n')
        r = cli("local", "invoke", "Hello", "--parameter-overrides", "Secret=x", cwd=project)
        assert r.exit_code == 0, r
        assert json.loads(r.stdout)["env"]["OVERRIDDEN"] == "from-toml-env-vars"
        r = cli("local", "start-lambda", "--parameter-overrides", "Secret=x", cwd=project)
    assert r.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in r.stderr, r


def test_event_from_stdin_and_no_event_is_an_empty_object(cli, project):
    r = cli("local", "invoke", "Other", "-e", "-", cwd=project, stdin='{"from": "stdin"}')
    assert r.exit_code == 0, r
    assert json.loads(r.stdout)["event"] == {"from": "stdin"}
    r = cli("local", "invoke", "Other", cwd=project)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout)["event"] == {}


def test_function_error_prints_the_error_object_and_exits_1(cli, project):
    r = cli("local", "invoke", "Other", "-e", "-", cwd=project, stdin='{"fail": true}')
    assert r.exit_code == 1, r
    err = json.loads(r.stdout)
    assert err["errorType"] == "KeyError" and err["errorMessage"] == "'missing'"
    assert "[ERROR] KeyError" in r.stderr


def test_unknown_function_lists_the_templates_functions_and_exits_2(cli, project):
    r = cli("local", "invoke", "Nope", "--parameter-overrides", "Secret=x", cwd=project)
    assert r.exit_code == 2, r
    assert "'Nope' is not in" in r.stderr
    assert "Hello, Other" in r.stderr
    assert r.stdout == ""


def test_missing_parameter_value_is_a_usage_error_naming_it(cli, project):
    r = cli("local", "invoke", "Hello", cwd=project)
    assert r.exit_code == 2, r
    assert "parameter Secret has no Default" in r.stderr
    assert "template.yaml:" in r.stderr and "--parameter-overrides Secret=VALUE" in r.stderr


def test_bad_event_json_points_at_the_line(cli, project):
    (project / "bad.json").write_text('{\n  "a": 1,\n  oops\n}')
    r = cli("local", "invoke", "Other", "-e", "bad.json", cwd=project)
    assert r.exit_code == 2, r
    assert "bad.json:3:3" in r.stderr and "not valid JSON" in r.stderr


def test_bad_env_vars_file_points_at_the_problem(cli, project):
    (project / "env.json").write_text('{"Hello": ["not", "an", "object"]}')
    r = cli("local", "invoke", "Other", "--env-vars", "env.json", cwd=project)
    assert r.exit_code == 2, r
    assert "env.json:1:2" in r.stderr and "'Hello' must map to an object" in r.stderr


def test_unsupported_runtime_is_named(cli, project):
    (project / "template.yaml").write_text(TEMPLATE.replace("Runtime: python3.12", "Runtime: java21"))
    r = cli("local", "invoke", "Other", cwd=project)
    assert r.exit_code == 2, r
    assert "runtime java21 of function Other is not supported locally" in r.stderr


def test_json_output_is_one_result_object(cli, project):
    r = cli("--output", "json", "local", "invoke", "Other", cwd=project)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["type"] == "result" and result["ok"] is True
    assert result["function"] == "Other" and result["payload"]["event"] == {}
    assert result["init_duration_ms"] > 0 and result["max_memory_used_mb"] > 0


def test_custom_runtime_from_the_build(cli, tmp_path):
    (tmp_path / "fn").mkdir()
    boot = tmp_path / "fn" / "bootstrap"
    boot.write_text(textwrap.dedent("""\
        #!/bin/sh
        API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
        while true; do
          H="$(mktemp)"
          EVENT="$(curl -sS -D "$H" "$API/invocation/next")"
          ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$H" | cut -d' ' -f2 | tr -d '\\r')"
          rm -f "$H"
          curl -sS -o /dev/null -X POST -d "{\\"shell\\":$EVENT}" "$API/invocation/$ID/response"
        done
    """))
    boot.chmod(0o755)
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""\
        Resources:
          Shell:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: fn/
              Handler: unused
              Runtime: provided.al2023
    """))
    r = cli("local", "invoke", "-e", "-", cwd=tmp_path, stdin='{"x": 1}')
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"shell": {"x": 1}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry))
    return out


def test_start_lambda_serves_boto3_and_stops_every_process_on_sigterm(project):
    import boto3

    port = _free_port()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", "local", "start-lambda", "--port", str(port),
                             "--parameter-overrides", "Secret=x"], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for _ in range(20):  # warnings first, then the "listening" line once the socket is bound
            seen.append(proc.stderr.readline())
            if f"127.0.0.1:{port}" in seen[-1] or not seen[-1]:
                break
        assert f"127.0.0.1:{port}" in seen[-1], seen
        lam = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        resp = lam.invoke(FunctionName="Hello", Payload=b'{"via": "boto3"}')
        assert json.loads(resp["Payload"].read())["event"] == {"via": "boto3"}
        lam.invoke(FunctionName="Other")
        kids = _children(proc.pid)
        assert len(kids) == 2  # one warm environment per function
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stderr.read()
    deadline = time.monotonic() + 30  # bounds a loaded machine; the processes gone end it at once
    while any(os.path.exists(f"/proc/{k}") for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(os.path.exists(f"/proc/{k}") for k in kids), "an environment outlived start-lambda"


def test_start_lambda_refuses_a_busy_port(cli, project):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = cli("local", "start-lambda", "--port", str(port), "--parameter-overrides", "Secret=x", cwd=project)
    assert r.exit_code == 2, r
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr


CREDS_APP = """
import os
def handler(event, context):
    return {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
"""


def test_dummy_credentials_unless_aws_credentials_is_given(cli, tmp_path, monkeypatch):
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text(textwrap.dedent(CREDS_APP))
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""\
        Resources:
          Creds:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: fn/, Handler: app.handler, Runtime: python3.12}
    """))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMTHESHELL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "shell-secret")
    r = cli("local", "invoke", "Creds", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                                    "AWS_SESSION_TOKEN": "testing"}
    r = cli("local", "invoke", "Creds", "--aws-credentials", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"AWS_ACCESS_KEY_ID": "AKIAFROMTHESHELL", "AWS_SECRET_ACCESS_KEY": "shell-secret",
                                    "AWS_SESSION_TOKEN": None}
    assert "shell-secret" not in r.stderr


def test_code_start_sample_environments_equal_workers_when_the_calls_overlap(tmp_path):
    """samples/code_start/invoke.py against start-lambda: when the calls overlap each worker gets its own."""
    import threading

    from lamctl.local.runtime.environment import Environment
    from lamctl.local.runtime.functions import TemplateFunctions
    from lamctl.local.runtime.invoke_api import InvokeServer
    from lamctl.local.runtime.pool import Pool
    from lamctl.local.runtime.service import LocalLambda

    workers = 3
    together = threading.Barrier(workers, timeout=60)

    class Overlapping(Environment):
        """A real environment whose invocation starts only once every worker holds one: rounds of 3 at once."""

        def invoke(self, payload, **kwargs):
            together.wait()
            return super().invoke(payload, **kwargs)

    sample = os.path.join(os.path.dirname(__file__), "..", "..", "samples", "code_start")
    fns = TemplateFunctions(os.path.join(sample, "template.yaml"), build_dir=str(tmp_path / "build"))
    server = InvokeServer(LocalLambda(fns, Pool(idle_timeout=None, environment_factory=Overlapping)),
                          "127.0.0.1", 0).start()
    try:
        out = subprocess.run([sys.executable, os.path.join(sample, "invoke.py"), "-mw", str(workers), "-it", "6",
                              "-l", "Counter", "--endpoint-url", server.url],
                             capture_output=True, text=True, timeout=120)
    finally:
        server.close()
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    assert len(rows) == 3 and all(calls == "2" for calls, _ in rows), out.stdout


def test_json_output_of_a_function_error(cli, project):
    r = cli("--output", "json", "local", "invoke", "Other", "-e", "-", cwd=project, stdin='{"fail": true}')
    assert r.exit_code == 1, r
    result = r.json_lines()[-1]
    assert result["type"] == "result" and result["ok"] is False
    assert result["function_error"] == "Unhandled" and result["error_type"] == "KeyError"
    assert result["payload"]["errorMessage"] == "'missing'"
    assert "END RequestId" in r.stderr  # logs stay on stderr
