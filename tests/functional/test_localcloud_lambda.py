"""Lambda on the local cloud: invokes sent to the emulator run the deployed code of the invoked version
through lamctl's local runtime (real function processes), and an alias with routing weights splits
invocations between its two versions at those odds. Everything goes over real HTTP to an
:class:`~lamctl.local.cloud.emulator.EmulatorServer` in this process."""

from __future__ import annotations

import base64
import collections
import io
import json
import os
import random
import threading
import time
import zipfile

import boto3
import pytest
from botocore.config import Config

from lamctl.local.cloud.lambdas import pick_version
from lamctl.local.cloud.emulator import EmulatorServer

CREDS = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")

HANDLER = """\
import os, time
MARK = {mark!r}
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("started"):  # tell the test the handler runs
        open(event["started"], "w").close()
    if event.get("hold"):  # answer once the test creates this file
        while not os.path.exists(event["hold"]):
            time.sleep(0.01)
    return {{"mark": MARK, "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"], "pid": os.getpid(),
            "arn": context.invoked_function_arn, "event": event,
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "memory": context.memory_limit_in_mb}}
"""


def code_zip(mark: str, source: str = HANDLER, extra: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", source.format(mark=mark))
        for name, text in (extra or {}).items():
            zf.writestr(name, text)
    return buf.getvalue()


class Cloud:
    def __init__(self, server: EmulatorServer):
        self.server = server
        self.endpoint = server.endpoint
        self.lam = self.client("lambda")
        self.role = self.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]

    def client(self, service: str, **config):
        return boto3.client(service, endpoint_url=self.endpoint, config=Config(**config) if config else None,
                            **CREDS)

    def function(self, name: str = "fn", mark: str = "one", **kwargs) -> None:
        props = dict(FunctionName=name, Runtime="python3.12", Role=self.role, Handler="app.handler",
                     Code={"ZipFile": code_zip(mark)})
        props.update(kwargs)
        self.lam.create_function(**props)

    def invoke(self, **kwargs):
        kwargs.setdefault("Payload", b"{}")
        resp = self.lam.invoke(**kwargs)
        body = resp["Payload"].read()
        return resp, json.loads(body) if body else None


@pytest.fixture
def cloud():
    server = EmulatorServer(rng=random.Random(20261122), idle_timeout=None, retry_delays=(0.0, 0.0),
                            internal_invokes=True).start()
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(server.endpoint + "/moto-api/reset", method="POST"),
                           timeout=30).read()
    c = Cloud(server)
    yield c
    pids = server.handler.service.pool.pids()
    server.stop()
    for pid in pids:  # every function process is gone with the server
        with pytest.raises(ProcessLookupError):
            deadline = time.monotonic() + 30  # bounds a loaded machine; a gone process ends it at once
            while time.monotonic() < deadline:
                os.kill(pid, 0)
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                time.sleep(0.01)


def published(cloud: Cloud, name: str, *marks: str) -> list[str]:
    """Publish one version per mark (each with its own code); returns the version numbers."""
    versions = []
    for mark in marks:
        cloud.lam.update_function_code(FunctionName=name, ZipFile=code_zip(mark))
        versions.append(cloud.lam.publish_version(FunctionName=name)["Version"])
    return versions


