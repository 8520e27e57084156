"""Go functions (``BuildMethod: go1.x``): samples/hello-go built with the real go toolchain (offline, through
../shared/goproxy), run by the local runtime (local invoke, start-lambda, start-api) and on the local cloud."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import urllib.request
import zipfile

import pytest

from tests.gotools import copy_sample, elf_machine, go_settings, require_go

HOST = {"aarch64": "arm64", "amd64": "x86_64"}.get(platform.machine(), platform.machine())
OTHER = "arm64" if HOST == "x86_64" else "x86_64"


@pytest.fixture(scope="session")
def go_modcache(tmp_path_factory):
    return tmp_path_factory.mktemp("gomodcache")


@pytest.fixture
def go_env(monkeypatch, go_modcache):
    require_go()
    for key, value in go_settings(go_modcache).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def hello(tmp_path, go_env):
    return copy_sample(tmp_path / "hello-go")


def set_arch(project, arch: str) -> None:
    tpl = project / "template.yaml"
    tpl.write_text(tpl.read_text().replace("Architectures: [x86_64]", f"Architectures: [{arch}]"))


def built(project) -> tuple[dict, bytes, str]:
    """The artifact's zip entries (name -> mode), the bootstrap's bytes and the zip's sha256."""
    path = project / ".lamctl" / "build" / "HelloGoFunction.zip"
    with zipfile.ZipFile(path) as zf:
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        data = zf.read("bootstrap")
    return modes, data, hashlib.sha256(path.read_bytes()).hexdigest()


def states(r) -> dict:
    return {x["resource"]: "reused" if x["reused"] else "built" for x in r.json_lines() if x.get("type") == "artifact"}


def test_go_build_makes_one_reproducible_bootstrap(cli, hello, tmp_path, monkeypatch):
    r = cli("--output", "json", "build", cwd=hello)
    assert r.exit_code == 0, r
    assert states(r) == {"HelloGoFunction": "built"}
    modes, data, sha = built(hello)
    assert modes == {"bootstrap": 0o755}  # the executable alone, as sam build's go builder makes it
    assert elf_machine(data) == "x86_64"
    assert not (hello / "hello" / "bootstrap").exists()  # nothing written into the source folder

    # the same sources elsewhere (another checkout path, another lamctl cache) give the same bytes
    other = copy_sample(tmp_path / "elsewhere" / "hello-go")
    own_cache = os.environ["XDG_CACHE_HOME"]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "other-cache"))
    r = cli("build", cwd=other)
    assert r.exit_code == 0, r
    assert built(other)[2] == sha
    monkeypatch.setenv("XDG_CACHE_HOME", own_cache)

    # nothing changed: the zip is reused; a change to the code builds it again
    r = cli("--output", "json", "build", cwd=hello)
    assert states(r) == {"HelloGoFunction": "reused"}
    main = hello / "hello" / "main.go"
    main.write_text(main.read_text().replace('"Hello, %s!"', '"Hi, %s!"'))
    r = cli("--output", "json", "build", cwd=hello)
    assert states(r) == {"HelloGoFunction": "built"}
    assert built(hello)[2] != sha
    # go.mod and go.sum are inputs too
    sha = built(hello)[2]
    gomod = hello / "hello" / "go.mod"
    gomod.write_text(gomod.read_text() + "\n// a comment\n")
    r = cli("--output", "json", "build", cwd=hello)
    assert states(r) == {"HelloGoFunction": "built"} and built(hello)[2] == sha  # rebuilt, same program


def test_architectures_arm64_builds_for_arm64(cli, hello):
    set_arch(hello, "arm64")
    r = cli("build", cwd=hello)
    assert r.exit_code == 0, r
    assert elf_machine(built(hello)[1]) == "arm64"


def test_a_compile_error_names_the_file_and_line(cli, hello):
    main = hello / "hello" / "main.go"
    main.write_text(main.read_text().replace("name := event.Name", "name := event.Nmae"))
    r = cli("build", cwd=hello)
    assert r.exit_code == 2, r
    line = next(i for i, text in enumerate(main.read_text().splitlines(), 1) if "event.Nmae" in text)
    assert f"{main}:{line}:" in r.stderr and "HelloGoFunction" in r.stderr and "Nmae" in r.stderr
    assert not (hello / ".lamctl" / "build" / "HelloGoFunction.zip").exists()


