"""The command-line contract every command shares: config errors, output modes, exit codes, AWS setup."""

from __future__ import annotations

import json

import pytest

from lamctl.cli.aws import ClientFactory
from lamctl.schemas.errors import CredentialsError


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("lamctl ")


def test_unknown_command_is_a_usage_error(cli):
    assert cli("frobnicate").exit_code == 2


def test_bad_config_is_exit_2_with_file_and_line(cli, tmp_path):
    (tmp_path / "lamctl.toml").write_text('[default]\nstack = "a"\nregoin = "eu-west-1"\n')
    result = cli("local", "status", cwd=tmp_path)  # a command that reads the settings
    assert result.exit_code == 2, result
    assert "lamctl.toml:3: unknown key 'regoin' in [default]" in result.stderr
    assert "did you mean region?" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_version_and_help_need_no_config(cli, tmp_path):
    (tmp_path / "lamctl.toml").write_text('[default]\nstack = "a"\nregoin = "eu-west-1"\n')
    result = cli("--version", cwd=tmp_path)  # eager --version needs no config
    assert result.exit_code == 0
    result = cli("local", "--help", cwd=tmp_path)
    assert result.exit_code == 0  # --help never loads config


def test_bad_output_mode_is_exit_2(cli):
    result = cli("--output", "yaml", "local", "status")
    assert result.exit_code == 2
    assert "--output" in result.stderr


def test_config_error_is_reported_as_ndjson(cli, tmp_path):
    (tmp_path / "lamctl.toml").write_text('[default]\nregoin = "eu-west-1"\n')
    result = cli("--output", "json", "local", "status", cwd=tmp_path)
    assert result.exit_code == 2
    lines = result.json_lines()
    assert lines[0]["type"] == "error"
    assert lines[0]["where"].endswith("lamctl.toml:2")
    assert "regoin" in lines[0]["message"]
    assert lines[-1] == {"type": "result", "ok": False, "exit_code": 2, "error": lines[0]["message"]}
    assert "Traceback" not in result.stderr


def test_config_error_in_text_mode_names_file_line_and_hint(cli, tmp_path):
    (tmp_path / "lamctl.toml").write_text('[default]\nregoin = "eu-west-1"\n')
    result = cli("local", "status", cwd=tmp_path)
    assert result.exit_code == 2
    assert "lamctl.toml:2: unknown key 'regoin'" in result.stderr
    assert "hint: did you mean region?" in result.stderr


def test_region_order_flag_then_aws_region_then_default_region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    assert ClientFactory().region == "eu-west-3"
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    assert ClientFactory().region == "eu-west-2"
    assert ClientFactory(region="ap-south-1").region == "ap-south-1"


def test_missing_region_is_one_sentence_with_the_fix():
    with pytest.raises(CredentialsError) as info:
        ClientFactory().region
    assert info.value.exit_code == 1
    assert "--region" in info.value.hint and "AWS_REGION" in info.value.hint


def test_missing_credentials_is_one_sentence_with_the_fix(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with pytest.raises(CredentialsError) as info:
        ClientFactory().client("s3")
    assert "no AWS credentials" in info.value.message
    assert "--local" in info.value.hint


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with pytest.raises(CredentialsError, match="profile 'nope' does not exist"):
        ClientFactory(profile="nope").client("s3")


def test_clients_carry_user_agent_and_standard_retries(aws):
    client = ClientFactory().client("s3")
    config = client.meta.config
    assert "lamctl/" in config.user_agent_extra
    assert config.retries["mode"] == "standard"
    # AWS_ENDPOINT_URL (botocore's own) is honoured: the call reaches the emulator over HTTP
    client.create_bucket(Bucket="ua-check")
    assert [b["Name"] for b in client.list_buckets()["Buckets"]] == ["ua-check"]


def test_retry_mode_from_environment_is_respected(aws, monkeypatch):
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    client = ClientFactory().client("s3")
    assert client.meta.config.retries.get("mode") == "adaptive"


def test_endpoint_flag_beats_environment(aws, moto_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    client = ClientFactory(endpoint_url=moto_server.endpoint).client("s3")
    client.create_bucket(Bucket="flag-wins")
    assert client.meta.endpoint_url == moto_server.endpoint


def test_output_render_modes(capsys, monkeypatch):
    from lamctl.cli.render import Output

    out = Output("json")
    out.table(["name", "size"], [["fn", 1]], type_="artifact")
    out.result(ok=True, count=1)
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert lines == [{"type": "artifact", "name": "fn", "size": "1"}, {"type": "result", "ok": True, "count": 1}]

    monkeypatch.setenv("CI", "true")
    out = Output("text")
    assert out.plain and not out.interactive and not out.color
    out.table(["name", "size"], [["function-one", 10], ["f", 2]])
    text = capsys.readouterr().out
    assert text.splitlines() == ["name          size", "function-one  10", "f             2"]


def test_github_step_summary_is_appended(tmp_path, monkeypatch):
    from lamctl.cli.render import Output, markdown_table

    summary = tmp_path / "summary.md"
    summary.write_text("before\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    Output("text").summary(markdown_table(["a", "b"], [["x|y", 1]]))
    assert summary.read_text() == "before\n| a | b |\n|---|---|\n| x\\|y | 1 |\n\n"


def test_hook_clients_wait_long_and_never_retry(aws):
    factory = ClientFactory()
    hook = factory.client("lambda", read_timeout=3630, max_attempts=1)
    assert hook.meta.config.read_timeout == 3630
    assert hook.meta.config.retries["total_max_attempts"] == 1
    plain = factory.client("lambda")
    assert plain is not hook and plain.meta.config.read_timeout == 60
    assert factory.client("lambda") is plain
