"""Semantic checks (lamctl.packager.validate): limits after Globals, aliases, references, logical IDs."""

from __future__ import annotations

import textwrap

import pytest

from lamctl.packager.validate import (check_template, environment_size, raise_for_findings, validate_template)
from lamctl.schemas.errors import LimitError, TemplateError
from lamctl.schemas.template import Template
from tests.helpers import template_from_text

HEAD = "Transform: AWS::Serverless-2016-10-31\n"


def tpl(body: str, head: str = HEAD) -> Template:
    text = head + textwrap.dedent(body)
    return template_from_text(text, "t.yaml")


def semantic(body: str, head: str = HEAD) -> list[str]:
    return [str(f) for f in check_template(tpl(body, head))]


def function(props: str, globals_: str = "") -> str:
    g = f"Globals:\n  Function:\n{textwrap.indent(textwrap.dedent(globals_), '    ')}" if globals_ else ""
    return g + "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n" + \
        textwrap.indent(textwrap.dedent(props), "      ")


@pytest.mark.parametrize("memory,ok", [(128, True), (127, False), (10240, True), (10241, False), ("4096", True)])
def test_memory_limits(memory, ok):
    result = semantic(function(f"MemorySize: {memory!r}\n" if isinstance(memory, str) else f"MemorySize: {memory}\n"))
    if ok:
        assert result == []
    else:
        assert result == [f"t.yaml:6:19: MemorySize of Fn is {memory:,} MB; Lambda allows 128-10,240 MB"]


@pytest.mark.parametrize("timeout,ok", [(1, True), (0, False), (900, True), (901, False)])
def test_timeout_limits(timeout, ok):
    result = semantic(function(f"Timeout: {timeout}\n"))
    assert result == ([] if ok else [f"t.yaml:6:16: Timeout of Fn is {timeout} seconds; Lambda allows 1-900 seconds"])


@pytest.mark.parametrize("size,ok", [(512, True), (511, False), (10240, True), (10241, False)])
def test_ephemeral_storage_limits(size, ok):
    result = semantic(function(f"EphemeralStorage: {{Size: {size}}}\n"))
    assert result == ([] if ok else
                      [f"t.yaml:6:32: EphemeralStorage.Size of Fn is {size:,} MB; Lambda allows 512-10,240 MB"])


def test_a_limit_broken_in_globals_is_reported_at_globals_for_each_function():
    t = tpl("""\
        Globals:
          Function:
            Timeout: 1000
        Resources:
          A: {Type: AWS::Serverless::Function}
          B: {Type: AWS::Serverless::Function, Properties: {Timeout: 30}}
          C: {Type: AWS::Serverless::Function, IgnoreGlobals: [Timeout]}
        """)
    assert [str(f) for f in check_template(t)] == [
        "t.yaml:4:14: Timeout of A is 1,000 seconds; Lambda allows 1-900 seconds",
    ]
    assert check_template(t)[0].code == "limit"


def test_a_value_given_by_an_intrinsic_function_is_left_to_cloudformation():
    assert semantic(function("MemorySize: !Ref Memory\nTimeout: !If [C, 5000, 3]\n"),
                    head=HEAD + "Parameters: {Memory: {Type: Number}}\nConditions: {C: !Equals [a, a]}\n") == []


def test_layers_count_global_and_local_together():
    ok = function("Layers: [l3, l4]\n", globals_="Layers: [l1, l2, l5]\n")
    assert semantic(ok) == []
    too_many = function("Layers: [l3, l4, l6]\n", globals_="Layers: [l1, l2, l5]\n")
    assert semantic(too_many) == [
        "t.yaml:9:7: Fn uses 6 layers (with Globals); Lambda allows at most 5",
    ]


def test_environment_variables_are_measured_as_lambda_measures_them():
    # {"A":"..."} : 2 braces + 3 for "A" + 1 colon + 2 quotes = 8 bytes around the value
    assert environment_size({"A": "x" * 4088}) == 4096
    assert semantic(function(f"Environment: {{Variables: {{AB: {'x' * 4087}}}}}\n")) == []
    result = semantic(function(f"Environment: {{Variables: {{AB: {'x' * 4088}}}}}\n"))
    assert result == ["t.yaml:6:7: the environment variables of Fn take 4,097 bytes (with Globals); "
                      "Lambda allows 4,096 bytes together"]


