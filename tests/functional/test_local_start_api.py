"""`lamctl local start-api`: a template's Api and HttpApi events served from the source folder, each route
running its function in the local runtime (real processes, real sockets), nothing deployed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from lamctl.local.runtime.functions import TemplateFunctions
from lamctl.local.runtime.pool import Pool
from lamctl.local.runtime.service import LocalLambda
from lamctl.local.runtime.start_api import ApiServer, Route, match, routes_of
from tests.functional.test_deploy_workshop import SAMPLE
from tests.functional.test_localcloud_api import HEADER

TEMPLATE = HEADER + """\
  Shop:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.shop
      Events:
        Item:
          Type: Api
          Properties: {Path: "/items/{id}", Method: get}
        Files:
          Type: Api
          Properties: {Path: "/files/{proxy+}", Method: any}
        Boom:
          Type: Api
          Properties: {Path: /boom, Method: get}
  People:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.people
      Events:
        One:
          Type: HttpApi
          Properties: {Path: "/people/{name}", Method: get}
        Rest:
          Type: HttpApi
"""

APP = """\
import json

def shop(event, context):
    if event["path"] == "/boom":
        raise RuntimeError("boom")
    return {"statusCode": 200, "body": json.dumps(event)}

def people(event, context):
    return {"route": event["routeKey"], "params": event.get("pathParameters"), "version": event["version"]}
"""


@pytest.fixture
def served(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    fns = TemplateFunctions(str(tmp_path / "template.yaml"), region="us-east-1")
    routes, skipped = routes_of(fns.resources, fns.names())
    assert skipped == []
    logs = []
    server = ApiServer(LocalLambda(fns, Pool(idle_timeout=60)), routes, port=0, log=logs.append).start()
    server.logs = logs
    yield server
    server.close()


def get(url: str, method: str = "GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_rest_routes_get_the_1_0_event_and_api_gateways_answers(served):
    status, event = get(served.url + "/items/42?x=1")
    assert status == 200 and event["resource"] == "/items/{id}" and event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"x": "1"} and event["requestContext"]["stage"] == "Prod"
    status, event = get(served.url + "/files/a/b.txt", method="PUT")
    assert status == 200 and event["pathParameters"] == {"proxy": "a/b.txt"} and event["httpMethod"] == "PUT"
    assert get(served.url + "/boom") == (502, {"message": "Internal server error"})
    assert any("RuntimeError" in text and "boom" in text for text in served.logs)  # the function's log


def test_http_routes_get_the_2_0_event_and_default_takes_the_rest(served):
    status, answer = get(served.url + "/people/ada")
    assert status == 200 and answer == {"route": "GET /people/{name}", "params": {"name": "ada"}, "version": "2.0"}
    status, answer = get(served.url + "/anything/else", method="DELETE")  # the HttpApi event without a path
    assert status == 200 and answer["route"] == "$default"


def test_route_order_is_api_gateways():
    routes = [Route("rest", "GET", "/users/{id}", "A"), Route("rest", "GET", "/users/me", "B"),
              Route("rest", "ANY", "/users/{id}", "C"), Route("rest", "ANY", "/{proxy+}", "D")]
    assert match(routes, "GET", "/users/me")[0].function == "B"
    assert match(routes, "GET", "/users/7")[0].function == "A"
    assert match(routes, "POST", "/users/7")[0].function == "C"
    assert match(routes, "GET", "/a/b/c") == (routes[3], {"proxy": "a/b/c"})
    assert match(routes, "GET", "/") is None


def test_an_event_with_a_computed_path_is_named_and_left_out(tmp_path):
    resources = {"Fn": {"Properties": {"Events": {
        "Odd": {"Type": "Api", "Properties": {"Path": {"Fn::Sub": "/${Stage}/x"}, "Method": "get"}},
        "Ok": {"Type": "Api", "Properties": {"Path": "/ok", "Method": "post"}},
        "Queue": {"Type": "SQS", "Properties": {"Queue": "arn"}}}}}}
    routes, skipped = routes_of(resources, ["Fn"])
    assert routes == [Route("rest", "POST", "/ok", "Fn", "1.0", "Ok")]
    assert skipped == ["Fn.Events.Odd: Path and Method must be plain strings to be served locally (this route is "
                       "left out)"]
    _, located = routes_of(resources, ["Fn"], where=lambda keys: "template.yaml:12:9")
    assert located[0].startswith("template.yaml:12:9: Fn.Events.Odd: ")


def test_the_workshop_api_from_the_command_line(tmp_path):
    """`lamctl local start-api` in samples/workshop: GET /hello answers Hello World; SIGTERM stops everything."""
    workshop = tmp_path / "workshop"
    shutil.copytree(SAMPLE, workshop, ignore=shutil.ignore_patterns(".lamctl"))
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", "local", "start-api", "--port", "0"],
                            cwd=workshop, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        url = None
        for _ in range(40):
            line = proc.stderr.readline()
            if not line:
                break
            if "local API at " in line:
                url = line.split("local API at ", 1)[1].strip()
                break
        assert url, "start-api never said where it listens"
        assert get(url + "/hello") == (200, {"message": "Hello World"})
        assert get(url + "/nope") == (403, {"message": "Missing Authentication Token"})
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stderr.read()


def test_a_template_without_api_events_is_refused(cli, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(TEMPLATE.split("      Events:")[0])
    r = cli("local", "start-api", "--port", "0", cwd=tmp_path)
    assert r.exit_code == 2 and "the template has no Api or HttpApi events to serve" in r.stderr


def test_start_api_warns_of_a_python_version_other_than_the_declared_one(cli, tmp_path):
    """As local invoke and start-lambda do, before serving (here the port is busy, so it stops right after)."""
    declared = f"python3.{sys.version_info.minor + 1}"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("python3.12", declared))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli("local", "start-api", "--port", port, cwd=tmp_path)
    assert r.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in r.stderr, r
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name in ("Shop", "People"):
        assert f"{name} declares {declared}; locally it runs on the Python lamctl runs on, {running}" in r.stderr
    assert r.stderr.count(f"Shop declares {declared}") == 1
