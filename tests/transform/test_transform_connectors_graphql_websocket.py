"""AWS::Serverless::Connector (and the Connectors attribute), AWS::Serverless::GraphQLApi and
AWS::Serverless::WebSocketApi: lamctl's transform against the reference ``aws-sam-translator`` (offline),
identical after sorting the lists CloudFormation treats as sets; the located errors of bad templates, refused by
the reference too; and the one deliberate difference (WebSocket domains sharing a hosted zone)."""

from __future__ import annotations

import copy
import json
import textwrap

import pytest

from lamctl.schemas.errors import TemplateError
from lamctl.schemas.template import load_template, parse_text, plain
from lamctl.transform import transform
from tests.helpers import mask_deployments, normalise, reference_transform, write_template

pytest.importorskip("samtranslator", reason="the reference transform is a test dependency")

HEAD = "Transform: AWS::Serverless-2016-10-31\n"
FN = "Type: AWS::Serverless::Function\n    Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}"


def _template(text: str) -> dict:
    return plain(parse_text(HEAD + textwrap.dedent(text)))


@pytest.fixture
def region(monkeypatch):
    from samtranslator.translator.arn_generator import ArnGenerator

    for var in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(var, "us-east-1")
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", "us-east-1")


def assert_same(text: str) -> dict:
    template = _template(text)
    # the REST API deployment ID is lamctl's own hash (a documented difference), masked on both sides
    want = normalise(mask_deployments(reference_transform(copy.deepcopy(template), {}), inside_strings=True))
    raw = transform(copy.deepcopy(template), "us-east-1", {})
    got = normalise(mask_deployments(copy.deepcopy(raw), inside_strings=True))
    for lid in sorted(set(want["Resources"]) | set(got["Resources"])):
        assert got["Resources"].get(lid) == want["Resources"].get(lid), f"resource {lid} differs"
    assert got == want
    return raw


# -- connectors ---------------------------------------------------------------------------------------
def test_connectors_write_the_policies_of_their_source_and_destination(region):
    out = assert_same("""
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}
          Worker:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.h
              InlineCode: x
              Events:
                Jobs: {Type: SQS, Properties: {Queue: !GetAtt Jobs.Arn}}
          Table: {Type: AWS::Serverless::SimpleTable}
          Jobs: {Type: AWS::SQS::Queue}
          Topic: {Type: AWS::SNS::Topic}
          Rule:
            Type: AWS::Events::Rule
            Properties: {ScheduleExpression: rate(1 hour), Targets: [{Arn: !Ref Topic, Id: t}]}
          FnToTableAndQueue:
            Type: AWS::Serverless::Connector
            DependsOn: Jobs
            Properties:
              Source: {Id: Fn}
              Destination: [{Id: Table}, {Id: Jobs}]
              Permissions: [Read, Write]
          JobsToWorker:
            Type: AWS::Serverless::Connector
            Properties:
              Source: {Id: Jobs}
              Destination: {Id: Worker}
              Permissions: [Read, Write]
          RuleToTopic:
            Type: AWS::Serverless::Connector
            Condition: Always
            Properties:
              Source: {Id: Rule}
              Destination: {Id: Topic}
              Permissions: [Write]
          Waiter:
            Type: AWS::SQS::Queue
            DependsOn: [RuleToTopic, Jobs]
        Conditions:
          Always: !Equals [a, a]
        """)
    res = out["Resources"]
    for name in ("FnToTableAndQueuePolicyDestination0", "FnToTableAndQueuePolicyDestination1"):
        policy = res[name]
        assert policy["Type"] == "AWS::IAM::ManagedPolicy" and policy["Properties"]["Roles"] == [{"Ref": "FnRole"}]
        assert policy["DependsOn"] == "Jobs"
    meta = res["FnToTableAndQueuePolicyDestination0"]["Metadata"]["aws:sam:connectors"]["FnToTableAndQueue"]
    assert meta == {"Source": {"Type": "AWS::Serverless::Function"},
                    "Destination": {"Type": "AWS::Serverless::SimpleTable"}}
    # the queue's policy lets the event source mapping start only once the role may read the queue
    assert "JobsToWorkerPolicy" in res["WorkerJobs"]["DependsOn"]
    assert res["RuleToTopicTopicPolicy"]["Type"] == "AWS::SNS::TopicPolicy"
    assert res["RuleToTopicTopicPolicy"]["Condition"] == "Always"
    # a DependsOn on a connector becomes one on what it generated
    assert res["Waiter"]["DependsOn"] == ["Jobs", "RuleToTopicTopicPolicy"]
    assert not any(r["Type"] == "AWS::Serverless::Connector" for r in res.values())


