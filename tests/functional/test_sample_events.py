"""samples/events deployed on the local cloud: an S3 upload runs Processor (a failing one is retried once and its
record lands on the OnFailure queue), the nightly schedule fires with ``lamctl local trigger``, and the function
URL answers. The local cloud runs in this process, its retries without delay."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import boto3
import pytest

from lamctl.local.cloud.emulator import EmulatorServer

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "events"
CREDS = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def server():
    server = EmulatorServer(idle_timeout=None, retry_delays=(0.0, 0.0), internal_invokes=True).start()
    urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", method="POST"),
                           timeout=30).read()
    yield server
    server.stop()


def test_the_events_sample_on_the_local_cloud(server, cli, tmp_path):
    folder = tmp_path / "events"
    shutil.copytree(SAMPLE, folder)
    r = cli("--local", "--endpoint-url", server.endpoint, "--output", "json", "deploy", "--stack", "events-sample",
            cwd=folder)
    assert r.exit_code == 0, r
    outputs = r.json_lines()[-1]["outputs"]
    s3, sqs = (boto3.client(s, endpoint_url=server.endpoint, **CREDS) for s in ("s3", "sqs"))
    bucket = outputs["UploadsBucket"]
    assert bucket == "events-sample-uploads-123456789012"

    s3.put_object(Bucket=bucket, Key="incoming/good.txt", Body=b"fine")
    s3.put_object(Bucket=bucket, Key="incoming/bad one.txt", Body=b"breaks")
    s3.put_object(Bucket=bucket, Key="elsewhere/bad.txt", Body=b"not watched")
    assert server.handler.wait_background(90)
    (message,) = sqs.receive_message(QueueUrl=outputs["FailuresQueueUrl"], MaxNumberOfMessages=10)["Messages"]
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2  # MaximumRetryAttempts: 1
    assert record["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "incoming/bad+one.txt"
    assert record["responsePayload"]["errorMessage"] == "cannot process incoming/bad one.txt"

    logs: list[str] = []
    server.handler.log = logs.append
    r = cli("--endpoint-url", server.endpoint, "local", "trigger", "events-sample-nightly")
    assert r.exit_code == 0, r
    assert server.handler.wait_background(60)
    assert any("nightly run for" in line and "rule/events-sample-nightly" in line for line in logs), logs

    with urllib.request.urlopen(outputs["WebUrl"] + "hello?name=lamctl", timeout=60) as resp:
        assert resp.status == 200
        assert json.loads(resp.read()) == {"path": "/hello", "method": "GET", "query": {"name": "lamctl"}}
