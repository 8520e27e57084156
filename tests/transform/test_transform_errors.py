"""Bad templates: each gives one TemplateError naming the resource and property, located at file:line:col."""

from __future__ import annotations

import textwrap

import pytest

from lamctl.transform import transform
from lamctl.schemas.errors import TemplateError
from lamctl.schemas.template import parse_text
from tests.helpers import template_from_text

BASE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://b/k.zip
      Handler: app.handler
      Runtime: python3.12
{extra}"""


def _fail(extra: str, **kwargs) -> TemplateError:
    text = BASE.format(extra=textwrap.indent(textwrap.dedent(extra), "      "))
    tpl = template_from_text(text)
    with pytest.raises(TemplateError) as info:
        transform(tpl.data, where=tpl.where, **kwargs)
    assert info.value.exit_code == 2
    return info.value


def test_deployment_preference_needs_an_alias():
    err = _fail("DeploymentPreference: {Type: Canary10Percent5Minutes}\n")
    assert "DeploymentPreference needs AutoPublishAlias" in err.message and "Fn" in err.message
    assert err.where == "template.yaml:9:29"
    assert "AutoPublishAlias" in err.hint


@pytest.mark.parametrize("alias", ["live!", "123", "a.b"])
def test_alias_names_must_be_alphanumeric_dash_underscore(alias):
    err = _fail(f"AutoPublishAlias: {alias}\n")
    assert "AutoPublishAlias" in err.message and err.where.startswith("template.yaml:9:")


def test_alias_from_a_parameter_that_cannot_be_resolved():
    err = _fail("AutoPublishAlias: !GetAtt Other.Name\n")
    assert "AutoPublishAlias must be a string or a Ref to a template parameter" in err.message


def test_provisioned_concurrency_needs_an_alias():
    err = _fail("ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}\n")
    assert "ProvisionedConcurrencyConfig needs AutoPublishAlias" in err.message


def test_unknown_event_property_is_at_its_key():
    err = _fail("""\
        Events:
          Tick:
            Type: Schedule
            Properties:
              Schedule: rate(1 minute)
              Shedule: rate(2 minutes)
    """)
    assert "unknown property Shedule" in err.message and "event Tick" in err.message
    assert err.where == "template.yaml:14:13"


def test_missing_required_event_property():
    err = _fail("Events: {Q: {Type: SQS, Properties: {BatchSize: 5}}}\n")
    assert "needs Queue" in err.message


def test_s3_event_must_reference_a_bucket_of_the_template():
    err = _fail("Events: {Up: {Type: S3, Properties: {Bucket: somebucket, Events: 's3:ObjectCreated:*'}}}\n")
    assert "S3 events must reference" in err.message


def test_local_code_path_asks_for_package():
    text = BASE.format(extra="").replace("s3://b/k.zip", "./src")
    with pytest.raises(TemplateError) as info:
        transform(parse_text(text))
    assert "lamctl package" in info.value.hint


def test_unknown_policy_shape_and_template_parameters():
    err = _fail("Policies: [{NotATemplate: {}}]\n")
    assert "Policies[0]" in err.message
    err = _fail("Policies: [{S3ReadPolicy: {Bucket: b}}]\n")
    assert "S3ReadPolicy" in err.message and "BucketName" in err.message


def test_runtime_required_for_zip_and_forbidden_for_images():
    text = BASE.format(extra="").replace("      Runtime: python3.12\n", "")
    with pytest.raises(TemplateError) as info:
        transform(parse_text(text))
    assert "Runtime is required" in info.value.message
    err = _fail("PackageType: Image\nImageUri: 1.dkr.ecr.us-east-1.amazonaws.com/x:1\n")
    assert "cannot be used with PackageType Image" in err.message


def test_bad_globals():
    text = "Globals:\n  Function:\n    Runtme: python3.12\n" + BASE.format(extra="")
    tpl = template_from_text(text, "t.yaml")
    with pytest.raises(TemplateError) as info:
        transform(tpl.data, where=tpl.where)
    assert "Runtme" in info.value.message and info.value.where.startswith("t.yaml:3:")


def test_unsupported_serverless_type_and_bad_logical_id():
    text = "Transform: AWS::Serverless-2016-10-31\nResources:\n  Sm:\n    Type: AWS::Serverless::Teleporter\n"
    with pytest.raises(TemplateError) as info:
        transform(parse_text(text))
    assert "AWS::Serverless::Teleporter" in info.value.message
    text = BASE.format(extra="").replace("  Fn:\n", "  my-fn:\n")
    with pytest.raises(TemplateError) as info:
        transform(parse_text(text))
    assert "alphanumeric" in info.value.message


def test_nothing_is_modified_when_it_fails():
    text = BASE.format(extra="      DeploymentPreference: {Type: AllAtOnce}\n")
    data = parse_text(text)
    before = repr(data)
    with pytest.raises(TemplateError):
        transform(data)
    assert repr(data) == before


def test_conditional_destination_of_a_conditional_function_gets_a_valid_and():
    """The reference writes {"Condition": {"Condition": name}} items here, which CloudFormation rejects."""
    text = BASE.format(extra="") .replace("  Fn:\n    Type: AWS::Serverless::Function\n",
                                          "  Fn:\n    Type: AWS::Serverless::Function\n    Condition: IsProd\n")
    text += textwrap.indent(textwrap.dedent("""\
        EventInvokeConfig:
          DestinationConfig:
            OnFailure: {Type: SQS, Destination: !If [UseOwn, !Ref AWS::NoValue, arn:aws:sqs:us-east-1:1:q]}
    """), "      ")
    text += "Conditions:\n  IsProd: !Equals [a, a]\n  UseOwn: !Equals [b, b]\n"
    out = transform(parse_text(text))
    ands = {k: v for k, v in out["Conditions"].items() if "AND" in k}
    assert len(ands) == 1
    (name, cond), = ands.items()
    assert cond == {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "UseOwn"}]}
    queue = out["Resources"]["FnEventInvokeConfigOnFailureQueue"]
    assert queue["Condition"] == name


def test_a_bad_value_set_in_globals_is_located_in_globals():
    text = "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    AutoPublishAlias: not.valid\n" \
           + BASE.format(extra="").split("\n", 1)[1]
    tpl = template_from_text(text, "t.yaml")
    with pytest.raises(TemplateError) as info:
        transform(tpl.data, where=tpl.where)
    assert "AutoPublishAlias" in info.value.message and "Fn" in info.value.message
    assert info.value.where == "t.yaml:4:23"
