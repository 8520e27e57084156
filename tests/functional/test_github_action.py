"""The GitHub Action (action.yml), run as a runner runs a composite action, without GitHub.

:class:`Runner` reads action.yml, evaluates the ``${{ inputs.* }}``, ``${{ github.* }}``, ``${{ runner.* }}``
and ``${{ steps.<id>.outputs.* }}`` expressions it uses (any other expression fails the test: the action must
keep to these), and runs each ``run:`` step with bash, in its ``working-directory``, with fresh
``GITHUB_OUTPUT`` / ``GITHUB_ENV`` / ``GITHUB_PATH`` files and the job's ``GITHUB_STEP_SUMMARY``, as the runner
does; what a step adds to ``GITHUB_PATH`` / ``GITHUB_ENV`` applies to the later steps. The one ``uses:`` step,
``actions/setup-python``, cannot run without GitHub: the test stands in for it with the interpreter lamctl is
installed in (its ``python-path`` output). The install step finds lamctl already installed in the job's
``RUNNER_TEMP`` (seeded with this interpreter), as a second lamctl step of a job does.

lamctl's commands run against the local cloud's server of this process (``LAMCTL_ENDPOINT_URL``)."""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys
from dataclasses import dataclass, field

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
ACTION_REF = "v-test"


def read_key_values(path: pathlib.Path) -> dict[str, str]:
    """A GITHUB_OUTPUT / GITHUB_ENV file, as the runner reads it: ``name=value`` or ``name<<DELIMITER``."""
    values, lines, i = {}, path.read_text(encoding="utf-8").split("\n"), 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            values[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            values[name] = value
    return values


@dataclass
class Run:
    outputs: dict[str, str]
    log: str
    failed: bool
    steps: dict[str, dict[str, str]] = field(default_factory=dict)


class Runner:
    """One job of a runner: a workspace, RUNNER_TEMP, the job summary, PATH and env additions."""

    def __init__(self, tmp: pathlib.Path, env: dict[str, str]):
        self.workspace = tmp / "workspace"
        self.temp = tmp / "runner-temp"
        self.files = tmp / "runner-files"
        for d in (self.workspace, self.temp, self.files):
            d.mkdir(parents=True, exist_ok=True)
        self.summary = self.files / "step_summary.md"
        self.summary.touch()
        self.env = env
        self.path: list[str] = []
        self.job_env: dict[str, str] = {}
        self.counter = 0
        self.action = yaml.safe_load((ROOT / "action.yml").read_text())

    def github(self) -> dict[str, str]:
        return {"action_path": str(ROOT), "action_ref": ACTION_REF, "workspace": str(self.workspace),
                "repository": "octo/app", "sha": "0123abc", "server_url": "https://github.com"}

    def evaluate(self, text, context: dict) -> str:
        if not isinstance(text, str):
            return "" if text is None else str(text).lower() if isinstance(text, bool) else str(text)

        def value(m: re.Match) -> str:
            expr = m.group(1)
            parts = expr.split(".")
            if parts[0] in ("inputs", "github", "runner") and len(parts) == 2:
                return str(context[parts[0]][parts[1]])
            if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
                return context["steps"].get(parts[1], {}).get(parts[3], "")
            raise AssertionError(f"action.yml uses an expression this test does not evaluate: {expr}")

        return EXPR.sub(value, text)

    def run_action(self, **with_: str) -> Run:
        spec = self.action
        assert spec["runs"]["using"] == "composite"
        inputs = {}
        for name, decl in spec["inputs"].items():
            if name in with_:
                inputs[name] = with_.pop(name)
            elif decl.get("required"):
                raise AssertionError(f"input {name} is required")
            else:
                inputs[name] = str(decl.get("default", ""))
        assert not with_, f"inputs action.yml does not declare: {sorted(with_)}"
        context = {"inputs": inputs, "github": self.github(), "steps": {},
                   "runner": {"temp": str(self.temp), "os": "Linux", "arch": "X64"}}
        log, failed = [], False
        for step in spec["runs"]["steps"]:
            sid = step.get("id") or f"step{len(context['steps'])}"
            if "uses" in step:
                assert step["uses"].split("@")[0] == "actions/setup-python", step["uses"]
                context["steps"][sid] = {"python-path": sys.executable,
                                         "python-version": self.evaluate(step["with"]["python-version"], context)}
                continue
            context["steps"][sid], code, text = self.run_step(step, context)
            log.append(text)
            if code != 0:
                failed = True
                break
        outputs = {name: self.evaluate(decl["value"], context) for name, decl in spec["outputs"].items()}
        return Run(outputs, "".join(log), failed, context["steps"])

    def run_step(self, step: dict, context: dict) -> tuple[dict[str, str], int, str]:
        assert step.get("shell") == "bash", step
        self.counter += 1
        out_file, env_file, path_file = (self.files / f"{kind}_{self.counter}" for kind in ("output", "env", "path"))
        for f in (out_file, env_file, path_file):
            f.touch()
        env = dict(self.env)
        env.update(self.job_env)
        env.update({"GITHUB_OUTPUT": str(out_file), "GITHUB_ENV": str(env_file), "GITHUB_PATH": str(path_file),
                    "GITHUB_STEP_SUMMARY": str(self.summary), "GITHUB_ACTIONS": "true", "CI": "true",
                    "RUNNER_TEMP": str(self.temp), "GITHUB_WORKSPACE": str(self.workspace),
                    "GITHUB_ACTION_PATH": str(ROOT), "GITHUB_REPOSITORY": "octo/app", "GITHUB_SHA": "0123abc",
                    "GITHUB_SERVER_URL": "https://github.com"})
        env["PATH"] = os.pathsep.join(self.path + [env.get("PATH", "")])
        for name, value in (step.get("env") or {}).items():
            env[name] = self.evaluate(value, context)
        cwd = self.workspace / self.evaluate(step.get("working-directory", "."), context)
        script = self.files / f"script_{self.counter}.sh"
        script.write_text(self.evaluate(step["run"], context))
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=600)
        self.path = [p for p in path_file.read_text().splitlines() if p][::-1] + self.path
        self.job_env.update(read_key_values(env_file))
        return read_key_values(out_file), proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def runner(tmp_path, local_cloud, cli):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["LAMCTL_ENDPOINT_URL"] = local_cloud.endpoint
    r = Runner(tmp_path, env)
    # lamctl as the install step of an earlier lamctl step of this job left it (see the module's docstring)
    key = hashlib.sha256(f"{ROOT}\n{ACTION_REF}\n\n3.12".encode()).hexdigest()[:16]  # as the install step keys it
    bin_dir = r.temp / f"lamctl-{key}" / "bin"
    bin_dir.mkdir(parents=True)
    for name, target in (("python", sys.executable), ("lamctl", str(pathlib.Path(sys.executable).parent / "lamctl"))):
        (bin_dir / name).write_text(f'#!/bin/sh\nexec "{target}" "$@"\n')
        (bin_dir / name).chmod(0o755)
    assert cli("init", r.workspace / "app").exit_code == 0
    return r


