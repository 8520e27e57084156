"""SQS event source mappings on the local cloud, polled as Lambda polls them: batches of BatchSize with
Lambda's SQS event, a failed batch back on the queue, ReportBatchItemFailures keeping only the failed messages,
a redrive policy's dead-letter queue after maxReceiveCount receives, Enabled: false. Real functions run on an
:class:`~lamctl.local.cloud.emulator.EmulatorServer` in this process; the queues' own visibility timeout is 0,
so a message that failed is visible again at once (no waiting)."""

from __future__ import annotations

import json
import time
import urllib.request

import boto3
import pytest

from lamctl.local.cloud.emulator import EmulatorServer
from tests.helpers import code_zip

CREDS = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")

# each invocation stores its event under batches/ so the test sees every batch the function got
SOURCE = """\
import boto3, json, uuid
def handler(event, context):
    boto3.client("s3").put_object(Bucket="runs", Key="batches/" + uuid.uuid4().hex, Body=json.dumps(event).encode())
    bodies = [r["body"] for r in event["Records"]]
    if "fail-all" in bodies:
        raise ValueError("the whole batch fails")
    failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"].startswith("bad")]
    return {"batchItemFailures": failed}
"""


class Cloud:
    def __init__(self, server: EmulatorServer):
        self.server = server
        self.lam, self.s3, self.sqs = (boto3.client(s, endpoint_url=server.endpoint, **CREDS)
                                       for s in ("lambda", "s3", "sqs"))
        self.role = boto3.client("iam", endpoint_url=server.endpoint, **CREDS).create_role(
            RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.s3.create_bucket(Bucket="runs")
        self.lam.create_function(FunctionName="consumer", Runtime="python3.12", Role=self.role,
                                 Handler="app.handler", Code={"ZipFile": code_zip(SOURCE)}, Timeout=30)

    def queue(self, name: str, **attributes: str) -> tuple[str, str]:
        attributes.setdefault("VisibilityTimeout", "0")
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn

    def batches(self) -> list[dict]:
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket="runs", Prefix="batches/").get("Contents", [])]
        return [json.loads(self.s3.get_object(Bucket="runs", Key=k)["Body"].read()) for k in keys]

    def until(self, what, check, timeout: float = 60.0):
        """Look at the cloud until ``check()`` is true (bounded); its last value."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value or time.monotonic() > deadline:
                assert value, f"{what}: not seen within {timeout} s"
                return value
            time.sleep(0.05)

    def count(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def cloud():
    server = EmulatorServer(idle_timeout=None, retry_delays=(0.0, 0.0)).start()
    urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", method="POST"),
                           timeout=30).read()
    yield Cloud(server)
    server.stop()


def test_messages_arrive_in_batches_with_lambdas_sqs_event_and_are_deleted(cloud):
    url, arn = cloud.queue("jobs")
    for i in range(5):
        cloud.sqs.send_message(QueueUrl=url, MessageBody=f"job-{i}",
                               MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}})
    # the mapping is created once the messages wait, so that batches of 2 are what the poller can take
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=2)
    cloud.until("every message handled and deleted", lambda: cloud.count(url) == 0)
    batches = cloud.batches()
    assert sorted(len(b["Records"]) for b in batches) == [1, 2, 2]
    records = [r for b in batches for r in b["Records"]]
    assert sorted(r["body"] for r in records) == [f"job-{i}" for i in range(5)]
    record = records[0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1" and record["attributes"]["ApproximateReceiveCount"] == "1"
    assert int(record["attributes"]["SentTimestamp"]) > 0 and record["receiptHandle"] and record["md5OfBody"]
    assert record["messageAttributes"]["kind"]["stringValue"] == "test"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"


def test_report_batch_item_failures_keeps_only_the_failed_messages(cloud):
    url, arn = cloud.queue("partial")
    cloud.sqs.send_message(QueueUrl=url, MessageBody="good-1")
    cloud.sqs.send_message(QueueUrl=url, MessageBody="bad-1")
    cloud.sqs.send_message(QueueUrl=url, MessageBody="good-2")
    uuid = cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=10,
                                                 FunctionResponseTypes=["ReportBatchItemFailures"])["UUID"]
    cloud.until("bad-1 received three times",
                lambda: sum(r["body"] == "bad-1" for b in cloud.batches() for r in b["Records"]) >= 3)
    cloud.lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    with cloud.server.app.sqs.lock:  # the round under way (if any) ends; the next ones skip the mapping
        pass
    bodies = [r["body"] for b in cloud.batches() for r in b["Records"]]
    assert bodies.count("good-1") == 1 and bodies.count("good-2") == 1  # deleted after their one success
    left = cloud.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in left] == ["bad-1"]


def test_a_failed_batch_goes_back_and_the_redrive_policy_moves_it_to_the_dead_letter_queue(cloud):
    dlq_url, dlq_arn = cloud.queue("jobs-dlq")
    url, arn = cloud.queue("jobs", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn,
                                                             "maxReceiveCount": "2"}))
    cloud.sqs.send_message(QueueUrl=url, MessageBody="fail-all")
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer")
    cloud.until("the message on the dead-letter queue", lambda: cloud.count(dlq_url) == 1)
    received = [r["attributes"]["ApproximateReceiveCount"] for b in cloud.batches() for r in b["Records"]]
    assert sorted(received) == ["1", "2"]  # two receives, then the redrive
    assert cloud.count(url) == 0
    (moved,) = cloud.sqs.receive_message(QueueUrl=dlq_url)["Messages"]
    assert moved["Body"] == "fail-all"


def test_a_disabled_mapping_is_not_polled(cloud):
    url, arn = cloud.queue("idle")
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", Enabled=False)
    cloud.sqs.send_message(QueueUrl=url, MessageBody="waits")
    for _ in range(3):  # rounds of the poller itself, run here: nothing is taken
        assert cloud.server.app.sqs.poll_once() == 0
    assert cloud.batches() == [] and cloud.count(url) == 1


def test_a_batching_window_waits_for_a_full_batch(cloud):
    url, arn = cloud.queue("windowed")
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=3,
                                          MaximumBatchingWindowInSeconds=300)
    cloud.sqs.send_message(QueueUrl=url, MessageBody="one")
    cloud.sqs.send_message(QueueUrl=url, MessageBody="two")
    for _ in range(3):  # rounds of the poller run here: two messages, five minutes of window left: none taken
        assert cloud.server.app.sqs.poll_once() == 0
    assert cloud.batches() == []
    cloud.sqs.send_message(QueueUrl=url, MessageBody="three")  # the batch is full: it goes at once
    cloud.until("the full batch handled", lambda: cloud.count(url) == 0)
    (batch,) = cloud.batches()
    assert sorted(r["body"] for r in batch["Records"]) == ["one", "three", "two"]


def test_filter_criteria_deletes_what_no_pattern_matches_without_invoking(cloud):
    url, arn = cloud.queue("orders")
    for body in (json.dumps({"kind": "order", "total": 30}), json.dumps({"kind": "order", "total": 5}),
                 json.dumps({"kind": "refund"}), "plain text"):
        cloud.sqs.send_message(QueueUrl=url, MessageBody=body)
    pattern = {"body": {"kind": ["order"], "total": [{"numeric": [">", 10]}]}}
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=10,
                                          FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)},
                                                                      {"Pattern": '{"body": ["plain text"]}'}]})
    cloud.until("every message gone from the queue", lambda: cloud.count(url) == 0)
    bodies = [r["body"] for b in cloud.batches() for r in b["Records"]]
    assert sorted(bodies) == sorted([json.dumps({"kind": "order", "total": 30}), "plain text"])


CONCURRENT = """\
import boto3, time, uuid
def handler(event, context):
    s3 = boto3.client("s3")
    s3.put_object(Bucket="runs", Key="started/" + uuid.uuid4().hex, Body=event["Records"][0]["body"].encode())
    for _ in range(600):  # until the test lets the batches go (a minute at most)
        if s3.list_objects_v2(Bucket="runs", Prefix="go").get("KeyCount"):
            return {}
        time.sleep(0.1)
    raise TimeoutError("not let go")
