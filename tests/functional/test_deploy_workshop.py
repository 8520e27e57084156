"""The workshop sample, end to end: `lamctl deploy` in samples/workshop builds, packages, transforms and
deploys both functions to the local cloud (here the local cloud's server in this process, over HTTP),
and invoking them runs the deployed code."""

from __future__ import annotations

import io
import json
import pathlib
import re
import shutil
import urllib.request
import zipfile

import pytest

SAMPLE = pathlib.Path(__file__).resolve().parents[2] / "samples" / "workshop"


GREETING_CODE = 'os.environ.get("GREETING", "Hello World")'


def new_code(workshop, text: str) -> None:
    """A code change: the function answers ``text`` whatever its greeting (hello_world/app.py in the copy)."""
    app_py = workshop / "hello_world" / "app.py"
    code = app_py.read_text()
    assert GREETING_CODE in code
    app_py.write_text(code.replace(GREETING_CODE, repr(text)))


@pytest.fixture
def workshop(tmp_path):
    dest = tmp_path / "workshop"
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns(".lamctl"))
    return dest


def stack_functions(aws, stack="workshop") -> dict[str, str]:
    resources = aws.client("cloudformation").list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources
            if r["ResourceType"] == "AWS::Lambda::Function"}


def test_workshop_deploys_to_the_local_cloud(cli, local_cloud, workshop):
    aws = local_cloud
    # lamctl.toml says target = "local" and stack = "workshop": no flag needed but the emulator's address
    r = cli("--endpoint-url", aws.endpoint, "deploy", cwd=workshop)
    assert r.exit_code == 0, r
    assert "CREATE_COMPLETE" in r.stdout
    assert "lamctl-local-artifacts on the local cloud" in r.stderr  # the local cloud's artifact bucket, made on demand
    assert "outputs unavailable" not in r.stderr
    api_id = aws.client("apigateway").get_rest_apis()["items"][0]["id"]
    assert re.search(rf"HelloWorldApi +https://{api_id}\.execute-api\.us-east-1\.amazonaws\.com/Prod/hello/ ", r.stdout)
    assert re.search(r"HelloWorldFunctionArn +arn:aws:lambda:us-east-1:123456789012:function:workshop-hello ", r.stdout)
    api_url = f"{aws.endpoint}/restapis/{api_id}/Prod/_user_request_/"
    # where its route answers locally, in full (the stage root alone answers 403)
    assert re.search(rf"ServerlessRestApi +Prod +GET +{re.escape(api_url)}hello\n", r.stdout), r.stdout

    functions = stack_functions(aws)
    assert set(functions) == {"HelloWorldFunction", "CustomRuntimeFunction"}
    lam = aws.client("lambda")
    hello = lam.get_function(FunctionName=functions["HelloWorldFunction"])
    custom = lam.get_function(FunctionName=functions["CustomRuntimeFunction"])
    assert hello["Configuration"]["Runtime"] == "python3.12"
    assert hello["Configuration"]["Handler"] == "app.lambda_handler"
    assert custom["Configuration"]["Runtime"] == "provided.al2023"

    # the custom runtime's code went up with an executable bootstrap
    s3 = aws.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lamctl-local-artifacts")["Contents"]]
    assert len(keys) == 2
    bootstrap_modes = []
    for key in keys:
        body = s3.get_object(Bucket="lamctl-local-artifacts", Key=key)["Body"].read()
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            for info in zf.infolist():
                if info.filename == "bootstrap":
                    bootstrap_modes.append((info.external_attr >> 16) & 0o777)
    assert bootstrap_modes == [0o755]

    # the REST API runs the function, as API Gateway's Lambda proxy integration does
    with urllib.request.urlopen(api_url + "hello", timeout=30) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/json"
        assert json.loads(resp.read()) == {"message": "Hello World"}

    # invoking runs the deployed code: the Python handler and the shell bootstrap
    invoked = lam.invoke(FunctionName=functions["HelloWorldFunction"], Payload=b"{}")
    assert invoked["StatusCode"] == 200 and "FunctionError" not in invoked
    assert json.loads(json.loads(invoked["Payload"].read())["body"]) == {"message": "Hello World"}
    curl = shutil.which("curl") is not None  # the custom runtime's bootstrap uses it
    if curl:
        r = cli("--endpoint-url", aws.endpoint, "invoke", "CustomRuntimeFunction", "--stack", "workshop", "-e", "-",
                stdin='{"name": "workshop"}', cwd=workshop)
        assert r.exit_code == 0, r
        assert "executed version: $LATEST" in r.stderr and "Hello from a custom runtime" in r.stdout
        custom_answer = r.stdout

    # deploying again with nothing changed: no new upload, no change
    r = cli("--endpoint-url", aws.endpoint, "--output", "json", "deploy", cwd=workshop)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["status"] == "NO_CHANGES"
    assert len(s3.list_objects_v2(Bucket="lamctl-local-artifacts")["Contents"]) == 2

    # a code change updates the one function whose code changed
    new_code(workshop, "Hello, workshop")
    r = cli("--endpoint-url", aws.endpoint, "--output", "json", "deploy", cwd=workshop)
    assert r.exit_code == 0, r
    lines = r.json_lines()
    assert lines[-1]["status"] == "UPDATE_COMPLETE"
    changed = {(c["action"], c["logical_id"]) for c in lines if c["type"] == "change"}
    assert ("Modify", "HelloWorldFunction") in changed
    assert ("Modify", "CustomRuntimeFunction") not in changed
    assert len(s3.list_objects_v2(Bucket="lamctl-local-artifacts")["Contents"]) == 3
    # ... and the next invocation runs the new code (the custom runtime's is unchanged)
    r = cli("--endpoint-url", aws.endpoint, "invoke", "HelloWorldFunction", "--stack", "workshop", cwd=workshop)
    assert r.exit_code == 0, r
    assert json.loads(json.loads(r.stdout)["body"]) == {"message": "Hello, workshop"}
    if curl:
        r = cli("--endpoint-url", aws.endpoint, "invoke", "CustomRuntimeFunction", "--stack", "workshop", "-e", "-",
                stdin='{"name": "workshop"}', cwd=workshop)
        assert r.exit_code == 0 and r.stdout == custom_answer