def test_the_connectors_attribute_makes_one_connector_per_entry(region):
    out = assert_same("""
        Resources:
          Api:
            Type: AWS::Serverless::Api
            Properties: {StageName: prod}
          Fn:
            Type: AWS::Serverless::Function
            Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}
          Queue:
            Type: AWS::SQS::Queue
            Connectors:
              ToFn:
                Properties:
                  Destination: {Id: Fn}
                  Permissions: [Read, Write]
          Sm:
            Type: AWS::Serverless::StateMachine
            Connectors:
              Calls:
                Properties:
                  Destination: [{Id: Fn}, {Type: AWS::SQS::Queue, Arn: arn:aws:sqs:us-east-1:1:q, QueueUrl: u}]
                  Permissions: [Write]
            Properties:
              Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
          ApiLink:
            Type: AWS::SQS::Queue
          Caller:
            Type: AWS::Serverless::Function
            Connectors:
              Invoke:
                Properties:
                  SourceReference: {Qualifier: "prod/GET/items"}
                  Destination: {Id: Fn}
                  Permissions: [Write]
            Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}
          Gateway:
            Type: AWS::Serverless::Api
            Properties: {StageName: prod}
            Connectors:
              ToFn:
                Properties:
                  SourceReference: {Qualifier: "prod/GET/items"}
                  Destination: {Id: Fn}
                  Permissions: [Write]
        """)
    res = out["Resources"]
    assert "Connectors" not in res["Queue"] and "Connectors" not in res["Sm"]
    assert res["QueueToFnPolicy"]["Properties"]["Roles"] == [{"Ref": "FnRole"}]
    assert {"SmCallsPolicyDestination0", "SmCallsPolicyDestination1"} <= set(res)  # both on the role of Sm
    assert res["SmCallsPolicyDestination1"]["Properties"]["Roles"] == [{"Ref": "SmRole"}]
    assert res["GatewayToFnWriteLambdaPermission"]["Properties"]["Principal"] == "apigateway.amazonaws.com"


@pytest.mark.parametrize("snippet, line, words", [
    # the destination is not in the template
    ("  C:\n    Type: AWS::Serverless::Connector\n    Properties:\n      Source: {Id: Fn}\n"
     "      Destination: {Id: Nowhere}\n      Permissions: [Read]\n", 10, "Nowhere"),
    # no profile from an SNS topic to a DynamoDB table
    ("  T: {Type: AWS::SNS::Topic}\n  Tb: {Type: AWS::DynamoDB::Table}\n  C:\n    Type: AWS::Serverless::Connector\n"
     "    Properties:\n      Source: {Id: T}\n      Destination: {Id: Tb}\n      Permissions: [Write]\n", 12,
     "AWS::DynamoDB::Table"),
    # a permission the profile does not take
    ("  Q: {Type: AWS::SQS::Queue}\n  C:\n    Type: AWS::Serverless::Connector\n    Properties:\n"
     "      Source: {Id: Fn}\n      Destination: {Id: Q}\n      Permissions: [Delete]\n", 12, "Delete"),
    # both Id and other properties
    ("  C:\n    Type: AWS::Serverless::Connector\n    Properties:\n      Source: {Id: Fn, Arn: x}\n"
     "      Destination: {Id: Fn}\n      Permissions: [Write]\n", 9, "Source"),
    # an empty destination list
    ("  C:\n    Type: AWS::Serverless::Connector\n    Properties:\n      Source: {Id: Fn}\n"
     "      Destination: []\n      Permissions: [Write]\n", 10, "empty"),
    # a source without a role
    ("  L:\n    Type: AWS::Lambda::Function\n    Properties: {Runtime: python3.12, Handler: a.h, Code: {ZipFile: x}}\n"
     "  Q: {Type: AWS::SQS::Queue}\n  C:\n    Type: AWS::Serverless::Connector\n    Properties:\n"
     "      Source: {Id: L}\n      Destination: {Id: Q}\n      Permissions: [Write]\n", 13, "role"),
    # the Connectors attribute: SourceReference may not set the Id
    ("  Q:\n    Type: AWS::SQS::Queue\n    Connectors:\n      ToFn:\n        Properties:\n"
     "          SourceReference: {Id: Other}\n          Destination: {Id: Fn}\n          Permissions: [Read]\n", 11,
     "SourceReference"),
    # the Connectors attribute: an entry without Properties
    ("  Q:\n    Type: AWS::SQS::Queue\n    Connectors:\n      ToFn: {Destination: {Id: Fn}}\n", 9, "ToFn"),
])
def test_bad_connectors_are_located_errors_the_reference_refuses_too(snippet, line, words, tmp_path, region):
    text = HEAD + "Resources:\n  Fn:\n    " + FN + "\n" + snippet
    path = write_template(tmp_path, text)
    tpl = load_template(path)
    with pytest.raises(TemplateError) as info:
        transform(tpl.data, "us-east-1", {}, where=tpl.where)
    err = info.value
    assert err.exit_code == 2 and words in err.message + " " + (err.hint or ""), err.message
    assert err.where.startswith(f"{path}:{line}:"), (err.where, line)
    with pytest.raises(Exception):
        reference_transform(plain(parse_text(text)), {})