def test_the_action_declares_what_the_issue_asks():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert set(action["inputs"]) == {"command", "working-directory", "python-version", "lamctl-version", "local"}
    assert action["inputs"]["command"]["required"] is True
    assert action["inputs"]["python-version"]["default"] == "3.12"
    assert set(action["outputs"]) == {"result", "stack-outputs", "api-urls", "release-id", "version", "exit-code"}


def test_deploy_and_shift_through_the_action_on_the_local_cloud(runner, local_cloud):
    run = runner.run_action(command="deploy --yes", **{"working-directory": "app", "local": "true"})
    assert not run.failed, run.log
    assert "lamctl is installed in" in run.log and "pip install" not in run.log  # once per job
    assert run.outputs["exit-code"] == "0"
    result = json.loads(run.outputs["result"])
    assert result["ok"] is True and result["status"] == "CREATE_COMPLETE" and result["stack"] == "app"
    assert json.loads(run.outputs["stack-outputs"])["HelloFunctionName"] == "app-hello"
    (api_url,) = json.loads(run.outputs["api-urls"])
    assert api_url.startswith(local_cloud.endpoint + "/restapis/")
    summary = runner.summary.read_text()
    assert "### lamctl deploy --yes: succeeded (exit 0)" in summary
    assert re.search(r"\| Add \| HelloFunction \| AWS::Lambda::Function \|", summary), summary  # the change set
    assert re.search(r"\| HelloFunctionName \| app-hello \|", summary), summary  # the outputs
    assert "::group::Stack events" in run.log and "CREATE_COMPLETE" in run.log
    # lamctl's own lines come between stop-commands markers
    token = re.search(r"^::stop-commands::(\w+)$", run.log, re.M).group(1)
    assert f"::{token}::" in run.log

    # the first shift creates the alias; after a code change, the second moves it (all at once: a canary's hold
    # would wait on the wall clock in lamctl's process; the timeline of a canary is checked in-process below)
    run = runner.run_action(command="shift --function app-hello --alias live --all-at-once", local="true",
                            **{"working-directory": "app"})
    assert not run.failed, run.log
    assert run.outputs["version"] == "1"
    app_py = runner.workspace / "app" / "src" / "app.py"
    app_py.write_text(app_py.read_text().replace("Hello, {name}!", "Hello again, {name}!"))
    assert not runner.run_action(command="deploy --yes", local="true", **{"working-directory": "app"}).failed
    before = runner.summary.read_text()
    run = runner.run_action(command="shift --function app-hello --alias live --all-at-once", local="true",
                            **{"working-directory": "app"})
    assert not run.failed, run.log
    assert run.outputs["exit-code"] == "0" and run.outputs["version"] == "2"
    assert run.outputs["release-id"].startswith("r-")
    assert json.loads(run.outputs["result"])["state"] == "succeeded"
    timeline = runner.summary.read_text()[len(before):]
    assert "#### Timeline" in timeline and "version 2 100%" in timeline, timeline
    assert re.search(r"Final state: \*\*succeeded\*\*: `app-hello:live` on version 2", timeline), timeline
    lam = local_cloud.client("lambda")
    assert lam.get_alias(FunctionName="app-hello", Name="live")["FunctionVersion"] == "2"


