"""The command line's front door: global options before or after the command, honest help, one error style.

Global options mean the same wherever they are given (``lamctl outputs --output json`` is
``lamctl --output json outputs``); a command's own option of the same name keeps its command meaning;
every usage error is a lamctl ``error:``/``hint:`` line (or NDJSON), exit 2.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import write_files, write_template

# -- global options after the command


def test_output_json_after_the_command_is_the_same_as_before_it(cli, tmp_path):
    before = cli("--output", "json", "outputs", cwd=tmp_path)
    after = cli("outputs", "--output", "json", cwd=tmp_path)
    assert after.exit_code == before.exit_code == 2, after
    assert after.stdout == before.stdout
    lines = after.json_lines()
    assert lines[0]["type"] == "error" and "stack" in lines[0]["message"]
    assert lines[-1]["type"] == "result" and lines[-1]["ok"] is False
    assert "No such option" not in after.stderr


def test_no_color_after_the_command_is_accepted(cli, tmp_path):
    result = cli("local", "status", "--no-color", cwd=tmp_path)
    assert result.exit_code == 0, result
    assert "not running" in result.stdout


def test_endpoint_region_and_output_after_the_command_reach_the_cloud(cli, aws, monkeypatch, tmp_path):
    """The stack is found only if --endpoint-url and --region after the command are used."""
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    cfn = aws.client("cloudformation", region="eu-west-1")
    cfn.create_stack(StackName="front", TemplateBody=json.dumps({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"Answer": {"Value": "42"}},
    }))
    result = cli("outputs", "--stack", "front", "--endpoint-url", aws.endpoint, "--region", "eu-west-1",
                 "--output", "json", cwd=tmp_path)
    assert result.exit_code == 0, result
    assert result.json_lines()[-1]["outputs"] == {"Answer": "42"}
    same = cli("--endpoint-url", aws.endpoint, "--region", "eu-west-1", "--output", "json",
               "outputs", "--stack", "front", cwd=tmp_path)
    assert same.stdout == result.stdout


def test_local_after_the_command_targets_the_local_cloud(cli, aws, tmp_path):
    """--local after the command: package creates a missing bucket, as only the local cloud does."""
    write_files(tmp_path, {"src/app.py": "def handler(event, context):\n    return 1\n"})
    write_template(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
                             "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
                             "      Handler: app.handler\n      Runtime: python3.12\n")
    on_aws = cli("package", "--s3-bucket", "front-bucket", cwd=tmp_path)
    assert on_aws.exit_code == 1 and "does not exist" in on_aws.stderr, on_aws
    local = cli("package", "--s3-bucket", "front-bucket", "--local", "--endpoint-url", aws.endpoint, cwd=tmp_path)
    assert local.exit_code == 0, local
    assert "created the bucket front-bucket on the local cloud" in local.stderr
    assert aws.client("s3").list_objects_v2(Bucket="front-bucket")["KeyCount"] == 1


def test_region_after_a_subcommand_reaches_the_function(cli, tmp_path):
    write_files(tmp_path, {"src/app.py": "import os\n\ndef handler(event, context):\n"
                                         "    return os.environ['AWS_REGION']\n"})
    write_template(tmp_path, "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
                             "    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n"
                             "      Handler: app.handler\n      Runtime: python3.12\n")
    result = cli("local", "invoke", "Fn", "--region", "eu-west-1", cwd=tmp_path)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == "eu-west-1"
    between = cli("local", "--region", "ap-south-1", "invoke", "Fn", cwd=tmp_path)
    assert between.exit_code == 0, between
    assert json.loads(between.stdout) == "ap-south-1"


def test_version_after_a_command_prints_the_version(cli):
    result = cli("build", "--version")
    assert result.exit_code == 0, result
    assert result.stdout.startswith("lamctl ")


def test_the_same_global_option_twice_with_different_values_is_a_usage_error(cli, tmp_path):
    result = cli("--region", "eu-west-1", "outputs", "--stack", "s", "--region", "us-east-1", cwd=tmp_path)
    assert result.exit_code == 2, result
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: --region") and "eu-west-1" in first and "us-east-1" in first
    assert "hint: give --region once" in result.stderr
    assert result.stdout == ""
    both_before = cli("--region", "eu-west-1", "--region", "us-east-1", "outputs", "--stack", "s", cwd=tmp_path)
    assert both_before.exit_code == 2 and both_before.stderr.startswith("error: --region"), both_before


def test_the_same_value_twice_is_fine(cli, tmp_path):
    result = cli("--output", "json", "local", "status", "--output", "json", cwd=tmp_path)
    assert result.exit_code == 0, result
    assert result.json_lines()[-1]["type"] == "result"


def test_a_command_option_named_like_a_global_keeps_its_command_meaning(cli, tmp_path):
    """shift --config is a CodeDeploy config, not a settings file; the settings file goes before the command."""
    result = cli("shift", "--function", "f", "--alias", "live", "--config", "NoSuchConfig", cwd=tmp_path)
    assert result.exit_code == 2, result
    assert "NoSuchConfig" in result.stderr and "settings" not in result.stderr.lower()
    settings = cli("--config", "missing.toml", "shift", "--function", "f", "--alias", "live",
                   "--config", "LambdaAllAtOnce", cwd=tmp_path)
    assert settings.exit_code == 2, settings
    assert "missing.toml" in settings.stderr


def test_alias_version_is_the_alias_version_not_lamctls(cli, tmp_path):
    result = cli("alias", "fn", "live", "--version", cwd=tmp_path)  # alias's own --version needs a value
    assert result.exit_code == 2, result
    assert result.stderr.startswith("error: lamctl alias") and "--version" in result.stderr
    assert not result.stdout.startswith("lamctl ")


@pytest.mark.parametrize("args, expected", [
    (["outputs", "--output", "json"], ["--output", "json", "outputs"]),
    (["outputs", "--output=json"], ["--output=json", "outputs"]),
    (["--debug", "deploy", "--stack", "s", "--local", "--output", "json"],
     ["--debug", "--local", "--output", "json", "deploy", "--stack", "s"]),
    (["local", "invoke", "Fn", "--region", "eu-west-1"], ["--region", "eu-west-1", "local", "invoke", "Fn"]),
    (["local", "--region", "x", "invoke"], ["--region", "x", "local", "invoke"]),
    (["deploy", "--stack", "--local"], ["deploy", "--stack", "--local"]),  # the value of --stack
    (["local", "invoke", "-t", "--region"], ["local", "invoke", "-t", "--region"]),  # the value of -t
    (["local", "invoke", "-ttpl.yaml", "--region", "x"], ["--region", "x", "local", "invoke", "-ttpl.yaml"]),
    (["local", "invoke", "Fn", "--", "--region", "x"], ["local", "invoke", "Fn", "--", "--region", "x"]),
    (["shift", "--config", "LambdaAllAtOnce"], ["shift", "--config", "LambdaAllAtOnce"]),
    (["alias", "f", "a", "--version", "3"], ["alias", "f", "a", "--version", "3"]),
    (["transform", "--region", "eu-west-1"], ["transform", "--region", "eu-west-1"]),
    (["build", "--version"], ["--version", "build"]),
    (["frobnicate", "--region", "x"], ["frobnicate", "--region", "x"]),  # unknown command: click reports it
    (["deploy", "--bogus", "--local"], ["--local", "deploy", "--bogus"]),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_where_global_options_move(args, expected):
    from lamctl.cli.app import root_command
    from lamctl.cli.cmdline import hoist_global_options

    root = root_command()
    ctx = root.make_context("lamctl", ["build"], resilient_parsing=True)
    assert hoist_global_options(root, ctx, list(args)) == expected


# -- help


def _commands():
    from lamctl.cli.app import root_command

    root = root_command()
    ctx = root.make_context("lamctl", ["build"], resilient_parsing=True)
    found, stack = [], [((), root)]
    while stack:
        path, cmd = stack.pop()
        found.append((path, cmd))
        if hasattr(cmd, "list_commands"):
            stack.extend(((*path, name), cmd.get_command(ctx, name)) for name in cmd.list_commands(ctx))
    return sorted(found, key=lambda item: item[0])


@pytest.mark.parametrize("path, command", _commands(), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_every_help_shows_flags_bare_and_values_with_their_kind(cli, tmp_path, path, command):
    result = cli(*path, "--help", cwd=tmp_path)
    assert result.exit_code == 0, result
    text = result.stdout
    assert not re.search(r"<[a-z_\[\], ]+>", text), f"typer-style metavar in `lamctl {' '.join(path)} --help`"
    assert "╭" not in text and "│" not in text  # plain text
    lines = text.splitlines()
    for param in command.params:
        if param.param_type_name != "option" or param.hidden:
            continue
        names = ", ".join(sorted(param.opts, key=len))
        row = next((l for l in lines if l.strip().startswith(names + " ") or l.strip() == names), None)
        assert row is not None, f"{names} is missing from `lamctl {' '.join(path)} --help`"
        column = re.split(r"\s{2,}", row.strip())[0].split()  # the option's column: its names and metavar
        rest = [t for t in column if t.rstrip(",") not in (*param.opts, *param.secondary_opts, "/")]
        if param.is_flag:
            assert rest == [], f"flag {names} shows a metavar: {row!r}"
        else:
            assert len(rest) == 1 and not rest[0].startswith("<"), f"{names} shows no value: {row!r}"
    if path:
        assert "Global options (before or after the command" in text
        accepted = text.split("Global options (before or after the command")[1].split()
        assert {"--profile", "--endpoint-url", "--local", "--output", "--no-color", "--debug"} <= set(accepted)


def test_root_help_shows_choices_and_the_rule_for_clashes(cli, tmp_path):
    text = " ".join(cli("--help", cwd=tmp_path).stdout.split())
    assert "--output [text|json]" in text
    assert "--local Target the local cloud" in text
    assert "Global options (before or after the command)" in text
    assert "given twice, it must have the same value" in text
    assert "an option of the command's own with the same name is the command's" in text


CLASHES = {("shift",): "--config", ("alias",): "--version", ("transform",): "--region"}


def test_every_command_option_named_like_a_global_says_so_in_its_help(cli, tmp_path):
    from lamctl.cli.app import root_command

    root = root_command()
    globals_ = {n for p in root.params for n in p.opts} - {"-h", "--help"}
    found = {}
    for path, command in _commands():
        owned = sorted(globals_ & {n for p in command.params for n in p.opts}) if path else []
        if owned:
            found[path] = owned[0]
            text = " ".join(cli(*path, "--help", cwd=tmp_path).stdout.split())
            section = text.split("Global options (before or after the command")[1]
            assert f"{owned[0]}: after the command, this command's own option" in section
            accepted = section.split("): ", 1)[1].split(f"{owned[0]}:")[0].split()
            assert "--profile" in accepted and owned[0] not in accepted  # not offered as the global one here
    assert found == CLASHES  # the README lists these


def test_command_list_help_is_what_the_built_command_says(cli):
    """The command list reads docstrings without building the commands; it says what each command's help says."""
    from lamctl.cli.app import root_command
    from lamctl.cli.cmdline import _short_help

    root = root_command()
    ctx = root.make_context("lamctl", ["build"], resilient_parsing=True)
    for group in (root, root.get_command(ctx, "local")):
        for name in group.list_commands(ctx):
            lazy = group.short_help_of(ctx, name)
            assert lazy and lazy == _short_help(group.get_command(ctx, name)), name


