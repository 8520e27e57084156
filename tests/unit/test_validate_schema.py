"""Schema validation of templates (schemas/sam.schema.json through lamctl.schemas.validate)."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import pytest

from lamctl.schemas.template import Template
from lamctl.schemas.validate import SCHEMA_FILE, schema_findings
from tests.helpers import template_from_text

HEAD = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"


def tpl(body: str, head: str = HEAD) -> Template:
    text = head + textwrap.dedent(body)
    return template_from_text(text)


def found(body: str) -> list[str]:
    return [str(f) for f in schema_findings(tpl(body))]


GOOD = """\
Parameters:
  Memory: {Type: Number, Default: 256}
  UseVpc: {Type: String}
Conditions:
  InVpc: !Equals [!Ref UseVpc, "yes"]
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    Tracing: Active
    Environment:
      Variables: {STAGE: prod}
  Api:
    Cors: "'*'"
Resources:
  Table:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: id, Type: String}
  Layer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
      CompatibleRuntimes: [python3.12]
  MyApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
  Http:
    Type: AWS::Serverless::HttpApi
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      MemorySize: !Ref Memory
      Timeout: "30"
      Architectures: [arm64]
      Layers: [!Ref Layer]
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Alarms: [!Ref AWS::NoValue]
        Hooks: {PreTraffic: !Ref Fn}
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref Table}
        - AWSLambdaBasicExecutionRole
      VpcConfig: !If [InVpc, {SubnetIds: [a], SecurityGroupIds: [b]}, !Ref AWS::NoValue]
      Environment:
        Variables:
          TABLE: !Ref Table
          COUNT: 3
      EphemeralStorage: {Size: 1024}
      Events:
        Get:
          Type: Api
          Properties: {Path: /items, Method: get, RestApiId: !Ref MyApi}
        Route:
          Type: HttpApi
        Tick:
          Type: Schedule
          Properties: {Schedule: rate(5 minutes)}
        Jobs:
          Type: SQS
          Properties: {Queue: !GetAtt Queue.Arn, BatchSize: 10}
Outputs:
  Url:
    Value: !Sub "https://${MyApi}.execute-api.${AWS::Region}.amazonaws.com/prod"
"""


def test_the_schema_is_a_valid_draft_2020_12_schema():
    with open(SCHEMA_FILE, encoding="utf-8") as fh:
        jsonschema.Draft202012Validator.check_schema(json.load(fh))


def test_a_template_using_every_supported_type_has_no_finding():
    assert found(GOOD) == []


def test_an_unknown_property_is_pointed_at_with_a_suggestion():
    t = tpl("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Handler: app.handler
              Memory: 512
        """)
    [f] = schema_findings(t)
    assert f.where == "template.yaml:8:7"  # the key "Memory", two lines of HEAD above
    assert f.message == "unknown property 'Memory' in AWS::Serverless::Function Fn"
    assert f.hint == "did you mean MemorySize?"


def test_a_wrong_type_names_what_was_expected_and_what_was_found():
    assert found("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              MemorySize: lots
              Timeout: [1]
              Layers: arn:aws:lambda:us-east-1:123456789012:layer:x:1
        """) == [
        "template.yaml:7:19: Fn.MemorySize must be an integer, not 'lots'",
        "template.yaml:8:16: Fn.Timeout must be an integer, not a list",
        "template.yaml:9:15: Fn.Layers must be a list of strings, not 'arn:aws:lambda:us-east-1:123456789012:layer:x:1'",
    ]


def test_intrinsic_functions_are_accepted_wherever_cloudformation_accepts_them():
    assert found("""\
        Parameters:
          P: {Type: String}
        Conditions:
          C: !Equals [!Ref P, x]
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Handler: !Sub "${P}.handler"
              MemorySize: !FindInMap [M, !Ref P, mem]
              Tracing: !If [C, Active, PassThrough]
              Environment: !If [C, {Variables: {A: b}}, !Ref AWS::NoValue]
              Layers: !Split [",", !Ref P]
              Tags: {Owner: !Ref P}
              EphemeralStorage: {Size: !Ref P}
        """) == []


def test_an_unknown_intrinsic_function_is_named():
    [f] = schema_findings(tpl("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Handler: {"Fn::Joim": ["", [a, b]]}
        """))
    assert f.message == "unknown intrinsic function 'Fn::Joim' in Fn.Handler"
    assert f.hint == "did you mean Fn::Join?"


def test_enumerations_list_the_allowed_values():
    assert found("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Tracing: Sometimes
              PackageType: Jar
        """) == [
        "template.yaml:7:16: Fn.Tracing must be one of Active, PassThrough, Disabled, not 'Sometimes'",
        "template.yaml:8:20: Fn.PackageType must be one of Zip, Image, not 'Jar'",
    ]


def test_an_unknown_event_type_gets_a_suggestion_and_the_list():
    [f] = schema_findings(tpl("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Tick:
                  Type: Schedul
                  Properties: {Schedule: rate(1 minute)}
        """))
    assert f.where == "template.yaml:9:17"
    assert f.message == "unknown event type 'Schedul' in event Tick of Fn"
    assert f.hint.startswith("did you mean Schedule? known event types: AlexaSkill, Api, ")


