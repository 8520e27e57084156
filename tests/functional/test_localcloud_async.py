"""Asynchronous invocation on the local cloud, as Lambda does it: the function's MaximumRetryAttempts and
MaximumEventAgeInSeconds, the invocation record sent to its OnSuccess / OnFailure destination (SQS, SNS, Lambda,
EventBridge) and a failed event to its dead-letter queue with Lambda's message attributes. Real functions run
on an :class:`~lamctl.local.cloud.emulator.EmulatorServer` in this process, reached over HTTP; the waits
between retries are zero (or on an injected clock), never real minutes."""

from __future__ import annotations

import json
import time
import urllib.request

import boto3
import pytest

from lamctl.local.cloud.emulator import EmulatorServer
from tests.helpers import code_zip
from lamctl.release.clock import FakeClock

CREDS = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")

# each attempt leaves an object under runs/ (so the test counts the attempts that really ran)
SOURCE = """\
import boto3, uuid
def handler(event, context):
    boto3.client("s3").put_object(Bucket="runs", Key="runs/" + uuid.uuid4().hex, Body=b"1")
    if event.get("fail"):
        raise ValueError("asked to fail: " + event.get("why", ""))
    return {"echo": event}
"""

RECORDER = """\
import boto3, json
def handler(event, context):
    boto3.client("s3").put_object(Bucket="runs", Key="record.json", Body=json.dumps(event).encode())
    return {}
"""


class Cloud:
    def __init__(self, server: EmulatorServer):
        self.server = server
        self.lam = self.client("lambda")
        self.s3 = self.client("s3")
        self.sqs = self.client("sqs")
        self.role = self.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.s3.create_bucket(Bucket="runs")

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.server.endpoint, **CREDS)

    def function(self, name: str, source: str = SOURCE, **kwargs) -> str:
        return self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=self.role,
                                        Handler="app.handler", Code={"ZipFile": code_zip(source)}, Timeout=30,
                                        **kwargs)["FunctionArn"]

    def queue(self, name: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def event(self, name: str, payload: dict) -> str:
        resp = self.lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload).encode())
        assert resp["StatusCode"] == 202
        return resp["ResponseMetadata"]["RequestId"]

    def settle(self) -> None:
        assert self.server.handler.wait_background(90), "asynchronous invocations still running after 90 s"

    def messages(self, url: str) -> list[dict]:
        return self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                        MessageAttributeNames=["All"]).get("Messages", [])

    def runs(self) -> int:
        return len(self.s3.list_objects_v2(Bucket="runs", Prefix="runs/").get("Contents", []))


def _server(**kwargs) -> EmulatorServer:
    server = EmulatorServer(idle_timeout=None, retry_delays=(0.0, 0.0), internal_invokes=True, **kwargs).start()
    urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", method="POST"),
                           timeout=30).read()
    return server


@pytest.fixture
def cloud():
    server = _server()
    yield Cloud(server)
    server.stop()


def test_maximum_retry_attempts_and_the_on_failure_queue_get_lambdas_record(cloud):
    """The measured bug: MaximumRetryAttempts=1 ran the function 3 times and nothing reached the queue."""
    url, arn = cloud.queue("failures")
    cloud.function("boom")
    cloud.lam.put_function_event_invoke_config(FunctionName="boom", MaximumRetryAttempts=1,
                                               DestinationConfig={"OnFailure": {"Destination": arn}})
    request_id = cloud.event("boom", {"fail": True, "why": "boom"})
    cloud.settle()
    assert cloud.runs() == 2  # the first attempt and one retry
    (message,) = cloud.messages(url)
    record = json.loads(message["Body"])
    assert record["version"] == "1.0" and record["timestamp"].endswith("Z")
    assert record["requestContext"] == {
        "requestId": request_id, "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:boom:$LATEST",
        "condition": "RetriesExhausted", "approximateInvokeCount": 2}
    assert record["requestPayload"] == {"fail": True, "why": "boom"}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "asked to fail: boom"
    assert record["responsePayload"]["errorType"] == "ValueError"


def test_no_retries_and_the_default_of_two(cloud):
    cloud.function("once")
    cloud.lam.put_function_event_invoke_config(FunctionName="once", MaximumRetryAttempts=0)
    cloud.event("once", {"fail": True})
    cloud.settle()
    assert cloud.runs() == 1
    cloud.function("thrice")
    cloud.event("thrice", {"fail": True})
    cloud.settle()
    assert cloud.runs() == 1 + 3  # no configuration: Lambda retries twice


