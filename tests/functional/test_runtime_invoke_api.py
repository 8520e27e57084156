"""The local Invoke API through boto3 over real HTTP: every header and error botocore knows."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import textwrap

import boto3
import pytest
from botocore.config import Config

from lamctl.local.runtime.functions import TemplateFunctions
from lamctl.local.runtime.invoke_api import InvokeServer
from lamctl.local.runtime.pool import Pool
from lamctl.local.runtime.service import LocalLambda

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 5
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      FunctionName: hello-physical
  Flaky:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: flaky/
      Handler: app.handler
      Environment:
        Variables:
          ATTEMPTS: {attempts}
  Limited:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      ReservedConcurrentExecutions: 1
  Java:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: example.Handler::handleRequest
      Runtime: java21
"""

HELLO = """
import os, json
VERSION = "v1"
def handler(event, context):
    if event.get("noise"):
        print("x" * event["noise"])
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    cc = context.client_context.custom if context.client_context else None
    return {"version": VERSION, "event": event, "pid": os.getpid(), "client_context": cc,
            "arn": context.invoked_function_arn}
"""

FLAKY = """
import os
def handler(event, context):
    with open(os.environ["ATTEMPTS"], "a") as fh:
        fh.write(context.aws_request_id + "\\n")
    raise RuntimeError("always fails")
"""


def _leftovers(root) -> list[int]:
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
        if state != "Z" and cwd.startswith(root + os.sep):
            out.append(int(entry))
    return out


@pytest.fixture
def project(tmp_path):
    (tmp_path / "hello").mkdir()
    (tmp_path / "hello" / "app.py").write_text(textwrap.dedent(HELLO))
    (tmp_path / "flaky").mkdir()
    (tmp_path / "flaky" / "app.py").write_text(textwrap.dedent(FLAKY))
    attempts = tmp_path / "attempts.txt"
    (tmp_path / "template.yaml").write_text(TEMPLATE.format(attempts=attempts))
    return tmp_path


@pytest.fixture
def start(project):
    servers = []

    def run(max_concurrency=None) -> InvokeServer:
        fns = TemplateFunctions(str(project / "template.yaml"), build_dir=str(project / ".build"))
        service = LocalLambda(fns, Pool(max_concurrency=max_concurrency, idle_timeout=None))
        logs = []
        server = InvokeServer(service, "127.0.0.1", 0, retry_delays=(0.0, 0.0), log=logs.append).start()
        server.logs = logs
        servers.append(server)
        return server

    yield run
    for s in servers:
        s.close()
    assert _leftovers(project) == [], "a function process outlived the server"


def _client(server: InvokeServer):
    return boto3.client("lambda", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1}))


def test_request_response_returns_the_payload_and_executed_version(start):
    lam = _client(start())
    resp = lam.invoke(FunctionName="Hello", Payload=json.dumps({"a": 1}))
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in resp and "LogResult" not in resp
    body = json.loads(resp["Payload"].read())
    assert body["event"] == {"a": 1} and body["version"] == "v1"
    assert body["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:Hello"


def test_function_found_by_physical_name_arn_and_latest_qualifier(start):
    lam = _client(start())
    for name, qualifier in [("hello-physical", None), ("Hello", "$LATEST"),
                            ("arn:aws:lambda:us-east-1:123456789012:function:Hello", None)]:
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        resp = lam.invoke(FunctionName=name, Payload=b"{}", **kwargs)
        assert resp["StatusCode"] == 200, name


def test_no_payload_is_an_empty_object(start):
    lam = _client(start())
    assert json.loads(lam.invoke(FunctionName="Hello")["Payload"].read())["event"] == {}


def test_log_tail_is_the_last_4_kb_of_the_log_base64(start):
    lam = _client(start())
    resp = lam.invoke(FunctionName="Hello", Payload=b'{}', LogType="Tail")
    log = base64.b64decode(resp["LogResult"]).decode()
    assert log.startswith("START RequestId: "), log  # the whole log of a short invocation: its START first
    assert "\nEND RequestId: " in log and "\nREPORT RequestId: " in log
    noisy = lam.invoke(FunctionName="Hello", Payload=b'{"noise": 10000}', LogType="Tail")
    tail = base64.b64decode(noisy["LogResult"])
    assert len(tail) == 4096
    assert tail.decode().rstrip("\n").splitlines()[-1].startswith("REPORT RequestId: ")
    assert b"START RequestId" not in tail  # it was more than 4 KB back


def test_function_error_sets_the_function_error_header(start):
    lam = _client(start())
    resp = lam.invoke(FunctionName="Hello", Payload=b'{"fail": true}')
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    err = json.loads(resp["Payload"].read())
    assert err["errorType"] == "RuntimeError" and err["errorMessage"] == "asked to fail"


def test_unknown_function_and_unknown_version_are_resource_not_found(start):
    lam = _client(start())
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as info:
        lam.invoke(FunctionName="Nope")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "function:Nope" in str(info.value)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="Hello", Qualifier="7")


