"""AWS::Serverless::StateMachine and AWS::Serverless::CapacityProvider: lamctl's transform against the reference
``aws-sam-translator`` (offline), identical after sorting every list; and the located errors of bad templates."""

from __future__ import annotations

import copy
import textwrap

import pytest

from lamctl.schemas.errors import TemplateError
from lamctl.schemas.template import parse_text, plain
from lamctl.transform import transform
from tests.helpers import mask_deployments, normalise, reference_transform

pytest.importorskip("samtranslator", reason="the reference transform is a test dependency")

HEAD = "Transform: AWS::Serverless-2016-10-31\n"


def _template(text: str) -> dict:
    return plain(parse_text(HEAD + textwrap.dedent(text)))


def assert_same(text: str, monkeypatch) -> dict:
    from samtranslator.translator.arn_generator import ArnGenerator

    for var in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(var, "us-east-1")
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", "us-east-1")
    template = _template(text)
    # the REST API deployment ID is lamctl's own hash (a documented difference), masked on both sides
    want = normalise(mask_deployments(reference_transform(copy.deepcopy(template), {}), inside_strings=True))
    raw = transform(copy.deepcopy(template), "us-east-1", {})
    got = normalise(mask_deployments(copy.deepcopy(raw), inside_strings=True))
    for lid in sorted(set(want["Resources"]) | set(got["Resources"])):
        assert got["Resources"].get(lid) == want["Resources"].get(lid), f"resource {lid} differs"
    assert got == want
    return raw


def test_inline_definition_lifts_intrinsics_into_substitutions(monkeypatch):
    got = assert_same("""
        Parameters:
          Bucket: {Type: String, Default: b}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}
          Sm:
            Type: AWS::Serverless::StateMachine
            Properties:
              Name: orders
              Type: EXPRESS
              DefinitionSubstitutions: {Mine: value}
              Definition:
                StartAt: Call
                States:
                  Call:
                    Type: Task
                    Resource: !GetAtt Fn.Arn
                    Parameters: {Bucket: !Ref Bucket, Secret: "{{resolve:ssm:/param}}", Other: "${Mine}"}
                    Next: Done
                  Done: {Type: Succeed}
              Policies:
                - LambdaInvokePolicy: {FunctionName: !Ref Fn}
                - AWSXrayWriteOnlyAccess
                - Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "*"}]
              Tracing: {Enabled: true}
              Logging: {Level: ALL, IncludeExecutionData: true, Destinations: [{CloudWatchLogsLogGroup: {LogGroupArn: arn:aws:logs:us-east-1:1:log-group:x}}]}
              Tags: {team: a}
              RolePath: /sm/
              PermissionsBoundary: arn:aws:iam::1:policy/b
        """, monkeypatch)
    sm = got["Resources"]["Sm"]
    assert sm["Type"] == "AWS::StepFunctions::StateMachine"
    assert sm["Properties"]["DefinitionSubstitutions"]["definition_substitution_1"]
    assert got["Resources"]["SmRole"]["Properties"]["Path"] == "/sm/"


@pytest.mark.parametrize("uri", ["s3://bucket/def.json?versionId=3", "{Bucket: bucket, Key: def.json, Version: '3'}"])
def test_definition_uri_and_a_given_role(uri, monkeypatch):
    got = assert_same(f"""
        Resources:
          Sm:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: {uri}
              Role: arn:aws:iam::123456789012:role/sm
        """, monkeypatch)
    assert got["Resources"]["Sm"]["Properties"]["DefinitionS3Location"] == {
        "Bucket": "bucket", "Key": "def.json", "Version": "3"}
    assert "SmRole" not in got["Resources"]


def test_alias_deployment_preference_and_events(monkeypatch):
    got = assert_same("""
        Resources:
          Dlq: {Type: AWS::SQS::Queue}
          Sm:
            Type: AWS::Serverless::StateMachine
            Condition: IsOn
            DeletionPolicy: Retain
            Properties:
              DefinitionUri: s3://bucket/def.json
              AutoPublishAlias: live
              UseAliasAsEventTarget: true
              DeploymentPreference: {Type: CANARY, Percentage: 10, Interval: 5}
              PropagateTags: true
              Tags: {team: a}
              Events:
                Tick: {Type: Schedule, Properties: {Schedule: rate(1 minute), Enabled: false, DeadLetterConfig: {Type: SQS}, RetryPolicy: {MaximumRetryAttempts: 2}}}
                Given: {Type: Schedule, Properties: {Schedule: rate(1 hour), RoleArn: arn:aws:iam::1:role/r, Target: {Id: mine}}}
                Bus: {Type: EventBridgeRule, Properties: {Pattern: {source: [a]}, InputTransformer: {InputTemplate: x}, DeadLetterConfig: {Arn: !GetAtt Dlq.Arn}}}
                Old: {Type: CloudWatchEvent, Properties: {Pattern: {source: [b]}, State: DISABLED, InputPath: $.detail}}
                Later: {Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 day), DeadLetterConfig: {Type: SQS}}}
        Conditions:
          IsOn: !Equals [a, a]
        """, monkeypatch)
    alias = got["Resources"]["SmAliaslive"]
    assert alias["Properties"]["DeploymentPreference"]["StateMachineVersionArn"] == {"Ref": "SmVersion"}
    assert got["Resources"]["SmTick"]["Properties"]["Targets"][0]["Arn"] == {"Ref": "SmAliaslive"}
    assert got["Resources"]["SmVersion"]["DeletionPolicy"] == "Retain"


