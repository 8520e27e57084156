"""Services that invoke Lambda asynchronously, on the local cloud: S3 notifications (object created and
removed), EventBridge rules with patterns, scheduled rules firing on time (``rate`` and ``cron``, driven here with
given times, never real minutes) and ``lamctl local trigger RULE``. Real functions run on an
:class:`~lamctl.local.cloud.emulator.EmulatorServer` in this process, reached over HTTP."""

from __future__ import annotations

import calendar
import json
import urllib.request

import boto3
import pytest

from lamctl.local.cloud.emulator import EmulatorServer
from tests.helpers import code_zip
from lamctl.local.cloud.schedules import Schedule
from lamctl.release.clock import FakeClock
from lamctl.schemas.errors import UsageError

CREDS = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")

RECORDER = """\
import boto3, json, uuid
def handler(event, context):
    boto3.client("s3").put_object(Bucket="seen", Key="events/" + uuid.uuid4().hex, Body=json.dumps(event).encode())
    return {}
"""


class Cloud:
    def __init__(self, server: EmulatorServer):
        self.server = server
        self.s3, self.lam, self.events = (boto3.client(s, endpoint_url=server.endpoint, **CREDS)
                                          for s in ("s3", "lambda", "events"))
        role = boto3.client("iam", endpoint_url=server.endpoint, **CREDS).create_role(
            RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.s3.create_bucket(Bucket="seen")
        self.fn = self.lam.create_function(FunctionName="recorder", Runtime="python3.12", Role=role,
                                           Handler="app.handler", Code={"ZipFile": code_zip(RECORDER)},
                                           Timeout=30)["FunctionArn"]

    def seen(self) -> list[dict]:
        assert self.server.handler.wait_background(60)
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket="seen", Prefix="events/").get("Contents", [])]
        return [json.loads(self.s3.get_object(Bucket="seen", Key=k)["Body"].read()) for k in keys]


@pytest.fixture
def cloud():
    server = EmulatorServer(idle_timeout=None, retry_delays=(0.0, 0.0), internal_invokes=True).start()
    urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", method="POST"),
                           timeout=30).read()
    yield Cloud(server)
    server.stop()


def test_s3_notifications_of_created_and_removed_objects(cloud):
    cloud.s3.create_bucket(Bucket="uploads")
    cloud.s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "LambdaFunctionArn": cloud.fn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]})
    cloud.s3.put_object(Bucket="uploads", Key="in/report 1.csv", Body=b"a,b\n")
    cloud.s3.put_object(Bucket="uploads", Key="elsewhere.txt", Body=b"not watched")
    (created,) = cloud.seen()
    record = created["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == "uploads"
    assert record["s3"]["object"]["key"] == "in/report+1.csv" and record["s3"]["object"]["size"] == 4
    cloud.s3.delete_object(Bucket="uploads", Key="in/report 1.csv")
    names = sorted(e["Records"][0]["eventName"] for e in cloud.seen())
    assert names == ["ObjectCreated:Put", "ObjectRemoved:Delete"]


def test_an_eventbridge_rule_runs_its_function_for_the_events_its_pattern_matches(cloud):
    cloud.events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"], "detail": {"total": [
        {"numeric": [">", 100]}]}}))
    cloud.events.put_targets(Rule="orders", Targets=[{"Id": "fn", "Arn": cloud.fn}])
    cloud.events.put_events(Entries=[
        {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"total": 250, "id": "big"})},
        {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"total": 5, "id": "small"})},
        {"Source": "other", "DetailType": "order", "Detail": json.dumps({"total": 900, "id": "elsewhere"})}])
    (event,) = cloud.seen()
    assert event["source"] == "shop" and event["detail-type"] == "order" and event["detail"]["id"] == "big"