def test_payload_limits_are_request_too_large(start):
    lam = _client(start())
    with pytest.raises(lam.exceptions.RequestTooLargeException) as info:
        lam.invoke(FunctionName="Hello", Payload=b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName="Hello", InvocationType="Event", Payload=b'"' + b"x" * (1024 * 1024) + b'"')
    # just under the limit is fine
    assert lam.invoke(FunctionName="Hello", Payload=b'"' + b"x" * (1024 * 1024) + b'"')["StatusCode"] == 200


def test_payload_limits_at_their_edge(start):
    """6 MB (6,291,456 bytes) for a synchronous call and 1 MB (1,048,576) for an event: the limit itself passes."""
    lam = _client(start())

    def payload(size: int) -> bytes:
        return b'"' + b"x" * (size - 2) + b'"'

    assert lam.invoke(FunctionName="Hello", InvocationType="DryRun", Payload=payload(6_291_456))["StatusCode"] == 204
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName="Hello", InvocationType="DryRun", Payload=payload(6_291_457))
    assert lam.invoke(FunctionName="Hello", InvocationType="Event", Payload=payload(1_048_576))["StatusCode"] == 202
    with pytest.raises(lam.exceptions.RequestTooLargeException):
        lam.invoke(FunctionName="Hello", InvocationType="Event", Payload=payload(1_048_577))


def test_dry_run_is_204_and_runs_nothing(start):
    server = start()
    lam = _client(server)
    assert lam.invoke(FunctionName="Hello", InvocationType="DryRun")["StatusCode"] == 204
    assert server.service.pool.pids() == []
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="Nope", InvocationType="DryRun")


def test_event_is_202_and_a_failing_function_is_tried_three_times(start, project):
    server = start()
    lam = _client(server)
    resp = lam.invoke(FunctionName="Flaky", InvocationType="Event", Payload=b'{"n": 1}')
    assert resp["StatusCode"] == 202
    assert resp["Payload"].read() == b""
    assert server.wait_background(30)
    attempts = (project / "attempts.txt").read_text().split()
    assert len(attempts) == 3  # the first try and Lambda's two retries
    assert len(set(attempts)) == 1  # all with the same request ID


def test_event_that_succeeds_runs_once(start):
    server = start()
    lam = _client(server)
    assert lam.invoke(FunctionName="Hello", InvocationType="Event", Payload=b'{"x": 1}')["StatusCode"] == 202
    assert server.wait_background(30)
    assert sum(1 for text in server.logs if text.startswith("START RequestId") or "\nSTART RequestId" in text) == 1


def test_reserved_concurrency_is_too_many_requests(start):
    server = start()
    lam = _client(server)
    server.service.resolve("Limited")
    held = server.service.pool.acquire("Limited")  # an invocation in flight
    try:
        with pytest.raises(lam.exceptions.TooManyRequestsException) as info:
            lam.invoke(FunctionName="Limited", Payload=b"{}")
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert info.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    finally:
        server.service.pool.release(held)
    assert lam.invoke(FunctionName="Limited", Payload=b"{}")["StatusCode"] == 200


def test_max_concurrency_is_too_many_requests(start):
    server = start(max_concurrency=1)
    lam = _client(server)
    server.service.resolve("Hello")
    held = server.service.pool.acquire("Hello")
    try:
        with pytest.raises(lam.exceptions.TooManyRequestsException):
            lam.invoke(FunctionName="Hello", Payload=b"{}")
    finally:
        server.service.pool.release(held)


