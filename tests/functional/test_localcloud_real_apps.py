"""Applications of the kind found in public SAM repositories deploy to the local cloud and their functions run,
invoked by logical ID (``lamctl --local invoke FN --stack S``): resource-level ``Description``s, resource types
the local cloud does not create (placeholders, with ``Ref`` and ``GetAtt`` in resources and outputs), the short
form of ``Fn::GetAtt``, an SSM document without ``DocumentFormat``, a SAM ``Api`` with ``Cors`` (its preflight
answered), Amazon MQ / MSK / self-managed Kafka event sources (created disabled). Everything goes over real HTTP
to the local cloud's server in this process."""

from __future__ import annotations

import http.server
import json
import textwrap
import threading
import urllib.request

import pytest

HANDLER = """\
import json, os
def handler(event, context):
    names = ("BROKER_ARN", "QUEUE_ARN", "DESTINATION_ARN", "DOMAIN")
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({name: os.environ.get(name) for name in names})}
"""

SHOP = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: a shop's API, its work queue and a runbook
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    CodeUri: src/
Resources:
  ShopApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Cors:
        AllowMethods: "'GET,POST,OPTIONS'"
        AllowHeaders: "'Content-Type,Authorization'"
        AllowOrigin: "'https://shop.example.com'"
        MaxAge: "'600'"
  ItemsFunction:
    Type: AWS::Serverless::Function
    Description: lists the items
    Properties:
      Environment:
        Variables:
          QUEUE_ARN:
            Fn::GetAtt: "WorkQueue.Arn"
      Events:
        List:
          Type: Api
          Properties:
            RestApiId: !Ref ShopApi
            Path: /items
            Method: get
  WorkQueue:
    Type: AWS::SQS::Queue
    Description: the work queue
  WorkQueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref WorkQueue]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: events.amazonaws.com}
            Action: sqs:SendMessage
            Resource:
              Fn::GetAtt: "WorkQueue.Arn"
  RestartRunbook:
    Type: AWS::SSM::Document
    Properties:
      Name: shop-restart
      DocumentType: Command
      Content:
        schemaVersion: "2.2"
        description: restart the shop
        mainSteps:
          - action: aws:runShellScript
            name: restart
            inputs: {runCommand: ["systemctl restart shop"]}
Outputs:
  QueueArn:
    Value:
      Fn::GetAtt: "WorkQueue.Arn"
  ApiUrl:
    Value: !Sub "https://${ShopApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/items"