def test_a_scheduled_rule_fires_on_time():
    """The local cloud's clock is injected: it starts at 01:00 UTC and moves only when the test moves it; the
    scheduler's own thread and the test's ticks read it alike."""
    clock = FakeClock(start=calendar.timegm((2026, 12, 6, 1, 0, 0)))
    server = EmulatorServer(idle_timeout=None, retry_delays=(0.0, 0.0), internal_invokes=True, clock=clock).start()
    try:
        urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", method="POST"),
                               timeout=30).read()
        cloud = Cloud(server)
        cloud.events.put_rule(Name="nightly", ScheduleExpression="cron(0 2 * * ? *)")
        cloud.events.put_targets(Rule="nightly", Targets=[{"Id": "fn", "Arn": cloud.fn}])
        cloud.events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)", State="DISABLED")
        cloud.events.put_targets(Rule="hourly", Targets=[{"Id": "fn", "Arn": cloud.fn}])
        scheduler = server.app.scheduler
        scheduler.tick(clock.now())  # the schedules are armed (if the scheduler's thread has not done it)
        clock.advance(3599)  # 01:59:59
        assert scheduler.tick(clock.now()) == [] and cloud.seen() == []
        clock.advance(1)  # 02:00: the nightly rule, not the disabled one
        scheduler.tick(clock.now())
        clock.advance(60)  # not again until tomorrow
        scheduler.tick(clock.now())
        (event,) = cloud.seen()
        assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
        assert event["resources"][0].endswith(":rule/nightly")
        assert event["time"] == "2026-12-06T02:00:00Z" and event["detail"] == {}
    finally:
        server.stop()


def test_rate_and_cron_expressions():
    assert Schedule("rate(5 minutes)").next_after(1000.0) == 1300.0
    assert Schedule("rate(1 day)").next_after(0.0) == 86400.0
    monday_noon = calendar.timegm((2026, 12, 7, 12, 0, 0))
    # weekdays at 12:15 (MON-FRI), from Saturday 2026-12-05 10:00: Monday 12:15
    assert Schedule("cron(15 12 ? * MON-FRI *)").next_after(calendar.timegm((2026, 12, 5, 10, 0, 0))) == \
        monday_noon + 15 * 60
    # every 10 minutes from 8:00 to 9:50 on the 1st of the month
    assert Schedule("cron(0/10 8-9 1 * ? *)").next_after(calendar.timegm((2026, 12, 6, 0, 0, 0))) == \
        calendar.timegm((2027, 1, 1, 8, 0, 0))
    for bad, words in (("cron(0 12 L * ? *)", "not emulated"), ("cron(0 12 * * *)", "six fields"),
                       ("cron(0 12 * * MON *)", "'?'"), ("every day", "not a schedule")):
        with pytest.raises(UsageError) as info:
            Schedule(bad)
        assert words in str(info.value)


def test_lamctl_local_trigger_fires_a_rule_now(cloud, cli):
    cloud.events.put_rule(Name="weekly", ScheduleExpression="rate(7 days)")
    cloud.events.put_targets(Rule="weekly", Targets=[{"Id": "fn", "Arn": cloud.fn}])
    r = cli("--endpoint-url", cloud.server.endpoint, "local", "trigger", "weekly")
    assert r.exit_code == 0, r
    assert "weekly" in r.stderr + r.stdout and cloud.fn in r.stderr + r.stdout
    (event,) = cloud.seen()
    assert event["detail-type"] == "Scheduled Event" and event["resources"][0].endswith(":rule/weekly")
    r = cli("--endpoint-url", cloud.server.endpoint, "local", "trigger", "no-such-rule")
    assert r.exit_code == 2 and "no-such-rule" in r.stderr