def test_an_invoke_runs_the_deployed_handler_with_lambdas_answer(cloud):
    cloud.function(MemorySize=256)
    resp, answer = cloud.invoke(FunctionName="fn", Payload=b'{"hello": "world"}', LogType="Tail")
    assert resp["StatusCode"] == 200 and resp["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in resp
    assert answer["mark"] == "one" and answer["event"] == {"hello": "world"}  # the handler ran
    assert answer["version"] == "$LATEST" and answer["memory"] == "256"
    assert answer["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert answer["endpoint"] == cloud.endpoint  # the function's own SDK calls go to the local cloud
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "Version: $LATEST" in log and "REPORT RequestId:" in log and "Memory Size: 256 MB" in log


def test_each_version_runs_its_own_code(cloud):
    cloud.function(mark="zero")
    v1, v2 = published(cloud, "fn", "one", "two")
    cloud.lam.update_function_code(FunctionName="fn", ZipFile=code_zip("unpublished"))
    arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    cases = [
        (dict(FunctionName="fn", Qualifier=v1), "one", v1),
        (dict(FunctionName="fn", Qualifier=v2), "two", v2),
        (dict(FunctionName=f"fn:{v1}"), "one", v1),
        (dict(FunctionName=f"{arn}:{v2}"), "two", v2),
        (dict(FunctionName="fn"), "unpublished", "$LATEST"),
        (dict(FunctionName="fn", Qualifier="$LATEST"), "unpublished", "$LATEST"),
    ]
    for kwargs, mark, version in cases:
        resp, answer = cloud.invoke(**kwargs)
        assert (answer["mark"], answer["version"], resp["ExecutedVersion"]) == (mark, version, version), kwargs


def test_an_alias_with_weights_sends_each_invocation_to_one_of_its_versions_at_those_odds(cloud):
    cloud.function()
    v1, v2 = published(cloud, "fn", "old", "new")
    cloud.lam.create_alias(FunctionName="fn", Name="live", FunctionVersion=v1,
                           RoutingConfig={"AdditionalVersionWeights": {v2: 0.1}})
    seen = collections.Counter()
    for _ in range(400):
        resp, answer = cloud.invoke(FunctionName="fn", Qualifier="live")
        # what the caller is told ran is what ran
        assert resp["ExecutedVersion"] == answer["version"]
        assert answer["mark"] == {v1: "old", v2: "new"}[answer["version"]]
        assert answer["arn"].endswith(":function:fn:live")  # the context names the alias it was invoked by
        seen[answer["version"]] += 1
    # 10 % of 400 is 40 (standard deviation 6): far from both 0 and a 50/50 split
    assert 20 <= seen[v2] <= 65 and seen[v1] + seen[v2] == 400, seen

    # all the way over: no more routing, every invocation runs the new version
    cloud.lam.update_alias(FunctionName="fn", Name="live", FunctionVersion=v2, RoutingConfig={})
    for _ in range(20):
        resp, answer = cloud.invoke(FunctionName="fn:live")
        assert resp["ExecutedVersion"] == v2 and answer["mark"] == "new"


def test_pick_version_follows_the_weights():
    rng = random.Random(7)
    picks = collections.Counter(pick_version("1", {"2": 0.25}, rng) for _ in range(20000))
    assert abs(picks["2"] / 20000 - 0.25) < 0.02
    assert {pick_version("1", None, rng) for _ in range(100)} == {"1"}
    assert {pick_version("1", {"2": 1.0}, rng) for _ in range(100)} == {"2"}


def test_unknown_function_version_and_alias_are_resource_not_found(cloud):
    cloud.function()
    cases = [dict(FunctionName="nope"), dict(FunctionName="fn", Qualifier="9"),
             dict(FunctionName="fn", Qualifier="missing"), dict(FunctionName="fn:missing")]
    for kwargs in cases:
        with pytest.raises(cloud.lam.exceptions.ResourceNotFoundException) as info:
            cloud.lam.invoke(**kwargs)
        assert "Function not found: arn:aws:lambda:us-east-1:123456789012:function:" in str(info.value), kwargs


def test_a_function_error_is_unhandled_with_lambdas_error_object(cloud):
    cloud.function()
    resp, answer = cloud.invoke(FunctionName="fn", Payload=b'{"fail": true}')
    assert resp["StatusCode"] == 200 and resp["FunctionError"] == "Unhandled"
    assert answer["errorType"] == "ValueError" and answer["errorMessage"] == "asked to fail"
    resp, answer = cloud.invoke(FunctionName="fn")  # the environment survives a handled exception
    assert "FunctionError" not in resp and answer["mark"] == "one"


def test_a_runtime_lamctl_cannot_run_is_a_clear_error_not_an_echo(cloud):
    cloud.function(Runtime="java21", Handler="example.Handler")
    with pytest.raises(cloud.lam.exceptions.InvalidRuntimeException) as info:
        cloud.lam.invoke(FunctionName="fn", Payload=b"{}")
    assert "java21" in str(info.value) and "not supported locally" in str(info.value)


def test_warm_environments_are_reused_per_version_and_new_code_gets_a_fresh_one(cloud):
    cloud.function()
    (v1,) = published(cloud, "fn", "one")
    first = {cloud.invoke(FunctionName="fn", Qualifier=v1)[1]["pid"] for _ in range(5)}
    assert len(first) == 1  # sequential calls: one warm environment
    latest_pid = cloud.invoke(FunctionName="fn")[1]["pid"]
    assert latest_pid not in first  # $LATEST and version 1 are separate functions to the pool
    cloud.lam.update_function_code(FunctionName="fn", ZipFile=code_zip("edited"))
    _, answer = cloud.invoke(FunctionName="fn")
    assert answer["mark"] == "edited" and answer["pid"] != latest_pid
    assert cloud.invoke(FunctionName="fn", Qualifier=v1)[1]["pid"] in first  # the version kept its own


def test_reserved_concurrency_is_shared_by_the_functions_versions(cloud, tmp_path):
    cloud.function(Timeout=120)
    v1, v2 = published(cloud, "fn", "one", "two")
    cloud.lam.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=1)
    gate, started = tmp_path / "go", tmp_path / "started"
    answers = []
    slow = threading.Thread(target=lambda: answers.append(cloud.invoke(
        FunctionName="fn", Qualifier=v1, Payload=json.dumps({"hold": str(gate), "started": str(started)}).encode())))
    slow.start()
    lam = cloud.client("lambda", retries={"max_attempts": 1, "mode": "standard"})
    try:
        deadline = time.monotonic() + 60  # bounds a loaded machine; the handler running ends it
        while not started.exists():
            assert time.monotonic() < deadline, "the held invocation never started"
            time.sleep(0.01)
        with pytest.raises(lam.exceptions.TooManyRequestsException):  # v1's call holds the one slot
            lam.invoke(FunctionName="fn", Qualifier=v2, Payload=b"{}")
    finally:
        gate.touch()
        slow.join(120)
    assert answers and answers[0][1]["mark"] == "one"
    resp, answer = cloud.invoke(FunctionName="fn", Qualifier=v2)
    assert answer["mark"] == "two"


def test_a_function_calls_the_local_cloud_with_its_own_sdk(cloud):
    source = """\
import boto3
def handler(event, context):
    boto3.client("s3").put_object(Bucket=event["bucket"], Key="from-lambda.txt", Body=b"{mark}")
    return {{"ok": True}}
"""
    cloud.client("s3").create_bucket(Bucket="results")
    cloud.lam.create_function(FunctionName="writer", Runtime="python3.12", Role=cloud.role, Handler="app.handler",
                              Code={"ZipFile": code_zip("written", source)}, Timeout=30)
    resp, answer = cloud.invoke(FunctionName="writer", Payload=json.dumps({"bucket": "results"}).encode())
    assert answer == {"ok": True}, answer
    body = cloud.client("s3").get_object(Bucket="results", Key="from-lambda.txt")["Body"].read()
    assert body == b"written"


def test_layers_published_to_the_local_cloud_are_on_the_path(cloud):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("python/shared_words.py", "WORD = 'from the layer'\n")
    layer = cloud.lam.publish_layer_version(LayerName="words", Content={"ZipFile": buf.getvalue()},
                                            CompatibleRuntimes=["python3.12"])["LayerVersionArn"]
    source = """\
import shared_words
def handler(event, context):
    return {{"word": shared_words.WORD, "mark": {mark!r}}}
"""
    cloud.lam.create_function(FunctionName="layered", Runtime="python3.12", Role=cloud.role, Handler="app.handler",
                              Code={"ZipFile": code_zip("l", source)}, Layers=[layer])
    _, answer = cloud.invoke(FunctionName="layered")
    assert answer == {"word": "from the layer", "mark": "l"}


def test_an_event_invocation_answers_202_and_runs_in_the_background(cloud):
    source = """\
import boto3
def handler(event, context):
    boto3.client("s3").put_object(Bucket="results", Key=event["key"], Body=b"ran")
    return {{}}
"""
    cloud.client("s3").create_bucket(Bucket="results")
    cloud.lam.create_function(FunctionName="bg", Runtime="python3.12", Role=cloud.role, Handler="app.handler",
                              Code={"ZipFile": code_zip("bg", source)}, Timeout=30)
    resp = cloud.lam.invoke(FunctionName="bg", InvocationType="Event", Payload=b'{"key": "async.txt"}')
    assert resp["StatusCode"] == 202
    assert cloud.server.handler.wait_background(60)
    assert cloud.client("s3").get_object(Bucket="results", Key="async.txt")["Body"].read() == b"ran"


def test_an_sns_subscription_runs_the_function_too(cloud):
    source = """\
import boto3, json
def handler(event, context):
    message = event["Records"][0]["Sns"]["Message"]
    boto3.client("s3").put_object(Bucket="results", Key="sns.txt", Body=message.encode())
    return {{}}
"""
    cloud.client("s3").create_bucket(Bucket="results")
    fn = cloud.lam.create_function(FunctionName="listener", Runtime="python3.12", Role=cloud.role,
                                   Handler="app.handler", Code={"ZipFile": code_zip("sns", source)}, Timeout=30)
    sns = cloud.client("sns")
    topic = sns.create_topic(Name="news")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn["FunctionArn"])
    sns.publish(TopicArn=topic, Message="hello from sns")
    assert cloud.server.handler.wait_background(60)  # SNS invokes asynchronously, as on AWS
    body = cloud.client("s3").get_object(Bucket="results", Key="sns.txt")["Body"].read()
    assert body == b"hello from sns"