def test_workshop_hello_world_answers_hello_world(cli, workshop):
    """The function itself, run by the local runtime: the answer the README promises."""
    r = cli("local", "invoke", "HelloWorldFunction", cwd=workshop)
    assert r.exit_code == 0, r
    assert '"statusCode": 200' in r.stdout and "Hello World" in r.stdout


def test_workshop_custom_runtime_answers(cli, workshop):
    if shutil.which("curl") is None:
        pytest.skip("the custom runtime's bootstrap uses curl, which this machine lacks")
    r = cli("local", "invoke", "CustomRuntimeFunction", cwd=workshop)
    assert r.exit_code == 0, r
    assert "Hello from a custom runtime" in r.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lamctl(*args, cwd, env, timeout=180):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "lamctl.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_readme_quick_start_on_a_fresh_machine(workshop, monkeypatch):
    """`cd samples/workshop && lamctl deploy` with no AWS settings at all: a local cloud process is started,
    the app deployed to it, and `lamctl local stop` leaves no process behind."""
    import json
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMCTL_"))}
    env["LAMCTL_LOCAL_PORT"] = str(_free_port())
    pid = None
    try:
        r = _lamctl("deploy", cwd=workshop, env=env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Stack workshop: CREATE_COMPLETE" in r.stdout
        assert "lamctl local stop" in r.stderr  # the user is told how to stop what was started
        (api_url,) = [w for line in r.stdout.splitlines() for w in line.split() if "/_user_request_/" in w]
        assert api_url.endswith("/Prod/_user_request_/hello")  # the route, in full
        with urllib.request.urlopen(api_url, timeout=60) as resp:  # curl it, as the README says
            assert json.loads(resp.read()) == {"message": "Hello World"}

        st = _lamctl("--output", "json", "local", "status", cwd=workshop, env=env)
        assert st.returncode == 0, st.stdout + st.stderr
        status = json.loads(st.stdout.strip().splitlines()[-1])
        assert status["running"] is True
        pid = status["pid"]

        hello = _lamctl("invoke", "HelloWorldFunction", "--stack", "workshop", cwd=workshop, env=env)
        assert hello.returncode == 0, hello.stdout + hello.stderr
        assert json.loads(json.loads(hello.stdout)["body"]) == {"message": "Hello World"}  # the code ran
        assert "executed version: $LATEST" in hello.stderr

        s = _lamctl("--output", "json", "status", "--stack", "workshop", cwd=workshop, env=env)
        assert s.returncode == 0, s.stdout + s.stderr
        assert json.loads(s.stdout.strip().splitlines()[-1])["status"] == "CREATE_COMPLETE"

        again = _lamctl("deploy", cwd=workshop, env=env)
        assert again.returncode == 0 and "No changes" in again.stdout, again.stdout + again.stderr
    finally:
        stop = _lamctl("local", "stop", cwd=workshop, env=env)
        assert stop.returncode == 0, stop.stdout + stop.stderr
    assert pid is not None
    assert _gone(pid), f"the local cloud (pid {pid}) is still running after 'lamctl local stop': {stop.stdout}"


def _gone(pid: int, within: float = 5.0) -> bool:
    """The process has exited (a zombie awaiting its reaper counts as exited); allow the OS a moment."""
    import time

    deadline = time.monotonic() + within
    while True:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_workshop_with_auto_publish_alias_gets_its_alias_on_the_local_cloud(cli, local_cloud, workshop,
                                                                           instant_clock):
    """SAM's AutoPublishAlias on the local cloud: each deploy that changes the code publishes a version and
    moves the alias to it. CodeDeploy's resources are skipped; lamctl deploy does the DeploymentPreference's
    canary itself (on the injected clock here; see test_localcloud_deployment_preference.py)."""
    aws = local_cloud
    template = workshop / "template.yaml"
    template.write_text(template.read_text().replace(
        "      Runtime: python3.12\n",
        "      Runtime: python3.12\n      AutoPublishAlias: live\n"
        "      DeploymentPreference:\n        Type: Canary10Percent5Minutes\n", 1))
    r = cli("--endpoint-url", aws.endpoint, "--output", "json", "deploy", cwd=workshop)
    assert r.exit_code == 0, r
    result = r.json_lines()[-1]
    assert result["status"] == "CREATE_COMPLETE"
    skipped = {s["resource_type"] for s in result["skipped"]}
    assert skipped == {"AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup"}
    functions = stack_functions(aws)
    assert set(functions) == {"HelloWorldFunction", "CustomRuntimeFunction"}
    lam = aws.client("lambda")
    alias = lam.get_alias(FunctionName="workshop-hello", Name="live")
    assert alias["FunctionVersion"] == "1"

    r = cli("--endpoint-url", aws.endpoint, "invoke", "HelloWorldFunction:live", "--stack", "workshop", cwd=workshop)
    assert r.exit_code == 0, r
    assert "executed version: 1" in r.stderr and "Hello World" in r.stdout

    new_code(workshop, "Hello, version 2")
    r = cli("--endpoint-url", aws.endpoint, "deploy", cwd=workshop)
    assert r.exit_code == 0, r
    assert lam.get_alias(FunctionName="workshop-hello", Name="live")["FunctionVersion"] == "2"
    r = cli("--endpoint-url", aws.endpoint, "invoke", "workshop-hello:live", cwd=workshop)
    assert r.exit_code == 0 and "executed version: 2" in r.stderr and "Hello, version 2" in r.stdout, r
    old = lam.invoke(FunctionName="workshop-hello", Qualifier="1", Payload=b"{}")
    assert "Hello World" in old["Payload"].read().decode()  # the earlier version is kept, with its code

    r = cli("--endpoint-url", aws.endpoint, "delete", "--stack", "workshop", "--yes", cwd=workshop)
    assert r.exit_code == 0, r
    assert not lam.list_functions()["Functions"]


def walk_through_commands(heading: str) -> list[list[str]]:
    """The lamctl commands of the first sh block under ``heading`` in samples/workshop/README.md, as the shell
    hands them to lamctl (quotes removed, comments and a trailing ``&`` dropped), without the ``lamctl``."""
    import shlex

    text = (SAMPLE / "README.md").read_text()
    section = text[text.index(heading):]
    block = section[section.index("```sh\n") + 6:]
    block = block[:block.index("```")]
    commands = []
    for line in block.replace("\\\n", " ").splitlines():  # a backslash-newline continues the line
        words = shlex.split(line, comments=True)
        if words and words[0] == "lamctl":
            commands.append([w for w in words[1:] if w != "&"])
    return commands


def test_the_canary_walk_through_deploys_version_2_with_a_parameter_and_edits_no_file(cli, local_cloud, workshop,
                                                                                    instant_clock):
    """samples/workshop/README.md's canary, command by command (the shift's hold on the injected clock): the
    new greeting comes from `deploy --parameter-overrides`, version 1 keeps the old one, and no file changes."""
    aws = local_cloud
    steps = walk_through_commands("## A canary, locally")
    assert [s[0] for s in steps] == ["publish", "alias", "deploy", "shift", "promote", "invoke"]
    before = {p: p.read_bytes() for p in workshop.rglob("*") if p.is_file() and ".lamctl" not in p.parts}
    r = cli("--endpoint-url", aws.endpoint, "deploy", cwd=workshop)
    assert r.exit_code == 0, r
    lam = aws.client("lambda")

    def answer(qualifier: str) -> tuple[str, str]:
        out = lam.invoke(FunctionName="workshop-hello", Qualifier=qualifier, Payload=b"{}")
        return out["ExecutedVersion"], json.loads(json.loads(out["Payload"].read())["body"])["message"]

    publish, alias, deploy, shift, promote, invoke = steps
    for step in (publish, alias):
        r = cli("--endpoint-url", aws.endpoint, *step, cwd=workshop)
        assert r.exit_code == 0, (step, r)
    assert answer("live") == ("1", "Hello World")

    assert deploy[1:] == ["--parameter-overrides", 'Greeting="Hello, canary"']  # one value, as the shell passes it
    r = cli("--endpoint-url", aws.endpoint, *deploy, cwd=workshop)
    assert r.exit_code == 0, r
    assert "UPDATE_COMPLETE" in r.stdout
    assert answer("$LATEST") == ("$LATEST", "Hello, canary")
    assert answer("live") == ("1", "Hello World")  # nothing shifted yet

    r = cli("--endpoint-url", aws.endpoint, *shift, cwd=workshop)  # holds 10 % for 5 minutes of the fake clock
    assert r.exit_code == 0, r
    assert answer("live") == ("2", "Hello, canary")
    assert answer("1") == ("1", "Hello World")  # version 1 keeps its configuration
    r = cli("--endpoint-url", aws.endpoint, *invoke, cwd=workshop)
    assert r.exit_code == 0 and "executed version: 2" in r.stderr and "Hello, canary" in r.stdout, r
    after = {p: p.read_bytes() for p in workshop.rglob("*") if p.is_file() and ".lamctl" not in p.parts}
    assert after == before  # the walk-through asked for no edit