# -- GraphQL ------------------------------------------------------------------------------------------
GRAPHQL = """
    Resources:
      Auth: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}}
      Resolve: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}}
      Notes: {Type: AWS::Serverless::SimpleTable}
      Api:
        Type: AWS::Serverless::GraphQLApi
        DeletionPolicy: Retain
        Properties:
          SchemaInline: "type Query { note(id: ID!): String }"
          Auth:
            Type: AWS_LAMBDA
            LambdaAuthorizer: {AuthorizerUri: !GetAtt Auth.Arn}
            Additional:
              - Type: API_KEY
              - Type: AMAZON_COGNITO_USER_POOLS
                UserPool: {UserPoolId: pool, DefaultAction: ALLOW}
          XrayEnabled: "true"
          Tags: {team: a}
          Logging: {FieldLogLevel: ERROR}
          ApiKeys: {Key1: {Description: first}}
          Cache: {ApiCachingBehavior: FULL_REQUEST_CACHING, Ttl: 60, Type: SMALL}
          DomainName: {CertificateArn: arn:aws:acm:us-east-1:1:certificate/c, DomainName: gql.example.com}
          DataSources:
            DynamoDb:
              NotesTable: {TableName: !Ref Notes, Permissions: [Read]}
            Lambda:
              Compute: {FunctionArn: !GetAtt Resolve.Arn}
          Functions:
            readNote:
              DataSource: NotesTable
              Runtime: {Name: APPSYNC_JS, Version: 1.0.0}
              InlineCode: "export function request(ctx) {}"
            nothing:
              DataSource: none
              Runtime: {Name: APPSYNC_JS, Version: 1.0.0}
              CodeUri: s3://b/fn.js
            external: {Id: abc123}
          Resolvers:
            Query:
              note: {Pipeline: [readNote, nothing, external]}
              other:
                FieldName: compute
                Pipeline: [nothing]
                Runtime: {Name: APPSYNC_JS, Version: 1.0.0}
                CodeUri: s3://b/resolver.js
                Caching: {Ttl: 30}
"""


def test_a_graphql_api_with_every_part(region):
    out = assert_same(GRAPHQL)
    res = out["Resources"]
    assert res["Api"]["Type"] == "AWS::AppSync::GraphQLApi" and res["Api"]["Properties"]["XrayEnabled"] is True
    assert res["Api"]["DeletionPolicy"] == "Retain"
    assert res["ApiQuerynote"]["Properties"]["Kind"] == "PIPELINE"
    assert res["ApiQuerynote"]["DependsOn"] == ["ApiSchema"]
    assert res["ApiQuerynote"]["Properties"]["PipelineConfig"]["Functions"] == [
        {"Fn::GetAtt": ["ApireadNote", "FunctionId"]}, {"Fn::GetAtt": ["Apinothing", "FunctionId"]}, "abc123"]
    assert res["ApiNoneDataSource"]["Properties"]["Type"] == "NONE"
    # the Lambda data source and the authorizer get a permission to invoke; the table a read-only policy
    assert res["ApiComputeLambdaDataSourceToLambdaConnectorPolicy"]["Properties"]["Roles"] == [
        {"Ref": "ApiComputeLambdaDataSourceRole"}]
    assert res["ApiToLambdaAuthConnector1WriteLambdaPermission"]["Properties"]["Principal"] == "appsync.amazonaws.com"
    actions = json.dumps(res["ApiNotesTableDynamoDBDataSourceToTableConnectorPolicy"]["Properties"])
    assert "dynamodb:GetItem" in actions and "dynamodb:PutItem" not in actions


