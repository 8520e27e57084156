"""Differential tests of the core SAM transform (functions, roles, policies, versions, aliases, CodeDeploy,
non-API events, layers, tables, Globals, reference rewriting): every template below goes through lamctl's
transform and through the reference ``aws-sam-translator`` (offline); the two outputs must be identical after
sorting every list (the reference suite's own normalisation). Nothing else is masked.
"""

from __future__ import annotations

import copy
import textwrap

import pytest

from lamctl.transform import transform
from lamctl.schemas.template import parse_text, plain
from tests.helpers import normalise, reference_transform

import samtranslator  # noqa: E402,F401 - the reference transform is a test dependency: missing, the run fails


def reference(template: dict, parameters: dict, region: str, monkeypatch) -> dict:
    from samtranslator.translator.arn_generator import ArnGenerator

    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", region)
    return reference_transform(template, parameters)


def assert_same(text: str, monkeypatch, parameters: dict | None = None, region: str = "us-east-1") -> dict:
    template = plain(parse_text(textwrap.dedent(text)))
    want = reference(template, parameters or {}, region, monkeypatch)
    got = transform(copy.deepcopy(template), region, dict(parameters or {}))
    want_n, got_n = normalise(want), normalise(got)
    for lid in sorted(set(want_n["Resources"]) | set(got_n["Resources"])):
        assert got_n["Resources"].get(lid) == want_n["Resources"].get(lid), f"resource {lid} differs"
    assert got_n == want_n
    assert "Transform" not in got and "Globals" not in got
    return got


HEAD = "Transform: AWS::Serverless-2016-10-31\n"

