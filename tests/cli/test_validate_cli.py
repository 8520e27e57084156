"""``lamctl validate``: what a developer and a CI job see (text, NDJSON, exit codes, annotations)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.helpers import lamctl_in_child, write_template

GOOD = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
      Events:
        Get:
          Type: Api
          Properties: {Path: /hello, Method: get}
Outputs:
  Url:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello"
  Role:
    Value: !GetAtt FnRole.Arn
"""

BAD = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      MemorySize: 64
      Timout: 3
      DeploymentPreference: {Type: AllAtOnce}
"""


def test_a_good_template_prints_one_ok_line_and_exits_0(cli, tmp_path):
    write_template(tmp_path, GOOD)
    r = cli("validate", "--no-lint", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert r.stdout == "template.yaml: OK (1 resource(s))\n"


def test_each_finding_is_one_file_line_col_line_and_the_exit_code_is_2(cli, tmp_path):
    write_template(tmp_path, BAD)
    r = cli("validate", "--no-lint", cwd=tmp_path)
    assert r.exit_code == 2, r
    lines = [line for line in r.stdout.splitlines() if not line.startswith("  ")]
    assert lines == [
        "template.yaml:7:19: MemorySize of Fn is 64 MB; Lambda allows 128-10,240 MB",
        "template.yaml:8:7: unknown property 'Timout' in AWS::Serverless::Function Fn",
        "template.yaml:9:7: DeploymentPreference of Fn needs AutoPublishAlias",
    ]
    assert "  hint: did you mean Timeout?" in r.stdout.splitlines()
    assert "template.yaml: 3 error(s)" in r.stderr
    assert "Traceback" not in r.stderr


def test_json_output_is_one_finding_object_per_line_then_a_result(cli, tmp_path):
    write_template(tmp_path, BAD, name="app.yaml")
    r = cli("--output", "json", "validate", "-t", "app.yaml", "--no-lint", cwd=tmp_path)
    assert r.exit_code == 2
    objs = r.json_lines()
    assert [o["type"] for o in objs] == ["finding", "finding", "finding", "result"]
    assert objs[1] == {"type": "finding", "severity": "error", "code": "schema", "file": "app.yaml", "line": 8,
                       "col": 7, "path": "Resources.Fn.Properties.Timout",
                       "message": "unknown property 'Timout' in AWS::Serverless::Function Fn",
                       "hint": "did you mean Timeout?"}
    assert objs[0]["code"] == "limit"
    assert objs[-1] == {"type": "result", "ok": False, "template": "app.yaml", "errors": 3, "warnings": 0,
                        "lint": None, "exit_code": 2}
    assert r.stderr == ""


def test_json_output_of_a_good_template(cli, tmp_path):
    write_template(tmp_path, GOOD)
    r = cli("--output", "json", "validate", "--no-lint", cwd=tmp_path)
    assert r.exit_code == 0
    assert r.json_lines() == [{"type": "result", "ok": True, "template": "template.yaml", "errors": 0,
                               "warnings": 0, "lint": None}]


def test_a_yaml_syntax_error_is_a_finding_with_its_position(cli, tmp_path):
    write_template(tmp_path, "Resources:\n  Fn:\n    Type: [AWS::Serverless::Function\n")
    r = cli("validate", cwd=tmp_path)
    assert r.exit_code == 2
    first = r.stdout.splitlines()[0]
    assert first.startswith("template.yaml:4:1: invalid YAML: ")


def test_an_alias_bomb_is_refused_as_a_finding(cli, tmp_path):
    lines = ["a0: &a0 [" + ", ".join(["x"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    write_template(tmp_path, "\n".join(lines) + "\nResources: {}\n")
    r = cli("validate", cwd=tmp_path)
    assert r.exit_code == 2
    assert "a YAML alias bomb?" in r.stdout
    assert r.stdout.startswith("template.yaml:")


def test_a_missing_template_is_a_usage_error(cli, tmp_path):
    r = cli("validate", cwd=tmp_path)
    assert r.exit_code == 2
    assert "no template found" in r.stderr


def test_the_template_setting_comes_from_lamctl_toml(cli, tmp_path):
    write_template(tmp_path, BAD, name="infra.yaml")
    (tmp_path / "lamctl.toml").write_text('[default]\ntemplate = "infra.yaml"\n')
    r = cli("validate", "--no-lint", cwd=tmp_path)
    assert r.exit_code == 2
    assert r.stdout.startswith("infra.yaml:7:19: ")


def test_in_github_actions_each_finding_is_also_an_annotation(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    write_template(tmp_path, BAD)
    r = cli("validate", "--no-lint", cwd=tmp_path)
    assert "::error file=template.yaml,line=8,col=7::unknown property 'Timout' in AWS::Serverless::Function Fn" \
        in r.stdout.splitlines()


# -- cfn-lint on the transformed template (the `lint` extra is installed in the test environment)
LINTED = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python2.7
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 99999999
"""