"""

BROKERS = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: order consumers on a message broker and Kafka, with a custom domain and an API destination
Resources:
  OrdersConsumer:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Environment:
        Variables:
          BROKER_ARN: !GetAtt OrdersBroker.Arn
          DESTINATION_ARN: !GetAtt Webhook.Arn
          DOMAIN: !GetAtt ApiDomain.RegionalDomainName
      Events:
        Orders:
          Type: MQ
          Properties:
            Broker: !GetAtt OrdersBroker.Arn
            Queues: [orders]
            SourceAccessConfigurations:
              - Type: BASIC_AUTH
                URI: !Ref BrokerCredentials
        Stream:
          Type: MSK
          Properties:
            Stream: !GetAtt OrdersCluster.Arn
            Topics: [orders]
            StartingPosition: LATEST
        OnPremises:
          Type: SelfManagedKafka
          Properties:
            KafkaBootstrapServers: ["kafka1.example.com:9092"]
            Topics: [orders]
            SourceAccessConfigurations:
              - Type: BASIC_AUTH
                URI: !Ref BrokerCredentials
  BrokerCredentials:
    Type: AWS::SecretsManager::Secret
    Properties:
      SecretString: '{"username": "orders", "password": "dummy-password"}'
  OrdersBroker:
    Type: AWS::AmazonMQ::Broker
    Properties:
      BrokerName: orders
      EngineType: ACTIVEMQ
      EngineVersion: "5.18"
      HostInstanceType: mq.t3.micro
      DeploymentMode: SINGLE_INSTANCE
      PubliclyAccessible: false
      AutoMinorVersionUpgrade: true
      Users: [{Username: orders, Password: dummy-password}]
  OrdersCluster:
    Type: AWS::MSK::Cluster
    Properties:
      ClusterName: orders
      KafkaVersion: "3.5.1"
      NumberOfBrokerNodes: 2
      BrokerNodeGroupInfo:
        InstanceType: kafka.t3.small
        ClientSubnets: [subnet-0a, subnet-0b]
  ApiDomain:
    Type: AWS::ApiGateway::DomainName
    Properties:
      DomainName: api.example.com
      RegionalCertificateArn: arn:aws:acm:us-east-1:123456789012:certificate/dummy
      EndpointConfiguration: {Types: [REGIONAL]}
  WebhookConnection:
    Type: AWS::Events::Connection
    Properties:
      AuthorizationType: API_KEY
      AuthParameters: {ApiKeyAuthParameters: {ApiKeyName: x-api-key, ApiKeyValue: dummy}}
  Webhook:
    Type: AWS::Events::ApiDestination
    Properties:
      ConnectionArn: !GetAtt WebhookConnection.Arn
      HttpMethod: POST
      InvocationEndpoint: https://hooks.example.com/orders
Outputs:
  BrokerArn:
    Value: !GetAtt OrdersBroker.Arn
  BrokerId:
    Value: !Ref OrdersBroker
  DomainTarget:
    Value: !GetAtt ApiDomain.RegionalDomainName
  ConsumerArn:
    Value: !GetAtt OrdersConsumer.Arn
"""


def app(tmp_path, template: str):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(HANDLER)
    (tmp_path / "template.yaml").write_text(textwrap.dedent(template))
    return tmp_path


def local(cloud) -> list[str]:
    return ["--local", "--endpoint-url", cloud.endpoint]


def deploy(cli, cloud, folder, stack: str) -> tuple[dict, list[str]]:
    r = cli(*local(cloud), "--output", "json", "deploy", "--stack", stack, "--yes", cwd=folder)
    assert r.exit_code == 0, r
    lines = r.json_lines()
    return lines[-1], [x["message"] for x in lines if x["type"] == "warning"]


def invoke(cli, cloud, folder, function: str, stack: str) -> dict:
    r = cli(*local(cloud), "invoke", function, "--stack", stack, cwd=folder)
    assert r.exit_code == 0, r
    return json.loads(json.loads(r.stdout)["body"])


def test_an_api_with_cors_a_described_queue_and_a_runbook(cli, local_cloud, tmp_path):
    folder = app(tmp_path, SHOP)
    result, warnings = deploy(cli, local_cloud, folder, "shop")
    assert result["status"] == "CREATE_COMPLETE"
    queue_arn = result["outputs"]["QueueArn"]  # short-form GetAtt, in an output
    assert queue_arn.startswith("arn:aws:sqs:us-east-1:123456789012:shop-WorkQueue-")
    assert result["outputs_unavailable"] == [] and result["placeholder_outputs"] == []
    # the short form in a function's environment too, and the function runs, by its logical ID
    assert invoke(cli, local_cloud, folder, "ItemsFunction", "shop")["QUEUE_ARN"] == queue_arn

    # the runbook exists, as JSON (CloudFormation's default format)
    doc = local_cloud.client("ssm").describe_document(Name="shop-restart")["Document"]
    assert doc["DocumentFormat"] == "JSON" and doc["Status"] == "Active"

    # the browser's preflight gets the configured CORS headers; the route runs the function
    api_id = local_cloud.client("apigateway").get_rest_apis()["items"][0]["id"]
    url = f"{local_cloud.endpoint}/restapis/{api_id}/Prod/_user_request_/items"
    preflight = urllib.request.Request(url, method="OPTIONS", headers={
        "Origin": "https://shop.example.com", "Access-Control-Request-Method": "GET"})
    with urllib.request.urlopen(preflight, timeout=30) as resp:
        assert resp.status == 200
        assert resp.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
        assert resp.headers["Access-Control-Allow-Methods"] == "GET,POST,OPTIONS"
        assert resp.headers["Access-Control-Allow-Headers"] == "Content-Type,Authorization"
        assert resp.headers["Access-Control-Max-Age"] == "600"
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200 and json.loads(resp.read())["QUEUE_ARN"] == queue_arn

    r = cli(*local(local_cloud), "delete", "--stack", "shop", "--yes", cwd=folder)
    assert r.exit_code == 0, r