def test_a_failing_command_fails_the_step_with_its_error_and_its_exit_code(runner):
    run = runner.run_action(command="shift --function nope --alias live --all-at-once", local="true",
                            **{"working-directory": "app"})
    assert run.failed
    code = run.outputs["exit-code"] or run.steps["run"].get("exit-code")
    assert code not in ("", "0")
    assert re.search(r"^::error title=lamctl::.*nope", run.log, re.M), run.log
    assert "failed (exit" in runner.summary.read_text()


def test_text_from_outside_cannot_issue_workflow_commands(runner, local_cloud):
    # a function whose answer holds a workflow command: it is printed, inside a stop-commands block
    app_py = runner.workspace / "app" / "src" / "app.py"
    app_py.write_text('def handler(event, context):\n    return "::add-mask::x\\n::error::injected"\n')
    assert not runner.run_action(command="deploy --yes", local="true", **{"working-directory": "app"}).failed
    run = runner.run_action(command="invoke app-hello", local="true", **{"working-directory": "app"})
    assert not run.failed, run.log
    token = re.search(r"^::stop-commands::(\w+)$", run.log, re.M).group(1)
    active = True
    for line in run.log.splitlines():
        if line == f"::stop-commands::{token}":
            active = False
        elif line == f"::{token}::":
            active = True
        elif active:
            assert "injected" not in line, run.log
    assert "injected" in run.log