def test_a_success_goes_to_on_success_on_an_sns_topic(cloud):
    url, queue_arn = cloud.queue("successes")
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="results")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    cloud.function("fine")
    cloud.lam.put_function_event_invoke_config(FunctionName="fine", DestinationConfig={
        "OnSuccess": {"Destination": topic}, "OnFailure": {"Destination": queue_arn}})
    cloud.event("fine", {"n": 1})
    cloud.settle()
    assert cloud.runs() == 1
    (message,) = cloud.messages(url)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"echo": {"n": 1}}


def test_a_function_destination_is_invoked_with_the_record(cloud):
    target = cloud.function("recorder", RECORDER)
    cloud.function("boom")
    cloud.lam.put_function_event_invoke_config(FunctionName="boom", MaximumRetryAttempts=0,
                                               DestinationConfig={"OnFailure": {"Destination": target}})
    cloud.event("boom", {"fail": True})
    cloud.settle()
    record = json.loads(cloud.s3.get_object(Bucket="runs", Key="record.json")["Body"].read())
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestPayload"] == {"fail": True}


def test_an_eventbridge_destination_gets_lambdas_detail_type(cloud):
    url, queue_arn = cloud.queue("bus-out")
    events = cloud.client("events")
    bus = events.describe_event_bus()["Arn"]
    events.put_rule(Name="results", EventPattern=json.dumps({"source": ["lambda"]}))
    events.put_targets(Rule="results", Targets=[{"Id": "q", "Arn": queue_arn}])
    cloud.function("fine")
    cloud.lam.put_function_event_invoke_config(FunctionName="fine",
                                               DestinationConfig={"OnSuccess": {"Destination": bus}})
    cloud.event("fine", {"n": 2})
    cloud.settle()
    (message,) = cloud.messages(url)
    event = json.loads(message["Body"])
    assert event["source"] == "lambda"
    assert event["detail-type"] == "Lambda Function Invocation Result - Success"
    assert event["resources"] == ["arn:aws:lambda:us-east-1:123456789012:function:fine"]
    assert event["detail"]["requestContext"]["condition"] == "Success"
    assert event["detail"]["requestPayload"] == {"n": 2}


def test_a_failed_event_lands_on_the_dead_letter_queue_with_lambdas_attributes(cloud):
    url, arn = cloud.queue("dlq")
    cloud.function("boom", DeadLetterConfig={"TargetArn": arn})
    assert cloud.lam.get_function_configuration(FunctionName="boom")["DeadLetterConfig"] == {"TargetArn": arn}
    cloud.lam.put_function_event_invoke_config(FunctionName="boom", MaximumRetryAttempts=1)
    request_id = cloud.event("boom", {"fail": True, "why": "dlq"})
    cloud.settle()
    assert cloud.runs() == 2
    (message,) = cloud.messages(url)
    assert json.loads(message["Body"]) == {"fail": True, "why": "dlq"}  # the event itself, no record
    attributes = {k: (v["DataType"], v["StringValue"]) for k, v in message["MessageAttributes"].items()}
    assert attributes == {"RequestID": ("String", request_id), "ErrorCode": ("Number", "200"),
                          "ErrorMessage": ("String", "asked to fail: dlq")}


def test_an_event_older_than_its_maximum_age_is_not_retried():
    """MaximumEventAgeInSeconds=60 and retries 90 s apart: one attempt, then EventAgeExceeded. The waits are on
    an injected clock, so no real time passes."""
    clock = FakeClock()
    server = _server(clock=clock)
    server.handler.retry_delays = (90.0, 90.0)
    try:
        cloud = Cloud(server)
        url, arn = cloud.queue("too-old")
        cloud.function("boom")
        cloud.lam.put_function_event_invoke_config(FunctionName="boom", MaximumEventAgeInSeconds=60,
                                                   DestinationConfig={"OnFailure": {"Destination": arn}})
        cloud.event("boom", {"fail": True})
        cloud.settle()
        assert cloud.runs() == 1
        (message,) = cloud.messages(url)
        record = json.loads(message["Body"])
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["approximateInvokeCount"] == 1
    finally:
        server.stop()