def test_environment_variables_merge_with_globals_before_measuring():
    body = function("Environment: {Variables: {BB: " + "y" * 2000 + "}}\n",
                    globals_="Environment:\n  Variables:\n    AA: " + "x" * 2100 + "\n")
    [f] = check_template(tpl(body))
    assert f.message.startswith("the environment variables of Fn take 4,1")
    assert environment_size({"A": "é"}) == len('{"A":"é"}'.encode())  # bytes, not characters


def test_deployment_preference_needs_auto_publish_alias():
    assert semantic(function("DeploymentPreference: {Type: Linear10PercentEvery1Minute}\n")) == [
        "t.yaml:6:7: DeploymentPreference of Fn needs AutoPublishAlias",
    ]
    assert semantic(function("DeploymentPreference: {Type: AllAtOnce, Enabled: false}\n")) == []
    assert semantic(function("DeploymentPreference: {Type: AllAtOnce}\n", globals_="AutoPublishAlias: live\n")) == []


def test_deployment_preference_from_globals_is_checked_on_each_function():
    body = function("Handler: a.b\n", globals_="DeploymentPreference: {Type: AllAtOnce}\n")
    assert semantic(body) == ["t.yaml:4:5: DeploymentPreference of Fn needs AutoPublishAlias"]


def test_an_enabled_deployment_preference_needs_a_type():
    assert semantic(function("AutoPublishAlias: live\nDeploymentPreference: {Alarms: [a]}\n")) == [
        "t.yaml:7:7: DeploymentPreference of Fn has no Type",
    ]


def test_provisioned_concurrency_needs_auto_publish_alias():
    assert semantic(function("ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 2}\n")) == [
        "t.yaml:6:7: ProvisionedConcurrencyConfig of Fn needs AutoPublishAlias",
    ]


@pytest.mark.parametrize("alias,ok", [("live", True), ("my-alias_2", True), ("v1", True), ("123", False),
                                      ("$LATEST", False), ("with space", False), ("a" * 128, True),
                                      ("a" * 129, False)])
def test_alias_names(alias, ok):
    result = semantic(function(f"AutoPublishAlias: '{alias}'\n"))
    if ok:
        assert result == []
    else:
        assert result == [f"t.yaml:6:25: AutoPublishAlias {alias!r} of Fn is not a valid alias name"]


def test_logical_ids_must_be_alphanumeric_everywhere():
    t = tpl("""\
        Parameters:
          stage-name: {Type: String}
        Conditions:
          Is_Prod: !Equals [a, b]
        Resources:
          My.Fn:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Get-Items: {Type: Api, Properties: {Path: /, Method: get}}
        Outputs:
          Url: {Value: x}
        """)
    assert [str(f) for f in check_template(t)] == [
        "t.yaml:3:3: parameter 'stage-name' is not alphanumeric (it contains '-')",
        "t.yaml:5:3: condition 'Is_Prod' is not alphanumeric (it contains '_')",
        "t.yaml:7:3: resource 'My.Fn' is not alphanumeric (it contains '.')",
        "t.yaml:11:9: event name (of My.Fn) 'Get-Items' is not alphanumeric (it contains '-')",
    ]
    assert check_template(t)[2].hint == "use only A-Z, a-z and 0-9, e.g. MyFn"


def test_serverless_resources_without_the_transform_declared_are_a_warning():
    t = tpl("""\
        Resources:
          Fn: {Type: AWS::Serverless::Function}
          Fn2: {Type: AWS::Serverless::Function}
        """, head="")
    [f] = check_template(t)
    assert str(f) == ("t.yaml:2:14: warning: the template uses SAM but does not declare "
                      "Transform: AWS::Serverless-2016-10-31")
    assert f.severity == "warning"
    raise_for_findings([f])  # a warning stops nothing
    assert semantic("Resources:\n  Q: {Type: AWS::SQS::Queue}\n", head="") == []
    assert semantic("Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\n"
                    "Resources:\n  Fn: {Type: AWS::Serverless::Function}\n", head="") == []


def test_serverless_types_lamctl_does_not_transform():
    assert semantic("Resources:\n  C: {Type: AWS::Serverless::Widget, Properties: {}}\n") == [
        "t.yaml:3:13: resource type AWS::Serverless::Widget is not supported by lamctl",
    ]
    assert semantic("Resources:\n  Q: {Type: AWS::SQS::Queue}\n  C: {Type: AWS::Serverless::Connector, Properties: "
                    "{Source: {Id: Q}, Destination: {Id: Q}, Permissions: [Read]}}\n") == []
    assert semantic("Resources:\n  Sm: {Type: AWS::Serverless::StateMachine, "
                    "Properties: {DefinitionUri: s3://b/k}}\n") == []