"""


def test_maximum_concurrency_runs_that_many_batches_at_once_and_no_more(cloud):
    cloud.lam.create_function(FunctionName="slow", Runtime="python3.12", Role=cloud.role, Handler="app.handler",
                              Code={"ZipFile": code_zip(CONCURRENT)}, Timeout=90)
    url, arn = cloud.queue("busy", VisibilityTimeout="60")  # a batch under way is not received again
    for i in range(5):
        cloud.sqs.send_message(QueueUrl=url, MessageBody=f"job-{i}")
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="slow", BatchSize=1,
                                          ScalingConfig={"MaximumConcurrency": 2})

    def started() -> int:
        return cloud.s3.list_objects_v2(Bucket="runs", Prefix="started/").get("KeyCount", 0)

    cloud.until("two batches under way at once", lambda: started() == 2)
    deadline = time.monotonic() + 1.0  # a third would start beside them now if the mapping allowed it
    while time.monotonic() < deadline:
        assert started() == 2
        time.sleep(0.1)
    cloud.s3.put_object(Bucket="runs", Key="go", Body=b"1")
    cloud.until("every message handled", lambda: cloud.count(url) == 0)
    assert started() == 5


ORDERED = """\
import boto3, json, time
def handler(event, context):
    s3 = boto3.client("s3")
    for r in event["Records"]:
        s3.put_object(Bucket="runs", Key="calls/%020d-%s" % (time.time_ns(), r["body"]), Body=b"1")
        if r["body"] == "a2" and r["attributes"]["ApproximateReceiveCount"] == "1":
            raise ValueError("a2 fails the first time")
    return {}