@pytest.mark.slow
def test_cfn_lint_findings_on_the_transformed_template_point_at_the_source(cli, tmp_path):
    write_template(tmp_path, LINTED)
    r = cli("validate", cwd=tmp_path)
    assert r.exit_code == 2, r
    lines = r.stdout.splitlines()
    # lamctl's part: the source location and the transformed path (the rule and its sentence are cfn-lint's)
    assert lines[0].startswith("template.yaml:4:14: ") and " Resources.Fn.Properties.Runtime: " in lines[0]
    assert lines[0].endswith("(set in Globals.Function)")
    assert lines[1].startswith("template.yaml:14:26: ")
    assert " Resources.Queue.Properties.VisibilityTimeout: " in lines[1]
    assert "cfn-lint ran on the transformed template" in r.stderr


@pytest.mark.slow
def test_a_valid_template_passes_cfn_lint_too(cli, tmp_path):
    write_template(tmp_path, GOOD)
    r = cli("--output", "json", "validate", "--lint", cwd=tmp_path)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["lint"] == "cfn-lint ran on the transformed template"


def test_cfn_lint_waits_until_the_schema_errors_are_fixed(cli, tmp_path):
    write_template(tmp_path, BAD)
    r = cli("--output", "json", "validate", "--lint", cwd=tmp_path)
    assert r.json_lines()[-1]["lint"] == "transform and cfn-lint skipped: fix the errors above first"


DUPLICATE_ROUTE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  One:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: one/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Get: {Type: Api, Properties: {Path: /items, Method: get}}
  Two:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: two/
      Handler: app.handler
      Runtime: python3.12
      Events:
        Get: {Type: Api, Properties: {Path: /items, Method: GET}}
"""


def test_errors_only_the_transform_finds_are_reported_without_cfn_lint(cli, tmp_path):
    write_template(tmp_path, DUPLICATE_ROUTE)
    r = cli("validate", "--no-lint", cwd=tmp_path)
    assert r.exit_code == 2, r
    [line] = [x for x in r.stdout.splitlines() if not x.startswith("  ")]
    assert line.startswith("template.yaml:18:")
    assert 'is defined more than once for path "/items"' in line


def test_stack_quotas_are_checked_without_cfn_lint(cli, tmp_path):
    fns = "".join(f"  Fn{i}:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
                  f"      Handler: app.handler\n      Runtime: python3.12\n      AutoPublishAlias: live\n"
                  for i in range(130))
    write_template(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n" + fns)
    r = cli("--output", "json", "validate", "--no-lint", cwd=tmp_path)
    assert r.exit_code == 2
    [finding] = [o for o in r.json_lines() if o["type"] == "finding"]
    assert finding["message"] == "the transformed template has 520 resources; CloudFormation allows 500 per stack"
    assert (finding["line"], finding["col"]) == (2, 1)


def test_the_github_job_summary_lists_the_findings(cli, tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    write_template(tmp_path, BAD)
    cli("validate", "--no-lint", cwd=tmp_path)
    text = summary.read_text()
    assert text.startswith("### lamctl validate `template.yaml`: 3 error(s), 0 warning(s)\n")
    assert "| `template.yaml:8:7` | error | unknown property 'Timout' in AWS::Serverless::Function Fn |" in text
    write_template(tmp_path, GOOD)
    cli("validate", "--no-lint", cwd=tmp_path)
    assert summary.read_text().endswith("### lamctl validate `template.yaml`\n\nOK\n\n")


def _without_cfn_lint(args: list[str], cwd) -> subprocess.CompletedProcess:
    """lamctl in a child process where cfn-lint cannot be imported (as when the `lint` extra is not installed)."""
    return lamctl_in_child(args, cwd, before="sys.modules['cfnlint'] = None\n")


def test_without_cfn_lint_validate_still_checks_and_lint_on_request_is_a_usage_error(tmp_path):
    write_template(tmp_path, GOOD)
    plain = _without_cfn_lint(["--output", "json", "validate"], tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip().splitlines()[-1].startswith('{"type": "result", "ok": true')
    asked = _without_cfn_lint(["validate", "--lint"], tmp_path)
    assert asked.returncode == 2
    assert "--lint needs cfn-lint, which is not installed" in asked.stderr
    assert "pip install 'lamctl[lint]'" in asked.stderr


# Absurd input is refused with exit 2, its location and no traceback, and nothing is written. Where the
# refusal comes from (lamctl's own depth limit, or a YAML library that now has one of its own) and how it is
# worded are not what a user relies on; for the values lamctl itself checks, the wording is asserted.
@pytest.mark.parametrize("text,where,message", [
    ("[" * 200_000, r"template\.yaml:1:\d+: \S", None),
    ("Resources:\n  X:\n    " + "- " * 200_000 + "x\n", r"template\.yaml:3:\d+: \S", None),
    ("Resources:\n  X: !!int x\n", r"template\.yaml:2:6: ", "'x' is not a valid int"),
    ("Resources:\n  X: 1" + "0" * 5000 + "\n", r"template\.yaml:2:6: ",
     "'1000000000000000000000000000000000000000' is not a valid int"),
])
def test_absurd_templates_are_refused_by_validate_not_a_crash(tmp_path, text, where, message):
    write_template(tmp_path, text)
    before = sorted(p.name for p in tmp_path.iterdir())
    out = lamctl_in_child(["validate"], tmp_path)
    assert out.returncode == 2, f"exit {out.returncode}: {out.stderr[-400:]}"
    assert re.match(where, out.stdout), out.stdout[:300]
    if message:
        assert out.stdout.split(": ", 1)[1].startswith(message), out.stdout[:300]
    assert "Traceback" not in out.stderr + out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == before