def test_state_machine_without_an_alias_targets_itself(monkeypatch):
    got = assert_same("""
        Resources:
          Sm:
            Type: AWS::Serverless::StateMachine
            Properties:
              Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
              Events:
                Tick: {Type: Schedule, Properties: {Schedule: rate(1 minute), State: ENABLED, Input: "{}"}}
        """, monkeypatch)
    assert got["Resources"]["SmTick"]["Properties"]["Targets"][0]["Arn"] == {"Ref": "Sm"}
    assert got["Resources"]["SmTickRole"]["Properties"]["Policies"][0]["PolicyName"] == "SmTickRoleStartExecutionPolicy"


@pytest.mark.parametrize("props, line, words", [
    ("Definition: {StartAt: A}\n      DefinitionUri: s3://b/k", 7, "not both"),
    ("Role: arn:aws:iam::1:role/r", 4, "Definition"),
    ("DefinitionUri: s3://b/k\n      DeploymentPreference: {Type: ALL_AT_ONCE}", 7, "AutoPublishAlias"),
    ("DefinitionUri: s3://b/k\n      UseAliasAsEventTarget: true", 7, "AutoPublishAlias"),
    ("DefinitionUri: s3://b/k\n      Role: r\n      Policies: [AWSLambdaRole]", 7, "not both"),
    ("DefinitionUri: statemachine/def.json", 6, "lamctl package"),
    ("DefinitionUri: s3://b/k\n      Events: {E: {Type: SQS, Properties: {Queue: q}}}", 7, "Schedule"),
    ("DefinitionUri: s3://b/k\n      Events: {E: {Type: Schedule, Properties: {}}}", 7, "Schedule"),
    ("DefinitionUri: s3://b/k\n      Defintion: {}", 7, "Definition"),
    ("DefinitionUri: s3://b/k\n      Events: {E: {Type: Api, Properties: {Path: /, Method: get, "
     "UnescapeMappingTemplate: !If [c, true, false]}}}", 7, "true or false"),
])
def test_bad_state_machines_are_located_errors(props, line, words, tmp_path):
    text = HEAD + f"Resources:\n  Sm:\n    Type: AWS::Serverless::StateMachine\n    Properties:\n      {props}\n"
    from lamctl.schemas.template import load_template

    (tmp_path / "template.yaml").write_text(text)
    tpl = load_template(str(tmp_path / "template.yaml"))
    with pytest.raises(TemplateError) as info:
        transform(tpl.data, "us-east-1", {}, where=tpl.where)
    err = info.value
    assert err.exit_code == 2 and "Sm" in err.message and words in (err.message + " " + (err.hint or ""))
    assert err.where.startswith(f"{tmp_path / 'template.yaml'}:{line}:"), (err.where, line)
    from samtranslator.model.exceptions import InvalidDocumentException

    if "package" not in words:  # the reference refuses them too (a local path is for lamctl package)
        with pytest.raises((InvalidDocumentException, Exception)):
            reference_transform(plain(parse_text(text)), {})


