"""Malformed input never crashes the transform: it gives a result or a located TemplateError (exit 2).

Hypothesis builds SAM templates from the property names the transform knows, filled with values of every
shape (right and wrong types, intrinsics, empty containers), and from YAML text; each must either transform
or raise a ``TemplateError`` that says where. Any other exception is a bug a user would see as a traceback.
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lamctl.transform import transform
from lamctl.transform.function import PROPERTIES
from lamctl.schemas.errors import TemplateError
from lamctl.schemas.template import parse_text

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.sampled_from(
    ["", "x", "s3://b/k.zip", "python3.12", "app.handler", "live", "Zip", "Image", "NONE", "AWS_IAM", "SQS",
     "SNS", "Active", "Disabled", "arn:aws:sqs:us-east-1:1:q", "rate(1 minute)", "Canary10Percent5Minutes", "*"]))
intrinsics = st.sampled_from([{"Ref": "P"}, {"Ref": "Q"}, {"Ref": "AWS::NoValue"}, {"Fn::GetAtt": ["Q", "Arn"]},
                              {"Fn::Sub": "${P}-x"}, {"Fn::If": ["C", "a", {"Ref": "AWS::NoValue"}]},
                              {"Fn::If": ["C"]}, {"Fn::Sub": ["${A}", {"A": 1}]}, {"Ref": 3}])
values = st.recursive(st.one_of(scalars, intrinsics),
                      lambda inner: st.one_of(st.lists(inner, max_size=3),
                                              st.dictionaries(st.sampled_from(
                                                  ["Type", "Arn", "TargetArn", "Variables", "Bucket", "Key",
                                                   "Statement", "AuthType", "Destination", "OnSuccess", "Hooks",
                                                   "Alarms", "Enabled", "S3ReadPolicy", "BucketName", "Cors",
                                                   "DestinationConfig", "ApplyOn", "Name", "Queue"]),
                                                  inner, max_size=3)),
                      max_leaves=8)
EVENT_TYPES = ["Schedule", "ScheduleV2", "S3", "SNS", "SQS", "Kinesis", "DynamoDB", "EventBridgeRule",
               "CloudWatchEvent", "CloudWatchLogs", "Bogus", 7, None]
EVENT_PROPS = ["Schedule", "ScheduleExpression", "Bucket", "Events", "Topic", "SqsSubscription", "Queue",
               "Stream", "StartingPosition", "Pattern", "LogGroupName", "FilterPattern", "DeadLetterConfig",
               "Enabled", "State", "DestinationConfig", "Input", "Filter", "Nope"]
events = st.dictionaries(st.sampled_from(["E1", "E2", "Ev"]), st.one_of(
    values, st.fixed_dictionaries({"Type": st.sampled_from(EVENT_TYPES),
                                   "Properties": st.one_of(values, st.dictionaries(st.sampled_from(EVENT_PROPS),
                                                                                     values, max_size=4))})),
    max_size=2)
function_props = st.dictionaries(st.sampled_from(sorted(PROPERTIES) + ["Bogus"]), values, max_size=8)


@st.composite
def templates(draw):
    props = draw(function_props)
    props.setdefault("CodeUri", "s3://b/k.zip")
    props.setdefault("Handler", "a.b")
    props.setdefault("Runtime", "python3.12")
    if draw(st.booleans()):
        props["Events"] = draw(events)
    resources = {"Fn": {"Type": "AWS::Serverless::Function", "Properties": props},
                 "Q": {"Type": "AWS::SQS::Queue"}}
    for attr in ("Condition", "DependsOn", "DeletionPolicy", "IgnoreGlobals"):
        if draw(st.booleans()):
            resources["Fn"][attr] = draw(values)
    if draw(st.booleans()):
        resources["L"] = {"Type": "AWS::Serverless::LayerVersion",
                          "Properties": draw(st.dictionaries(st.sampled_from(
                              ["ContentUri", "LayerName", "RetentionPolicy", "CompatibleArchitectures", "X"]),
                              values, max_size=3))}
    if draw(st.booleans()):
        resources["T"] = {"Type": "AWS::Serverless::SimpleTable", "Properties": draw(st.one_of(
            values, st.dictionaries(st.sampled_from(["PrimaryKey", "TableName", "Tags", "X"]), values, max_size=3)))}
    template = {"Transform": "AWS::Serverless-2016-10-31", "Resources": resources,
                "Parameters": {"P": {"Type": "String", "Default": draw(scalars)}},
                "Conditions": {"C": {"Fn::Equals": ["a", "a"]}}}
    if draw(st.booleans()):
        template["Globals"] = draw(st.one_of(values, st.fixed_dictionaries(
            {"Function": st.dictionaries(st.sampled_from(["Runtime", "MemorySize", "Tags", "Layers", "Bogus"]),
                                         values, max_size=3)})))
    return template


def _where(keys):
    return "template.yaml:1:1:" + ".".join(map(str, keys))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates())
def test_any_template_transforms_or_fails_with_a_located_error(template):
    before = copy.deepcopy(template)
    try:
        out = transform(template, "us-east-1", {}, where=_where)
    except TemplateError as exc:
        assert exc.exit_code == 2
        assert exc.message
        assert exc.where, f"error without a location: {exc.message}"
    else:
        assert "Transform" not in out and isinstance(out["Resources"], dict)
        assert "Fn" in out["Resources"] or "Fn" not in template["Resources"]
    assert template == before, "the transform must not modify its input"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ResourcFnTyp:- \n{}[]!RefSub&*'\"AWS::Serverless::Function")),
               max_size=200))
def test_any_text_loads_or_fails_with_a_located_error(text):
    try:
        data = parse_text("Transform: AWS::Serverless-2016-10-31\n" + text, "t.yaml")
    except TemplateError as exc:
        assert exc.where and exc.where.startswith("t.yaml")
        return
    try:
        transform(data, "us-east-1")
    except TemplateError as exc:
        assert exc.message
