"""Start-up cost: what a command imports before it does its work (docs/architecture.md: fast start).

typer converts option values through pydantic, whose import costs more than typer itself;
lamctl passes values that are already of the option's type straight through
(``lamctl.cli.typer_compat.skip_pydantic``). These tests check that the common start-up paths never
import pydantic, and that the pass-through gives exactly what typer's own coercion gives.
Checked through ``sys.modules`` in a fresh interpreter, never through timing.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import pytest

SNIPPET = textwrap.dedent(
    """
    import sys
    from lamctl.cli.app import main
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    print(f"EXIT={code}")
    print("IMPORTED=" + ",".join(sorted({m.split('.')[0] for m in sys.modules} & {"pydantic", "pydantic_core"})))
    """
)


def _run(args: list[str], cwd: str, **env_extra: str) -> tuple[int, list[str], subprocess.CompletedProcess]:
    env = dict(os.environ, **env_extra)
    env.pop("PYTHONPATH", None)
    out = subprocess.run([sys.executable, "-c", SNIPPET, *args], capture_output=True, text=True, env=env, cwd=cwd)
    lines = out.stdout.strip().splitlines()
    assert lines and lines[-1].startswith("IMPORTED="), out.stderr
    code = int(lines[-2].removeprefix("EXIT="))
    imported = [m for m in lines[-1].removeprefix("IMPORTED=").split(",") if m]
    return code, imported, out


@pytest.mark.parametrize("args", [
    ["--version"],
    ["--help"],
    ["local", "invoke", "--help"],
    ["shift", "--help"],
    ["--region", "eu-west-1", "--output", "json", "local", "--help"],
], ids=" ".join)
def test_start_up_paths_do_not_import_pydantic(args, tmp_path):
    code, imported, out = _run(args, str(tmp_path))
    assert code == 0, out.stderr
    assert "lamctl" in out.stdout  # the version or the help was printed
    assert imported == [], f"`lamctl {' '.join(args)}` imported {imported}"


def test_a_command_with_values_of_every_plain_type_does_not_import_pydantic(tmp_path):
    """str, list[str] (repeated option), bool flags, and int/float options left at their defaults."""
    (tmp_path / "template.yaml").write_text(textwrap.dedent("""\
        Transform: AWS::Serverless-2016-10-31
        Parameters:
          Stage: {Type: String}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              InlineCode: "def handler(e, c): return 1"
              Handler: index.handler
              Runtime: python3.12
              FunctionName: !Sub "fn-${Stage}"
        """))
    code, imported, out = _run(["--no-color", "transform", "-t", "template.yaml", "--region", "eu-west-1",
                                "--parameter-overrides", "Stage=prod", "-o", "out.json"], str(tmp_path))
    assert code == 0, out.stderr
    assert (tmp_path / "out.json").exists()
    assert imported == []


def test_a_bad_number_is_still_refused_by_typer_as_a_lamctl_error(tmp_path):
    """A value that is not already of the option's type goes to typer's own coercion, unchanged."""
    code, imported, out = _run(["local", "start-lambda", "--port", "eighty"], str(tmp_path), COLUMNS="200")
    assert code == 2
    first = out.stderr.splitlines()[0]  # lamctl's error line, with typer's reason
    assert first.startswith("error: ") and "--port" in first and "integer" in first, out.stderr
    assert imported == ["pydantic", "pydantic_core"]  # the fallback really ran


# -- the pass-through against typer's own coercion, value by value

def _params():
    from lamctl.cli.app import root_command
    from lamctl.cli.typer_compat import _PlainParam

    command = root_command()
    ctx = command.make_context("lamctl", ["build"], resilient_parsing=True)
    found, stack = [], [("lamctl", command)]
    while stack:
        path, cmd = stack.pop()
        for p in cmd.params:
            found.append((f"{path} --{p.name}", p))
        if hasattr(cmd, "list_commands"):  # a group: its commands, built as the command line would
            stack.extend((f"{path} {n}", cmd.get_command(ctx, n)) for n in cmd.list_commands(ctx))
    return _PlainParam, found


def test_every_option_of_lamctl_skips_pydantic_at_start_up():
    """A new option whose type the pass-through does not know would bring pydantic back to every run."""
    plain, params = _params()
    missing = [name for name, p in params
               if getattr(p, "type_descriptor", None) is not None and not isinstance(p._runtime_param, plain)]
    assert missing == [], f"options coerced through pydantic at start-up: {missing}"


SAMPLES = {
    str: ["abc", "", " padded ", "é", "\udcff", "a\x00b", 5, b"bytes", None],
    int: [0, 7, -3, 10**30, "7", " 8 ", "1_000", "1.0", "1.5", "x", 2.0, 2.5, True, None],
    float: [2.5, 0.0, float("inf"), 2, "3", "2.5", "nan", "x", True, None],
    bool: [True, False, None],
}


def _outcome(runtime, value, param):
    try:
        got = runtime.coerce(value, param=param, ctx=None)
    except Exception as exc:  # typer's BadParameter (or anything else): compare the message
        return ("error", type(exc).__name__, str(exc))
    if isinstance(got, float) and math.isnan(got):
        return ("nan",)
    return (type(got).__name__, got)


def test_pass_through_gives_what_typers_coercion_gives():
    from typer._coercion import build_runtime_param

    _, params = _params()
    seen = set()
    for name, p in params:
        desc = getattr(p, "type_descriptor", None)
        if desc is None:
            continue
        ann = desc.annotation
        key = (repr(ann), p.multiple, desc.parameter_info.min, desc.parameter_info.max)
        if key in seen:
            continue
        seen.add(key)
        real = build_runtime_param(desc)
        info = desc.parameter_info
        if p.multiple:
            values = [(), ("a",), ("a", "b"), ["a"], (1,), "a"]
        else:
            values = SAMPLES[ann] + [b for b in (info.min, info.max) if b is not None]
            values += [b + d for b in (info.min, info.max) if b is not None for d in (-1, 1)]
        for v in values:
            assert _outcome(p._runtime_param, v, p) == _outcome(real, v, p), (name, v)
    assert {k[0] for k in seen} >= {repr(str), repr(int), repr(float), repr(bool)}


# -- lamctl.toml: jsonschema (~200 ms to import) only when the file is not plainly valid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_project_with_lamctl_toml_starts_without_jsonschema():
    workshop = os.path.join(REPO, "samples", "workshop")
    assert os.path.isfile(os.path.join(workshop, "lamctl.toml"))
    code, imported, out = _run(["local", "invoke", "--help"], workshop)
    assert code == 0, out.stderr
    assert imported == []
    check = subprocess.run([sys.executable, "-c", SNIPPET.replace('{"pydantic", "pydantic_core"}', '{"jsonschema"}'),
                            "--env", "aws", "status", "--help"], capture_output=True, text=True, cwd=workshop)
    assert check.stdout.strip().splitlines()[-2:] == ["EXIT=0", "IMPORTED="], check.stderr


def test_a_bad_lamctl_toml_is_still_reported_with_its_line(tmp_path):
    (tmp_path / "lamctl.toml").write_text('[default]\nstack = "workshop"\nwait_timeout = 0\n')
    code, _, out = _run(["--output", "json", "status", "--function", "f", "--alias", "a"], str(tmp_path))
    assert code == 2
    assert "lamctl.toml:3" in out.stdout + out.stderr and "wait_timeout" in out.stdout + out.stderr


EDGE_VALUES = ["local", "aws", "text", "json", "eu-west-1", "us-east-1x", "workshop", "9stack", "ab", "abc", "",
               "CAPABILITY_IAM", "ROLLBACK", "lamctl", "codedeploy", "arn:aws:iam::123456789012:role/deployer", 1, 0, 3600, 3601, 1.0, 1.5, 0.5,
               float("nan"), float("inf"), True, False, [], ["a"], [1], ["CAPABILITY_IAM"], ["CAPABILITY_NOPE"],
               {}, {"A": "b"}, {"A": 1}, {"A": True}, {"A": [1]}]


def _random_value(rng, valid: list):
    """Half the time a value valid for the key at hand, else an edge value or a random one."""
    if valid and rng.random() < 0.6:
        return rng.choice(valid)
    pick = rng.random()
    if pick < 0.5:
        return rng.choice(EDGE_VALUES)
    scalar = [lambda: "".join(rng.choice("aZ-9_ é") for _ in range(rng.randrange(5))), lambda: rng.randint(-5, 4000),
              lambda: rng.uniform(-10, 5000), lambda: rng.random() < 0.5]
    if pick < 0.8:
        return rng.choice(scalar)()
    if pick < 0.9:
        return [rng.choice(scalar)() for _ in range(rng.randrange(3))]
    return {rng.choice("ABC"): rng.choice(scalar)() for _ in range(rng.randrange(3))}


def test_plainly_valid_agrees_with_jsonschema():
    """Seeded random configs, built so that about a third are valid; jsonschema is the reference."""
    import random

    import jsonschema

    from lamctl.cli.settings import plainly_valid
    from lamctl.schemas.config import config_schema, known_keys

    schema = config_schema()
    validator = jsonschema.Draft202012Validator(schema)
    valid = {k: [v for v in EDGE_VALUES if validator.is_valid({"default": {k: v}})] for k in known_keys()}
    valid["stak"] = valid["Region"] = []  # unknown keys
    keys = sorted(valid)
    rng = random.Random(20261122)
    answers = {True: 0, False: 0, None: 0}
    for _ in range(4000):
        data = {}
        for section in rng.sample(["default", "aws", "ci"], rng.randrange(3)):
            if rng.random() < 0.05:
                data[section] = _random_value(rng, [])  # not a section at all
                continue
            data[section] = {k: _random_value(rng, valid[k]) for k in rng.sample(keys, rng.randrange(4))}
        ours = plainly_valid(data, schema, schema)
        answers[ours] += 1
        if ours is not None:
            assert ours == validator.is_valid(data), data
    # both answers were exercised, and rarely "ask jsonschema" (which costs a user ~200 ms)
    assert answers[True] > 500 and answers[False] > 500 and answers[None] < answers[True], answers


def test_the_version_lamctl_prints_is_the_one_installed(tmp_path):
    import importlib.metadata
    import tomllib

    from lamctl.cli import __version__

    with open(os.path.join(os.path.dirname(__file__), "..", "..", "pyproject.toml"), "rb") as fh:
        declared = tomllib.load(fh)["project"]["version"]
    assert __version__ == declared == importlib.metadata.version("lamctl")
    out = subprocess.run([sys.executable, "-c", "from lamctl.cli.app import main; main()", "--version"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == f"lamctl {declared}"


# -- what help, version and the start of a command import (issue "First contact", start-up)

PROBE = textwrap.dedent(
    """
    import sys
    from lamctl.cli.app import main
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    heavy = {m.split('.')[0] for m in sys.modules} & {"rich", "markdown_it", "pygments", "pydantic", "boto3", "yaml"}
    commands = {m.rsplit('.', 1)[1] for m in sys.modules if m.startswith("lamctl.cli.commands.")}
    print(f"EXIT={code}")
    print("HEAVY=" + ",".join(sorted(heavy)))
    print("COMMANDS=" + ",".join(sorted(commands)))
    """
)


@pytest.mark.parametrize("args, commands", [
    (["--version"], []),
    (["--help"], None),  # every command module, for the command list
    (["shift", "--help"], ["shift"]),
    (["local", "invoke", "--help"], ["local_runtime"]),
    (["local", "status", "--output", "json"], ["local_cloud"]),
], ids=["--version", "--help", "shift --help", "local invoke --help", "local status"])
def test_help_version_and_a_command_import_no_rich_and_only_their_command(args, commands, tmp_path):
    """lamctl's help is plain text (no rich, Markdown or pygments); a command builds and imports only itself."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env,
                         cwd=str(tmp_path))
    lines = dict(line.split("=", 1) for line in out.stdout.splitlines() if line.startswith(("EXIT=", "HEAVY=",
                                                                                           "COMMANDS=")))
    assert lines["EXIT"] == "0", out.stderr
    assert lines["HEAVY"] == "", f"`lamctl {' '.join(args)}` imported {lines['HEAVY']}"
    if commands is not None:
        assert (lines["COMMANDS"].split(",") if lines["COMMANDS"] else []) == commands
