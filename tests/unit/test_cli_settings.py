"""Settings resolution and lamctl.toml errors (file:line, exit 2)."""

from __future__ import annotations

import pytest

from lamctl.cli.settings import Settings, load_config
from lamctl.schemas.errors import ConfigError


def write(tmp_path, text: str):
    path = tmp_path / "lamctl.toml"
    path.write_text(text)
    return str(path)


def test_flag_beats_env_beats_file_beats_default(tmp_path, monkeypatch):
    cfg = load_config(write(tmp_path, '[default]\ns3_bucket = "from-file"\nstack = "file-stack"\n'), None)
    settings = Settings(cfg)
    monkeypatch.setenv("LAMCTL_S3_BUCKET", "from-env")
    assert settings.get("s3_bucket", "from-flag") == "from-flag"
    assert settings.get("s3_bucket") == "from-env"
    assert settings.source("s3_bucket") == "LAMCTL_S3_BUCKET"
    assert settings.get("stack") == "file-stack"
    assert settings.source("stack").endswith("lamctl.toml:3")
    assert settings.get("s3_prefix", None, "dflt") == "dflt"


def test_named_section_is_laid_over_default(tmp_path):
    path = write(tmp_path, '[default]\nstack = "dev"\nregion = "eu-west-1"\n\n[prod]\nstack = "prod"\n')
    cfg = load_config(path, "prod")
    assert cfg.values == {"stack": "prod", "region": "eu-west-1"}


def test_env_booleans_and_ints_are_typed(monkeypatch):
    settings = Settings(load_config(None, None))
    monkeypatch.setenv("LAMCTL_DEBUG", "yes")
    monkeypatch.setenv("LAMCTL_WAIT_TIMEOUT", "7")
    assert settings.get("debug", kind=bool) is True
    assert settings.get("wait_timeout", kind=int) == 7
    monkeypatch.setenv("LAMCTL_DEBUG", "maybe")
    with pytest.raises(ConfigError, match="LAMCTL_DEBUG"):
        settings.get("debug", kind=bool)


@pytest.mark.parametrize(
    "text, line, words",
    [
        ('[default]\nstack = "a"\ns3_bukket = "b"\n', 3, "unknown key 's3_bukket'"),
        ('[default]\nstack = "a"\nwait_timeout = "ten"\n', 3, "wait_timeout"),
        ('[default]\nstack = "a"\ntarget = "moon"\n', 3, "one of aws, local"),
        ('[default]\nstack = "a"\nregion = \n', 3, "invalid TOML"),
        ('stack = "a"\n', 1, "must be a section"),
    ],
)
def test_bad_config_names_file_and_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, None)
    assert info.value.where.startswith(f"{path}:{line}")
    assert words in info.value.message
    assert info.value.exit_code == 2


def test_unknown_key_suggests_the_close_one(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, '[default]\ns3_bukket = "b"\n'), None)
    assert "s3_bucket" in info.value.hint


def test_missing_env_section_lists_the_sections(tmp_path):
    with pytest.raises(ConfigError, match=r"no section \[staging\].*\[default\], \[prod\]"):
        load_config(write(tmp_path, '[default]\nstack = "a"\n[prod]\nstack = "b"\n'), "staging")