# -- one error style


def _assert_lamctl_error(result, *needles):
    assert result.exit_code == 2, result
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: "), result
    assert any(l.startswith("  hint: ") for l in lines), result
    assert "Usage:" not in result.stderr and "╭" not in result.stderr and "Try '" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result
    return lines


def test_unknown_option_says_so_with_a_did_you_mean(cli, tmp_path):
    lines = _assert_lamctl_error(cli("deploy", "--outptu", "json", cwd=tmp_path), "--outptu")
    assert "did you mean --output?" in lines[1]


def test_unknown_command_says_so_with_a_did_you_mean(cli, tmp_path):
    lines = _assert_lamctl_error(cli("bulid", cwd=tmp_path), "'bulid'")
    assert "did you mean build?" in lines[1]
    _assert_lamctl_error(cli("local", "invok", cwd=tmp_path), "did you mean invoke?")


def test_missing_argument_bad_value_and_missing_value_are_lamctl_errors(cli, tmp_path):
    _assert_lamctl_error(cli("publish", cwd=tmp_path), "lamctl publish", "FUNCTION")
    _assert_lamctl_error(cli("local", "start-lambda", "--port", "eighty", cwd=tmp_path), "--port")
    _assert_lamctl_error(cli("deploy", "--stack", cwd=tmp_path), "--stack")
    _assert_lamctl_error(cli("publish", "a", "b", cwd=tmp_path), "lamctl publish")  # an extra argument
    # a global option after the command without its value: said so, never the next word taken as its value
    lines = _assert_lamctl_error(cli("local", "invoke", "Fn", "--region", cwd=tmp_path), "--region")
    assert lines[0].startswith("error: lamctl local invoke: ") and "value" in lines[0]


def test_usage_errors_are_ndjson_with_output_json_before_or_after(cli, tmp_path):
    for args in (["--output", "json", "deploy", "--outptu"], ["deploy", "--outptu", "--output", "json"],
                 ["bulid", "--output", "json"], ["--output=json", "publish"]):
        result = cli(*args, cwd=tmp_path)
        assert result.exit_code == 2, result
        lines = result.json_lines()
        assert [l["type"] for l in lines] == ["error", "result"], result
        assert lines[0]["error"] == "UsageError" and lines[0]["hint"]
        assert lines[1] == {"type": "result", "ok": False, "exit_code": 2, "error": lines[0]["message"]}


def test_no_command_prints_the_help_and_a_usage_error(cli, tmp_path):
    for args in ([], ["local"]):
        result = cli(*args, cwd=tmp_path)
        assert result.exit_code == 2, result
        assert "Commands:" in result.stderr
        assert result.stderr.rstrip().splitlines()[-2].startswith("error: ")
