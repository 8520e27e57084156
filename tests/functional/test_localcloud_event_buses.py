"""A custom EventBridge bus from a template on the local cloud: ``lamctl --local deploy`` of a bus, a rule on it
(``EventBusName: !Ref Bus``) and SAM's ``EventBridgeRule`` event on it; PutEvents on that bus invokes the
functions whose patterns match, asynchronously, with the EventBridge event."""

from __future__ import annotations

import json

import pytest

from lamctl.local.cloud.emulator import EmulatorServer
from tests.helpers import wait_for

RECORDER = """\
import boto3, json, os, uuid
def handler(event, context):
    key = os.environ["TAG"] + "/" + uuid.uuid4().hex
    boto3.client("s3").put_object(Bucket="seen", Key=key, Body=json.dumps(event).encode())
    return {}
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Seen:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: seen
  Bus:
    Type: AWS::Events::EventBus
    Properties:
      Name: orders-bus
  Placed:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Timeout: 30
      Environment:
        Variables:
          TAG: placed
      Events:
        OnPlaced:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern:
              source: [shop.orders]
              detail-type: [OrderPlaced]
  Refunded:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Timeout: 30
      Environment:
        Variables:
          TAG: refunded
  RefundRule:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern:
        source: [shop.refunds]
      Targets:
        - Id: refunded
          Arn: !GetAtt Refunded.Arn
  RefundPermission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref Refunded
      Principal: events.amazonaws.com
      SourceArn: !GetAtt RefundRule.Arn
Outputs:
  BusName:
    Value: !Ref Bus
  BusArn:
    Value: !GetAtt Bus.Arn
  BusNameAtt:
    Value: !GetAtt Bus.Name
"""


@pytest.fixture
def cloud(local_cloud, monkeypatch):
    """The local cloud as ``lamctl local start`` runs it: EventBridge's Lambda targets invoked asynchronously."""
    from tests.conftest import Emulator

    server = EmulatorServer(idle_timeout=None, retry_delays=(0.0, 0.0), internal_invokes=True).start()
    emulator = Emulator(server.endpoint)
    emulator.server = server
    emulator.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    yield emulator
    server.stop()


def test_put_events_on_a_templates_custom_bus_invokes_the_functions_of_its_rules(cli, cloud, tmp_path):
    local_cloud = cloud
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(RECORDER)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    r = cli("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--stack", "shop",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    outputs = r.json_lines()[-1]["outputs"]
    assert outputs == {"BusName": "orders-bus", "BusNameAtt": "orders-bus",
                       "BusArn": "arn:aws:events:us-east-1:123456789012:event-bus/orders-bus"}, outputs

    events = local_cloud.client("events")
    answer = events.put_events(Entries=[
        {"EventBusName": "orders-bus", "Source": "shop.orders", "DetailType": "OrderPlaced",
         "Detail": json.dumps({"order": 7})},
        {"EventBusName": outputs["BusArn"], "Source": "shop.refunds", "DetailType": "Refund",
         "Detail": json.dumps({"order": 8})},
        {"EventBusName": "orders-bus", "Source": "shop.orders", "DetailType": "OrderShipped",
         "Detail": json.dumps({"order": 9})},  # no rule matches
        {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": json.dumps({"order": 10})},  # default bus
    ])
    assert answer["FailedEntryCount"] == 0, answer

    s3 = local_cloud.client("s3")
    assert local_cloud.server.handler.wait_background(60)

    def seen() -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for o in s3.list_objects_v2(Bucket="seen").get("Contents", []):
            out.setdefault(o["Key"].split("/")[0], []).append(
                json.loads(s3.get_object(Bucket="seen", Key=o["Key"])["Body"].read()))
        return out

    got = wait_for(lambda: (lambda s: s if len(s) == 2 else None)(seen()), "both functions to record their event")
    (placed,), (refunded,) = got["placed"], got["refunded"]
    assert (placed["source"], placed["detail-type"], placed["detail"]) == ("shop.orders", "OrderPlaced", {"order": 7})
    assert (refunded["source"], refunded["detail"]) == ("shop.refunds", {"order": 8})
