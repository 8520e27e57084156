"""`lamctl completion bash|zsh|fish`: the bash script, run by bash as completion runs it (COMP_WORDS, COMP_CWORD,
then the completion function), completes commands, options, choices and the current project's function and
stack names; the zsh script is the bash one through bashcompinit; the fish script lists the same."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

BIN = pathlib.Path(sys.executable).parent


@pytest.fixture
def project(cli, tmp_path):
    root = tmp_path / "web"
    assert cli("init", root).exit_code == 0
    return root


def complete(script: str, words: list[str], cwd) -> list[str]:
    """What bash offers for the last word of ``words`` (an empty string completes a new word)."""
    array = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = f'{script}\nCOMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; _lamctl; printf "%s\\n" "${{COMPREPLY[@]}}"'
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    out = subprocess.run(["bash", "--noprofile", "--norc", "-c", program], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line]


def test_bash_completes_commands_options_choices_and_the_projects_names(cli, project):
    r = cli("completion", "bash", cwd=project)
    assert r.exit_code == 0, r
    script = r.stdout
    assert complete(script, ["lamctl", "de"], project) == ["deploy", "delete"]
    assert complete(script, ["lamctl", "local", "inv"], project) == ["invoke"]
    assert "--stack" in complete(script, ["lamctl", "deploy", "--st"], project)
    assert complete(script, ["lamctl", "deploy", "--no-"], project) == ["--no-execute", "--no-color"]
    assert complete(script, ["lamctl", "--output", ""], project) == ["text", "json"]
    assert complete(script, ["lamctl", "init", "--ci", ""], project) == ["github"]
    # the names of the project in this folder: functions from template.yaml, the stack from lamctl.toml
    assert complete(script, ["lamctl", "invoke", ""], project) == ["HelloFunction", "web-hello"]
    assert complete(script, ["lamctl", "local", "invoke", "H"], project) == ["HelloFunction"]
    assert complete(script, ["lamctl", "shift", "--function", "web"], project) == ["web-hello"]
    assert complete(script, ["lamctl", "--region", "us-east-1", "deploy", "--stack", ""], project) == ["web"]


def test_names_are_empty_not_an_error_outside_a_project(cli, tmp_path):
    (tmp_path / "template.yaml").write_text("Resources: [unclosed\n")
    r = cli("completion", "--names", "function", cwd=tmp_path)
    assert r.exit_code == 0 and r.stdout == "", r


def test_zsh_and_fish_scripts(cli, project):
    zsh = cli("completion", "zsh", cwd=project).stdout
    assert zsh.startswith("#compdef lamctl") and "bashcompinit" in zsh and "complete -o default -F _lamctl lamctl" in zsh
    fish = cli("completion", "fish", cwd=project).stdout
    assert "complete -c lamctl -n '__fish_use_subcommand' -a deploy" in fish
    assert "-l stack -x -a '(lamctl completion --names stack 2>/dev/null)'" in fish
    assert "-a '(lamctl completion --names function 2>/dev/null)'" in fish


def test_an_unknown_shell_is_refused(cli):
    r = cli("completion", "tcsh")
    assert r.exit_code == 2 and "tcsh" in r.stderr and "bash" in r.stderr, r
