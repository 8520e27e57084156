"""Differential fuzzing: random *valid* SAM templates (functions with Globals, policies, aliases, deployment
preferences, invoke configs, URLs and every non-API event type; layers; tables) must come out of lamctl's
transform exactly as they come out of the reference, after sorting every list."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lamctl.transform import transform
from tests.helpers import normalise, reference_transform, sort_key

import samtranslator  # noqa: E402,F401 - the reference transform is a test dependency: missing, the run fails


names = st.sampled_from(["A", "B", "Main", "Worker2"])
env = st.dictionaries(st.sampled_from(["X", "Y", "TABLE", "STAGE"]),
                      st.one_of(st.sampled_from(["1", "v", ""]), st.just({"Ref": "Stage"}),
                                st.just({"Fn::Sub": "${AWS::Region}-${Stage}"})), max_size=3)
policies = st.lists(st.one_of(
    st.sampled_from(["AWSLambdaExecute", "AmazonS3ReadOnlyAccess", "arn:aws:iam::1:policy/p", "CustomThing"]),
    st.just({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
    st.sampled_from([{"S3ReadPolicy": {"BucketName": "b"}}, {"DynamoDBCrudPolicy": {"TableName": {"Ref": "T"}}},
                     {"SQSPollerPolicy": {"QueueName": {"Fn::GetAtt": ["Q", "QueueName"]}}},
                     {"CloudWatchPutMetricPolicy": {}}, {"SSMParameterReadPolicy": {"ParameterName": "x/y"}},
                     {"LambdaInvokePolicy": {"FunctionName": {"Ref": "Stage"}}}]),
    st.just({"Fn::If": ["IsProd", "AWSXRayDaemonWriteAccess", {"Ref": "AWS::NoValue"}]})), max_size=4)
schedule = st.fixed_dictionaries({"Schedule": st.sampled_from(["rate(1 minute)", "cron(0 1 * * ? *)"])}, optional={
    "Enabled": st.booleans(), "Name": st.just("n"), "Description": st.just("d"), "Input": st.just("{}"),
    "DeadLetterConfig": st.sampled_from([{"Type": "SQS"}, {"Arn": "arn:aws:sqs:us-east-1:1:d"}]),
    "RetryPolicy": st.just({"MaximumRetryAttempts": 1})})
events = st.dictionaries(st.sampled_from(["E1", "E2", "Tick", "Stream"]), st.one_of(
    st.builds(lambda p: {"Type": "Schedule", "Properties": p}, schedule),
    st.builds(lambda p: {"Type": "ScheduleV2", "Properties": p}, st.fixed_dictionaries(
        {"ScheduleExpression": st.just("rate(5 minutes)")},
        optional={"State": st.just("ENABLED"), "OmitName": st.just(True), "DeadLetterConfig": st.just({"Type": "SQS"}),
                  "RoleArn": st.just("arn:aws:iam::1:role/r")})),
    st.builds(lambda p: {"Type": "SQS", "Properties": p}, st.fixed_dictionaries(
        {"Queue": st.just({"Fn::GetAtt": ["Q", "Arn"]})},
        optional={"BatchSize": st.integers(1, 10), "Enabled": st.booleans(),
                  "FunctionResponseTypes": st.just(["ReportBatchItemFailures"])})),
    st.builds(lambda t, p: {"Type": t, "Properties": p}, st.sampled_from(["Kinesis", "DynamoDB"]),
              st.fixed_dictionaries({"Stream": st.just("arn:aws:kinesis:us-east-1:1:stream/s"),
                                     "StartingPosition": st.sampled_from(["LATEST", "TRIM_HORIZON"])},
                                    optional={"MaximumRetryAttempts": st.integers(0, 3),
                                              "DestinationConfig": st.just(
                                                  {"OnFailure": {"Type": "SQS", "Destination": "arn:aws:sqs:r:1:f"}})})),
    st.builds(lambda p: {"Type": "SNS", "Properties": p}, st.fixed_dictionaries(
        {"Topic": st.just({"Ref": "Topic"})},
        optional={"SqsSubscription": st.booleans(), "FilterPolicy": st.just({"a": ["b"]})})),
    st.builds(lambda p: {"Type": "S3", "Properties": p}, st.fixed_dictionaries(
        {"Bucket": st.just({"Ref": "Bucket"}), "Events": st.sampled_from(["s3:ObjectCreated:*",
                                                                          ["s3:ObjectRemoved:*"]])})),
    st.builds(lambda t, p: {"Type": t, "Properties": p}, st.sampled_from(["EventBridgeRule", "CloudWatchEvent"]),
              st.fixed_dictionaries({"Pattern": st.just({"source": ["x"]})},
                                    optional={"EventBusName": st.just("bus"), "State": st.just("DISABLED"),
                                              "InputPath": st.just("$.detail")})),
    st.just({"Type": "CloudWatchLogs", "Properties": {"LogGroupName": "g", "FilterPattern": ""}}),
), max_size=3)
function = st.fixed_dictionaries({}, optional={
    "MemorySize": st.sampled_from([128, 512, {"Ref": "Mem"}]),
    "Timeout": st.integers(1, 900),
    "Environment": st.builds(lambda v: {"Variables": v}, env),
    "Tags": st.dictionaries(st.sampled_from(["team", "cost"]), st.sampled_from(["a", "b"]), max_size=2),
    "PropagateTags": st.booleans(),
    "Tracing": st.sampled_from(["Active", "PassThrough", "Disabled"]),
    "Policies": policies,
    "AutoPublishAlias": st.sampled_from(["live", "my-alias", {"Ref": "Stage"}]),
    "DeploymentPreference": st.fixed_dictionaries(
        {"Type": st.sampled_from(["Canary10Percent5Minutes", "AllAtOnce", "Custom1"])},
        optional={"Enabled": st.booleans(), "Alarms": st.just([{"Ref": "Alarm"}]),
                  "Hooks": st.just({"PreTraffic": {"Ref": "Hook"}})}),
    "EventInvokeConfig": st.fixed_dictionaries({}, optional={
        "MaximumRetryAttempts": st.integers(0, 2),
        "DestinationConfig": st.fixed_dictionaries({}, optional={
            "OnSuccess": st.sampled_from([{"Type": "SQS"}, {"Type": "SNS"},
                                          {"Type": "Lambda", "Destination": {"Fn::GetAtt": ["Hook", "Arn"]}}]),
            "OnFailure": st.sampled_from([{"Type": "EventBridge", "Destination": "arn:aws:events:r:1:event-bus/b"},
                                          {"Type": "SQS", "Destination": {"Fn::GetAtt": ["Q", "Arn"]}},
                                          {"Type": "SNS", "Destination": {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"},
                                                                                     "arn:aws:sns:r:1:t"]}},
                                          {"Type": "SQS", "Destination": {"Fn::If": ["IsProd", "arn:aws:sqs:r:1:q",
                                                                                     {"Ref": "AWS::NoValue"}]}}])})}),
    "FunctionUrlConfig": st.sampled_from([{"AuthType": "NONE"}, {"AuthType": "AWS_IAM", "InvokeMode": "BUFFERED"}]),
    "VpcConfig": st.just({"SecurityGroupIds": ["sg"], "SubnetIds": ["s"]}),
    "DeadLetterQueue": st.sampled_from([{"Type": "SQS", "TargetArn": "arn:aws:sqs:r:1:q"},
                                        {"Type": "SNS", "TargetArn": {"Ref": "Topic"}}]),
    "Layers": st.lists(st.sampled_from([{"Ref": "Lib"}, "arn:aws:lambda:us-east-1:1:layer:l:1"]), max_size=2,
                       unique_by=sort_key),
    "Events": events,
    "Architectures": st.sampled_from([["arm64"], ["x86_64"]]),
    "SnapStart": st.sampled_from([{"ApplyOn": "PublishedVersions"}, {"ApplyOn": "None"}]),
    "Condition": st.just("IsProd"),
    "Role": st.sampled_from(["arn:aws:iam::1:role/r", {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "arn:aws:iam::1:role/r"]},
                             {"Fn::If": ["IsProd", "arn:aws:iam::1:role/r", {"Ref": "AWS::NoValue"}]}]),
    "RolePath": st.just("/p/"),
    "PermissionsBoundary": st.just("arn:aws:iam::1:policy/b"),
    "AssumeRolePolicyDocument": st.just({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]}),
    "AutoPublishCodeSha256": st.sampled_from(["abcdef0123456789", {"Ref": "Stage"}]),
    "AutoPublishAliasAllProperties": st.booleans(),
    "VersionDescription": st.just("v"),
    "ProvisionedConcurrencyConfig": st.just({"ProvisionedConcurrentExecutions": 1}),
    "Description": st.sampled_from(["d", {"Fn::Sub": "${Stage} fn"}]),
    "InlineCode": st.just("def h(e, c): pass"),
    "EphemeralStorage": st.just({"Size": 1024}),
    "LoggingConfig": st.just({"LogFormat": "JSON"}),
    "FunctionName": st.sampled_from(["named", {"Fn::Sub": "${Stage}-fn"}]),
})


def _unshared(value):
    return json.loads(json.dumps(value))


@st.composite
def templates(draw):
    resources = {
        "Q": {"Type": "AWS::SQS::Queue"}, "Topic": {"Type": "AWS::SNS::Topic"}, "Bucket": {"Type": "AWS::S3::Bucket"},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
        "Hook": {"Type": "AWS::Serverless::Function",
                 "Properties": {"CodeUri": "s3://b/h.zip", "Handler": "h.h", "Runtime": "python3.12"}},
        "Lib": {"Type": "AWS::Serverless::LayerVersion", "Properties": draw(st.fixed_dictionaries(
            {"ContentUri": st.just("s3://b/lib.zip")},
            optional={"LayerName": st.just({"Ref": "Stage"}), "RetentionPolicy": st.sampled_from(["Delete", "retain"]),
                      "CompatibleRuntimes": st.just(["python3.12"])}))},
        "T": {"Type": "AWS::Serverless::SimpleTable", "Properties": draw(st.fixed_dictionaries({}, optional={
            "PrimaryKey": st.just({"Name": "k", "Type": "Number"}), "TableName": st.just("t")}))},
    }
    for name in draw(st.lists(names, min_size=1, max_size=3, unique=True)):
        props = draw(function)
        condition = props.pop("Condition", None)
        if (props.get("DeploymentPreference") or props.get("ProvisionedConcurrencyConfig")) and \
                not props.get("AutoPublishAlias"):
            props["AutoPublishAlias"] = "live"
        props.update({"Handler": "app.handler"})
        if "InlineCode" not in props:
            props["CodeUri"] = "s3://b/" + name + ".zip"
        res = {"Type": "AWS::Serverless::Function", "Properties": props}
        if condition:
            res["Condition"] = condition
            # a conditional destination of a conditional function: the one deliberate difference (lamctl writes
            # a valid Fn::And), tested in test_transform_errors.py instead
            dest = (props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}
            for which in list(dest):
                if isinstance(dest[which].get("Destination"), dict) and "Fn::If" in dest[which]["Destination"]:
                    del dest[which]
        resources[name] = res
    globals_ = draw(st.fixed_dictionaries({"Runtime": st.just("python3.12")}, optional={
        "MemorySize": st.just(256), "Environment": st.builds(lambda v: {"Variables": v}, env),
        "Tags": st.just({"owner": "x"}), "Layers": st.just([{"Ref": "Lib"}]),
        "AutoPublishAlias": st.just("glob")}))
    # a fresh object everywhere (deepcopy would keep the sharing): the reference mutates shared dicts in place
    return _unshared({"Transform": "AWS::Serverless-2016-10-31",
            "Parameters": {"Stage": {"Type": "String", "Default": "dev"}, "Mem": {"Type": "Number", "Default": 1024}},
            "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
            "Globals": {"Function": globals_},
            "Resources": resources,
            "Outputs": {"Alias": {"Value": {"Ref": "Hook.Alias"}}, "Layer": {"Value": {"Ref": "Lib"}}}})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                         HealthCheck.function_scoped_fixture])
@given(templates(), st.sampled_from(["us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"]))
def test_random_valid_templates_match_the_reference(monkeypatch, template, region):
    from samtranslator.translator.arn_generator import ArnGenerator

    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", region)
    want = normalise(reference_transform(template))
    got = normalise(transform(copy.deepcopy(template), region, {}))
    for lid in sorted(set(want["Resources"]) | set(got["Resources"])):
        assert got["Resources"].get(lid) == want["Resources"].get(lid), f"resource {lid} differs"
    assert got == want
