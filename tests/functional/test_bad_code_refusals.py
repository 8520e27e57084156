"""Code a function cannot run from is refused as the caller's input: ``lamctl build`` refuses a CodeUri zip
whose entry escapes its folder (exit 2 naming the entry), and the local cloud answers such a zip, or a runtime
it cannot run, with a 4xx that boto3 does not retry."""

from __future__ import annotations

import io
import random
import zipfile

import boto3
import pytest
from botocore.config import Config

from lamctl.local.cloud.emulator import EmulatorServer

CREDS = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def evil_zip(entry: str = "../evil.py") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return 1\n")
        zf.writestr(entry, "print('outside')\n")
    return buf.getvalue()


@pytest.mark.parametrize("entry", ["../evil.py", "/etc/evil.py", "lib/../../evil.py"])
def test_build_refuses_a_codeuri_zip_whose_entry_escapes_its_folder(cli, tmp_path, entry):
    (tmp_path / "code.zip").write_bytes(evil_zip(entry))
    (tmp_path / "template.yaml").write_text("""\
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: code.zip
""")
    result = cli("build", cwd=tmp_path)
    assert result.exit_code == 2, result
    assert f"template.yaml:7:" in result.stderr and repr(entry) in result.stderr and "escapes" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".lamctl" / "build" / "Fn.zip").exists()


def test_build_keeps_a_codeuri_zip_whose_entries_stay_inside(cli, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "x = 1\n")
        zf.writestr("lib/../lib2/mod.py", "y = 2\n")  # climbs, but stays inside
    (tmp_path / "code.zip").write_bytes(buf.getvalue())
    (tmp_path / "template.yaml").write_text("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
                                            "    Properties: {Runtime: python3.12, Handler: app.handler, "
                                            "CodeUri: code.zip}\n")
    assert cli("build", cwd=tmp_path).exit_code == 0


@pytest.fixture
def cloud():
    server = EmulatorServer(rng=random.Random(7), idle_timeout=None, retry_delays=(0.0, 0.0)).start()
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", method="POST"),
                           timeout=10).read()
    yield server
    server.stop()


def _lambda(cloud):
    lam = boto3.client("lambda", endpoint_url=cloud.endpoint, config=Config(retries={"mode": "standard",
                                                                                    "max_attempts": 5}), **CREDS)
    sent = []
    lam.meta.events.register("before-send.lambda.Invoke", lambda request, **_: sent.append(request.url))
    role = boto3.client("iam", endpoint_url=cloud.endpoint, **CREDS).create_role(
        RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return lam, sent, role


def test_the_local_cloud_refuses_a_zip_escaping_its_folder_with_a_400_sent_once(cloud):
    lam, sent, role = _lambda(cloud)
    lam.create_function(FunctionName="fn", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": evil_zip()})
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as info:
        lam.invoke(FunctionName="fn", Payload=b"{}")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = info.value.response["Error"]["Message"]
    assert "'../evil.py'" in message and "escapes" in message
    assert message.count("the function's code") == 1
    assert len(sent) == 1  # not retried


def test_a_runtime_the_local_cloud_cannot_run_is_not_retried(cloud):
    lam, sent, role = _lambda(cloud)
    lam.create_function(FunctionName="java", Runtime="java21", Role=role, Handler="example.Handler",
                        Code={"ZipFile": evil_zip("index.js")})
    with pytest.raises(lam.exceptions.InvalidRuntimeException):
        lam.invoke(FunctionName="java", Payload=b"{}")
    assert len(sent) == 1


def test_a_damaged_zip_is_refused_with_a_400_sent_once(cloud):
    lam, sent, role = _lambda(cloud)
    good = evil_zip("lib/data.txt")
    at = good.index(b"print('outside')")
    damaged = good[:at] + b"PRINT" + good[at + 5:]  # same size, wrong CRC
    lam.create_function(FunctionName="fn", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": damaged})
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as info:
        lam.invoke(FunctionName="fn", Payload=b"{}")
    assert "damaged" in info.value.response["Error"]["Message"]
    assert len(sent) == 1
