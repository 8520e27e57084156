"""`lamctl init --runtime nodejs22.x|nodejs20.x|nodejs18.x|go`: the hello-api template in TypeScript (bundled with
esbuild) and in Go (aws-lambda-go, built into a bootstrap for provided.al2023). Each project is initialised, its
tools installed as its README says, built, deployed to the local cloud, invoked, and its own unit test run.

Nothing reaches the network: npm runs with ``npm_config_offline`` on the cache ``.ci/run`` fills (the template's
package-lock.json pins the esbuild 0.24.2 that samples/hello-node installs), and Go reads the module proxy beside
the repository (tests/gotools.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile

import pytest

from tests.gotools import go_settings, require_go


def require_node() -> None:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node and npm are not installed (.ci/run installs them)")


@pytest.fixture
def offline_npm(monkeypatch):
    require_node()
    monkeypatch.setenv("npm_config_offline", "true")
    monkeypatch.setenv("npm_config_update_notifier", "false")
    monkeypatch.setenv("npm_config_fund", "false")
    monkeypatch.setenv("npm_config_audit", "false")


@pytest.fixture
def go_env(monkeypatch, tmp_path_factory):
    require_go()
    for key, value in go_settings(tmp_path_factory.mktemp("gomodcache")).items():
        monkeypatch.setenv(key, value)


def run(cmd: list[str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=os.environ.copy())


def deploy_and_invoke(cli, local_cloud, project, function: str) -> dict:
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", cwd=project)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["status"] == "CREATE_COMPLETE"
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "invoke", function, cwd=project)
    assert r.exit_code == 0, r
    return r.json_lines()[-1]["payload"]


def greeting(answer: dict) -> str:
    assert answer["statusCode"] == 200, answer
    return json.loads(answer["body"])["message"]


def test_the_nodejs_template_installs_builds_deploys_answers_and_passes_its_own_test(cli, local_cloud, tmp_path,
                                                                                       offline_npm):
    project = tmp_path / "my-node"
    r = cli("init", project, "--runtime", "nodejs22.x")
    assert r.exit_code == 0, r
    assert f"next: cd {project} && npm install && lamctl deploy" in r.stdout + r.stderr, r
    for name in ("template.yaml", "package.json", "package-lock.json", "src/app.ts", "tests/app.test.ts",
                 "lamctl.toml", "README.md", ".gitignore"):
        assert (project / name).is_file(), name
    template = (project / "template.yaml").read_text()
    assert "Runtime: nodejs22.x" in template and "BuildMethod: esbuild" in template
    assert "node_modules/" in (project / ".gitignore").read_text().splitlines()
    assert "npm install" in (project / "README.md").read_text()
    assert cli("validate", cwd=project).exit_code == 0

    # before `npm install` (the README's first step) there is no esbuild to bundle with: exit 2, saying so
    r = cli("build", cwd=project)
    assert r.exit_code == 2 and "esbuild" in r.stderr, r
    assert "hint: install the project's packages: npm install (package.json lists esbuild)" in r.stderr, r.stderr

    npm = run(["npm", "install"], project)
    assert npm.returncode == 0, npm.stdout + npm.stderr
    r = cli("build", cwd=project)
    assert r.exit_code == 0, r
    with zipfile.ZipFile(project / ".lamctl" / "build" / "HelloFunction.zip") as zf:
        assert zf.namelist() == ["app.js"]  # esbuild's bundle only: no TypeScript, no tests, no node_modules

    assert greeting(deploy_and_invoke(cli, local_cloud, project, "my-node-hello")) == "Hello, world!"

    tests = run(["npm", "test"], project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "# pass 2" in tests.stdout and "# fail 0" in tests.stdout, tests.stdout


@pytest.mark.parametrize("runtime", ["nodejs20.x", "nodejs18.x"])
def test_the_nodejs_runtime_reaches_the_template_and_the_workflows(cli, tmp_path, runtime):
    project = tmp_path / "web"
    assert cli("init", project, "--runtime", runtime, "--ci", "github").exit_code == 0
    assert f"Runtime: {runtime}" in (project / "template.yaml").read_text()
    major = runtime.removeprefix("nodejs").removesuffix(".x")
    for workflow in ("pull-request.yml", "main.yml"):
        text = (project / ".github" / "workflows" / workflow).read_text()
        assert "uses: actions/setup-node@" in text and f'node-version: "{major}"' in text, workflow
        assert "run: npm ci" in text and "setup-python" not in text, workflow
    assert "run: npm test" in (project / ".github" / "workflows" / "pull-request.yml").read_text()


def test_the_go_template_builds_deploys_answers_and_passes_its_own_test(cli, local_cloud, tmp_path, go_env):
    project = tmp_path / "my-go"
    r = cli("init", project, "--runtime", "go", "--ci", "github")
    assert r.exit_code == 0, r
    for name in ("template.yaml", "src/go.mod", "src/go.sum", "src/main.go", "src/main_test.go", "lamctl.toml",
                 "README.md", ".gitignore"):
        assert (project / name).is_file(), name
    template = (project / "template.yaml").read_text()
    assert "Runtime: provided.al2023" in template and "BuildMethod: go1.x" in template
    assert "github.com/aws/aws-lambda-go" in (project / "src" / "go.mod").read_text()
    pr = (project / ".github" / "workflows" / "pull-request.yml").read_text()
    assert "uses: actions/setup-go@" in pr and "go test ./..." in pr and "pytest" not in pr
    assert "uses: actions/setup-go@" in (project / ".github" / "workflows" / "main.yml").read_text()
    assert cli("validate", cwd=project).exit_code == 0

    r = cli("build", cwd=project)
    assert r.exit_code == 0, r
    with zipfile.ZipFile(project / ".lamctl" / "build" / "HelloFunction.zip") as zf:
        assert zf.namelist() == ["bootstrap"]
        assert (zf.getinfo("bootstrap").external_attr >> 16) & 0o111

    assert greeting(deploy_and_invoke(cli, local_cloud, project, "my-go-hello")) == "Hello, world!"

    tests = run(["go", "test", "./..."], project / "src")
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert tests.stdout.startswith("ok"), tests.stdout


def test_a_python_only_template_refuses_another_runtime_and_writes_nothing(cli, tmp_path):
    for runtime in ("nodejs22.x", "go"):
        r = cli("init", tmp_path / "shop", "--template", "canary", "--runtime", runtime)
        assert r.exit_code == 2, r
        assert "--runtime" in r.stderr and "hello-api" in r.stderr, r
    assert not (tmp_path / "shop").exists()
