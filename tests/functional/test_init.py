"""`lamctl init`: every template renders a project that validates, deploys to the local cloud, answers an invoke
as its code says, and passes its own unit test; init never overwrites a file, and the templates ship in the wheel.

The local cloud's server runs in this process (fixture ``local_cloud``); lamctl runs in-process."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import zipfile

import pytest

from lamctl.packager import scaffold

ROOT = pathlib.Path(__file__).resolve().parents[2]

# template -> (function to invoke, qualifier, what its answer must contain)
EXPECTED = {
    "hello-api": ("hello", None, lambda a: a["statusCode"] == 200
                  and json.loads(a["body"]) == {"message": "Hello, world!"}),
    "canary": ("app", "live", lambda a: a["ok"] is True and a["message"] == "Hello from the canary"),
    "layer": ("app", None, lambda a: a == {"message": "Hello, world, from the shared layer"}),
    "cold-start": ("counter", None, lambda a: a["uses"] == 1 and len(a["container"]) == 12),
}


def test_list_shows_every_template_with_one_line(cli):
    r = cli("init", "--list")
    assert r.exit_code == 0, r
    for name in ("hello-api", "canary", "layer", "cold-start"):
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith(name + " ")), None)
        assert line is not None and len(line.split()) > 3, r.stdout
    hello = next(ln for ln in r.stdout.splitlines() if ln.startswith("hello-api "))
    assert "nodejs" in hello and "go" in hello.split() and "nodejs" not in r.stdout.replace(hello, "")
    r = cli("--output", "json", "init", "--list")
    templates = r.json_lines()[-1]["templates"]
    assert [t["name"] for t in templates] == ["hello-api", "canary", "layer", "cold-start"]
    assert {"nodejs22.x", "nodejs20.x", "nodejs18.x", "go", "python3.12"} <= set(templates[0]["runtimes"])
    assert all(t["runtimes"] == [r for r in t["runtimes"] if r.startswith("python")] for t in templates[1:])


@pytest.mark.parametrize("template", sorted(EXPECTED))
def test_each_template_validates_deploys_answers_and_passes_its_own_test(cli, local_cloud, tmp_path, template):
    project = tmp_path / f"my-{template}"
    r = cli("init", project, "--template", template)  # stdin is not a terminal: nothing is asked
    assert r.exit_code == 0, r
    assert "Template" not in r.stderr
    for name in ("template.yaml", "lamctl.toml", "README.md", ".gitignore"):
        assert (project / name).is_file(), name
    assert 'target = "local"' in (project / "lamctl.toml").read_text()
    assert not (project / ".github").exists()  # only with --ci github

    r = cli("validate", cwd=project)
    assert r.exit_code == 0, r

    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy", cwd=project)
    assert r.exit_code == 0, r
    assert r.json_lines()[-1]["status"] == "CREATE_COMPLETE"

    suffix, qualifier, ok = EXPECTED[template]
    function = f"my-{template}-{suffix}"
    target = function + (f":{qualifier}" if qualifier else "")
    r = cli("--endpoint-url", local_cloud.endpoint, "--output", "json", "invoke", target, cwd=project)
    assert r.exit_code == 0, r
    answer = r.json_lines()[-1]["payload"]
    assert ok(answer), answer

    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project,
                           capture_output=True, text=True, timeout=120)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout and "skipped" not in tests.stdout


def test_the_canary_template_releases_a_new_version_through_its_hook(cli, local_cloud, tmp_path, instant_clock):
    project = tmp_path / "shop"
    assert cli("init", project, "--template", "canary").exit_code == 0
    deploy = ("--endpoint-url", local_cloud.endpoint, "--output", "json", "deploy")
    assert cli(*deploy, cwd=project).exit_code == 0
    app_py = project / "src" / "app.py"
    app_py.write_text(app_py.read_text().replace("Hello from the canary", "Hello from version 2"))
    r = cli(*deploy, cwd=project)
    assert r.exit_code == 0, r
    (shift,) = r.json_lines()[-1]["traffic"]
    assert shift["state"] == "succeeded" and shift["target"] == "2", shift
    assert instant_clock.slept >= 300  # the five-minute canary hold
    lam = local_cloud.client("lambda")
    assert lam.get_alias(FunctionName="shop-app", Name="live")["FunctionVersion"] == "2"
    answer = json.loads(lam.invoke(FunctionName="shop-app", Qualifier="live", Payload=b"{}")["Payload"].read())
    assert answer["message"] == "Hello from version 2"

    # a new version the hook refuses: the alias stays on version 2 and deploy exits 3
    app_py.write_text(app_py.read_text().replace('"ok": True', '"ok": False'))
    r = cli("--endpoint-url", local_cloud.endpoint, "deploy", cwd=project)
    assert r.exit_code == 3, r
    assert lam.get_alias(FunctionName="shop-app", Name="live")["FunctionVersion"] == "2"


def test_init_never_overwrites_a_file_and_writes_nothing_when_it_refuses(cli, tmp_path):
    project = tmp_path / "web"
    project.mkdir()
    (project / "template.yaml").write_text("mine\n")
    r = cli("init", project)
    assert r.exit_code == 2, r
    assert f"{project / 'template.yaml'}" in r.stderr and "--force" in r.stderr
    assert sorted(p.name for p in project.iterdir()) == ["template.yaml"]  # nothing half-done
    assert (project / "template.yaml").read_text() == "mine\n"

    r = cli("init", project, "--force")
    assert r.exit_code == 0, r
    assert "AWS::Serverless::Function" in (project / "template.yaml").read_text()


def test_bad_choices_name_the_flag(cli, tmp_path):
    r = cli("init", tmp_path / "a", "--template", "nope")
    assert r.exit_code == 2 and "--template" in r.stderr and "hello-api" in r.stderr, r
    r = cli("init", tmp_path / "a", "--runtime", "ruby3.3")
    assert r.exit_code == 2 and "--runtime" in r.stderr and "nodejs22.x" in r.stderr, r
    r = cli("init", tmp_path / "a", "--ci", "gitlab")
    assert r.exit_code == 2 and "--ci" in r.stderr, r
    assert not (tmp_path / "a").exists()


def test_the_runtime_and_the_folder_name_reach_the_template(cli, tmp_path):
    project = tmp_path / "2 odd_name"
    assert cli("init", project, "--runtime", "python3.11", "--ci", "github").exit_code == 0
    template = (project / "template.yaml").read_text()
    assert "Runtime: python3.11" in template
    assert 'stack = "app-2-odd-name"' in (project / "lamctl.toml").read_text()
    workflows = sorted(p.name for p in (project / ".github" / "workflows").iterdir())
    assert workflows == ["main.yml", "promote.yml", "pull-request.yml"]
    assert 'python-version: "3.11"' in (project / ".github" / "workflows" / "pull-request.yml").read_text()
    assert "uses: lamctl/lamctl@v" in (project / ".github" / "workflows" / "main.yml").read_text()


def test_the_workflows_use_the_action_given(cli, tmp_path):
    project = tmp_path / "web"
    assert cli("init", project, "--ci", "github", "--action", "my-org/lamctl@v2").exit_code == 0
    text = (project / ".github" / "workflows" / "pull-request.yml").read_text()
    assert text.count("uses: my-org/lamctl@v2") == 4 and "lamctl/lamctl@" not in text
    r = cli("init", tmp_path / "other", "--ci", "github", "--action", "not an action; rm -rf /")
    assert r.exit_code == 2 and "--action" in r.stderr and not (tmp_path / "other").exists(), r


def test_asks_for_the_template_on_a_terminal(tmp_path):
    """On a terminal with no --template, init lists the templates and asks; the answer picks one."""
    import pty

    project = tmp_path / "asked"
    pid, fd = pty.fork()
    if pid == 0:  # the child: lamctl on the pty
        os.execv(sys.executable, [sys.executable, "-m", "lamctl.cli", "init", str(project)])
    seen = b""
    while b"Template" not in seen:
        chunk = os.read(fd, 1024)
        assert chunk, seen
        seen += chunk
    os.write(fd, b"2\n")
    try:
        while os.read(fd, 1024):
            pass
    except OSError:  # the child closed the pty
        pass
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"2. canary" in seen
    assert "AutoPublishAlias: live" in (project / "template.yaml").read_text()


@pytest.mark.slow
def test_a_built_wheel_carries_the_project_templates(tmp_path):
    src = tmp_path / "src"
    skip = shutil.ignore_patterns(".git", ".venv", ".wheelhouse", "build", "dist", "*.egg-info", ".lamctl",
                                  "__pycache__")

    def ignore(folder, names):  # the repository's own tests/ stay out (not the templates' tests/ folders)
        return set(skip(folder, names)) | ({"tests"} if pathlib.Path(folder) == ROOT else set())

    shutil.copytree(ROOT, src, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path / "dist"), str(src)], check=True, timeout=300,
                   env={**os.environ, "PIP_NO_INDEX": "1"})
    (wheel,) = (tmp_path / "dist").glob("lamctl-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for folder in (ROOT / "packager" / "project_templates").rglob("*.j2"):
        expected.add("lamctl/packager/" + folder.relative_to(ROOT / "packager").as_posix())
    assert len(expected) >= 20
    assert expected <= names, sorted(expected - names)
