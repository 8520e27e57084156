"""``lamctl transform -o out.yaml`` on API templates: the YAML is plain (CloudFormation refuses YAML aliases,
and API documents built in place share values such as CORS origins and policy resource lists)."""

from __future__ import annotations

import json

import yaml

from tests.helpers import write_template

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      Cors:
        AllowOrigin: !Sub "'https://${AWS::StackName}.example.com'"
      Auth:
        ResourcePolicy:
          IpRangeWhitelist: [10.0.0.0/8]
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: s3://bucket/code.zip
      Handler: index.handler
      Runtime: python3.12
      Events:
        A:
          Type: Api
          Properties: {Path: /a, Method: get, RestApiId: !Ref Api}
        B:
          Type: Api
          Properties: {Path: /b, Method: get, RestApiId: !Ref Api}
"""


def test_yaml_output_has_no_aliases_and_matches_the_json_output(cli, tmp_path):
    src = write_template(tmp_path, TEMPLATE)
    out = tmp_path / "out.yaml"
    result = cli("transform", "-t", str(src), "-o", str(out))
    assert result.exit_code == 0, result
    text = out.read_text(encoding="utf-8")
    assert "&id" not in text and "*id" not in text
    as_json = cli("transform", "-t", str(src))
    assert as_json.exit_code == 0, as_json
    assert yaml.safe_load(text) == json.loads(as_json.stdout)
    body = yaml.safe_load(text)["Resources"]["Api"]["Properties"]["Body"]
    origin = {"Fn::Sub": "'https://${AWS::StackName}.example.com'"}
    for path in ("/a", "/b"):
        params = body["paths"][path]["options"]["x-amazon-apigateway-integration"]["responses"]["default"][
            "responseParameters"]
        assert params["method.response.header.Access-Control-Allow-Origin"] == origin
