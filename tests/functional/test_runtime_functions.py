"""A template's functions as the local runtime sees them: configuration, intrinsics, overrides, code, changes."""

from __future__ import annotations

import json
import os

import pytest

from lamctl.local.runtime.environment import Environment
from lamctl.local.runtime.functions import TemplateFunctions, load_env_vars, parse_parameter_overrides
from lamctl.schemas.errors import TemplateError, UsageError

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
  Mem: {Type: Number, Default: 256}
Globals:
  Function:
    Runtime: python3.12
    Timeout: 7
    MemorySize: !Ref Mem
    Layers: [arn:aws:lambda:us-east-1:123456789012:layer:remote:1]
    Environment:
      Variables:
        A: from-globals
        B: from-globals
Resources:
  Api:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Timeout: 2
      ReservedConcurrentExecutions: 3
      Environment:
        Variables:
          B: local
          JOINED: !Join ["-", [!Ref Stage, !Ref "AWS::Region", !Ref Api]]
          SUBBED: !Sub ["${Stage}/${X}", {X: !Ref "AWS::AccountId"}]
          ATT: !GetAtt Table.Arn
          NUM: 5
          FLAG: true
  Plain:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: plain-fn
      Runtime: python3.11
      Handler: app.handler
      Code: src/
  Inline:
    Type: AWS::Serverless::Function
    Properties:
      InlineCode: |
        def handler(event, context):
            return "inline"
      Handler: index.handler
  Table:
    Type: AWS::DynamoDB::Table
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 'v1'\n")
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    return tmp_path


def _fns(project, **kw):
    kw.setdefault("build_dir", str(project / "build"))
    return TemplateFunctions(str(project / "template.yaml"), **kw)


def test_configuration_with_globals_and_intrinsics(project):
    fns = _fns(project, region="eu-central-1")
    assert fns.names() == ["Api", "Plain", "Inline"]
    spec = fns.spec("Api")
    assert (spec.runtime, spec.handler, spec.timeout, spec.memory_size) == ("python3.12", "app.handler", 2.0, 256)
    assert spec.reserved_concurrency == 3
    assert dict(spec.environment) == {
        "A": "from-globals", "B": "local", "JOINED": "dev-eu-central-1-Api", "SUBBED": "dev/123456789012",
        "ATT": "", "NUM": "5", "FLAG": "true",
    }
    assert any("Fn::GetAtt cannot be resolved locally" in w for w in fns.warnings)
    assert any("layer:remote:1" in w and "runs without it" in w for w in fns.warnings)
    assert spec.arn == "arn:aws:lambda:eu-central-1:123456789012:function:Api"
    assert os.path.isfile(os.path.join(spec.code_dir, "app.py"))
    assert spec.code_dir.startswith(str(project / "build" / "local"))  # the build's zip, unpacked


def test_overrides_and_env_vars_file(project):
    fns = _fns(project, parameter_overrides={"Stage": "prod", "Mem": "1024"},
               env_vars={"Parameters": {"A": "all", "UNDECLARED": "u"}, "Api": {"B": "api-only", "NEW": "x"},
                         "Plain": {"B": "no"}})
    env = dict(fns.spec("Api").environment)
    assert env["JOINED"].startswith("prod-") and env["A"] == "all" and env["B"] == "api-only"
    # as SAM: only variables the template declares are overridden
    assert "NEW" not in env and "UNDECLARED" not in env
    assert any("Api.NEW is not in the Environment of Api" in w for w in fns.warnings)
    assert fns.spec("Api").memory_size == 1024


def test_env_vars_by_function_name_lose_to_the_logical_id(project):
    fns = _fns(project, env_vars={"plain-fn": {"A": "by-name", "B": "by-name"}, "Plain": {"B": "by-id"}})
    env = dict(fns.spec("Plain").environment)
    assert env == {}  # Plain declares no variables: nothing to override
    text = (project / "template.yaml").read_text().replace(
        "      Code: src/", "      Code: src/\n      Environment: {Variables: {A: t, B: t}}")
    (project / "template.yaml").write_text(text)
    fns = _fns(project, env_vars={"plain-fn": {"A": "by-name", "B": "by-name"}, "Plain": {"B": "by-id"}})
    assert dict(fns.spec("Plain").environment) == {"A": "by-name", "B": "by-id"}


