"""Kinesis and DynamoDB stream event source mappings on the local cloud, polled as Lambda polls them: batches of
BatchSize with Lambda's record fields, StartingPosition, retries up to MaximumRetryAttempts, BisectBatchOnFunctionError
isolating a bad record, MaximumRecordAgeInSeconds, the stream failure record on the OnFailure queue,
ReportBatchItemFailures, FilterCriteria and Enabled: false. Real functions run on an
:class:`~lamctl.local.cloud.emulator.EmulatorServer` in this process, reached over HTTP; the waits are bounded
looks at the cloud, and record ages run on an injected clock."""

from __future__ import annotations

import base64
import json
import time
import urllib.request

import boto3
import pytest

from lamctl.local.cloud.emulator import EmulatorServer
from lamctl.release.clock import FakeClock
from tests.helpers import code_zip

CREDS = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")

# each invocation stores its event under batches/; a record whose data (Kinesis) or NewImage.v (DynamoDB) is
# "bad" fails the batch, or is reported in batchItemFailures when the environment says PARTIAL
SOURCE = """\
import base64, boto3, json, os, uuid
def handler(event, context):
    boto3.client("s3").put_object(Bucket="runs", Key="batches/" + uuid.uuid4().hex, Body=json.dumps(event).encode())
    bad = []
    for r in event["Records"]:
        if "kinesis" in r:
            value, ident = base64.b64decode(r["kinesis"]["data"]).decode(), r["kinesis"]["sequenceNumber"]
        else:
            value = r["dynamodb"].get("NewImage", {}).get("v", {}).get("S", "")
            ident = r["dynamodb"]["SequenceNumber"]
        if value.startswith("bad"):
            bad.append(ident)
    if bad and os.environ.get("PARTIAL"):
        return {"batchItemFailures": [{"itemIdentifier": i} for i in bad]}
    if bad:
        raise ValueError("bad record " + bad[0])
    return {}
"""


