"""``lamctl local status`` lists the asynchronous events the local cloud has not finished, on a real background
local cloud whose retry delays come from ``LAMCTL_RETRY_DELAYS`` (long here: the event waits for its retry while
the test looks, and ``local stop`` ends it)."""

from __future__ import annotations

import io
import socket
import time
import zipfile

import boto3
import pytest

from lamctl.local.cloud import lifecycle as cloud


@pytest.fixture
def stopped_afterwards():
    yield
    cloud.stop()


def test_status_lists_an_event_waiting_for_its_retry(cli, monkeypatch, stopped_afterwards):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LAMCTL_RETRY_DELAYS", "600,600")
    assert cli("local", "start", "--port", port).exit_code == 0
    kwargs = dict(region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="testing",
                  aws_secret_access_key="testing")
    role = boto3.client("iam", **kwargs).create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    raise ValueError('no')\n")
    lam = boto3.client("lambda", **kwargs)
    lam.create_function(FunctionName="boom", Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": buf.getvalue()})
    request_id = lam.invoke(FunctionName="boom", InvocationType="Event", Payload=b"{}")["ResponseMetadata"][
        "RequestId"]
    deadline = time.monotonic() + 60
    pending: list = []
    while time.monotonic() < deadline:  # looking at the cloud until the first attempt has failed
        pending = cli("--output", "json", "local", "status").json_lines()[-1]["pending_events"] or []
        if pending and pending[0]["attempts"] == 1:
            break
        time.sleep(0.1)
    assert [(e["request_id"], e["function"], e["attempts"], e["state"]) for e in pending] == [
        (request_id, "boom", 1, "waiting to retry")]
    text = cli("local", "status")
    assert text.exit_code == 0 and "pending asynchronous events" in text.stdout + text.stderr
    assert request_id in text.stdout + text.stderr and "waiting to retry" in text.stdout + text.stderr
