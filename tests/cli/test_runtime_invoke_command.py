"""``lamctl invoke`` against a Lambda endpoint over real HTTP (lamctl's local Invoke API, and the emulator's
CloudFormation for ``--stack``)."""

from __future__ import annotations

import json
import textwrap

import pytest

from lamctl.cli.commands.invoke import split_qualifier
from lamctl.local.runtime.functions import TemplateFunctions
from lamctl.local.runtime.invoke_api import InvokeServer
from lamctl.local.runtime.pool import Pool
from lamctl.local.runtime.service import LocalLambda

TEMPLATE = """\
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
      Runtime: python3.12
      FunctionName: hello-physical
"""
APP = """
def handler(event, context):
    print("handling", event)
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"got": event}
"""


@pytest.fixture
def endpoint(tmp_path, monkeypatch):
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text(textwrap.dedent(APP))
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    fns = TemplateFunctions(str(tmp_path / "template.yaml"), build_dir=str(tmp_path / "build"))
    server = InvokeServer(LocalLambda(fns, Pool(idle_timeout=None)), "127.0.0.1", 0).start()
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    yield server.url
    server.close()


@pytest.mark.parametrize("given,expected", [
    ("fn", ("fn", None)),
    ("fn:live", ("fn", "live")),
    ("fn:$LATEST", ("fn", "$LATEST")),
    ("arn:aws:lambda:us-east-1:123456789012:function:fn", ("arn:aws:lambda:us-east-1:123456789012:function:fn", None)),
    ("arn:aws:lambda:us-east-1:123456789012:function:fn:7", ("arn:aws:lambda:us-east-1:123456789012:function:fn", "7")),
])
def test_split_qualifier(given, expected):
    assert split_qualifier(given) == expected


def test_invoke_prints_payload_and_executed_version(cli, endpoint, tmp_path):
    (tmp_path / "event.json").write_text('{"k": "v"}')
    r = cli("--endpoint-url", endpoint, "invoke", "hello-physical", "-e", str(tmp_path / "event.json"))
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"got": {"k": "v"}}
    assert "executed version: $LATEST" in r.stderr
    assert "START RequestId" not in r.stderr  # logs only with --logs


def test_a_loopback_endpoint_needs_no_credentials_or_region_as_with_local(cli, endpoint, monkeypatch):
    """The README's way to reach start-lambda, on a machine with no AWS configuration at all."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        monkeypatch.delenv(key)
    r = cli("--endpoint-url", endpoint, "invoke", "Hello", "-e", "-", stdin='{"k": 1}')
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"got": {"k": 1}}
    # an endpoint elsewhere is AWS (a VPC endpoint, a proxy): it still needs real credentials
    r = cli("--endpoint-url", "https://lambda.example.invalid", "invoke", "Hello")
    assert r.exit_code != 0 and "no AWS credentials found" in r.stderr


def test_invoke_with_logs_and_a_qualifier(cli, endpoint):
    r = cli("--endpoint-url", endpoint, "invoke", "Hello:$LATEST", "--logs", "-e", "-", stdin='{"n": 1}')
    assert r.exit_code == 0, r
    assert "START RequestId: " in r.stderr and "handling {'n': 1}" in r.stderr and "REPORT RequestId: " in r.stderr


def test_function_error_prints_the_error_object_and_exits_1(cli, endpoint):
    r = cli("--endpoint-url", endpoint, "invoke", "Hello", "-e", "-", stdin='{"fail": true}')
    assert r.exit_code == 1, r
    err = json.loads(r.stdout)
    assert err["errorType"] == "ValueError" and err["errorMessage"] == "asked to fail"
    assert "function error: Unhandled" in r.stderr


def test_json_output(cli, endpoint):
    r = cli("--output", "json", "--endpoint-url", endpoint, "invoke", "Hello", "--logs")
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["ok"] is True and result["payload"] == {"got": {}} and result["executed_version"] == "$LATEST"
    assert "REPORT RequestId" in result["log"]


def test_unknown_function_or_version_is_a_usage_error(cli, endpoint):
    r = cli("--endpoint-url", endpoint, "invoke", "Nope")
    assert r.exit_code == 2, r
    assert "function Nope not found" in r.stderr
    r = cli("--endpoint-url", endpoint, "invoke", "Hello:7")
    assert r.exit_code == 2, r
    assert "function Hello:7 not found" in r.stderr


def test_stack_logical_id_is_resolved_through_cloudformation(cli, endpoint, aws, monkeypatch):
    """CloudFormation from the emulator; Lambda from lamctl's local Invoke API (AWS_ENDPOINT_URL_LAMBDA)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", endpoint)
    iam = aws.client("iam")
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    template = {
        "Resources": {
            "HelloFn": {"Type": "AWS::Lambda::Function", "Properties": {
                "FunctionName": "hello-physical", "Runtime": "python3.12", "Handler": "index.handler",
                "Role": role, "Code": {"ZipFile": "def handler(e, c):\n    return 1\n"}}},
            "Bucket": {"Type": "AWS::S3::Bucket"},
        }
    }
    aws.client("cloudformation").create_stack(StackName="app", TemplateBody=json.dumps(template))
    r = cli("invoke", "HelloFn", "--stack", "app", "-e", "-", stdin='{"via": "stack"}')
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"got": {"via": "stack"}}
    r = cli("invoke", "Missing", "--stack", "app")
    assert r.exit_code == 2, r
    assert "stack app has no resource Missing" in r.stderr and "HelloFn" in r.stderr
    r = cli("invoke", "Bucket", "--stack", "app")
    assert r.exit_code == 2, r
    assert "is a AWS::S3::Bucket, not a function" in r.stderr
