"""``lamctl transform`` and ``lamctl validate`` of AWS::Serverless::Application: offline, a Serverless Application
Repository application gets a placeholder template URL (with a warning), as local code gets placeholder S3
locations; what is wrong with a Location is exit 2 at its line."""

from __future__ import annotations

import json

from tests.helpers import write_template

SAR = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Sar:
    Type: AWS::Serverless::Application
    Properties:
      Location:
        ApplicationId: arn:aws:serverlessrepo:us-east-1:123456789012:applications/hello-world
        SemanticVersion: 1.0.0
"""


def test_transform_gives_a_repository_application_a_placeholder_url_and_says_so(cli, tmp_path):
    write_template(tmp_path, SAR)
    r = cli("transform", cwd=tmp_path)
    assert r.exit_code == 0, r
    stack = json.loads(r.stdout)["Resources"]["Sar"]
    assert stack["Type"] == "AWS::CloudFormation::Stack"
    assert stack["Properties"]["TemplateURL"] == \
        "https://lamctl-placeholder.s3.amazonaws.com/serverlessrepo/hello-world/1.0.0"
    assert "Sar: a Serverless Application Repository application" in r.stderr


def test_validate_passes_a_repository_application_and_locates_a_bad_location(cli, tmp_path):
    write_template(tmp_path, SAR)
    r = cli("validate", "--no-lint", cwd=tmp_path)
    assert r.exit_code == 0, r
    write_template(tmp_path, SAR.replace("        SemanticVersion: 1.0.0\n", ""))
    r = cli("validate", "--no-lint", cwd=tmp_path)
    assert r.exit_code == 2, r
    assert "template.yaml:6:7" in r.stdout and "SemanticVersion" in r.stdout  # at Location