def test_an_sns_subscription_with_a_filter_policy_invokes_asynchronously_with_the_sns_event(cloud):
    sns = boto3.client("sns", endpoint_url=cloud.server.endpoint, **CREDS)
    topic = sns.create_topic(Name="orders")["TopicArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=cloud.fn, Attributes={
        "FilterPolicy": json.dumps({"kind": ["order"]})})["SubscriptionArn"]
    sent = sns.publish(TopicArn=topic, Message="big order", Subject="new",
                       MessageAttributes={"kind": {"DataType": "String", "StringValue": "order"}})["MessageId"]
    sns.publish(TopicArn=topic, Message="not for us",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "refund"}})
    (event,) = cloud.seen()
    record = event["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["EventSubscriptionArn"] == subscription
    assert record["Sns"]["TopicArn"] == topic and record["Sns"]["MessageId"] == sent
    assert record["Sns"]["Message"] == "big order" and record["Sns"]["Subject"] == "new"
    assert record["Sns"]["MessageAttributes"] == {"kind": {"Type": "String", "Value": "order"}}
    assert record["Sns"]["Type"] == "Notification"


def test_schedule_expressions_at_and_time_zones():
    six = calendar.timegm((2026, 12, 6, 1, 0, 0))
    assert Schedule("at(2026-12-06T03:00:00)").next_after(six) == six + 2 * 3600
    assert Schedule("at(2026-12-06T03:00:00)").next_after(six + 3 * 3600) == float("inf")  # once
    assert Schedule("at(2026-12-06T03:00:00)", "Europe/Paris").next_after(six) == six + 3600  # 03:00 is 02:00 UTC
    assert Schedule("cron(0 9 * * ? *)", "Europe/Paris").next_after(six) == six + 7 * 3600  # 09:00 CET, 08:00 UTC
    with pytest.raises(UsageError, match="Mars/Olympus"):
        Schedule("rate(1 hour)", "Mars/Olympus")


def test_eventbridge_scheduler_schedules_fire_on_time_with_their_input():
    """EventBridge Scheduler's schedules (moto keeps them, never fires them) fire on the injected clock."""
    clock = FakeClock(start=calendar.timegm((2026, 12, 6, 1, 0, 0)))
    server = EmulatorServer(idle_timeout=None, retry_delays=(0.0, 0.0), internal_invokes=True, clock=clock).start()
    try:
        urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", method="POST"),
                               timeout=30).read()
        cloud = Cloud(server)
        scheduler_api = boto3.client("scheduler", endpoint_url=server.endpoint, **CREDS)

        def schedule(name: str, expression: str, **kwargs) -> None:
            scheduler_api.create_schedule(Name=name, ScheduleExpression=expression, FlexibleTimeWindow={"Mode": "OFF"},
                                          Target={"Arn": cloud.fn, "RoleArn": "arn:aws:iam::123456789012:role/r",
                                                  "Input": json.dumps({"from": name})}, **kwargs)

        schedule("every-ten", "rate(10 minutes)")
        schedule("nine-paris", "cron(0 9 * * ? *)", ScheduleExpressionTimezone="Europe/Paris")
        schedule("once", "at(2026-12-06T01:30:00)")
        schedule("off", "rate(1 minute)", State="DISABLED")
        scheduler = server.app.scheduler
        scheduler.tick(clock.now())  # armed (if the scheduler's thread has not done it)
        clock.advance(599)
        scheduler.tick(clock.now())
        assert cloud.seen() == []
        clock.advance(1)  # 01:10
        scheduler.tick(clock.now())
        clock.advance(20 * 60)  # 01:30: the one-time schedule, and every-ten again
        scheduler.tick(clock.now())
        clock.advance(6 * 3600 + 30 * 60)  # 08:00 UTC is 09:00 in Paris
        scheduler.tick(clock.now())
        clock.advance(3600)  # 09:00 UTC: the one-time schedule does not come back
        scheduler.tick(clock.now())
        fired = sorted(e["from"] for e in cloud.seen())
        assert fired == ["every-ten", "every-ten", "every-ten", "every-ten", "nine-paris", "once"]
    finally:
        server.stop()


SCHEDULED_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Seen:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: seen
  Nightly:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: nightly
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Timeout: 30
      Events:
        Night:
          Type: ScheduleV2
          Properties:
            Name: night-run
            ScheduleExpression: cron(0 3 * * ? *)
            ScheduleExpressionTimezone: Europe/Paris
            Input: '{"job": "compact"}'
Outputs:
  ScheduleArn:
    Value: !GetAtt NightlyNight.Arn
"""


def test_a_templates_schedule_v2_exists_and_lamctl_local_trigger_fires_it(cli, local_cloud, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(RECORDER)
    (tmp_path / "template.yaml").write_text(SCHEDULED_TEMPLATE)
    r = cli("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--stack", "nightly",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    schedule_arn = r.json_lines()[-1]["outputs"]["ScheduleArn"]
    assert schedule_arn.endswith(":schedule/default/night-run")
    described = local_cloud.client("scheduler").get_schedule(Name="night-run")
    assert described["ScheduleExpressionTimezone"] == "Europe/Paris" and described["Target"]["Arn"].endswith(
        ":function:nightly")
    r = cli("--endpoint-url", local_cloud.endpoint, "local", "trigger", "night-run")
    assert r.exit_code == 0, r
    assert "night-run" in r.stderr + r.stdout
    s3 = local_cloud.client("s3")
    assert local_cloud.server.handler.wait_background(60)
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket="seen", Prefix="events/")["Contents"]]
    assert json.loads(s3.get_object(Bucket="seen", Key=key)["Body"].read()) == {"job": "compact"}