def test_events_pointing_at_missing_resources():
    t = tpl("""\
        Resources:
          Queue: {Type: AWS::SQS::Queue}
          Bucket: {Type: AWS::S3::Bucket}
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Events:
                Get: {Type: Api, Properties: {Path: /, Method: get, RestApiId: !Ref MyApi}}
                Route: {Type: HttpApi, Properties: {ApiId: !Ref Queue}}
                Jobs: {Type: SQS, Properties: {Queue: !GetAtt Queu.Arn}}
                Up: {Type: S3, Properties: {Bucket: my-bucket-name, Events: "s3:ObjectCreated:*"}}
                Ok: {Type: S3, Properties: {Bucket: !Ref Bucket, Events: "s3:ObjectCreated:*"}}
                Feed: {Type: DynamoDB, Properties: {Stream: !GetAtt Table.StreamArn, StartingPosition: LATEST}}
                Topic: {Type: SNS, Properties: {Topic: arn:aws:sns:us-east-1:123456789012:t}}
        """)
    findings = check_template(t)
    assert [str(f) for f in findings] == [
        "t.yaml:9:72: RestApiId of event Get of Fn refers to MyApi, which is not a resource of this template",
        "t.yaml:10:52: ApiId of event Route of Fn refers to Queue, a AWS::SQS::Queue, not AWS::Serverless::HttpApi "
        "or AWS::Serverless::Api",
        "t.yaml:11:47: Queue of event Jobs of Fn refers to Queu, which is not a resource of this template",
        "t.yaml:12:45: the S3 event Up of Fn must name a bucket of this template with !Ref",
        "t.yaml:14:53: Stream of event Feed of Fn refers to Table, which is not a resource of this template",
    ]
    assert findings[2].hint == "did you mean Queue?"
    assert all(f.code == "reference" for f in findings)


def test_references_to_generated_resources_parameters_and_pseudo_parameters_are_fine():
    assert semantic("""\
        Parameters:
          Stage: {Type: String}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              AutoPublishAlias: live
              Environment:
                Variables:
                  AA: !Sub "${Stage}-${AWS::Region}-${Fn.Version}-${Local}"
                  BB: !Sub ["${X}", {X: !Ref Stage}]
        Outputs:
          Role: {Value: !GetAtt FnRole.Arn}
          Alias: {Value: !Ref Fn.Alias}
          Api: {Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod"}
          Lit: {Value: !Sub "${!NotAVariable}"}
        """) == ["t.yaml:11:15: !Sub Local: Local is not a resource or parameter of this template"]


def test_missing_references_depends_on_and_conditions():
    assert semantic("""\
        Conditions:
          IsProd: !Equals [!Ref Stag, prod]
        Resources:
          Q:
            Type: AWS::SQS::Queue
            DependsOn: [Topic, Nope]
            Condition: IsProdd
            Properties:
              QueueName: !If [IsDev, a, b]
          Topic: {Type: AWS::SNS::Topic}
        Outputs:
          X: {Value: !GetAtt Quue.Arn}
        """) == [
        "t.yaml:3:20: !Ref Stag: Stag is not a resource or parameter of this template",
        "t.yaml:7:24: Q depends on Nope, which is not a resource of this template",
        "t.yaml:8:16: condition IsProdd of Q is not declared in Conditions",
        "t.yaml:10:18: condition IsDev is not declared in Conditions",
        "t.yaml:13:14: !GetAtt Quue: Quue is not a resource or parameter of this template",
    ]


def test_unknown_intrinsic_functions_in_free_form_properties():
    assert semantic("""\
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              Policies:
                - Statement: [{Effect: Allow, Action: "*", Resource: {"Fn::Sbu": "arn:${AWS::Partition}:s3:::b"}}]
        """) == ["t.yaml:7:62: unknown intrinsic function Fn::Sbu"]


def test_validate_template_combines_schema_and_semantics_by_position():
    t = tpl(function("MemorySize: 99\nTimout: 3\n"))
    assert [str(f) for f in validate_template(t)] == [
        "t.yaml:6:19: MemorySize of Fn is 99 MB; Lambda allows 128-10,240 MB",
        "t.yaml:7:7: unknown property 'Timout' in AWS::Serverless::Function Fn",
    ]