"""


def test_a_fifo_queue_is_delivered_in_order_within_each_message_group(cloud):
    cloud.lam.create_function(FunctionName="ordered", Runtime="python3.12", Role=cloud.role, Handler="app.handler",
                              Code={"ZipFile": code_zip(ORDERED)}, Timeout=30)
    url, arn = cloud.queue("orders.fifo", FifoQueue="true", ContentBasedDeduplication="true")
    for body, group in (("a1", "A"), ("b1", "B"), ("a2", "A"), ("a3", "A"), ("b2", "B"), ("a4", "A")):
        cloud.sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="ordered", BatchSize=1)
    cloud.until("every message handled", lambda: cloud.count(url) == 0)
    keys = sorted(o["Key"] for o in cloud.s3.list_objects_v2(Bucket="runs", Prefix="calls/")["Contents"])
    calls = [k.rsplit("-", 1)[1] for k in keys]
    assert [c for c in calls if c.startswith("a")] == ["a1", "a2", "a2", "a3", "a4"]  # a3 waits for a2's retry
    assert [c for c in calls if c.startswith("b")] == ["b1", "b2"]


def test_a_mapping_lambda_would_refuse_is_refused_with_what_is_wrong(cloud):
    from botocore.exceptions import ClientError

    url, arn = cloud.queue("refused")
    for kwargs, words in (
            ({"FilterCriteria": {"Filters": [{"Pattern": '{"body": "order"}'}]}}, "Filters[0].Pattern"),
            ({"FilterCriteria": {"Filters": [{"Pattern": "{not json"}]}}, "Filters[0].Pattern"),
            ({"FilterCriteria": {"Filters": [{"Pattern": '{"body": ["x"]}'}] * 6}}, "at most 5"),
            ({"ScalingConfig": {"MaximumConcurrency": 5000}}, "MaximumConcurrency")):
        with pytest.raises(ClientError) as caught:
            cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", **kwargs)
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
        assert words in caught.value.response["Error"]["Message"]
    assert cloud.lam.list_event_source_mappings(FunctionName="consumer")["EventSourceMappings"] == []
    uuid = cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", Enabled=False)["UUID"]
    with pytest.raises(ClientError) as caught:
        cloud.lam.update_event_source_mapping(UUID=uuid, FilterCriteria={"Filters": [{"Pattern": '{"a": 1}'}]})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"


SQS_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Runs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: runs
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: jobs.fifo
      FifoQueue: true
      ContentBasedDeduplication: true
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: consumer
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Timeout: 30
      Events:
        Orders:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 10
            ScalingConfig:
              MaximumConcurrency: 2
            FilterCriteria:
              Filters:
                - Pattern: '{"body": {"kind": ["order"]}}'
Outputs:
  JobsUrl:
    Value: !Ref Jobs
"""


def test_a_templates_sqs_event_filters_and_keeps_each_groups_order(cli, local_cloud, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(SOURCE)
    (tmp_path / "template.yaml").write_text(SQS_TEMPLATE)
    r = cli("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--stack", "jobs",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    url = r.json_lines()[-1]["outputs"]["JobsUrl"]
    cloud = Cloud.__new__(Cloud)
    cloud.server = local_cloud.server
    cloud.s3, cloud.sqs = local_cloud.client("s3"), local_cloud.client("sqs")
    (mapping,) = local_cloud.client("lambda").list_event_source_mappings(FunctionName="consumer")["EventSourceMappings"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
    for n, kind in enumerate(("order", "ping", "order")):
        cloud.sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": kind, "n": n}), MessageGroupId="g")
    cloud.until("every message gone from the queue", lambda: cloud.count(url) == 0)
    records = [r for b in cloud.batches() for r in b["Records"]]
    assert sorted(json.loads(r["body"])["n"] for r in records) == [0, 2]  # the ping was filtered out
    assert all(r["attributes"]["MessageGroupId"] == "g" for r in records)