@pytest.mark.parametrize("change, words", [
    (lambda p: p.pop("Auth"), "Auth"),
    (lambda p: p.pop("SchemaInline"), "SchemaInline"),
    (lambda p: p.update(SchemaUri="s3://b/s.graphql"), "not both"),
    (lambda p: p["Logging"].update(Level="x"), "Level"),
    (lambda p: p["Auth"].update(Type="KERBEROS"), "Auth.Type"),
    (lambda p: p["Auth"].pop("LambdaAuthorizer"), "LambdaAuthorizer"),
    (lambda p: p["Functions"]["readNote"].update(DataSource="Missing"), "Missing"),
    (lambda p: p["Functions"]["readNote"].pop("Runtime"), "Runtime"),
    (lambda p: p["Functions"]["external"].update(Name="x"), "Id"),
    (lambda p: p["Resolvers"]["Query"]["note"].update(Pipeline=["ghost"]), "ghost"),
    (lambda p: p["Resolvers"]["Query"]["note"].pop("Pipeline"), "Pipeline"),
    (lambda p: p["DataSources"]["DynamoDb"]["NotesTable"].update(Permissions=["Delete"]), "Read or Write"),
])
def test_bad_graphql_apis_are_located_errors_the_reference_refuses_too(change, words, region):
    template = _template(GRAPHQL)
    change(template["Resources"]["Api"]["Properties"])
    with pytest.raises(TemplateError) as info:
        transform(copy.deepcopy(template), "us-east-1", {}, where=lambda keys, key=False: ".".join(map(str, keys)))
    err = info.value
    assert err.exit_code == 2 and "Api" in err.message and words in err.message, err.message
    assert err.where.startswith("Resources.Api"), err.where
    with pytest.raises(Exception):
        reference_transform(template, {})


# -- WebSocket ----------------------------------------------------------------------------------------
WEBSOCKET = """
    Parameters:
      Stage: {Type: String, Default: live}
    Globals:
      WebSocketApi:
        Tags: {team: a}
        PropagateTags: true
    Resources:
      Connect: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}}
      Authorize: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}}
      Chat:
        Type: AWS::Serverless::WebSocketApi
        Properties:
          RouteSelectionExpression: $request.body.action
          StageName: !Ref Stage
          Auth: {AuthType: CUSTOM, AuthArn: !GetAtt Authorize.Arn, IdentitySource: [route.request.header.Auth]}
          Routes:
            $connect:
              FunctionArn: !GetAtt Connect.Arn
              RequestParameters: {route.request.querystring.room: {Required: true}}
            $disconnect: {FunctionArn: !GetAtt Connect.Arn}
            send: {FunctionArn: !GetAtt Connect.Arn, IntegrationTimeout: 5000}
          RouteSettings: {send: {ThrottlingBurstLimit: 10}}
          Domain:
            DomainName: ws.example.com
            CertificateArn: arn:aws:acm:us-east-1:1:certificate/c
            BasePath: [/chat]
            Route53: {HostedZoneId: Z1}
    Outputs:
      Stage: {Value: !Ref Chat.Stage}
"""