@pytest.mark.parametrize("api", ["", "RestApiId: !Ref Api, "])
def test_api_events_start_executions(api, monkeypatch):
    got = assert_same(f"""
        Resources:
          Api:
            Type: AWS::Serverless::Api
            Properties:
              StageName: prod
              Auth:
                Authorizers:
                  Pool: {{UserPoolArn: arn:aws:cognito-idp:us-east-1:1:userpool/p}}
          Sm:
            Type: AWS::Serverless::StateMachine
            Properties:
              DefinitionUri: s3://bucket/def.json
              AutoPublishAlias: live
              UseAliasAsEventTarget: true
              Events:
                Post: {{Type: Api, Properties: {{{api}Path: /orders, Method: POST, UnescapeMappingTemplate: true}}}}
                Get: {{Type: Api, Properties: {{{api}Path: /orders, Method: get}}}}
        """, monkeypatch)
    api_id = "Api" if api else "ServerlessRestApi"
    body = got["Resources"][api_id]["Properties"]["Body"]
    integration = body["paths"]["/orders"]["post"]["x-amazon-apigateway-integration"]
    assert integration["credentials"] == {"Fn::GetAtt": ["SmPostRole", "Arn"]}
    assert "${SmAliaslive}" in integration["requestTemplates"]["application/json"]["Fn::Sub"]
    assert got["Resources"]["SmPostRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0][
        "Principal"] == {"Service": ["apigateway.amazonaws.com"]}


def test_capacity_providers_and_the_functions_on_them(monkeypatch):
    got = assert_same("""
        Globals:
          CapacityProvider:
            VpcConfig: {SubnetIds: [subnet-1], SecurityGroupIds: [sg-1]}
            Tags: {team: a}
        Resources:
          Minimal:
            Type: AWS::Serverless::CapacityProvider
          Full:
            Type: AWS::Serverless::CapacityProvider
            Properties:
              CapacityProviderName: full
              OperatorRole: arn:aws:iam::123456789012:role/operator
              PropagateTags: true
              InstanceRequirements: {Architectures: [arm64], AllowedTypes: [m7g.large]}
              ScalingConfig: {MaxVCpuCount: 64, AverageCPUUtilization: 70}
              KmsKeyArn: arn:aws:kms:us-east-1:123456789012:key/k
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Handler: a.h
              CodeUri: s3://b/k
              CapacityProviderConfig: {Arn: !GetAtt Full.Arn}
        """, monkeypatch)
    assert got["Resources"]["Minimal"]["Type"] == "AWS::Lambda::CapacityProvider"
    assert got["Resources"]["Minimal"]["Properties"]["PermissionsConfig"] == {
        "CapacityProviderOperatorRoleArn": {"Fn::GetAtt": ["MinimalOperatorRole", "Arn"]}}
    assert "FullOperatorRole" not in got["Resources"]


def test_a_capacity_provider_needs_subnets(tmp_path):
    from lamctl.schemas.template import load_template

    (tmp_path / "template.yaml").write_text(HEAD + "Resources:\n  Cp:\n    Type: AWS::Serverless::CapacityProvider\n"
                                            "    Properties:\n      KmsKeyArn: k\n")
    tpl = load_template(str(tmp_path / "template.yaml"))
    with pytest.raises(TemplateError) as info:
        transform(tpl.data, "us-east-1", {}, where=tpl.where)
    assert info.value.exit_code == 2 and "SubnetIds" in info.value.message and info.value.where


@pytest.mark.parametrize("text, words", [
    # a resource of the template named like one the transform generates, even identical to it
    ("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Runtime: python3.12, Handler: a.h, "
     "CodeUri: s3://b/k, Events: {Skill: {Type: AlexaSkill}}}\n  FnSkillPermission:\n    Type: AWS::Lambda::Permission\n"
     "    Properties: {Action: lambda:InvokeFunction, FunctionName: !Ref Fn, Principal: alexa-appkit.amazon.com}\n",
     "FnSkillPermission"),
    # the reference takes no intrinsic function here
    ("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Runtime: python3.12, Handler: a.h, "
     "CodeUri: s3://b/k, AutoPublishAlias: live, AutoPublishAliasAllProperties: !If [c, true, false]}\n",
     "AutoPublishAliasAllProperties"),
])
def test_error_cases_of_the_reference_are_refused(text, words, monkeypatch):
    template = plain(parse_text(HEAD + text))
    with pytest.raises(TemplateError) as info:
        transform(copy.deepcopy(template), "us-east-1", {})
    assert info.value.exit_code == 2 and words in info.value.message
    with pytest.raises(Exception):
        reference_transform(template, {})


def test_an_empty_mappings_section_is_refused_where_it_is(tmp_path):
    from lamctl.schemas.template import load_template

    (tmp_path / "template.yaml").write_text(HEAD + "Mappings:\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
                                            "    Properties: {Runtime: python3.12, Handler: a.h, InlineCode: x}\n")
    tpl = load_template(str(tmp_path / "template.yaml"))
    with pytest.raises(TemplateError) as info:
        transform(tpl.data, "us-east-1", {}, where=tpl.where)
    assert info.value.exit_code == 2 and "Mappings" in info.value.message
    assert info.value.where.startswith(f"{tmp_path / 'template.yaml'}:2:")