def test_resources_the_local_cloud_does_not_create_stand_in_with_placeholders(cli, local_cloud, tmp_path):
    folder = app(tmp_path, BROKERS)
    result, warnings = deploy(cli, local_cloud, folder, "orders")
    assert result["status"] == "CREATE_COMPLETE"
    outputs = result["outputs"]
    # GetAtt and Ref of the broker resolve, ARN-shaped where the attribute is an ARN, and are named placeholders
    assert outputs["BrokerArn"].startswith("arn:aws:mq:us-east-1:123456789012:broker/lamctl-placeholder-")
    assert outputs["BrokerId"].startswith("lamctl-placeholder-orders-OrdersBroker-")
    assert "lamctl-placeholder" in outputs["DomainTarget"]
    assert outputs["ConsumerArn"].startswith("arn:aws:lambda:")
    assert sorted(result["placeholder_outputs"]) == ["BrokerArn", "BrokerId", "DomainTarget"]
    assert result["outputs_unavailable"] == []
    assert {"OrdersBroker", "OrdersCluster", "ApiDomain", "Webhook"} <= set(result["placeholders"])
    placeholder_warning = next(w for w in warnings if w.startswith("placeholders on the local cloud"))
    assert "OrdersBroker (AWS::AmazonMQ::Broker)" in placeholder_warning and "BrokerArn" in placeholder_warning
    assert not any("undefined resource" in w for w in warnings)

    # the event sources the local cloud does not poll are there, disabled, and the deploy says so
    mappings = local_cloud.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert len(mappings) == 3 and {m["State"] for m in mappings} == {"Disabled"}
    sources = sorted(m["EventSourceArn"].split(":")[2] if "EventSourceArn" in m else "self-managed" for m in mappings)
    assert sources == ["kafka", "mq", "self-managed"]
    assert [m["SelfManagedEventSource"] for m in mappings if "EventSourceArn" not in m] == [
        {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["kafka1.example.com:9092"]}}]
    idle = next(w for w in warnings if w.startswith("event source mappings created disabled"))
    assert "Amazon MQ" in idle and "Amazon MSK" in idle and "self-managed Kafka" in idle

    # the function runs, by logical ID, with the placeholder values in its environment
    env = invoke(cli, local_cloud, folder, "OrdersConsumer", "orders")
    assert env["BROKER_ARN"] == outputs["BrokerArn"]
    assert env["DESTINATION_ARN"].startswith("arn:aws:events:us-east-1:123456789012:apidestination/lamctl-placeholder-")
    assert env["DOMAIN"] == outputs["DomainTarget"]
    # DescribeStackResource answers for a placeholder as for any resource
    detail = local_cloud.client("cloudformation").describe_stack_resource(
        StackName="orders", LogicalResourceId="OrdersBroker")["StackResourceDetail"]
    assert detail["PhysicalResourceId"] == outputs["BrokerId"]

    r = cli(*local(local_cloud), "delete", "--stack", "orders", "--yes", cwd=folder)
    assert r.exit_code == 0, r
    assert local_cloud.client("lambda").list_event_source_mappings()["EventSourceMappings"] == []