def test_the_less_common_event_types_lamctl_transforms_are_accepted():
    assert found("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Login:
                  Type: Cognito
                  Properties: {UserPool: !Ref Pool, Trigger: [PreSignUp]}
                Rule:
                  Type: IoTRule
                  Properties: {Sql: "SELECT * FROM 'topic'"}
                Kafka:
                  Type: MSK
                  Properties: {Stream: !Ref Cluster, StartingPosition: LATEST, Topics: [t]}
        """) == []


def test_event_properties_are_checked_by_event_type():
    assert found("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Get:
                  Type: Api
                  Properties:
                    Paths: /x
                    Method: get
                Stream:
                  Type: Kinesis
                  Properties: {Stream: !GetAtt S.Arn}
        """) == [
        "template.yaml:10:11: Api event Get is missing the required property 'Path'",
        "template.yaml:11:13: unknown property 'Paths' in Api event Get",
        "template.yaml:15:11: Kinesis event Stream is missing the required property 'StartingPosition'",
    ]


def test_unknown_globals_sections_and_keys_are_reported_at_their_key():
    assert found("""\
        Globals:
          Function:
            Timeout: 10
            Runtme: python3.12
            FunctionName: shared
          Functions: {}
        Resources:
          Q: {Type: AWS::SQS::Queue}
        """) == [
        "template.yaml:6:5: unknown Globals key 'Runtme' in Globals.Function",
        "template.yaml:7:5: FunctionName cannot be set in Globals.Function",
        "template.yaml:8:3: unknown Globals section 'Functions'",
    ]


def test_missing_required_properties_of_serverless_types():
    assert found("""\
        Resources:
          Api:
            Type: AWS::Serverless::Api
            Properties: {Cors: "'*'"}
          Layer:
            Type: AWS::Serverless::LayerVersion
        """) == [
        "template.yaml:6:5: AWS::Serverless::Api Api is missing the required property 'StageName'",
        "template.yaml:7:3: resource Layer is missing the required property 'Properties'",
    ]


def test_resource_attributes_and_top_level_sections_are_checked():
    assert found("""\
        Resourcs: {}
        Resources:
          Q:
            Type: AWS::SQS::Queue
            DependOn: Other
            IgnoreGlobals: "*"
        """) == [
        "template.yaml:3:1: unknown top-level section 'Resourcs'",
        "template.yaml:7:5: unknown resource attribute 'DependOn' in resource Q",
        "template.yaml:8:5: IgnoreGlobals applies only to AWS::Serverless:: resources",
    ]


def test_line_numbers_survive_short_form_tags_and_flow_style():
    [f] = schema_findings(tpl("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {Handler: !Sub "${AWS::Region}.h", Runtime: !Ref R, Timeout: {"Fn::If": [C, 1, 2]},
                         Description: [not, a, string]}
        """))
    assert f.where == "template.yaml:7:31"
    assert f.message == "Fn.Description must be a string, not a list"


def test_a_json_template_is_located_as_well():
    text = json.dumps({"Transform": "AWS::Serverless-2016-10-31", "Resources": {
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Timeout": True}}}}, indent=2)
    t = template_from_text(text, "template.json")
    [f] = schema_findings(t)
    assert f.where == "template.json:7:20"
    assert f.message == "Fn.Timeout must be an integer, not True"


@pytest.mark.parametrize("value", ["128", "0x80", "1e3"])
def test_numbers_as_strings(value):
    result = found(f"""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {{MemorySize: "{value}"}}
        """)
    assert result == ([] if value == "128" else [f"template.yaml:6:30: Fn.MemorySize must be an integer, not '{value}'"])


def test_a_resource_that_is_not_a_mapping_gets_one_clear_finding():
    assert found("""\
        Resources:
          Q: [AWS::SQS::Queue]
        """) == ["template.yaml:4:6: Q must be a mapping, not a list"]


def test_a_state_machine_is_validated_by_its_own_properties_and_event_types():
    assert found("""\
        Globals:
          StateMachine: {PropagateTags: true}
        Resources:
          Sm:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: statemachine/orders.asl.json
              Type: EXPRESS
              Policies: [{LambdaInvokePolicy: {FunctionName: !Ref Fn}}]
              AutoPublishAlias: live
              Events:
                Tick: {Type: Schedule, Properties: {Schedule: rate(1 minute), RoleArn: arn:aws:iam::1:role/r}}
                Bus: {Type: EventBridgeRule, Properties: {Pattern: {source: [a]}}}
        """) == []
    assert found("""\
        Resources:
          Sm:
            Type: AWS::Serverless::StateMachine
            Properties:
              Definiton: {StartAt: A}
              Type: FAST
              Events:
                Q: {Type: SQS, Properties: {Queue: q}}
                Web: {Type: Api, Properties: {Path: /, Method: get, Timeout: 3}}
        """) == [
        "template.yaml:7:7: unknown property 'Definiton' in AWS::Serverless::StateMachine Sm",
        "template.yaml:8:13: Sm.Type must be one of STANDARD, EXPRESS, not 'FAST'",
        "template.yaml:10:19: unknown event type 'SQS' in event Q of Sm",
        "template.yaml:11:61: unknown property 'Timeout' in Api event Web",
    ]
