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