def test_unknown_parameter_override_is_refused(project):
    with pytest.raises(UsageError) as info:
        _fns(project, parameter_overrides={"Stgae": "prod"})
    assert "'Stgae'" in info.value.message and "Stage, Mem" in info.value.hint


def test_functions_are_found_by_logical_id_function_name_and_arn(project):
    fns = _fns(project)
    assert fns.find("Plain") == fns.find("plain-fn") == "Plain"
    assert fns.find("arn:aws:lambda:us-east-1:123456789012:function:plain-fn:live") == "Plain"
    assert fns.find("nope") is None
    with pytest.raises(UsageError) as info:
        fns.require("nope")
    assert "Api, Plain, Inline" in info.value.message


def test_plain_lambda_function_and_inline_code_run(project):
    fns = _fns(project)
    for name, expected in (("Plain", "v1"), ("Inline", "inline")):
        env = Environment(fns.spec(name))
        try:
            result = env.invoke(b"{}")
        finally:
            env.stop()
        assert result.ok, result.log
        assert json.loads(result.payload) == expected


def _rewrite(path, text: str) -> None:
    """Write ``text`` and move the modification time a second on, as an edit a moment later would, on any
    file system's clock granularity."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    later = before + 1_000_000_000
    os.utime(path, ns=(later, later))


def test_refresh_notices_edits_added_files_and_template_changes(project):
    fns = _fns(project)
    first = fns.refresh("Api")
    assert fns.refresh("Api") is first  # nothing changed: the same spec, no rebuild
    app = project / "src" / "app.py"
    _rewrite(app, "def handler(event, context):\n    return 'v2'\n")
    second = fns.refresh("Api")
    assert second.code_sha256 != first.code_sha256 and second.code_dir != first.code_dir
    assert "v2" in open(os.path.join(second.code_dir, "app.py")).read()
    (project / "src" / "extra.py").write_text("X = 1\n")
    third = fns.refresh("Api")
    assert os.path.isfile(os.path.join(third.code_dir, "extra.py"))
    text = (project / "template.yaml").read_text().replace("Timeout: 2", "Timeout: 4")
    _rewrite(project / "template.yaml", text)  # same size, same inode: only the modification time tells
    assert fns.refresh("Api").timeout == 4.0


def test_unchanged_code_is_not_rebuilt_in_a_new_process(project):
    first = _fns(project).spec("Api")
    again = _fns(project)  # as a second `lamctl local invoke` would
    assert again.spec("Api").code_dir == first.code_dir


def test_missing_code_folder_points_at_the_template(project):
    (project / "template.yaml").write_text(TEMPLATE.replace("CodeUri: src/", "CodeUri: nowhere/"))
    with pytest.raises((UsageError, TemplateError)) as info:
        _fns(project).spec("Api")
    assert "nowhere" in info.value.message
    assert "template.yaml:" in (info.value.where or "")


@pytest.mark.parametrize("values,expected", [
    (["Stage=prod"], {"Stage": "prod"}),
    (["Stage=prod Mem=512"], {"Stage": "prod", "Mem": "512"}),
    (["ParameterKey=Stage,ParameterValue=a=b"], {"Stage": "a=b"}),
    (["Name='with space'"], {"Name": "with space"}),
])
def test_parse_parameter_overrides(values, expected):
    assert parse_parameter_overrides(values) == expected


def test_parse_parameter_overrides_refuses_garbage():
    with pytest.raises(UsageError) as info:
        parse_parameter_overrides(["justaword"])
    assert "Key=Value" in info.value.message


def test_env_vars_file_errors_have_positions(tmp_path):
    bad = tmp_path / "env.json"
    bad.write_text('{\n  "Api": {"A": [1]}\n}')
    with pytest.raises(UsageError) as info:
        load_env_vars(str(bad))
    assert info.value.where == f"{bad}:2:11" and "Api.A must be a string" in info.value.message
    bad.write_text('{"Api": {"A": 1},}')
    with pytest.raises(UsageError) as info:
        load_env_vars(str(bad))
    assert info.value.where.startswith(f"{bad}:1:")
    assert load_env_vars(None) == {}