CASES = {
    "function_properties": """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              FunctionName: my-fn
              CodeUri: s3://bucket/key.zip?versionId=3
              Handler: app.handler
              Runtime: python3.12
              Architectures: [arm64]
              MemorySize: 1024
              Timeout: 30
              EphemeralStorage: {Size: 2048}
              Description: does things
              Environment: {Variables: {A: "1", B: !Ref AWS::Region}}
              Tags: {team: core, cost: "42"}
              Tracing: Active
              VpcConfig: {SecurityGroupIds: [sg-1], SubnetIds: [subnet-1, subnet-2]}
              KmsKeyArn: arn:aws:kms:us-east-1:123456789012:key/abc
              ReservedConcurrentExecutions: 5
              DeadLetterQueue: {Type: SQS, TargetArn: arn:aws:sqs:us-east-1:123456789012:dlq}
              FileSystemConfigs: [{Arn: arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-1, LocalMountPath: /mnt/efs}]
              LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: INFO}
              SnapStart: {ApplyOn: PublishedVersions}
              RuntimeManagementConfig: {UpdateRuntimeOn: Auto}
              RolePath: /app/
              PermissionsBoundary: arn:aws:iam::123456789012:policy/boundary
    """,
    "code_variants": """
        Resources:
          MapCode:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: {Bucket: b, Key: k.zip, Version: v1}
              Handler: a.b
              Runtime: nodejs20.x
          Inline:
            Type: AWS::Serverless::Function
            Properties:
              InlineCode: "def handler(e, c): return e"
              Handler: index.handler
              Runtime: python3.12
              Tracing: Disabled
              DeadLetterQueue: {Type: SNS, TargetArn: !Ref Topic}
          Image:
            Type: AWS::Serverless::Function
            Properties:
              PackageType: Image
              ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1
              ImageConfig: {Command: [app.handler]}
          Topic:
            Type: AWS::SNS::Topic
    """,
    "globals_merge_and_ignore": """
        Globals:
          Function:
            Runtime: python3.11
            Handler: app.handler
            CodeUri: s3://bucket/global.zip
            MemorySize: 256
            Environment: {Variables: {GLOBAL: g, SHARED: global}}
            Tags: {owner: platform}
            Layers: [arn:aws:lambda:us-east-1:123456789012:layer:base:1]
            Architectures: [x86_64]
            Tracing: !If [IsProd, Active, PassThrough]
          SimpleTable:
            SSESpecification: {SSEEnabled: true}
          LayerVersion:
            PublishLambdaVersion: true
        Conditions:
          IsProd: !Equals [!Ref AWS::Region, us-east-1]
        Resources:
          A:
            Type: AWS::Serverless::Function
            Properties:
              Runtime: python3.12
              Environment: {Variables: {LOCAL: l, SHARED: local}}
              Layers: [arn:aws:lambda:us-east-1:123456789012:layer:extra:2]
              Architectures: [arm64]
              Tracing: Active
          B:
            Type: AWS::Serverless::Function
            IgnoreGlobals: [Tags, MemorySize]
            Properties: {}
          C:
            Type: AWS::Serverless::Function
            IgnoreGlobals: "*"
            Properties: {CodeUri: s3://b/c.zip, Handler: c.h, Runtime: go1.x}
          T:
            Type: AWS::Serverless::SimpleTable
    """,
    "policies": """
        Parameters:
          TableName: {Type: String, Default: items}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AssumeRolePolicyDocument:
                Version: "2012-10-17"
                Statement: [{Effect: Allow, Action: sts:AssumeRole, Principal: {Service: [lambda.amazonaws.com, edgelambda.amazonaws.com]}}]
              Policies:
                - AWSLambdaExecute
                - AmazonS3ReadOnlyAccess
                - arn:aws:iam::123456789012:policy/custom
                - NotAKnownManagedPolicy
                - Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "*"}]
                - S3ReadPolicy: {BucketName: b1}
                - S3CrudPolicy: {BucketName: !Ref Bucket}
                - S3WritePolicy: {BucketName: b3}
                - DynamoDBReadPolicy: {TableName: !Ref TableName}
                - DynamoDBCrudPolicy: {TableName: t2}
                - DynamoDBWritePolicy: {TableName: t3}
                - DynamoDBStreamReadPolicy: {TableName: t4, StreamName: s}
                - SQSSendMessagePolicy: {QueueName: !GetAtt Q.QueueName}
                - SQSPollerPolicy: {QueueName: q2}
                - SNSPublishMessagePolicy: {TopicName: topic}
                - LambdaInvokePolicy: {FunctionName: other}
                - CloudWatchPutMetricPolicy: {}
                - SSMParameterReadPolicy: {ParameterName: app/config}
                - AWSSecretsManagerGetSecretValuePolicy: {SecretArn: arn:aws:secretsmanager:us-east-1:123456789012:secret:s}
                - KMSDecryptPolicy: {KeyId: key-1}
                - EventBridgePutEventsPolicy: {EventBusName: default}
                - StepFunctionsExecutionPolicy: {StateMachineName: sm}
                - VPCAccessPolicy: {}
                - !If [IsProd, AWSXRayDaemonWriteAccess, !Ref AWS::NoValue]
                - !If [IsProd, {Statement: [{Effect: Allow, Action: sqs:*, Resource: "*"}]}, !Ref AWS::NoValue]
          Bucket: {Type: AWS::S3::Bucket}
          Q: {Type: AWS::SQS::Queue}
        Conditions:
          IsProd: !Equals [a, a]
    """,
    "single_policy_forms": """
        Resources:
          ByName:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: s3://b/k, Handler: a.b, Runtime: python3.12, Policies: AmazonDynamoDBFullAccess}
          ByDocument:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k
              Handler: a.b
              Runtime: python3.12
              Policies: {Statement: [{Effect: Allow, Action: "logs:*", Resource: "*"}]}
          ExplicitRole:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: s3://b/k, Handler: a.b, Runtime: python3.12,
                         Role: arn:aws:iam::123456789012:role/given, Policies: AWSLambdaExecute}
    """,
    "alias_version_and_url": """
        Parameters:
          AliasName: {Type: String, Default: live}
          CodeKey: {Type: String, Default: v1.zip}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: {Bucket: b, Key: !Ref CodeKey}
              Handler: a.b
              Runtime: python3.12
              MemorySize: 512
              Environment: {Variables: {X: "1"}}
              AutoPublishAlias: !Ref AliasName
              VersionDescription: the version
              ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 2}
              FunctionUrlConfig: {AuthType: NONE, InvokeMode: RESPONSE_STREAM, Cors: {AllowOrigins: ["*"], MaxAge: 10}}
          Sha:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              Description: with sha
              AutoPublishAlias: my-alias_1
              AutoPublishCodeSha256: 0123456789abcdef0123
              FunctionUrlConfig: {AuthType: AWS_IAM}
          AllProps:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AutoPublishAlias: live
              AutoPublishAliasAllProperties: true
              Layers: [!Ref Layer]
          Layer:
            Type: AWS::Serverless::LayerVersion
            Properties: {ContentUri: s3://b/layer.zip, PublishLambdaVersion: true}
        Outputs:
          Alias: {Value: !Ref Fn.Alias}
          Version: {Value: !Ref Fn.Version}
          AliasArn: {Value: !GetAtt Fn.Alias.Arn}
          Sub: {Value: !Sub "${Sha.Alias} and ${Sha.Version} and ${Layer}"}
          Url: {Value: !GetAtt FnUrl.FunctionUrl}
    """,
    "deployment_preference": """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AutoPublishAlias: live
              Tags: {app: shop}
              PropagateTags: true
              DeploymentPreference:
                Type: Linear10PercentEvery1Minute
                Hooks: {PreTraffic: !Ref PreHook, PostTraffic: !Ref PostHook}
                Alarms: [!Ref Alarm1, !Ref Alarm2]
                TriggerConfigurations:
                  - {TriggerEvents: [DeploymentSuccess], TriggerName: t, TriggerTargetArn: arn:aws:sns:us-east-1:123456789012:t}
          Custom:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AutoPublishAlias: live
              DeploymentPreference:
                Type: MyCustomConfig
                Role: arn:aws:iam::123456789012:role/codedeploy
          Disabled:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AutoPublishAlias: live
              DeploymentPreference: {Type: AllAtOnce, Enabled: false}
          PreHook:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: s3://b/h.zip, Handler: h.pre, Runtime: python3.12}
          PostHook:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: s3://b/h.zip, Handler: h.post, Runtime: python3.12}
          Alarm1: {Type: AWS::CloudWatch::Alarm, Properties: {}}
          Alarm2: {Type: AWS::CloudWatch::Alarm, Properties: {}}
    """,
    "deployment_preference_conditions": """
        Parameters:
          Kind: {Type: String, Default: Canary10Percent5Minutes}
        Conditions:
          C1: !Equals [a, a]
          C2: !Equals [b, b]
        Resources:
          One:
            Type: AWS::Serverless::Function
            Condition: C1
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AutoPublishAlias: live
              DeploymentPreference: {Type: !Ref Kind, PassthroughCondition: true}
          Two:
            Type: AWS::Serverless::Function
            Condition: C2
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AutoPublishAlias: live
              DeploymentPreference: {Type: Canary10Percent10Minutes, PassthroughCondition: true,
                                     Alarms: !If [C2, [a1], [!Ref AWS::NoValue]]}
    """,
    "event_invoke_config": """
        Conditions:
          UseQueue: !Equals [a, a]
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AutoPublishAlias: live
              EventInvokeConfig:
                MaximumEventAgeInSeconds: 70
                MaximumRetryAttempts: 1
                DestinationConfig:
                  OnSuccess: {Type: SQS}
                  OnFailure: {Type: SNS}
          Other:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              EventInvokeConfig:
                DestinationConfig:
                  OnSuccess: {Type: Lambda, Destination: !GetAtt Fn.Arn}
                  OnFailure: {Type: EventBridge, Destination: arn:aws:events:us-east-1:123456789012:event-bus/default}
          Cond:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              EventInvokeConfig:
                DestinationConfig:
                  OnSuccess: {Type: SQS, Destination: !If [UseQueue, !Ref AWS::NoValue, arn:aws:sqs:us-east-1:1:q]}
                  OnFailure: {Type: S3Bucket, Destination: arn:aws:s3:::bucket}
        Outputs:
          Q: {Value: !Ref Fn.DestinationQueue}
          T: {Value: !Ref Fn.DestinationTopic}
    """,
    "resource_attributes": """
        Conditions:
          Always: !Equals [a, a]
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Condition: Always
            DependsOn: [Q]
            DeletionPolicy: Retain
            UpdateReplacePolicy: Retain
            Metadata: {BuildMethod: makefile}
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AutoPublishAlias: live
              Events:
                Tick: {Type: Schedule, Properties: {Schedule: rate(1 hour)}}
                Msgs: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
          Q:
            Type: AWS::SQS::Queue
          Table:
            Type: AWS::Serverless::SimpleTable
            Condition: Always
            DependsOn: Q
            DeletionPolicy: Retain
            Properties:
              PrimaryKey: {Name: pk, Type: Number}
              ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
              TableName: items
              Tags: {a: b}
              PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
    """,
    "schedule_and_rules": """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              Events:
                Simple: {Type: Schedule, Properties: {Schedule: rate(5 minutes)}}
                Full:
                  Type: Schedule
                  Properties:
                    Schedule: cron(0 12 * * ? *)
                    Name: nightly
                    Description: every day
                    Enabled: false
                    Input: '{"a": 1}'
                    DeadLetterConfig: {Type: SQS}
                    RetryPolicy: {MaximumRetryAttempts: 2}
                State: {Type: Schedule, Properties: {Schedule: rate(1 day), State: DISABLED,
                                                     DeadLetterConfig: {Arn: arn:aws:sqs:us-east-1:1:dlq}}}
                Rule:
                  Type: EventBridgeRule
                  Properties:
                    Pattern: {source: [aws.ec2]}
                    EventBusName: custom
                    RuleName: my-rule
                    InputTransformer: {InputPathsMap: {i: $.id}, InputTemplate: '"<i>"'}
                    DeadLetterConfig: {Type: SQS, QueueLogicalId: MyDlq}
                    Target: {Id: custom-id}
                Cwe:
                  Type: CloudWatchEvent
                  Properties: {Pattern: {detail-type: [x]}, InputPath: $.detail}
                Logs:
                  Type: CloudWatchLogs
                  Properties: {LogGroupName: !Ref Group, FilterPattern: ERROR}
          Group: {Type: AWS::Logs::LogGroup}
    """,
    "schedule_v2": """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              AutoPublishAlias: live
              Events:
                V2:
                  Type: ScheduleV2
                  Properties:
                    ScheduleExpression: rate(1 minute)
                    FlexibleTimeWindow: {Mode: FLEXIBLE, MaximumWindowInMinutes: 5}
                    Description: d
                    State: ENABLED
                    GroupName: g
                    ScheduleExpressionTimezone: UTC
                    DeadLetterConfig: {Type: SQS}
                    RetryPolicy: {MaximumRetryAttempts: 1}
                    PermissionsBoundary: arn:aws:iam::1:policy/b
                WithRole:
                  Type: ScheduleV2
                  Properties: {ScheduleExpression: rate(2 minutes), RoleArn: arn:aws:iam::1:role/r, OmitName: true,
                               Input: '{}'}
    """,
    "s3_sns_sqs_streams": """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              Events:
                Created: {Type: S3, Properties: {Bucket: !Ref Bucket, Events: "s3:ObjectCreated:*",
                          Filter: {S3Key: {Rules: [{Name: prefix, Value: in/}]}}}}
                Removed: {Type: S3, Properties: {Bucket: !Ref Bucket, Events: ["s3:ObjectRemoved:*"]}}
                Note: {Type: SNS, Properties: {Topic: !Ref Topic, FilterPolicy: {kind: [a]}, Region: us-west-2}}
                Queued: {Type: SNS, Properties: {Topic: !Ref Fifo, SqsSubscription: true}}
                Given:
                  Type: SNS
                  Properties:
                    Topic: arn:aws:sns:us-east-1:1:t
                    SqsSubscription: {QueueArn: !GetAtt Q.Arn, QueueUrl: !Ref Q, BatchSize: 5, QueuePolicyLogicalId: QP}
                Msgs:
                  Type: SQS
                  Properties: {Queue: !GetAtt Q.Arn, BatchSize: 10, MaximumBatchingWindowInSeconds: 2,
                               FunctionResponseTypes: [ReportBatchItemFailures], ScalingConfig: {MaximumConcurrency: 5},
                               FilterCriteria: {Filters: [{Pattern: '{"a": [1]}'}]}}
                Stream:
                  Type: Kinesis
                  Properties:
                    Stream: arn:aws:kinesis:us-east-1:1:stream/s
                    StartingPosition: TRIM_HORIZON
                    ParallelizationFactor: 2
                    DestinationConfig: {OnFailure: {Type: SQS, Destination: arn:aws:sqs:us-east-1:1:f}}
                Table:
                  Type: DynamoDB
                  Properties:
                    Stream: !GetAtt T.StreamArn
                    StartingPosition: LATEST
                    BisectBatchOnFunctionError: true
                    MaximumRetryAttempts: 3
                    DestinationConfig: {OnFailure: {Type: SNS, Destination: !Ref Topic}}
          Bucket: {Type: AWS::S3::Bucket, DependsOn: [Topic], Properties: {BucketName: data}}
          Topic: {Type: AWS::SNS::Topic}
          Fifo: {Type: AWS::SNS::Topic, Properties: {FifoTopic: true}}
          Q: {Type: AWS::SQS::Queue}
          T: {Type: AWS::DynamoDB::Table, Properties: {}}
    """,
    "conditional_function_events": """
        Conditions:
          IsOn: !Equals [a, a]
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Condition: IsOn
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              Events:
                Up: {Type: S3, Properties: {Bucket: !Ref Bucket, Events: "s3:ObjectCreated:*"}}
                Note: {Type: SNS, Properties: {Topic: !Ref Topic}}
          Bucket: {Type: AWS::S3::Bucket}
          Topic: {Type: AWS::SNS::Topic}
    """,
    "conditional_role": """
        Conditions:
          Own: !Equals [a, a]
        Resources:
          A:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: s3://b/k, Handler: a.b, Runtime: python3.12,
                         Role: !If [Own, !Ref AWS::NoValue, arn:aws:iam::1:role/r]}
          B:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: s3://b/k, Handler: a.b, Runtime: python3.12,
                         Role: !If [Own, arn:aws:iam::1:role/r, !Ref AWS::NoValue]}
    """,
    "layers_and_references": """
        Parameters:
          LayerName: {Type: String, Default: shared-libs}
        Mappings:
          M: {k: {v: x}}
        Metadata:
          AWS::ServerlessRepo::Application: {Name: app}
        Resources:
          Libs:
            Type: AWS::Serverless::LayerVersion
            Properties:
              LayerName: !Ref LayerName
              Description: libraries
              ContentUri: {Bucket: b, Key: libs.zip}
              CompatibleRuntimes: [python3.12]
              CompatibleArchitectures: [x86_64, arm64]
              LicenseInfo: MIT
              RetentionPolicy: delete
          Plain:
            Type: AWS::Serverless::LayerVersion
            Condition: Never
            DependsOn: Libs
            Properties: {ContentUri: s3://b/plain.zip}
          Fn:
            Type: AWS::Serverless::Function
            DependsOn: [Libs]
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              Layers: [!Ref Libs, !Ref Plain, arn:aws:lambda:us-east-1:1:layer:x:1]
              Environment: {Variables: {LAYER: !Ref Libs, ARN: !Sub "${Libs}"}}
        Conditions:
          Never: !Equals [a, b]
        Outputs:
          Layer: {Value: !Ref Libs}
          Mapped: {Value: !FindInMap [M, k, v]}
    """,
    "parameters_and_passthrough": """
        AWSTemplateFormatVersion: "2010-09-09"
        Description: a stack
        Parameters:
          Env: {Type: String, AllowedValues: [dev, prod], Default: dev}
          Mem: {Type: Number, Default: 256}
        Conditions:
          IsProd: !Equals [!Ref Env, prod]
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: s3://b/k.zip
              Handler: a.b
              Runtime: python3.12
              MemorySize: !Ref Mem
              AutoPublishAlias: live
              Environment: {Variables: {ENV: !Ref Env, NAME: !Sub "${AWS::StackName}-${Env}"}}
          Plain:
            Type: AWS::SNS::Topic
            Properties: {TopicName: !Sub "${Env}-topic"}
        Outputs:
          Arn: {Value: !GetAtt Fn.Arn, Condition: IsProd}
    """,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_the_reference(name, monkeypatch):
    assert_same(HEAD + textwrap.dedent(CASES[name]), monkeypatch)


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1", "eu-west-1"])
def test_partitions_match_the_reference(region, monkeypatch):
    got = assert_same(HEAD + textwrap.dedent(CASES["policies"]), monkeypatch, region=region)
    arns = got["Resources"]["FnRole"]["Properties"]["ManagedPolicyArns"]
    partition = {"cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"}.get(region, "aws")
    assert f"arn:{partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole" in arns


def test_parameter_overrides_change_what_the_reference_changes(monkeypatch):
    got = assert_same(HEAD + textwrap.dedent(CASES["alias_version_and_url"]), monkeypatch,
                      parameters={"AliasName": "prod", "CodeKey": "v2.zip"})
    assert "FnAliasprod" in got["Resources"]
    default = transform(plain(parse_text(HEAD + textwrap.dedent(CASES["alias_version_and_url"]))))
    versions = lambda t: sorted(k for k in t["Resources"] if k.startswith("FnVersion"))  # noqa: E731
    assert versions(got) != versions(default), "a new code key must publish a new version"


def test_template_without_serverless_resources_passes_through_unchanged():
    text = textwrap.dedent("""
        AWSTemplateFormatVersion: "2010-09-09"
        Resources:
          Topic: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub "${AWS::StackName}-t"}}
        Outputs:
          T: {Value: !Ref Topic}
    """)
    data = plain(parse_text(text))
    assert transform(copy.deepcopy(data)) == data


def test_input_is_not_modified(monkeypatch):
    data = plain(parse_text(HEAD + textwrap.dedent(CASES["s3_sns_sqs_streams"])))
    before = copy.deepcopy(data)
    transform(data)
    assert data == before