def test_a_description_on_any_resource_is_accepted_and_unknown_serverless_attributes_are_ignored(cli, tmp_path):
    folder = app(tmp_path, SHOP.replace("    Description: lists the items\n",
                                        "    Description: lists the items\n    DependOn: WorkQueue\n"))
    line = (folder / "template.yaml").read_text().splitlines().index("    DependOn: WorkQueue") + 1
    r = cli("validate", cwd=folder)
    assert r.exit_code == 0, r
    assert f"template.yaml:{line}:5: warning: resource attribute 'DependOn' of ItemsFunction" in r.stdout
    assert "did you mean DependsOn?" in r.stdout
    # the Descriptions: no error (cfn-lint's objection to the queue's is a warning: CloudFormation accepts it)
    assert "error" not in r.stdout and "OK" in r.stdout
    # a plain CloudFormation resource with an attribute CloudFormation refuses is still an error
    (folder / "template.yaml").write_text(SHOP.replace("    Description: the work queue\n",
                                                       "    Descripton: the work queue\n"))
    r = cli("validate", cwd=folder)
    assert r.exit_code == 2
    assert "unknown resource attribute 'Descripton' in resource WorkQueue" in r.stdout
    assert "did you mean Description?" in r.stdout


def test_a_deploy_whose_outputs_cannot_be_worked_out_leaves_a_stack_delete_removes(cli, local_cloud, tmp_path):
    folder = app(tmp_path, SHOP.replace("Outputs:\n", "Outputs:\n  Broken:\n    Value: !GetAtt WorkQueue.NoSuchThing\n"))
    result, warnings = deploy(cli, local_cloud, folder, "broken")
    assert result["status"] == "CREATE_COMPLETE"
    assert result["outputs_unavailable"] == ["Broken"]
    assert any("outputs unavailable: Broken" in w for w in warnings)
    r = cli(*local(local_cloud), "outputs", "--stack", "broken", cwd=folder)
    assert r.exit_code == 0, r
    r = cli(*local(local_cloud), "delete", "--stack", "broken", "--yes", cwd=folder)
    assert r.exit_code == 0, r
    stacks = local_cloud.client("cloudformation").list_stacks()["StackSummaries"]
    assert [s["StackStatus"] for s in stacks if s["StackName"] == "broken"] == ["DELETE_COMPLETE"]


class _Garbage(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html>not what CloudFormation answers"
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def garbage_endpoint():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_answer_the_client_cannot_parse_is_a_clear_error(cli, garbage_endpoint, tmp_path):
    r = cli("--endpoint-url", garbage_endpoint, "invoke", "ItemsFunction", "--stack", "shop", cwd=tmp_path)
    assert r.exit_code == 1, r
    assert "Traceback" not in r.stderr
    assert "error: shop:" in r.stderr and "the answer could not be read" in r.stderr, r.stderr
    assert "check --endpoint-url" in r.stderr


def test_deploy_execute_notes_the_mappings_created_disabled_as_deploy_does(cli, local_cloud, tmp_path):
    folder = app(tmp_path, BROKERS)
    r = cli(*local(local_cloud), "--output", "json", "deploy", "--stack", "orders", "--no-execute", cwd=folder)
    assert r.exit_code == 0, r
    assert not any(x["message"].startswith("event source mappings created disabled")
                   for x in r.json_lines() if x["type"] == "warning")  # nothing created yet
    change_set = r.json_lines()[-1]["change_set"]
    r = cli(*local(local_cloud), "--output", "json", "deploy", "--execute", change_set, "--stack", "orders",
            cwd=folder)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["status"] == "CREATE_COMPLETE"
    warnings = [x["message"] for x in r.json_lines() if x["type"] == "warning"]
    idle = [w for w in warnings if w.startswith("event source mappings created disabled")]
    assert len(idle) == 1, warnings
    assert "Amazon MQ" in idle[0] and "Amazon MSK" in idle[0] and "self-managed Kafka" in idle[0]
    mappings = local_cloud.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert len(mappings) == 3 and {m["State"] for m in mappings} == {"Disabled"}
    r = cli(*local(local_cloud), "delete", "--stack", "orders", "--yes", cwd=folder)
    assert r.exit_code == 0, r