def test_client_context_reaches_the_handler(start):
    lam = _client(start())
    cc = base64.b64encode(json.dumps({"custom": {"tenant": "blue"}, "client": {}, "env": {}}).encode()).decode()
    body = json.loads(lam.invoke(FunctionName="Hello", ClientContext=cc)["Payload"].read())
    assert body["client_context"] == {"tenant": "blue"}


def test_invalid_json_payload_is_refused(start):
    lam = _client(start())
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName="Hello", Payload=b"{not json")


def test_unsupported_runtime_is_invalid_runtime(start):
    lam = _client(start())
    with pytest.raises(lam.exceptions.InvalidRuntimeException) as info:
        lam.invoke(FunctionName="Java")
    assert "java21" in str(info.value) and "not supported locally" in str(info.value)


def test_changed_code_gets_fresh_environments_on_the_next_invocation(start, project):
    lam = _client(start())
    first = json.loads(lam.invoke(FunctionName="Hello")["Payload"].read())
    assert first["version"] == "v1"
    app = project / "hello" / "app.py"
    app.write_text(app.read_text().replace('VERSION = "v1"', 'VERSION = "v2, edited"'))
    second = json.loads(lam.invoke(FunctionName="Hello")["Payload"].read())
    assert second["version"] == "v2, edited"
    assert second["pid"] != first["pid"]
    assert not os.path.exists(f"/proc/{first['pid']}/cwd")  # the old environment was stopped
    third = json.loads(lam.invoke(FunctionName="Hello")["Payload"].read())
    assert third["pid"] == second["pid"]  # and the new one is kept warm


def test_unknown_operation_is_a_named_error(start):
    import urllib.error
    import urllib.request

    server = start()
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(server.url + "/2015-03-31/functions/", timeout=5)
    assert info.value.code == 404 and info.value.headers["X-Amzn-ErrorType"] == "UnknownOperationException"


def test_invoke_api_sockets_set_tcp_nodelay(start):
    import http.client
    import socket

    server = start()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    conn.request("POST", "/2015-03-31/functions/Hello/invocations", body=b"{}")
    assert conn.getresponse().read()
    mine = conn.sock.getsockname()
    served = [c for c in list(server._conns) if c.fileno() != -1 and c.getpeername() == mine]
    assert len(served) == 1
    assert served[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    conn.close()


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_works_with_endpoint_url(start, tmp_path):
    server = start()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1")
    out_file = tmp_path / "out.json"
    r = subprocess.run(["aws", "lambda", "invoke", "--endpoint-url", server.url, "--function-name", "Hello",
                        "--payload", '{"from": "aws-cli"}', "--log-type", "Tail", str(out_file)],
                       capture_output=True, text=True, env=env, timeout=60)
    if r.returncode != 0 and "Invalid base64" in r.stderr:  # AWS CLI v2 wants --cli-binary-format raw-in-base64-out
        r = subprocess.run(["aws", "lambda", "invoke", "--endpoint-url", server.url, "--function-name", "Hello",
                            "--cli-binary-format", "raw-in-base64-out", "--payload", '{"from": "aws-cli"}',
                            "--log-type", "Tail", str(out_file)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    meta = json.loads(r.stdout)
    assert meta["StatusCode"] == 200 and meta["ExecutedVersion"] == "$LATEST"
    assert "REPORT RequestId" in base64.b64decode(meta["LogResult"]).decode()
    assert json.loads(out_file.read_text())["event"] == {"from": "aws-cli"}
    r = subprocess.run(["aws", "lambda", "invoke", "--endpoint-url", server.url, "--function-name", "Nope",
                        str(out_file)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr


def test_a_function_removed_from_the_template_is_resource_not_found(start, project):
    lam = _client(start())
    assert lam.invoke(FunctionName="Limited")["StatusCode"] == 200
    text = (project / "template.yaml").read_text()
    start_at = text.index("  Limited:")
    end_at = text.index("  Java:")
    (project / "template.yaml").write_text(text[:start_at] + text[end_at:])
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="Limited")
    assert lam.invoke(FunctionName="Hello")["StatusCode"] == 200