class Cloud:
    def __init__(self, server: EmulatorServer):
        self.server = server
        self.lam, self.s3, self.sqs, self.kinesis, self.ddb = (
            boto3.client(s, endpoint_url=server.endpoint, **CREDS)
            for s in ("lambda", "s3", "sqs", "kinesis", "dynamodb"))
        self.role = boto3.client("iam", endpoint_url=server.endpoint, **CREDS).create_role(
            RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.s3.create_bucket(Bucket="runs")

    def function(self, name: str = "consumer", **env: str) -> None:
        self.lam.create_function(FunctionName=name, Runtime="python3.12", Role=self.role, Handler="app.handler",
                                 Code={"ZipFile": code_zip(SOURCE)}, Timeout=30,
                                 Environment={"Variables": env})

    def stream(self, name: str = "clicks") -> str:
        self.kinesis.create_stream(StreamName=name, ShardCount=1)
        return self.kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]

    def put(self, *values: str, stream: str = "clicks") -> list[str]:
        return [self.kinesis.put_record(StreamName=stream, Data=v.encode(), PartitionKey="p")["SequenceNumber"]
                for v in values]

    def queue(self, name: str) -> tuple[str, str]:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def batches(self) -> list[dict]:
        objects = self.s3.list_objects_v2(Bucket="runs", Prefix="batches/").get("Contents", [])
        objects.sort(key=lambda o: o["LastModified"])
        found = [json.loads(self.s3.get_object(Bucket="runs", Key=o["Key"])["Body"].read()) for o in objects]
        return found

    def values(self) -> list[list[str]]:
        """Each batch's Kinesis data, in the order of the first record's sequence number."""
        out = [[base64.b64decode(r["kinesis"]["data"]).decode() for r in b["Records"]] for b in self.batches()]
        return out

    def messages(self, url: str) -> list[dict]:
        return [json.loads(m["Body"]) for m in self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])]

    def until(self, what, check, timeout: float = 60.0):
        """Look at the cloud until ``check()`` is true (bounded); its last value."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value or time.monotonic() > deadline:
                assert value, f"{what}: not seen within {timeout} s"
                return value
            time.sleep(0.05)

    def quiet(self) -> None:
        """Let the poller finish the round under way, then one more (nothing left to do is then certain)."""
        for _ in range(2):
            self.server.app.streams.poll_once()


def _server(**kwargs) -> EmulatorServer:
    server = EmulatorServer(idle_timeout=None, retry_delays=(0.0, 0.0), **kwargs).start()
    urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", method="POST"),
                           timeout=30).read()
    return server


@pytest.fixture
def cloud():
    server = _server()
    yield Cloud(server)
    server.stop()


def test_kinesis_records_arrive_in_batches_with_lambdas_kinesis_event(cloud):
    cloud.function()
    arn = cloud.stream()
    seqs = cloud.put("a", "b", "c", "d", "e")
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=2,
                                          StartingPosition="TRIM_HORIZON")
    cloud.until("five records delivered", lambda: sum(len(b) for b in cloud.values()) == 5)
    assert sorted(cloud.values()) == [["a", "b"], ["c", "d"], ["e"]]
    record = next(b for b in cloud.batches() if len(b["Records"]) == 2 and
                  base64.b64decode(b["Records"][0]["kinesis"]["data"]) == b"a")["Records"][0]
    assert record["eventSource"] == "aws:kinesis" and record["eventSourceARN"] == arn
    assert record["eventName"] == "aws:kinesis:record" and record["awsRegion"] == "us-east-1"
    assert record["kinesis"]["sequenceNumber"] == seqs[0] and record["kinesis"]["partitionKey"] == "p"
    assert record["eventID"] == f"shardId-000000000000:{seqs[0]}"
    assert record["kinesis"]["approximateArrivalTimestamp"] > 0 and record["invokeIdentityArn"] == cloud.role
    cloud.quiet()
    assert sum(len(b) for b in cloud.values()) == 5  # each record once


def test_latest_starts_after_the_records_already_there(cloud):
    cloud.function()
    arn = cloud.stream()
    cloud.put("old")
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", StartingPosition="LATEST")
    cloud.quiet()  # the poller has seen the mapping: LATEST is fixed
    cloud.put("new")
    cloud.until("the new record delivered", lambda: cloud.values())
    cloud.quiet()
    assert cloud.values() == [["new"]]


def test_retries_then_the_failure_record_on_the_on_failure_queue_and_the_shard_moves_on(cloud):
    cloud.function()
    arn = cloud.stream()
    url, queue = cloud.queue("stream-failures")
    seqs = cloud.put("bad-1", "after")
    cloud.lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", BatchSize=1, StartingPosition="TRIM_HORIZON",
        MaximumRetryAttempts=2, DestinationConfig={"OnFailure": {"Destination": queue}})
    cloud.until("the next record delivered", lambda: ["after"] in cloud.values())
    assert cloud.values().count(["bad-1"]) == 3  # the first attempt and two retries
    (failure,) = cloud.until("the failure record", lambda: cloud.messages(url))
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["requestContext"]["functionArn"].endswith(":function:consumer")
    assert failure["responseContext"]["functionError"] == "Unhandled"
    info = failure["KinesisBatchInfo"]
    assert info["shardId"] == "shardId-000000000000" and info["streamArn"] == arn and info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == seqs[0]
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")


def test_bisect_isolates_the_bad_record_and_the_others_are_handled(cloud):
    cloud.function()
    arn = cloud.stream()
    url, queue = cloud.queue("stream-failures")
    seqs = cloud.put("a", "bad", "c", "d")
    cloud.lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", BatchSize=4, StartingPosition="TRIM_HORIZON",
        BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue}})
    (failure,) = cloud.until("the failure record", lambda: cloud.messages(url))
    assert failure["KinesisBatchInfo"]["batchSize"] == 1
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == seqs[1]
    assert failure["requestContext"]["approximateInvokeCount"] == 1
    cloud.until("c and d delivered", lambda: ["c", "d"] in cloud.values())
    # the whole batch, its failing half, then each of that half's records
    assert sorted(cloud.values()) == sorted([["a", "bad", "c", "d"], ["a", "bad"], ["a"], ["bad"], ["c", "d"]])


def test_report_batch_item_failures_retries_from_the_first_failed_record(cloud):
    cloud.function(PARTIAL="1")
    arn = cloud.stream()
    url, queue = cloud.queue("stream-failures")
    cloud.put("a", "bad", "c")
    cloud.lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", BatchSize=10, StartingPosition="TRIM_HORIZON",
        FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue}})
    (failure,) = cloud.until("the failure record", lambda: cloud.messages(url))
    assert sorted(cloud.values()) == [["a", "bad", "c"], ["bad", "c"]]  # "a" was checkpointed, never sent again
    assert failure["KinesisBatchInfo"]["batchSize"] == 2 and failure["requestContext"]["approximateInvokeCount"] == 2


def test_a_record_older_than_its_maximum_age_is_not_sent_but_described():
    clock = FakeClock()
    server = _server(clock=clock)
    try:
        cloud = Cloud(server)
        cloud.function()
        arn = cloud.stream()
        url, queue = cloud.queue("stream-failures")
        cloud.put("late")
        arrival = cloud.kinesis.get_records(ShardIterator=cloud.kinesis.get_shard_iterator(
            StreamName="clicks", ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        )["Records"][0]["ApproximateArrivalTimestamp"].timestamp()
        clock.advance(arrival + 61 - clock.now())  # a minute and a second after the record arrived
        cloud.lam.create_event_source_mapping(
            EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON",
            MaximumRecordAgeInSeconds=60, DestinationConfig={"OnFailure": {"Destination": queue}})
        (failure,) = cloud.until("the failure record", lambda: cloud.messages(url))
        cloud.quiet()
        assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
        assert failure["requestContext"]["approximateInvokeCount"] == 0
        assert cloud.batches() == []
    finally:
        server.stop()


def test_a_disabled_mapping_is_not_read_until_enabled(cloud):
    cloud.function()
    arn = cloud.stream()
    cloud.put("a")
    uuid = cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", Enabled=False,
                                                 StartingPosition="TRIM_HORIZON")["UUID"]
    cloud.quiet()
    assert cloud.batches() == []
    cloud.lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    cloud.until("the record delivered once enabled", lambda: cloud.values() == [["a"]])


def test_filter_criteria_passes_over_records_no_pattern_matches(cloud):
    cloud.function()
    arn = cloud.stream()
    cloud.put(json.dumps({"kind": "order", "n": 1}), json.dumps({"kind": "ping"}), "not json",
              json.dumps({"kind": "order", "n": 2}))
    cloud.lam.create_event_source_mapping(
        EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON", BatchSize=10,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["order"]}})}]})
    cloud.until("the orders delivered", lambda: sum(len(b) for b in cloud.values()) >= 2)
    cloud.quiet()
    delivered = [json.loads(v)["n"] for b in cloud.values() for v in b]
    assert delivered == [1, 2]


def test_dynamodb_stream_records_with_images_and_the_failure_record(cloud):
    cloud.function()
    url, queue = cloud.queue("stream-failures")
    table = cloud.ddb.create_table(
        TableName="items", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
    cloud.lam.create_event_source_mapping(
        EventSourceArn=table["LatestStreamArn"], FunctionName="consumer", StartingPosition="TRIM_HORIZON",
        BatchSize=10, MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": queue}})
    cloud.ddb.put_item(TableName="items", Item={"id": {"S": "1"}, "v": {"S": "one"}})
    cloud.until("the insert delivered", lambda: cloud.batches())
    cloud.ddb.update_item(TableName="items", Key={"id": {"S": "1"}}, UpdateExpression="SET v = :v",
                          ExpressionAttributeValues={":v": {"S": "uno"}})
    cloud.until("the update delivered", lambda: len(cloud.batches()) >= 2)
    records = sorted((r for b in cloud.batches() for r in b["Records"]),
                     key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    insert, modify = records
    assert insert["eventSource"] == "aws:dynamodb" and insert["eventSourceARN"] == table["LatestStreamArn"]
    assert insert["dynamodb"]["Keys"] == {"id": {"S": "1"}} and insert["dynamodb"]["NewImage"]["v"] == {"S": "one"}
    assert modify["dynamodb"]["OldImage"]["v"] == {"S": "one"} and modify["dynamodb"]["NewImage"]["v"] == {"S": "uno"}
    assert isinstance(insert["dynamodb"]["ApproximateCreationDateTime"], (int, float))
    cloud.ddb.put_item(TableName="items", Item={"id": {"S": "2"}, "v": {"S": "bad"}})
    (failure,) = cloud.until("the failure record", lambda: cloud.messages(url))
    info = failure["DDBStreamBatchInfo"]
    assert info["streamArn"] == table["LatestStreamArn"] and info["batchSize"] == 1
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert int(info["startSequenceNumber"]) > int(modify["dynamodb"]["SequenceNumber"])


TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Runs:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: runs
  Clicks:
    Type: AWS::Kinesis::Stream
    Properties:
      Name: clicks
      ShardCount: 1
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: items
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Failures:
    Type: AWS::SQS::Queue
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: consumer
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Timeout: 30
      Events:
        Stream:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: TRIM_HORIZON
            BatchSize: 10
            MaximumRetryAttempts: 0
            DestinationConfig:
              OnFailure:
                Destination: !GetAtt Failures.Arn
        Table:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Items.StreamArn
            StartingPosition: TRIM_HORIZON
        Paused:
          Type: Kinesis
          Properties:
            Stream: !GetAtt Clicks.Arn
            StartingPosition: TRIM_HORIZON
            Enabled: false
Outputs:
  FailuresUrl:
    Value: !Ref Failures
"""


