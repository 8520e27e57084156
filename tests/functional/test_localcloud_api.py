"""SAM REST APIs on the local cloud: `lamctl deploy` creates them (implicit and explicit), and calling
`/restapis/{id}/{stage}/_user_request_/{path}` runs the function with API Gateway's proxy event (1.0),
its answer becoming the HTTP response; API Gateway's own answers for what the API lacks or a failing function."""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from lamctl.local.cloud.apis import match_resource
from lamctl.local.cloud.urls import api_url

HEADER = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    CodeUri: src/
    Timeout: 10
Resources:
"""

TEMPLATE = HEADER + """\
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
      Events:
        Item:
          Type: Api
          Properties: {Path: "/items/{id}", Method: get}
        NewItem:
          Type: Api
          Properties: {Path: /items, Method: post}
        Files:
          Type: Api
          Properties: {Path: "/files/{proxy+}", Method: any}
        Latest:
          Type: Api
          Properties: {Path: /items/latest, Method: get}
  Odd:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.odd
      Events:
        Boom:
          Type: Api
          Properties: {Path: /boom, Method: get}
        NotAString:
          Type: Api
          Properties: {Path: /malformed, Method: get}
        Png:
          Type: Api
          Properties: {Path: /pixel, Method: get}
"""

APP = """\
import base64, json