def test_a_websocket_api_with_auth_routes_and_a_domain(region):
    out = assert_same(WEBSOCKET)
    res = out["Resources"]
    assert res["Chat"]["Properties"]["ProtocolType"] == "WEBSOCKET"
    assert res["ChatConnectRoute"]["Properties"]["AuthorizationType"] == "CUSTOM"
    assert res["ChatConnectRoute"]["Properties"]["AuthorizerId"] == {"Ref": "ChatConnectAuthorizer"}
    assert {"ChatDisconnectRoute", "ChatSendIntegration", "ChatSendPermission", "ChatAuthorizerPermission",
            "ChatchatApiMapping"} <= set(res)
    assert res["ChatStage"]["DependsOn"] == ["ChatConnectRoute", "ChatDisconnectRoute", "ChatSendRoute"]
    assert out["Outputs"]["Stage"]["Value"] == {"Ref": "ChatStage"}
    assert res["ChatStage"]["Properties"]["Tags"] == {"team": "a", "websocketapi:createdBy": "SAM"}


@pytest.mark.parametrize("change, words", [
    (lambda p: p.pop("RouteSelectionExpression"), "RouteSelectionExpression"),
    (lambda p: p.update(Routes={}), "Routes"),
    (lambda p: p["Routes"].pop("$connect"), "$connect"),
    (lambda p: p["Routes"].update({"send-it": {"FunctionArn": "arn"}}), "send-it"),
    (lambda p: p["Routes"]["send"].pop("FunctionArn"), "FunctionArn"),
    (lambda p: p["Routes"]["send"].update(RequestParameters={"a": {}}), "RequestParameters"),
    (lambda p: p.update(StageName="$default"), "$default"),
    (lambda p: p.update(IpAddressType="ipv5"), "IpAddressType"),
    (lambda p: p["Auth"].update(AuthType="BASIC"), "AuthType"),
    (lambda p: p["Auth"].pop("AuthArn"), "AuthArn"),
    (lambda p: p["Domain"].update(MutualTlsAuthentication={"TruststoreUri": "s3://b/k"}), "mutual TLS"),
    (lambda p: p["Domain"].update(BasePath=["/a b"]), "BasePath"),
    (lambda p: p.update(AccessLogSettings=["x"]), "AccessLogSettings"),
])
def test_bad_websocket_apis_are_located_errors_the_reference_refuses_too(change, words, region):
    template = _template(WEBSOCKET)
    change(template["Resources"]["Chat"]["Properties"])
    with pytest.raises(TemplateError) as info:
        transform(copy.deepcopy(template), "us-east-1", {}, where=lambda keys, key=False: ".".join(map(str, keys)))
    err = info.value
    assert err.exit_code == 2 and "Chat" in err.message and words in err.message + " " + (err.hint or ""), \
        err.message
    assert err.where.startswith("Resources.Chat"), err.where
    with pytest.raises(Exception):
        reference_transform(template, {})


def test_websocket_domains_in_one_hosted_zone_share_one_record_set_group():
    """The deliberate difference: the reference keeps only the last API's records, so the other domain would get
    no DNS record; lamctl's group holds both."""
    template = _template("""
        Resources:
          Fn: {Type: AWS::Serverless::Function, Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}}
          One:
            Type: AWS::Serverless::WebSocketApi
            Properties:
              RouteSelectionExpression: $request.body.action
              Routes: {$default: {FunctionArn: !GetAtt Fn.Arn}}
              Domain: {DomainName: one.example.com, CertificateArn: c, Route53: {HostedZoneId: Z1}}
          Two:
            Type: AWS::Serverless::WebSocketApi
            Properties:
              RouteSelectionExpression: $request.body.action
              Routes: {$default: {FunctionArn: !GetAtt Fn.Arn}}
              Domain: {DomainName: two.example.com, CertificateArn: c, Route53: {HostedZoneId: Z1}}
        """)
    out = transform(template, "us-east-1", {})
    groups = [r for r in out["Resources"].values() if r["Type"] == "AWS::Route53::RecordSetGroup"]
    assert len(groups) == 1
    assert sorted(r["Name"] for r in groups[0]["Properties"]["RecordSets"]) == ["one.example.com", "two.example.com"]