def test_sam_kinesis_and_dynamodb_events_from_a_template_deliver(cli, local_cloud, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(SOURCE)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    r = cli("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--stack", "streams",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    failures = r.json_lines()[-1]["outputs"]["FailuresUrl"]
    cloud = Cloud.__new__(Cloud)
    cloud.server = local_cloud.server
    cloud.lam, cloud.s3, cloud.sqs, cloud.kinesis, cloud.ddb = (
        local_cloud.client(s) for s in ("lambda", "s3", "sqs", "kinesis", "dynamodb"))
    mappings = cloud.lam.list_event_source_mappings(FunctionName="consumer")["EventSourceMappings"]
    assert sorted(m["State"] for m in mappings) == ["Disabled", "Enabled", "Enabled"]
    (seq,) = cloud.put("bad")
    cloud.ddb.put_item(TableName="items", Item={"id": {"S": "7"}, "v": {"S": "seven"}})
    (failure,) = cloud.until("the failed Kinesis batch described", lambda: cloud.messages(failures))
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == seq
    cloud.until("the table's insert delivered", lambda: any(
        r.get("eventName") == "INSERT" for b in cloud.batches() for r in b["Records"]))
    cloud.quiet()
    kinesis_batches = [b for b in cloud.batches() if "kinesis" in b["Records"][0]]
    assert len(kinesis_batches) == 1  # once, by the enabled mapping (retries 0); the disabled one reads nothing
    (insert,) = [r for b in cloud.batches() for r in b["Records"] if r.get("eventName") == "INSERT"]
    assert insert["dynamodb"]["NewImage"] == {"id": {"S": "7"}, "v": {"S": "seven"}}


def test_a_batching_window_waits_for_a_full_batch_on_the_injected_clock():
    clock = FakeClock()
    server = _server(clock=clock)
    try:
        cloud = Cloud(server)
        cloud.function()
        arn = cloud.stream()
        cloud.put("one", "two")
        cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", BatchSize=3,
                                              StartingPosition="TRIM_HORIZON", MaximumBatchingWindowInSeconds=300)
        cloud.quiet()
        clock.advance(299)
        cloud.quiet()
        assert cloud.batches() == []  # two records, a second of the window left
        clock.advance(1)
        cloud.until("the batch sent when its window ends", lambda: cloud.values() == [["one", "two"]])
    finally:
        server.stop()


def test_the_failure_record_goes_to_an_sns_topic_too(cloud):
    cloud.function()
    arn = cloud.stream()
    url, queue = cloud.queue("topic-copy")
    sns = boto3.client("sns", endpoint_url=cloud.server.endpoint, **CREDS)
    topic = sns.create_topic(Name="stream-failures")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue, Attributes={"RawMessageDelivery": "true"})
    (seq,) = cloud.put("bad")
    cloud.lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="consumer", StartingPosition="TRIM_HORIZON",
                                          MaximumRetryAttempts=0,
                                          DestinationConfig={"OnFailure": {"Destination": topic}})
    (failure,) = cloud.until("the failure record through the topic", lambda: cloud.messages(url))
    assert failure["KinesisBatchInfo"]["startSequenceNumber"] == seq
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_starting_positions_pick_the_first_record_read():
    """Where a shard is first read from: the last sequence number counted as handled."""
    from types import SimpleNamespace

    from lamctl.local.cloud.streams import StreamPoller

    records = [(1, 1000.0, {}), (2, 2000.0, {}), (3, 3000.0, {})]

    def start(position: str, stamp=None) -> int:
        esm = SimpleNamespace(starting_position=position, starting_position_timestamp=stamp)
        return StreamPoller(lambda *a, **k: None)._start(esm, records)

    assert start("TRIM_HORIZON") == -1 and start("LATEST") == 3
    assert start("AT_TIMESTAMP", 2000.0) == 1  # records 2 and 3 are read
    assert start("AT_TIMESTAMP", "1970-01-01T00:41:40Z") == 2  # 2500 s: record 3 only
    assert start("AT_TIMESTAMP", 500) == -1