def test_a_missing_go_is_a_usage_error_before_any_work(cli, hello, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    r = cli("build", cwd=hello)
    assert r.exit_code == 2, r
    assert "'go'" in r.stderr and "golang-go" in r.stderr
    assert not (hello / ".lamctl" / "build").exists()


def test_a_go_function_needs_go_mod_and_a_provided_runtime(cli, hello):
    tpl = hello / "template.yaml"
    text = tpl.read_text()
    tpl.write_text(text.replace("Runtime: provided.al2023", "Runtime: python3.12"))
    r = cli("build", cwd=hello)
    assert r.exit_code == 2 and "template.yaml:15" in r.stderr and "provided.al2023" in r.stderr, r
    tpl.write_text(text)
    (hello / "hello" / "go.mod").unlink()
    r = cli("build", cwd=hello)
    assert r.exit_code == 2 and "template.yaml:13" in r.stderr and "go.mod" in r.stderr, r


def test_the_retired_go1x_runtime_gets_an_executable_named_after_its_handler(cli, hello):
    tpl = hello / "template.yaml"
    tpl.write_text(tpl.read_text().replace("Handler: bootstrap", "Handler: hello")
                   .replace("Runtime: provided.al2023", "Runtime: go1.x"))
    r = cli("build", cwd=hello)
    assert r.exit_code == 0, r
    assert "go1.x" in r.stderr and "provided.al2023" in r.stderr  # the warning
    with zipfile.ZipFile(hello / ".lamctl" / "build" / "HelloGoFunction.zip") as zf:
        assert [(i.filename, (i.external_attr >> 16) & 0o777) for i in zf.infolist()] == [("hello", 0o755)]


def test_local_invoke_runs_the_go_function(cli, hello):
    r = cli("local", "invoke", "HelloGoFunction", "-e", "-", stdin='{"name": "Gopher"}', cwd=hello)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout) == {"message": "Hello, Gopher!"}
    assert "REPORT RequestId:" in r.stderr


def test_local_invoke_of_a_function_built_for_another_processor_says_so(cli, hello):
    if os.path.exists(f"/proc/sys/fs/binfmt_misc/qemu-{'aarch64' if OTHER == 'arm64' else 'x86_64'}"):
        pytest.skip(f"this machine runs {OTHER} executables through qemu")
    set_arch(hello, OTHER)
    r = cli("local", "invoke", "HelloGoFunction", cwd=hello)
    assert r.exit_code == 1, r
    assert f"built for {OTHER}" in r.stdout + r.stderr and f"Architectures: [{HOST}]" in r.stdout + r.stderr


def test_start_lambda_runs_the_go_function(hello):
    import boto3
    from botocore.config import Config

    from lamctl.local.runtime.functions import TemplateFunctions
    from lamctl.local.runtime.invoke_api import InvokeServer
    from lamctl.local.runtime.pool import Pool
    from lamctl.local.runtime.service import LocalLambda

    fns = TemplateFunctions(str(hello / "template.yaml"), build_dir=str(hello / ".lamctl" / "build"))
    server = InvokeServer(LocalLambda(fns, Pool(idle_timeout=None)), "127.0.0.1", 0).start()
    try:
        lam = boto3.client("lambda", endpoint_url=server.url, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing",
                           config=Config(retries={"total_max_attempts": 1}))
        for name in ("Gopher", "again"):  # the second call is served by the warm process
            out = lam.invoke(FunctionName="HelloGoFunction", Payload=json.dumps({"name": name}).encode())
            assert out["StatusCode"] == 200 and "FunctionError" not in out
            assert json.loads(out["Payload"].read()) == {"message": f"Hello, {name}!"}
    finally:
        server.close()


def test_start_api_serves_the_go_function(hello):
    """`lamctl local start-api` in the sample: GET /hello?name=... answers through the HTTP API event."""
    proc = subprocess.Popen([sys.executable, "-m", "lamctl.cli", "local", "start-api", "--port", "0"],
                            cwd=hello, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
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
        with urllib.request.urlopen(url + "/hello?name=Gopher", timeout=120) as resp:
            assert resp.status == 200 and json.loads(resp.read()) == {"message": "Hello, Gopher!"}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stderr.read()


def test_hello_go_deploys_to_the_local_cloud_and_answers(cli, local_cloud, hello):
    aws = local_cloud
    r = cli("--endpoint-url", aws.endpoint, "--output", "json", "deploy", cwd=hello)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["status"] == "CREATE_COMPLETE"
    resources = aws.client("cloudformation").list_stack_resources(StackName="hello-go")["StackResourceSummaries"]
    name = next(x["PhysicalResourceId"] for x in resources if x["LogicalResourceId"] == "HelloGoFunction")
    lam = aws.client("lambda")
    conf = lam.get_function(FunctionName=name)["Configuration"]
    assert (conf["Runtime"], conf["Handler"], conf["Architectures"]) == ("provided.al2023", "bootstrap", ["x86_64"])

    out = lam.invoke(FunctionName=name, Payload=b'{"name": "cloud"}')
    assert out["StatusCode"] == 200 and "FunctionError" not in out, out
    assert json.loads(out["Payload"].read()) == {"message": "Hello, cloud!"}

    api = aws.client("apigatewayv2").get_apis()["Items"][0]["ApiId"]
    from lamctl.local.cloud.urls import api_url

    with urllib.request.urlopen(api_url(aws.endpoint, api, "$default", "/hello?name=api"), timeout=120) as resp:
        assert resp.status == 200 and json.loads(resp.read()) == {"message": "Hello, api!"}
