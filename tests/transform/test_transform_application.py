"""AWS::Serverless::Application: lamctl's transform against the reference ``aws-sam-translator`` (offline, both
given the same Serverless Application Repository stand-in, ``tests.helpers.FakeServerlessRepo``), and the
located errors of what the reference refuses."""

from __future__ import annotations

import copy
import textwrap

import pytest

from lamctl.packager.sar import ApplicationRepository, LocalCloudApplications
from lamctl.release.clock import FakeClock
from lamctl.schemas.errors import TemplateError
from lamctl.schemas.template import parse_text, plain
from lamctl.transform import transform
from tests.helpers import SAR_TEMPLATE_URL, FakeServerlessRepo, normalise, reference_transform, template_from_text

pytest.importorskip("samtranslator", reason="the reference transform is a test dependency")

HEAD = "Transform: AWS::Serverless-2016-10-31\n"
APP = "arn:aws:serverlessrepo:us-east-1:123456789012:applications/hello-world"


def _template(text: str) -> dict:
    return plain(parse_text(HEAD + textwrap.dedent(text)))


def _lamctl(template: dict, sar=None, clock=None, **kwargs) -> dict:
    lookup = ApplicationRepository(sar or FakeServerlessRepo(), clock or FakeClock())
    return transform(copy.deepcopy(template), "us-east-1", {}, applications=lookup, **kwargs)


def assert_same(text: str, monkeypatch) -> dict:
    from samtranslator.translator.arn_generator import ArnGenerator

    for var in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.setenv(var, "us-east-1")
    monkeypatch.setattr(ArnGenerator, "BOTO_SESSION_REGION_NAME", "us-east-1")
    template = _template(text)
    want = normalise(reference_transform(copy.deepcopy(template), {}, sar=FakeServerlessRepo()))
    raw = _lamctl(template)
    assert normalise(copy.deepcopy(raw)) == want
    return raw


def test_template_url_and_sar_application_become_nested_stacks(monkeypatch):
    got = assert_same(f"""
        Parameters:
          Version: {{Type: String, Default: 1.0.2}}
        Conditions:
          IsMine: !Equals [!Ref AWS::AccountId, "123456789012"]
        Resources:
          FromSar:
            Type: AWS::Serverless::Application
            Condition: IsMine
            DependsOn: Topic
            DeletionPolicy: Retain
            Properties:
              Location: {{ApplicationId: {APP}, SemanticVersion: !Ref Version}}
              Parameters: {{Name: !Ref Topic}}
              NotificationARNs: [!Ref Topic]
              Tags: {{team: red}}
              TimeoutInMinutes: 15
          FromUrl:
            Type: AWS::Serverless::Application
            Properties:
              Location: https://s3.us-east-1.amazonaws.com/bucket/nested.yaml
          Topic:
            Type: AWS::SNS::Topic
        Outputs:
          Out:
            Value: !GetAtt FromUrl.Outputs.Answer
        """, monkeypatch)
    sar = got["Resources"]["FromSar"]
    assert sar["Type"] == "AWS::CloudFormation::Stack"
    assert sar["Properties"]["TemplateURL"] == SAR_TEMPLATE_URL
    assert sar["Properties"]["Tags"][:3] == [
        {"Key": "lambda:createdBy", "Value": "SAM"},
        {"Key": "serverlessrepo:applicationId", "Value": APP},
        {"Key": "serverlessrepo:semanticVersion", "Value": "1.0.2"}]  # the parameter's value
    assert (sar["Condition"], sar["DependsOn"], sar["DeletionPolicy"]) == ("IsMine", "Topic", "Retain")
    assert got["Resources"]["FromUrl"]["Properties"]["TemplateURL"] == \
        "https://s3.us-east-1.amazonaws.com/bucket/nested.yaml"
    assert got["Outputs"]["Out"]["Value"] == {"Fn::GetAtt": ["FromUrl", "Outputs.Answer"]}