def test_the_summary_of_a_canary_shows_each_weight_and_hold(cli, local_cloud, tmp_path, instant_clock):
    """The timeline a canary's events make (lamctl in-process, on the instant clock), rendered by the action."""
    from lamctl.cli import github_action

    project = tmp_path / "app"
    assert cli("init", project).exit_code == 0
    endpoint = ("--endpoint-url", local_cloud.endpoint, "--output", "json")
    assert cli(*endpoint, "deploy", "--yes", cwd=project).exit_code == 0
    shift = ("shift", "--function", "app-hello", "--alias", "live", "--canary", "10%5m")
    assert cli(*endpoint, *shift, cwd=project).exit_code == 0
    app_py = project / "src" / "app.py"
    app_py.write_text(app_py.read_text().replace("Hello, {name}!", "Hello again, {name}!"))
    assert cli(*endpoint, "deploy", "--yes", cwd=project).exit_code == 0
    r = cli(*endpoint, *shift, cwd=project)
    assert r.exit_code == 0, r
    events = r.json_lines()
    summary = github_action.summary("shift", " ".join(shift), events, 0)
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "At |" not in line]
    text = "\n".join(rows)
    assert re.search(r"version 2 10%", text) and re.search(r"version 2 100%", text), summary
    assert re.search(r"hold", text, re.I), summary
    assert "Final state: **succeeded**: `app-hello:live` on version 2" in summary
    outputs = github_action.outputs_of(events, 0)
    assert outputs["version"] == "2" and outputs["release-id"] == events[-1]["release"]


def test_outputs_are_written_with_random_heredoc_delimiters(tmp_path):
    from lamctl.cli import github_action

    path = tmp_path / "out"
    values = {"result": '{"a": 1}', "version": "line one\nversion=9\nline three"}
    github_action.write_outputs(str(path), values)
    github_action.write_outputs(str(path), values)
    text = path.read_text()
    delimiters = re.findall(r"^version<<(\S+)$", text, re.M)
    assert len(delimiters) == 2 and delimiters[0] != delimiters[1] and len(delimiters[0]) > 20
    read = read_key_values(path)
    assert read["version"] == "line one\nversion=9\nline three" and read["result"] == '{"a": 1}'
    assert set(read) == set(github_action.OUTPUT_NAMES)


def test_a_rolled_back_release_fails_the_step_with_exit_3_and_its_reason(runner, local_cloud, cli):
    # the canary template: its pre-traffic hook refuses the new code before any traffic moves (no hold to wait)
    assert cli("init", runner.workspace / "shop", "--template", "canary").exit_code == 0
    with_ = {"working-directory": "shop", "local": "true"}
    assert not runner.run_action(command="deploy --yes", **with_).failed
    app_py = runner.workspace / "shop" / "src" / "app.py"
    app_py.write_text(app_py.read_text().replace('"ok": True', '"ok": False'))
    run = runner.run_action(command="deploy --yes", **with_)
    assert run.failed
    assert run.steps["run"]["exit-code"] == "3"
    assert run.steps["run"]["version"] == "1"  # the alias stayed where it was
    assert re.search(r"^::error title=lamctl::.*(hook|Failed)", run.log, re.M | re.I), run.log
    assert "rolled back (exit 3)" in runner.summary.read_text()
    lam = local_cloud.client("lambda")
    assert lam.get_alias(FunctionName="shop-app", Name="live")["FunctionVersion"] == "1"


def test_validate_findings_become_annotations_and_links_to_their_lines(runner):
    template = runner.workspace / "app" / "template.yaml"
    template.write_text(template.read_text().replace("Handler: app.handler", "Handler: 42\n      Timeout: -1"))
    run = runner.run_action(command="validate", **{"working-directory": "app"})
    assert run.failed and run.steps["run"]["exit-code"] == "2"
    assert re.search(r"^::error file=app/template\.yaml,line=\d+(,col=\d+)?::", run.log, re.M), run.log
    summary = runner.summary.read_text()
    assert re.search(r"\[app/template\.yaml:\d+\]\(https://github\.com/octo/app/blob/0123abc/app/template\.yaml#L\d+\)",
                     summary), summary
