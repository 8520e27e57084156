"""The comparison every transform test and the conformance run use sees order where order matters: the arguments
of an intrinsic function, a function's Layers; it ignores order only where CloudFormation does."""

from __future__ import annotations

import copy

from lamctl.schemas.template import parse_text, plain
from lamctl.transform import transform
from tests.conformance import run
from tests.helpers import normalise, reference_transform

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Admin: {Type: String, Default: "no"}
Conditions:
  IsAdmin: !Equals [!Ref Admin, "yes"]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: s3://bucket/code.zip
      AutoPublishAlias: live
      Role: !If [IsAdmin, "arn:aws:iam::123456789012:role/admin", "arn:aws:iam::123456789012:role/user"]
      Layers:
        - arn:aws:lambda:us-east-1:123456789012:layer:base:1
        - arn:aws:lambda:us-east-1:123456789012:layer:override:1
"""


def _swap(pair: list) -> list:
    return [pair[1], pair[0]] + pair[2:]


def test_intrinsic_arguments_keep_their_order():
    assert normalise({"Role": {"Fn::If": ["C", "a", "b"]}}) != normalise({"Role": {"Fn::If": ["C", "b", "a"]}})
    assert normalise({"V": {"Fn::GetAtt": ["FnVersion", "Version"]}}) != \
        normalise({"V": {"Fn::GetAtt": ["Version", "FnVersion"]}})
    assert normalise({"S": {"Fn::Join": ["", ["a", "b"]]}}) != normalise({"S": {"Fn::Join": ["", ["b", "a"]]}})
    assert normalise({"Layers": ["base", "override"]}) != normalise({"Layers": ["override", "base"]})
    assert normalise({"Fn::Sub": ["${A}", {"A": "x"}]}) == {"Fn::Sub": ["${A}", {"A": "x"}]}


def test_lists_whose_order_cloudformation_ignores_are_sorted():
    assert normalise({"ManagedPolicyArns": ["b", "a"], "DependsOn": ["Y", "X"]}) == \
        normalise({"ManagedPolicyArns": ["a", "b"], "DependsOn": ["X", "Y"]})
    one = {"Statement": [{"Effect": "Allow", "Action": ["s3:Put*", "s3:Get*"]}, {"Effect": "Deny"}]}
    other = {"Statement": [{"Effect": "Deny"}, {"Effect": "Allow", "Action": ["s3:Get*", "s3:Put*"]}]}
    assert normalise(one) == normalise(other)
    assert normalise({"Fn::Or": [{"Condition": "B"}, {"Condition": "A"}]}) == \
        normalise({"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]})


def _outputs(monkeypatch) -> tuple[dict, dict]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the reference reads its region from boto3
    template = plain(parse_text(TEMPLATE))
    return reference_transform(copy.deepcopy(template)), transform(copy.deepcopy(template), "us-east-1", {})


def test_the_conformance_comparison_catches_a_swapped_role_condition_and_alias_version(monkeypatch):
    want, got = _outputs(monkeypatch)
    assert run.compare("t", want, got).same  # lamctl's own output matches the reference in order

    swapped_role = copy.deepcopy(got)
    role = swapped_role["Resources"]["Fn"]["Properties"]["Role"]["Fn::If"]
    role[1], role[2] = role[2], role[1]  # the admin role when the condition does not hold
    assert not run.compare("t", want, swapped_role).same

    [alias] = [lid for lid, res in got["Resources"].items() if res["Type"] == "AWS::Lambda::Alias"]
    swapped_version = copy.deepcopy(got)
    props = swapped_version["Resources"][alias]["Properties"]
    props["FunctionVersion"]["Fn::GetAtt"] = _swap(props["FunctionVersion"]["Fn::GetAtt"])
    assert not run.compare("t", want, swapped_version).same

    swapped_layers = copy.deepcopy(got)
    layers = swapped_layers["Resources"]["Fn"]["Properties"]["Layers"]
    layers.reverse()  # the override layer first: the base one would win
    assert not run.compare("t", want, swapped_layers).same