def test_find_in_map_location_and_one_lookup_per_application(monkeypatch):
    sar = FakeServerlessRepo()
    template = _template(f"""
        Mappings:
          Apps:
            us-east-1: {{Id: {APP}, Version: 2.0.0}}
        Resources:
          One:
            Type: AWS::Serverless::Application
            Properties:
              Location:
                ApplicationId: !FindInMap [Apps, !Ref AWS::Region, Id]
                SemanticVersion: !FindInMap [Apps, !Ref AWS::Region, Version]
          Two:
            Type: AWS::Serverless::Application
            Properties:
              Location: {{ApplicationId: {APP}, SemanticVersion: 2.0.0}}
        """)
    got = _lamctl(template, sar)
    assert sar.calls == [("CreateCloudFormationTemplate", APP)]
    assert got["Resources"]["One"]["Properties"]["Tags"][2] == {"Key": "serverlessrepo:semanticVersion",
                                                                  "Value": "2.0.0"}


def test_a_preparing_template_is_waited_for_on_the_clock():
    sar, clock = FakeServerlessRepo(), FakeClock()
    template = _template("""
        Resources:
          App:
            Type: AWS::Serverless::Application
            Properties:
              Location: {ApplicationId: preparing, SemanticVersion: 1.0.0}
        """)
    got = _lamctl(template, sar, clock)
    assert got["Resources"]["App"]["Properties"]["TemplateURL"] == SAR_TEMPLATE_URL
    assert [c[0] for c in sar.calls] == ["CreateCloudFormationTemplate"] + ["GetCloudFormationTemplate"] * 2
    assert clock.sleeps == [2.0, 2.0]


@pytest.mark.parametrize("app_id, says", [
    ("no-access", "refused no-access"),
    ("non-existent", "refused non-existent"),
    ("expired", "has expired"),
    ("preparing-never-ready", "did not finish preparing"),
])
def test_what_the_repository_refuses_is_a_located_error(app_id, says):
    tpl = template_from_text(HEAD + textwrap.dedent(f"""\
        Resources:
          App:
            Type: AWS::Serverless::Application
            Properties:
              Location:
                ApplicationId: {app_id}
                SemanticVersion: 1.0.0
        """), "t.yaml")
    with pytest.raises(TemplateError) as info:
        _lamctl(tpl.data, where=tpl.where)
    assert info.value.exit_code == 2 and says in info.value.message and "App" in info.value.message
    assert info.value.where.startswith("t.yaml:7:")  # the Location mapping


@pytest.mark.parametrize("props, where, says", [
    ("Location: {SemanticVersion: 1.0.0}", "t.yaml:6:", "ApplicationId is required"),
    ("Location: {ApplicationId: x}", "t.yaml:6:", "SemanticVersion is required"),
    ("Location: {ApplicationId: [x], SemanticVersion: 1.0.0}", "t.yaml:6:", "ApplicationId must be a string"),
    ("Location: {ApplicationId: x, SemanticVersion: 1.0}", "t.yaml:6:", "SemanticVersion must be a string"),
    ("Location: {ApplicationId: !Sub x, SemanticVersion: 1.0.0}", "t.yaml:6:", "cannot be resolved"),
    ("TimeoutInMinutes: 10", "t.yaml:6:", "Location is required"),
    ("TemplateUrl: https://x", "t.yaml:6:", "TemplateUrl is not a property"),
    ("Location: https://x\n      Tags: {'serverlessrepo:applicationId': x}", "t.yaml:7:", "reserved tag"),
    ("Location: https://x\n      Tags: [a]", "t.yaml:7:", "Tags must be"),
])
def test_bad_properties_are_located(props, where, says):
    tpl = template_from_text(HEAD + "Resources:\n  App:\n    Type: AWS::Serverless::Application\n    Properties:\n"
                             f"      {props}\n", "t.yaml")
    with pytest.raises(TemplateError) as info:
        _lamctl(tpl.data, where=tpl.where)
    assert says in info.value.message and info.value.where.startswith(where), (info.value.message,
                                                                                 info.value.where)


def test_without_a_lookup_or_on_the_local_cloud_a_sar_location_is_refused():
    template = _template(f"""
        Resources:
          App:
            Type: AWS::Serverless::Application
            Properties:
              Location: {{ApplicationId: {APP}, SemanticVersion: 1.0.0}}
        """)
    with pytest.raises(TemplateError) as info:
        transform(copy.deepcopy(template))
    assert "no lookup" in info.value.message and info.value.where
    with pytest.raises(TemplateError) as info:
        transform(copy.deepcopy(template), applications=LocalCloudApplications())
    assert "local cloud has no Serverless Application Repository" in info.value.message
    assert info.value.exit_code == 2 and info.value.where == "Resources.App.Properties.Location"