# -- at the command line --------------------------------------------------------------------------------
def test_transform_refuses_a_bad_connector_with_its_location_and_writes_nothing(cli, tmp_path):
    path = write_template(tmp_path, HEAD + "Resources:\n  Fn:\n    " + FN + "\n  C:\n    Type: AWS::Serverless::Connector\n"
                                          "    Properties:\n      Source: {Id: Fn}\n      Destination: {Id: Gone}\n"
                                          "      Permissions: [Read]\n")
    result = cli("transform", "-t", path, "-o", tmp_path / "out.json")
    assert result.exit_code == 2, result
    assert f"{path}:10:" in result.stderr and "Gone" in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_validate_names_a_connector_id_that_is_not_in_the_template(cli, tmp_path):
    path = write_template(tmp_path, HEAD + "Resources:\n  Fn:\n    " + FN + "\n  Q:\n    Type: AWS::SQS::Queue\n"
                                          "    Connectors:\n      ToFn:\n        Properties:\n"
                                          "          Destination: {Id: Fnn}\n          Permissions: [Read, Write]\n")
    result = cli("validate", "--no-lint", "-t", path)
    assert result.exit_code == 2, result
    assert f"{path}:11:" in result.stdout and "Fnn" in result.stdout and "did you mean Fn" in result.stdout
    write_template(tmp_path, path.read_text().replace("Fnn", "Fn"))
    assert cli("validate", "--no-lint", "-t", path).exit_code == 0


# -- four more error cases of the reference ------------------------------------------------------------
@pytest.mark.parametrize("text, line, words", [
    # Resource for Resources: no template without resources
    ("Resource:\n  Fn:\n    Type: AWS::Serverless::Function\n", 1, "did you mean Resources"),
    # a list parameter substituted into a string
    ("Transform: AWS::Serverless-2016-10-31\nParameters:\n  Ips:\n    Type: CommaDelimitedList\n    Default: [a, b]\n"
     "Resources:\n  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: prod\n      Auth:\n"
     "        ResourcePolicy:\n          CustomStatements: [{Effect: Allow, Principal: '*', Action: x, Resource: y,"
     " Condition: {IpAddress: {aws:SourceIp: !Sub '${Ips}'}}}]\n", 7, "${Ips}"),
    # a DefaultAuthorizer over a DefinitionBody method written "any"
    ("Transform: AWS::Serverless-2016-10-31\nResources:\n  Http:\n    Type: AWS::Serverless::HttpApi\n"
     "    Properties:\n      DefinitionBody:\n        openapi: 3.0.1\n        paths: {/x: {any: {responses: {}}}}\n"
     "      Auth:\n        DefaultAuthorizer: Jwt\n        Authorizers:\n          Jwt: {IdentitySource: "
     "$request.header.Authorization, JwtConfiguration: {issuer: https://i, audience: [a]}}\n", 3,
     "x-amazon-apigateway-any-method"),
    # an S3 event's Events given by an intrinsic function
    ("Transform: AWS::Serverless-2016-10-31\nParameters:\n  Kinds: {Type: String, Default: 's3:ObjectCreated:*'}\n"
     "Resources:\n  B: {Type: AWS::S3::Bucket}\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
     "      Runtime: python3.12\n      Handler: a.h\n      InlineCode: x\n      Events:\n        Up:\n"
     "          Type: S3\n          Properties: {Bucket: !Ref B, Events: !Ref Kinds}\n", 15, "Events must be"),
])
def test_more_error_cases_of_the_reference_are_refused_where_they_are(text, line, words, tmp_path, region):
    path = write_template(tmp_path, text)
    tpl = load_template(path)
    with pytest.raises(TemplateError) as info:
        transform(tpl.data, "us-east-1", {}, where=tpl.where)
    err = info.value
    assert err.exit_code == 2 and words in err.message + " " + (err.hint or ""), err.message
    assert err.where and err.where.startswith(f"{path}:"), err.where
    assert int(err.where.split(":")[-2]) >= line
    with pytest.raises(Exception):
        reference_transform(plain(parse_text(text)), {})


def test_a_connectors_attribute_alone_asks_for_the_transform():
    """No Transform line and no serverless type: the Connectors attribute still needs SAM, so lamctl transforms
    (CloudFormation would refuse the attribute)."""
    template = plain(parse_text("Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Connectors:\n      ToQ:\n"
                                "        Properties: {Destination: {Id: Q}, Permissions: [Write]}\n"
                                "  Q: {Type: AWS::SQS::Queue}\n"))
    out = transform(template, "us-east-1", {})
    assert "Connectors" not in out["Resources"]["T"]
    assert out["Resources"]["TToQQueuePolicy"]["Properties"]["Queues"] == [{"Ref": "Q"}]