def echo(event, context):
    return {"statusCode": 201 if event["httpMethod"] == "POST" else 200,
            "headers": {"X-Route": event["resource"]},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": json.dumps(event)}

def odd(event, context):
    if event["path"] == "/boom":
        raise RuntimeError("boom")
    if event["path"] == "/malformed":
        return {"statusCode": 200, "body": {"not": "a string"}}
    return {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "isBase64Encoded": True,
            "body": base64.b64encode(b"\\x89PNG fake").decode()}
"""


def deployed(cli, cloud, folder, template: str, app: str, stack: str) -> dict:
    """Deploy ``template`` (code ``app``) to the local cloud; the one API stage deploy reports."""
    folder = folder / stack
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text(app)
    (folder / "template.yaml").write_text(template)
    r = cli("--local", "--endpoint-url", cloud.endpoint, "--output", "json", "deploy", "--stack", stack, cwd=folder)
    assert r.exit_code == 0, r
    (entry,) = r.json_lines()[-1]["apis"]
    # an HTTP API's $default stage is written %24default: nothing for a shell to expand in a pasted URL
    assert entry["url"] == f"{cloud.endpoint}/restapis/{entry['api_id']}/{quote(entry['stage'], safe='')}/_user_request_/"
    assert "$" not in entry["url"]
    assert entry["url"] + "items/42" == api_url(cloud.endpoint, entry["api_id"], entry["stage"], "/items/42")
    for route in entry["routes"]:  # each route the template defines, with where it answers
        assert route["url"] == entry["url"] + ("" if route["path"] == "$default" else route["path"].lstrip("/"))
    cloud.base = entry["url"]
    cloud.folder = folder
    return entry


@pytest.fixture
def api(cli, local_cloud, tmp_path):
    entry = deployed(cli, local_cloud, tmp_path, TEMPLATE, APP, "shop")
    assert entry["api"] == "ServerlessRestApi" and entry["stage"] == "Prod"
    assert [(r["method"], r["path"]) for r in entry["routes"]] == [
        ("GET", "/boom"), ("ANY", "/files/{proxy+}"), ("POST", "/items"), ("GET", "/items/latest"),
        ("GET", "/items/{id}"), ("GET", "/malformed"), ("GET", "/pixel")]
    local_cloud.rest_base = entry["url"]
    return local_cloud


def call(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def test_a_route_with_a_path_parameter_gets_the_proxy_event(api):
    status, headers, body = call(api.base + "items/42?color=red&size=m&size=l", headers={"X-Trace": "t-1"})
    assert status == 200
    event = json.loads(body)
    assert event["resource"] == "/items/{id}" and event["path"] == "/items/42" and event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"color": "red", "size": "l"}
    assert event["multiValueQueryStringParameters"] == {"color": ["red"], "size": ["m", "l"]}
    assert event["headers"]["X-Trace"] == "t-1"
    assert event["requestContext"]["stage"] == "Prod" and event["requestContext"]["path"] == "/Prod/items/42"
    assert event["requestContext"]["resourcePath"] == "/items/{id}"
    assert event["body"] is None and event["isBase64Encoded"] is False
    assert headers["X-Route"] == "/items/{id}"
    assert headers.get_all("Set-Cookie") == ["a=1", "b=2"]


def test_a_literal_path_wins_over_a_parameter_and_a_greedy_path_takes_the_rest(api):
    status, _, body = call(api.base + "items/latest")
    assert status == 200 and json.loads(body)["resource"] == "/items/latest"
    status, _, body = call(api.base + "files/reports/2026/q3.csv", method="DELETE")  # ANY takes every method
    event = json.loads(body)
    assert status == 200 and event["resource"] == "/files/{proxy+}" and event["httpMethod"] == "DELETE"
    assert event["pathParameters"] == {"proxy": "reports/2026/q3.csv"}


def test_a_post_body_reaches_the_function_and_its_status_code_comes_back(api):
    status, _, body = call(api.base + "items", method="POST", body=b'{"name": "lamp"}',
                           headers={"Content-Type": "application/json"})
    event = json.loads(body)
    assert status == 201 and event["body"] == '{"name": "lamp"}' and event["isBase64Encoded"] is False
    status, _, body = call(api.base + "items", method="POST", body=b"\xff\xfe\x00binary")
    event = json.loads(body)
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\xfe\x00binary"


def test_a_base64_answer_is_sent_as_bytes(api):
    status, headers, body = call(api.base + "pixel")
    assert status == 200 and headers["Content-Type"] == "image/png" and body == b"\x89PNG fake"


def test_api_gateways_own_answers(api):
    # a function error, and an answer that is not a proxy response: 502, as API Gateway
    for path in ("boom", "malformed"):
        status, _, body = call(api.base + path)
        assert (status, json.loads(body)) == (502, {"message": "Internal server error"})
    # a path or a method the API lacks
    for path, method in (("nowhere", "GET"), ("items/42", "DELETE")):
        status, headers, body = call(api.base + path, method=method)
        assert (status, json.loads(body)) == (403, {"message": "Missing Authentication Token"})
        assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    # a stage the API lacks
    status, _, body = call(api.base.replace("/Prod/", "/Dev/") + "items/1")
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})


def test_a_redeploy_with_a_new_route_serves_it_and_a_deleted_stack_takes_its_api(cli, api):
    template = api.folder / "template.yaml"
    template.write_text(template.read_text().replace(
        "        Latest:\n", "        Health:\n          Type: Api\n"
                            "          Properties: {Path: /health, Method: get}\n        Latest:\n", 1))
    r = cli("--local", "--endpoint-url", api.endpoint, "deploy", "--stack", "shop", cwd=api.folder)
    assert r.exit_code == 0, r
    status, _, body = call(api.base + "health")
    assert status == 200 and json.loads(body)["resource"] == "/health"
    assert call(api.base + "items/7")[0] == 200  # the routes it had still answer

    assert cli("--local", "--endpoint-url", api.endpoint, "delete", "--stack", "shop", "--yes",
               cwd=api.folder).exit_code == 0
    assert api.client("apigateway").get_rest_apis()["items"] == []
    status, _, _ = call(api.base + "items/7")
    assert status == 404


class _Res:
    def __init__(self, path):
        self.path = path

    def get_path(self):
        return self.path


class _Api:
    def __init__(self, *paths):
        self.resources = {p: _Res(p) for p in paths}


@pytest.mark.parametrize("path, template, params", [
    ("/", "/", {}),
    ("/users", "/users", {}),
    ("/users/me", "/users/me", {}),
    ("/users/7", "/users/{id}", {"id": "7"}),
    ("/users/7/orders", "/users/{id}/orders", {"id": "7"}),
    ("/users/7/avatar/big.png", "/{proxy+}", {"proxy": "users/7/avatar/big.png"}),
    ("/a%20b", "/{proxy+}", {"proxy": "a b"}),
])
def test_resource_precedence_is_api_gateways(path, template, params):
    api = _Api("/", "/users", "/users/me", "/users/{id}", "/users/{id}/orders", "/{proxy+}")
    resource, got = match_resource(api, path)
    assert (resource.get_path(), got) == (template, params)


def test_no_resource_matches_an_unknown_path_without_a_greedy_one():
    assert match_resource(_Api("/", "/users/{id}"), "/users/7/orders") is None


HTTP_TEMPLATE = HEADER + """\
  Users:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.users
      Events:
        One:
          Type: HttpApi
          Properties: {Path: "/users/{id}", Method: get}
        Any:
          Type: HttpApi
          Properties: {Path: "/users/{id}", Method: any}
        Files:
          Type: HttpApi
          Properties: {Path: "/files/{proxy+}", Method: get}
        Old:
          Type: HttpApi
          Properties: {Path: /legacy, Method: get, PayloadFormatVersion: "1.0"}
        Boom:
          Type: HttpApi
          Properties: {Path: /boom, Method: get}
"""

HTTP_APP = """\
import json

def users(event, context):
    if event.get("version") != "2.0":
        return {"statusCode": 200, "body": json.dumps({"format": "1.0", "resource": event["resource"]})}
    if event["rawPath"] == "/boom":
        raise RuntimeError("boom")
    if event["rawPath"].startswith("/files/"):
        return {"file": event["pathParameters"]["proxy"]}  # no statusCode: API Gateway infers 200 JSON
    return {"statusCode": 200, "cookies": ["session=abc; HttpOnly"], "headers": {"X-Route": event["routeKey"]},
            "body": json.dumps(event)}
"""


@pytest.fixture
def http_api(cli, local_cloud, tmp_path):
    entry = deployed(cli, local_cloud, tmp_path, HTTP_TEMPLATE, HTTP_APP, "people")
    assert entry["api"] == "ServerlessHttpApi" and entry["stage"] == "$default"
    assert [(r["method"], r["path"]) for r in entry["routes"]] == [
        ("GET", "/boom"), ("GET", "/files/{proxy+}"), ("GET", "/legacy"), ("ANY", "/users/{id}"),
        ("GET", "/users/{id}")]
    return local_cloud


def test_an_http_api_route_gets_the_2_0_event(http_api):
    status, headers, body = call(http_api.base + "users/7?tag=a&tag=b",
                                 headers={"Cookie": "theme=dark; lang=fr", "X-Trace": "t-2"})
    assert status == 200
    event = json.loads(body)
    assert event["version"] == "2.0" and event["routeKey"] == "GET /users/{id}"  # the method's route before ANY
    assert event["rawPath"] == "/users/7" and event["rawQueryString"] == "tag=a&tag=b"
    assert event["queryStringParameters"] == {"tag": "a,b"} and event["pathParameters"] == {"id": "7"}
    assert event["cookies"] == ["theme=dark", "lang=fr"] and event["headers"]["x-trace"] == "t-2"
    assert event["requestContext"]["http"]["method"] == "GET" and event["requestContext"]["stage"] == "$default"
    assert headers["X-Route"] == "GET /users/{id}" and headers.get_all("Set-Cookie") == ["session=abc; HttpOnly"]

    status, _, body = call(http_api.base + "users/7", method="PUT", body=b"{}")
    assert status == 200 and json.loads(body)["routeKey"] == "ANY /users/{id}"


def test_deploy_prints_each_http_api_route_with_a_url_a_shell_can_take_as_it_is(cli, http_api):
    r = cli("--local", "--endpoint-url", http_api.endpoint, "deploy", "--stack", "people", cwd=http_api.folder)
    assert r.exit_code == 0, r
    printed = re.findall(r"^ServerlessHttpApi +\$default +(\w+) +(\S+)$", r.stdout, re.MULTILINE)
    assert ("GET", http_api.base + "legacy") in printed and len(printed) == 5, r.stdout
    assert "%24default" in http_api.base and "$" not in http_api.base
    status, _, body = call(http_api.base + "legacy")  # the printed URL, as curl would send it
    assert status == 200 and json.loads(body)["resource"] == "/legacy"


def test_an_http_api_infers_a_response_and_keeps_its_own_answers(http_api):
    status, headers, body = call(http_api.base + "files/a/b.txt")
    assert (status, headers["Content-Type"], json.loads(body)) == (200, "application/json", {"file": "a/b.txt"})
    status, _, body = call(http_api.base + "legacy")  # PayloadFormatVersion 1.0: the REST event and answer
    assert status == 200 and json.loads(body) == {"format": "1.0", "resource": "/legacy"}
    status, _, body = call(http_api.base + "boom")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})
    status, _, body = call(http_api.base + "nowhere")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})


def test_an_http_api_keeps_its_stage_through_a_redeploy_with_a_new_route(cli, http_api):
    template = http_api.folder / "template.yaml"
    template.write_text(template.read_text() + "        Ping:\n          Type: HttpApi\n"
                                               "          Properties: {Path: /ping, Method: get}\n")
    r = cli("--local", "--endpoint-url", http_api.endpoint, "deploy", "--stack", "people", cwd=http_api.folder)
    assert r.exit_code == 0, r
    assert call(http_api.base + "ping")[0] == 200 and call(http_api.base + "users/1")[0] == 200


class _Route:
    def __init__(self, key):
        self.route_key = key


@pytest.mark.parametrize("method, path, key", [
    ("GET", "/users/me", "GET /users/me"),
    ("GET", "/users/7", "GET /users/{id}"),
    ("POST", "/users/7", "ANY /users/{id}"),
    ("GET", "/users/7/photos/1.jpg", "ANY /{proxy+}"),
    ("DELETE", "/", "$default"),
])
def test_http_api_route_precedence_is_api_gateways(method, path, key):
    api = type("Api", (), {"routes": {k: _Route(k) for k in (
        "GET /users/me", "GET /users/{id}", "ANY /users/{id}", "ANY /{proxy+}", "$default")}})()
    from lamctl.local.cloud.apis import match_route

    assert match_route(api, method, path)[0].route_key == key


def test_aws_s_address_shape_on_localhost_reaches_the_same_api(api, http_api):
    """http://{api id}.execute-api.localhost:PORT/{stage}/{path}, as on AWS (an HTTP API's $default stage has no
    prefix); the Host header is what counts, so any client that sends it gets there."""
    port = api.endpoint.rsplit(":", 1)[1]

    def via_host(url: str, path: str):
        api_id = url.split("/restapis/", 1)[1].split("/", 1)[0]
        req = urllib.request.Request(f"{api.endpoint}{path}",
                                     headers={"Host": f"{api_id}.execute-api.localhost:{port}"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())

    rest_url = api.rest_base
    status, event = via_host(rest_url, "/Prod/items/9")
    assert status == 200 and event["pathParameters"] == {"id": "9"} and event["requestContext"]["stage"] == "Prod"
    status, event = via_host(http_api.base, "/users/3")
    assert status == 200 and event["routeKey"] == "GET /users/{id}" and event["requestContext"]["stage"] == "$default"


def test_deploy_execute_of_a_reviewed_change_set_prints_the_routes_too(cli, local_cloud, tmp_path):
    folder = tmp_path / "reviewed"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text(APP)
    (folder / "template.yaml").write_text(TEMPLATE)
    made = cli("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--stack", "reviewed",
               "--no-execute", cwd=folder)
    assert made.exit_code == 0, made
    arn = made.json_lines()[-1]["arn"]
    done = cli("--local", "--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", "--execute", arn,
               cwd=folder)
    assert done.exit_code == 0, done
    (entry,) = done.json_lines()[-1]["apis"]
    latest = [r for r in entry["routes"] if r["path"] == "/items/latest"]
    assert latest and latest[0]["method"] == "GET"
    status, _, body = call(latest[0]["url"])
    assert status == 200 and json.loads(body)["resource"] == "/items/latest"
