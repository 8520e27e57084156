"""The AppSpec loader: CodeDeploy's Lambda format in YAML or JSON, errors at file:line:col."""

from __future__ import annotations

import json

import pytest

from lamctl.schemas.appspec import appspec_document, load_appspec
from lamctl.schemas.errors import TemplateError


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_json_appspec_in_codedeploy_form(tmp_path):
    doc = appspec_document("app", "live", "3", "4", {"BeforeAllowTraffic": "pre", "AfterAllowTraffic": "post"})
    spec = load_appspec(write(tmp_path, "appspec.json", json.dumps(doc)))
    assert (spec.function, spec.alias, spec.current, spec.target) == ("app", "live", "3", "4")
    assert spec.hooks == {"BeforeAllowTraffic": "pre", "AfterAllowTraffic": "post"}
    assert spec.to_codedeploy("3") == doc


def test_a_plain_mapping_of_resources_is_accepted(tmp_path):
    spec = load_appspec(write(tmp_path, "a.yml", "version: 0.0\nResources:\n  fn:\n    Type: AWS::Lambda::Function\n"
                                                 "    Properties: {Name: app, Alias: live, TargetVersion: 7}\n"))
    assert spec.current is None and spec.target == "7" and spec.hooks == {}


@pytest.mark.parametrize("text,where,needle", [
    ("version: 1.0\nResources: []\n", ":1:10", "always 0.0"),
    ("version: 0.0\nResources:\n  - a: {Type: AWS::Lambda::Function, Properties: {Name: x, Alias: live, "
     "TargetVersion: 2}}\n  - b: {Type: AWS::Lambda::Function, Properties: {Name: y, Alias: live, TargetVersion: 2}}\n",
     ":3:3", "exactly one function"),
    ("version: 0.0\nResources:\n  - a: {Type: AWS::Lambda::Function, Properties: {Name: x, Alias: '12', "
     "TargetVersion: 2}}\n", ":3:", "Alias"),
    ("version: 0.0\nResources:\n  - a: {Type: AWS::Lambda::Function, Properties: {Name: x, Alias: live, "
     "CurrentVersion: 2, TargetVersion: 2}}\n", ":3:", "nothing to shift"),
    ("version: 0.0\nResources:\n  - a: {Type: AWS::Lambda::Function, Properties: {Name: x, Alias: live, "
     "TargetVersion: 2}}\nHooks:\n  - BeforeAllowTraffic: h1\n  - BeforeAllowTraffic: h2\n", ":6:5", "given twice"),
    ("", ":1:1", "empty"),
])
def test_problems_point_at_their_line(tmp_path, text, where, needle):
    path = write(tmp_path, "appspec.yml", text)
    with pytest.raises(TemplateError) as err:
        load_appspec(path)
    assert err.value.where.startswith(path + where), err.value.where
    assert needle in err.value.message and err.value.exit_code == 2


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(TemplateError, match="does not exist"):
        load_appspec(str(tmp_path / "nope.yml"))