def test_raise_for_findings_raises_the_first_error_located_and_counts_the_rest():
    t = tpl(function("MemorySize: 99\nTimout: 3\n"))
    with pytest.raises(LimitError) as exc:
        raise_for_findings(validate_template(t))
    assert exc.value.where == "t.yaml:6:19"
    assert exc.value.exit_code == 2
    assert "and 1 more problem(s); run lamctl validate" in exc.value.message
    with pytest.raises(TemplateError):
        raise_for_findings(validate_template(tpl(function("Timout: 3\n"))))
    raise_for_findings(validate_template(tpl(function("Timeout: 3\n"))))  # no error: returns


def test_environment_variable_names_follow_the_lambda_api():
    body = function("Environment:\n  Variables: {GOOD_1: a, X: b, 9LIVES: c, AWS_REGION: d, my-var: e}\n",
                    globals_="Environment:\n  Variables: {_SECRET: z}\n")
    body += "  Fn2:\n    Type: AWS::Serverless::Function\n"
    assert semantic(body) == [
        "t.yaml:5:19: environment variable name '_SECRET' of Fn is not valid",  # once, not once per function
        "t.yaml:11:32: environment variable name 'X' of Fn is not valid",
        "t.yaml:11:38: environment variable name '9LIVES' of Fn is not valid",
        "t.yaml:11:49: environment variable AWS_REGION of Fn is reserved by the Lambda runtime",
        "t.yaml:11:64: environment variable name 'my-var' of Fn is not valid",
    ]


@pytest.mark.parametrize("expr,problem", [
    ("rate(1 minute)", None), ("rate(5 minutes)", None), ("rate(1 day)", None), ("cron(0 12 * * ? *)", None),
    ("cron(15 10 ? * 6L 2026-2030)", None),
    ("rate(1 minutes)", "'rate(1 minutes)' takes a singular unit for 1: rate(1 minute)"),
    ("rate(5 hour)", "'rate(5 hour)' takes a plural unit above 1: rate(5 hours)"),
    ("rate(0 minutes)", "the value of 'rate(0 minutes)' must be a positive whole number"),
    ("rate(2 weeks)", "the unit of 'rate(2 weeks)' must be minute(s), hour(s) or day(s)"),
    ("cron(0 12 * * *)", "'cron(0 12 * * *)' has 5 field(s); cron takes six: minutes hours day-of-month month "
                         "day-of-week year"),
    ("cron(0 12 * * MON *)", "'cron(0 12 * * MON *)' must have ? in day-of-month or in day-of-week"),
    ("every 5 minutes", "'every 5 minutes' is not a rate(...) or cron(...) expression"),
])
def test_schedule_expressions(expr, problem):
    result = semantic(function(f"Events:\n  Tick:\n    Type: Schedule\n    Properties: {{Schedule: '{expr}'}}\n"))
    assert result == ([] if problem is None else [f"t.yaml:9:34: Schedule of event Tick of Fn: {problem}"])


def test_schedule_v2_takes_at_expressions_too():
    ok = function("Events:\n  Once:\n    Type: ScheduleV2\n    Properties: {ScheduleExpression: 'at(2030-01-01T00:00:00)'}\n")
    assert semantic(ok) == []
    bad = function("Events:\n  Often:\n    Type: ScheduleV2\n    Properties: {ScheduleExpression: 'rate(1 hours)'}\n")
    assert semantic(bad) == ["t.yaml:9:44: ScheduleExpression of event Often of Fn: 'rate(1 hours)' takes a singular "
                             "unit for 1: rate(1 hour)"]


def test_foreach_loops_are_named_as_unsupported_once():
    t = tpl("""\
        Resources:
          Fn::ForEach::Topics:
            - Name
            - [A, B]
            - Topic${Name}: {Type: AWS::SNS::Topic}
        """, head="Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]\n")
    assert [str(f) for f in validate_template(t)] == [
        "t.yaml:3:3: Fn::ForEach::Topics: Fn::ForEach loops (AWS::LanguageExtensions) are not supported by lamctl",
    ]


def test_a_template_built_in_memory_without_positions_is_validated_too():
    t = Template(path="x.yaml", data={
        "Globals": {"Function": {"Timeout": 1000}},
        "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Memory": 1}}}})
    assert [str(f) for f in validate_template(t)] == [
        "x.yaml: Timeout of Fn is 1,000 seconds; Lambda allows 1-900 seconds",
        "x.yaml: warning: the template uses SAM but does not declare Transform: AWS::Serverless-2016-10-31",
        "x.yaml: unknown property 'Memory' in AWS::Serverless::Function Fn",
    ]
