"""Lambda function URLs on the local cloud: a template with ``FunctionUrlConfig`` and an output
``!GetAtt WebUrl.FunctionUrl`` deploys (it used to end in a ValidationError after CREATE_COMPLETE), the URL
answers over HTTP with the payload format 2.0 event, ``AWS_IAM`` wants a signed request, and ``Cors`` is
answered. Everything goes over real HTTP to the local cloud's server in this process."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREDS = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")

APP = """\
import json

def web(event, context):
    if event["rawPath"] == "/boom":
        raise RuntimeError("boom")
    if event["rawPath"] == "/plain":
        return {"just": "json"}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json", "X-Path": event["rawPath"]},
            "body": json.dumps(event)}
"""

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Web:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      CodeUri: src/
      Handler: app.web
      FunctionUrlConfig:
        AuthType: NONE
        Cors:
          AllowOrigins: ["https://example.com"]
          AllowMethods: ["GET", "POST"]
          AllowHeaders: ["x-custom"]
          MaxAge: 300
Outputs:
  WebEndpoint:
    Value: !GetAtt WebUrl.FunctionUrl
"""


def call(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


@pytest.fixture
def web(cli, local_cloud, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    r = cli("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--stack", "web",
            cwd=tmp_path)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    url = result["outputs"]["WebEndpoint"]
    (listed,) = result["apis"]  # deploy lists the URL with the stack's APIs, output or not
    assert listed["api"] == "WebUrl" and listed["kind"] == "function-url" and listed["url"] == url
    local_cloud.url = url
    return local_cloud


def test_a_template_with_a_function_url_deploys_and_the_url_answers_with_the_2_0_event(web):
    assert web.url.startswith(web.endpoint + "/lambda-url/") and web.url.endswith("/")
    lam = boto3.client("lambda", endpoint_url=web.endpoint, **CREDS)
    name = lam.list_functions()["Functions"][0]["FunctionName"]
    assert lam.get_function_url_config(FunctionName=name)["FunctionUrl"] == web.url  # the API says the same
    status, headers, body = call(web.url + "items/42?color=red&size=m", method="POST", body=b'{"a": 1}',
                                 headers={"Content-Type": "application/json", "Cookie": "c=1; d=2"})
    assert status == 200 and headers["X-Path"] == "/items/42"
    event = json.loads(body)
    url_id = web.url.rstrip("/").rsplit("/", 1)[1]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/items/42" and event["rawQueryString"] == "color=red&size=m"
    assert event["queryStringParameters"] == {"color": "red", "size": "m"}
    assert event["cookies"] == ["c=1", "d=2"] and event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["apiId"] == url_id and context["domainPrefix"] == url_id
    assert context["domainName"] == f"{url_id}.lambda-url.us-east-1.on.aws"
    assert context["http"]["method"] == "POST" and context["http"]["path"] == "/items/42"
    assert context["stage"] == "$default" and context["accountId"] == "123456789012"
    assert "authorizer" not in context  # AuthType NONE


def test_an_answer_without_status_code_is_a_json_body_and_an_error_is_502(web):
    status, _, body = call(web.url + "plain")
    assert status == 200 and json.loads(body) == {"just": "json"}
    status, _, _ = call(web.url + "boom")
    assert status == 502


def test_cors_from_the_config(web):
    status, headers, body = call(web.url + "items", method="OPTIONS", headers={
        "Origin": "https://example.com", "Access-Control-Request-Method": "POST"})
    assert status == 200 and body == b""  # the preflight does not run the function
    assert headers["Access-Control-Allow-Origin"] == "https://example.com"
    assert headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert headers["Access-Control-Allow-Headers"] == "x-custom" and headers["Access-Control-Max-Age"] == "300"
    status, headers, _ = call(web.url + "items", headers={"Origin": "https://example.com"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "https://example.com"
    status, headers, _ = call(web.url + "items", headers={"Origin": "https://elsewhere.test"})
    assert status == 200 and headers.get("Access-Control-Allow-Origin") is None


def test_aws_iam_wants_a_signed_request(local_cloud):
    lam = boto3.client("lambda", endpoint_url=local_cloud.endpoint, **CREDS)
    role = boto3.client("iam", endpoint_url=local_cloud.endpoint, **CREDS).create_role(
        RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", APP)
    lam.create_function(FunctionName="private", Runtime="python3.12", Role=role, Handler="app.web",
                        Code={"ZipFile": buf.getvalue()})
    url = lam.create_function_url_config(FunctionName="private", AuthType="AWS_IAM")["FunctionUrl"]
    assert url.startswith(local_cloud.endpoint + "/lambda-url/")
    status, _, body = call(url + "x")
    assert status == 403
    assert "AWS_IAM" in json.loads(body)["Message"] and "sign" in json.loads(body)["Message"]
    request = AWSRequest(method="GET", url=url + "x")
    SigV4Auth(Credentials("AKIDLOCAL", "secret"), "lambda", "us-east-1").add_auth(request)
    status, _, body = call(url + "x", headers=dict(request.headers))
    assert status == 200
    assert json.loads(body)["requestContext"]["authorizer"]["iam"]["accessKey"] == "AKIDLOCAL"
