"""cfn-lint findings on transformed output, located in the source template; placeholders; stack quotas."""

from __future__ import annotations

import textwrap

import pytest

from lamctl.packager.validate import (PLACEHOLDER_BUCKET, lint_findings, transform_for_lint, transformed_findings,
                                      with_placeholder_code)
from lamctl.schemas.template import Template, parse_text
from tests.helpers import template_from_text

SOURCE = textwrap.dedent("""\
    Transform: AWS::Serverless-2016-10-31
    Globals:
      Function:
        MemorySize: 99999
    Resources:
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: src/
          Handler: app.handler
          Runtime: python3.12
      Queue:
        Type: AWS::SQS::Queue
        Properties:
          VisibilityTimeout: 60
    """)


def source() -> Template:
    return template_from_text(SOURCE, "t.yaml")


def transformed(role_props: dict, queue_props: dict, memory=99999) -> dict:
    """What a transform of SOURCE looks like (written out, so this test does not depend on the transform)."""
    return {"Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Code": {"S3Bucket": "my-artifacts", "S3Key": "k.zip"}, "Handler": "app.handler", "Runtime": "python3.12",
            "MemorySize": memory, "Role": {"Fn::GetAtt": ["FnRole", "Arn"]}}},
        "FnRole": {"Type": "AWS::IAM::Role", "Properties": role_props},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": queue_props},
    }}


GOOD_ROLE = {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}]}}


@pytest.mark.slow
def test_findings_are_mapped_to_the_source_resource_property_or_globals():
    found = lint_findings(source(), transformed(dict(GOOD_ROLE, Bogus=1), {"VisibilityTimeout": 99999999}),
                          "us-east-1")
    # lamctl's part: where each finding points in the source, the path it names in the transformed template and
    # the note that maps it back; the rule's number and sentence are cfn-lint's and change with its releases
    assert [f.where for f in found] == [
        "t.yaml:4:17",   # MemorySize came from Globals: pointed at there
        "t.yaml:6:3",    # FnRole is generated from Fn: pointed at Fn
        "t.yaml:15:26",  # Queue passes through: the very value
    ]
    assert " Resources.Fn.Properties.MemorySize: " in found[0].message
    assert found[0].message.endswith("(set in Globals.Function)")
    assert " Resources.FnRole.Properties.Bogus: " in found[1].message and "Bogus" in found[1].message
    assert found[1].message.endswith("(FnRole is generated from Fn)")
    assert " Resources.Queue.Properties.VisibilityTimeout: " in found[2].message
    assert all(f.message.startswith(f.code + " ") for f in found)  # the rule named first, as cfn-lint names it
    assert all(f.severity == ("warning" if f.code.startswith("W") else "error") for f in found)


@pytest.mark.slow
def test_a_clean_transformed_template_has_no_findings():
    assert lint_findings(source(), transformed(GOOD_ROLE, {"VisibilityTimeout": 60}, memory=256), "us-east-1") == []


def test_local_code_paths_become_placeholder_s3_uris_and_the_source_is_untouched():
    t = source()
    data = with_placeholder_code(t.data)
    assert data["Resources"]["Fn"]["Properties"]["CodeUri"] == f"s3://{PLACEHOLDER_BUCKET}/src"
    assert t.data["Resources"]["Fn"]["Properties"]["CodeUri"] == "src/"
    g = parse_text("Globals:\n  Function: {CodeUri: ./app}\nResources:\n  L:\n    Type: AWS::Serverless::LayerVersion\n"
                   "    Properties: {ContentUri: s3://real/key.zip}\n")
    data = with_placeholder_code(g)
    assert data["Globals"]["Function"]["CodeUri"] == f"s3://{PLACEHOLDER_BUCKET}/./app"
    assert data["Resources"]["L"]["Properties"]["ContentUri"] == "s3://real/key.zip"


def test_the_transform_used_for_lint_accepts_a_source_template_with_local_code():
    out = transform_for_lint(source(), "eu-west-1")
    assert out["Resources"]["Fn"]["Type"] == "AWS::Lambda::Function"
    assert out["Resources"]["Fn"]["Properties"]["Code"] == {"S3Bucket": PLACEHOLDER_BUCKET, "S3Key": "src"}
    assert "Transform" not in out


def test_stack_quotas_are_checked_on_the_transformed_template():
    t = source()
    many = {"Resources": {f"R{i}": {"Type": "AWS::SNS::Topic"} for i in range(501)},
            "Outputs": {f"O{i}": {"Value": "x"} for i in range(200)}}
    [f] = transformed_findings(t, many)
    assert str(f) == "t.yaml:5:1: the transformed template has 501 resources; CloudFormation allows 500 per stack"
    assert f.code == "limit"
    assert transformed_findings(t, {"Resources": {f"R{i}": {"Type": "AWS::SNS::Topic"} for i in range(500)}}) == []
    big = {"Resources": {"R": {"Type": "AWS::SNS::Topic", "Metadata": {"x": "y" * 1_000_000}}}}
    assert [x.message for x in transformed_findings(t, big)] == [
        "the transformed template takes 1,000,066 bytes; CloudFormation accepts at most 1,000,000"]