def test_status_lists_the_events_waiting_for_a_retry():
    server = _server()
    server.handler.retry_delays = (30.0, 30.0)  # real waits: the event is still pending while the test looks
    try:
        cloud = Cloud(server)
        cloud.function("boom")
        request_id = cloud.event("boom", {"fail": True})
        deadline = time.monotonic() + 60
        pending = []
        while time.monotonic() < deadline:
            status = json.loads(urllib.request.urlopen(server.endpoint + "/lamctl-api/status", timeout=10).read())
            pending = status["pending_events"]
            if pending and pending[0]["attempts"] >= 1:
                break
            time.sleep(0.05)
        assert pending and pending[0]["request_id"] == request_id
        assert pending[0]["function"] == "boom" and pending[0]["attempts"] == 1
        assert pending[0]["state"] == "waiting to retry"
    finally:
        server.stop()


TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Failures:
    Type: AWS::SQS::Queue
  Dead:
    Type: AWS::SQS::Queue
  Boom:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: boom-from-template
      Runtime: python3.12
      CodeUri: src/
      Handler: app.handler
      Timeout: 30
      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt Dead.Arn}
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure: {Type: SQS, Destination: !GetAtt Failures.Arn}
Outputs:
  FailuresUrl: {Value: !Ref Failures}
  DeadUrl: {Value: !Ref Dead}
"""


def test_a_templates_event_invoke_config_and_dead_letter_queue_are_honoured(cli, local_cloud, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(SOURCE)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    r = cli("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--stack", "boom",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    outputs = r.json_lines()[-1]["outputs"]
    cloud = Cloud.__new__(Cloud)
    cloud.server = local_cloud.server
    cloud.lam, cloud.s3, cloud.sqs = cloud.client("lambda"), cloud.client("s3"), cloud.client("sqs")
    cloud.s3.create_bucket(Bucket="runs")
    request_id = cloud.event("boom-from-template", {"fail": True, "why": "template"})
    cloud.settle()
    assert cloud.runs() == 2  # MaximumRetryAttempts: 1
    (record,) = [json.loads(m["Body"]) for m in cloud.messages(outputs["FailuresUrl"])]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["requestId"] == request_id
    (dead,) = cloud.messages(outputs["DeadUrl"])
    assert json.loads(dead["Body"]) == {"fail": True, "why": "template"}
    assert dead["MessageAttributes"]["ErrorMessage"]["StringValue"] == "asked to fail: template"


def test_a_throttled_event_stays_queued_until_its_maximum_age():
    """Reserved concurrency 0: every attempt is throttled; the event is kept (not run, not dropped) until it is
    older than MaximumEventAgeInSeconds, then its record says EventAgeExceeded. The waits are on an injected
    clock."""
    server = _server(clock=FakeClock())
    try:
        cloud = Cloud(server)
        url, arn = cloud.queue("throttled")
        cloud.function("boom")
        cloud.lam.put_function_concurrency(FunctionName="boom", ReservedConcurrentExecutions=0)
        cloud.lam.put_function_event_invoke_config(FunctionName="boom", MaximumEventAgeInSeconds=60,
                                                   DestinationConfig={"OnFailure": {"Destination": arn}})
        request_id = cloud.event("boom", {"n": 1})
        cloud.settle()
        assert cloud.runs() == 0
        (message,) = cloud.messages(url)
        record = json.loads(message["Body"])
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["requestId"] == request_id
        assert record["requestContext"]["approximateInvokeCount"] == 0
        assert record["requestPayload"] == {"n": 1} and "responsePayload" not in record
    finally:
        server.stop()


def test_lamctl_logs_shows_each_attempt_of_an_asynchronous_event(cli, local_cloud):
    """Each attempt is an invocation with its own START, END and REPORT lines, all under the event's request ID
    (Lambda keeps it across retries)."""
    cloud = Cloud.__new__(Cloud)
    cloud.server = local_cloud.server
    cloud.lam, cloud.s3 = cloud.client("lambda"), cloud.client("s3")
    cloud.role = cloud.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    cloud.s3.create_bucket(Bucket="runs")
    cloud.function("flaky")
    cloud.lam.put_function_event_invoke_config(FunctionName="flaky", MaximumRetryAttempts=1)
    request_id = cloud.event("flaky", {"fail": True, "why": "logs"})
    cloud.settle()
    result = cli("--output", "json", "logs", "flaky")
    assert result.exit_code == 0, result.stderr
    lines = [e for e in result.json_lines() if e["type"] == "log_event"]
    for marker in ("START", "END", "REPORT"):
        mine = [e for e in lines if e["message"].startswith(f"{marker} RequestId: {request_id}")]
        assert len(mine) == 2, (marker, [e["message"] for e in lines])  # the first attempt and the retry
    assert sum("asked to fail: logs" in e["message"] for e in lines) == 2
