"""Bad API input through ``lamctl transform``: a located error (file:line:col), naming the resource or event,
saying what is wrong, exit code 2, no traceback and no output file."""

from __future__ import annotations

import re

import pytest

from tests.helpers import write_template

FUNCTION = """\
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/code.zip
      Handler: index.handler
      Runtime: python3.12
      Events:
"""


def run_bad(cli, tmp_path, body: str):
    path = write_template(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n" + body)
    out = tmp_path / "out.yaml"
    result = cli("transform", "-t", str(path), "-o", str(out))
    assert result.exit_code == 2, result
    assert "Traceback" not in result.stderr
    assert not out.exists()  # nothing half-done
    return result.stderr, str(path)


def _line_of(stderr: str, path: str) -> int:
    m = re.search(re.escape(path) + r":(\d+):(\d+)", stderr)
    assert m, f"no file:line:col in {stderr!r}"
    return int(m.group(1))


def test_event_naming_a_missing_api(cli, tmp_path):
    err, path = run_bad(cli, tmp_path, FUNCTION + """\
        Get:
          Type: Api
          Properties:
            Path: /a
            Method: get
            RestApiId: !Ref Nowhere
""")
    assert "Fn, event Get" in err and "RestApiId" in err and "AWS::Serverless::Api" in err
    assert _line_of(err, path) == 15  # the RestApiId line


def test_event_authorizer_that_the_api_does_not_define(cli, tmp_path):
    err, path = run_bad(cli, tmp_path, """\
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Auth:
        Authorizers:
          Mine:
            FunctionArn: arn:aws:lambda:us-east-1:123456789012:function:auth
""" + FUNCTION + """\
        Get:
          Type: Api
          Properties:
            Path: /a
            Method: get
            RestApiId: !Ref Api
            Auth:
              Authorizer: Theirs
""")
    assert "Theirs" in err and "not defined in the API's Authorizers" in err and "Fn, event Get" in err
    assert _line_of(err, path) == 25


def test_unknown_cors_key_points_at_the_key(cli, tmp_path):
    err, path = run_bad(cli, tmp_path, """\
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Cors:
        AllowOrigin: "'*'"
        AllowEverything: true
""")
    assert "Api:" in err and "AllowEverything" in err and "AllowOrigin" in err
    assert _line_of(err, path) == 9


def test_same_route_twice_on_the_implicit_api(cli, tmp_path):
    err, _ = run_bad(cli, tmp_path, FUNCTION + """\
        One:
          Type: Api
          Properties: {Path: /a, Method: GET}
        Two:
          Type: Api
          Properties: {Path: /a, Method: get}
""")
    assert "defined more than once" in err and "/a" in err


def test_default_authorizer_missing_from_authorizers(cli, tmp_path):
    err, path = run_bad(cli, tmp_path, """\
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Ghost
""")
    assert "Ghost" in err and "DefaultAuthorizer" in err and "Api:" in err
    assert _line_of(err, path) == 7


def test_unknown_event_property_and_missing_stage_name(cli, tmp_path):
    err, _ = run_bad(cli, tmp_path, FUNCTION + """\
        H:
          Type: HttpApi
          Properties: {Path: /a, Method: get, Verb: get}
""")
    assert "unknown property 'Verb'" in err and "Fn, event H" in err
    err, _ = run_bad(cli, tmp_path, """\
  Api:
    Type: AWS::Serverless::Api
    Properties:
      Name: no-stage
""")
    assert "StageName is required" in err


@pytest.mark.parametrize("method", ["get", "ANY"])
def test_a_good_template_still_transforms(cli, tmp_path, method):
    path = write_template(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n" + FUNCTION + f"""\
        Get:
          Type: Api
          Properties: {{Path: /a, Method: {method}}}
""")
    result = cli("transform", "-t", str(path))
    assert result.exit_code == 0, result
    assert "ServerlessRestApi" in result.stdout and "FnGetPermissionProd" in result.stdout


def test_a_bad_global_api_setting_points_at_globals(cli, tmp_path):
    path = write_template(tmp_path, """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    Cors:
      AllowOrigin: "'*'"
      Bogus: 1
Resources:
""" + FUNCTION + """\
        Get:
          Type: Api
          Properties: {Path: /a, Method: get}
""")
    result = cli("transform", "-t", str(path))
    assert result.exit_code == 2, result
    assert "Bogus" in result.stderr and "Globals.Api" in result.stderr and "ServerlessRestApi" in result.stderr
    assert _line_of(result.stderr, str(path)) == 6