def test_lamctl_invoke_names_the_version_an_alias_ran(cloud, cli, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", cloud.endpoint)
    for key, value in CREDS.items():
        monkeypatch.setenv({"region_name": "AWS_REGION", "aws_access_key_id": "AWS_ACCESS_KEY_ID",
                            "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY"}[key], value)
    cloud.function()
    v1, v2 = published(cloud, "fn", "old", "new")
    cloud.lam.create_alias(FunctionName="fn", Name="live", FunctionVersion=v2)
    result = cli("invoke", "fn:live", "--logs")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["mark"] == "new"
    assert f"executed version: {v2}" in result.stderr and f"Version: {v2}" in result.stderr
    failed = cli("--output", "json", "invoke", f"fn:{v1}", "-e", "-", stdin='{"fail": true}')
    assert failed.exit_code == 1
    record = failed.json_lines()[-1]
    assert record["executed_version"] == v1 and record["function_error"] == "Unhandled"
    assert record["payload"]["errorMessage"] == "asked to fail"


def test_partial_arns_and_a_qualifier_that_contradicts_the_name(cloud):
    cloud.function()
    (v1,) = published(cloud, "fn", "one")
    resp, answer = cloud.invoke(FunctionName="123456789012:function:fn")
    assert resp["ExecutedVersion"] == "$LATEST"
    resp, answer = cloud.invoke(FunctionName=f"123456789012:function:fn:{v1}")
    assert resp["ExecutedVersion"] == v1 and answer["mark"] == "one"
    with pytest.raises(cloud.lam.exceptions.InvalidParameterValueException) as info:
        cloud.lam.invoke(FunctionName=f"fn:{v1}", Qualifier="$LATEST", Payload=b"{}")
    assert "does not match the specified qualifier" in str(info.value)


def test_codedeploy_hook_status_reports_are_recorded_for_the_release_engine(local_cloud):
    """A traffic hook written for CodeDeploy reports through PutLifecycleEventHookExecutionStatus, which moto
    lacks: the local cloud records it, and lamctl's release engine reads it back."""
    import urllib.request

    from botocore.exceptions import ClientError

    from lamctl.local.cloud.urls import hook_status_url, status_url
    from lamctl.release.aws import LambdaGateway

    codedeploy = local_cloud.client("codedeploy")
    answer = codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId="r-1", lifecycleEventHookExecutionId="r-1-BeforeAllowTraffic", status="Failed")
    assert answer["lifecycleEventHookExecutionId"] == "r-1-BeforeAllowTraffic"
    with pytest.raises(ClientError) as err:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId="r-1", lifecycleEventHookExecutionId="r-1-AfterAllowTraffic", status="Done")
    assert err.value.response["Error"]["Code"] == "InvalidLifecycleEventHookExecutionStatusException"

    gateway = LambdaGateway(local_cloud.client("lambda"))
    gateway.hook_reports_url = hook_status_url(local_cloud.endpoint)  # as lamctl shift sets it
    assert gateway.reported_hook_status("r-1-BeforeAllowTraffic") == "Failed"
    with urllib.request.urlopen(hook_status_url(local_cloud.endpoint, "r-1-BeforeAllowTraffic"), timeout=10) as resp:
        assert json.loads(resp.read()) == {"status": "Failed"}
    assert gateway.reported_hook_status("r-1-AfterAllowTraffic") is None  # the refused report left nothing
    local_cloud.reset()
    assert gateway.reported_hook_status("r-1-BeforeAllowTraffic") is None  # a reset forgets them
    with urllib.request.urlopen(status_url(local_cloud.endpoint), timeout=10) as resp:
        assert json.loads(resp.read())["lambda_runtime"] == "lamctl"
