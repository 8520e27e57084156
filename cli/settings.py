"""Settings: flags > ``LAMCTL_*`` environment variables > ``lamctl.toml`` > defaults.

``lamctl.toml`` holds sections: ``[default]`` always applies, and the section
named by ``--env NAME`` (or ``LAMCTL_ENV``) is laid over it. Keys mirror the
long flag names with ``_`` for ``-`` (``s3_bucket`` for ``--s3-bucket``).
Every key and type is checked against ``lamctl.schemas``' config schema; a
bad file is a :class:`ConfigError` naming ``file:line``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from lamctl.schemas.errors import ConfigError, location

CONFIG_NAME = "lamctl.toml"
ENV_PREFIX = "LAMCTL_"

_MISSING = object()


@dataclass
class Config:
    """The merged sections of one lamctl.toml (empty when there is none)."""

    path: str | None = None
    env: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    def where(self, key: str) -> str | None:
        """``file:line`` of ``key`` in the section it came from."""
        if self.path is None or self.env is None:
            return None
        line = _line_of_key(self.text, self.env, key) or _line_of_key(self.text, "default", key)
        return location(self.path, line)


def _line_of_key(text: str, section: str | None, key: str) -> int | None:
    """Line of ``key = ...`` in ``[section]`` (``None``: before the first section header)."""
    current = None
    key_rx = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\s*[\"']?([^\]\"']+)[\"']?\s*\]", line)
        if header:
            current = header.group(1).strip()
            continue
        if current == section and key_rx.match(line):
            return number
    return None


def _line_of_section(text: str, section: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*\[\s*[\"']?" + re.escape(section) + r"[\"']?\s*\]", line):
            return number
    return None


def find_config(explicit: str | None, folder: str = ".") -> str | None:
    if explicit:
        if not os.path.isfile(explicit):
            raise ConfigError(f"config file {explicit} does not exist", hint="check the path given to --config")
        return explicit
    candidate = os.path.join(folder, CONFIG_NAME)
    return candidate if os.path.isfile(candidate) else None


def load_config(path: str | None, env: str | None) -> Config:
    """Read, validate and merge ``[default]`` with ``[env]``."""
    if path is None:
        if env:
            raise ConfigError(f"--env {env} was given but there is no {CONFIG_NAME} here",
                              hint=f"create {CONFIG_NAME} with a [{env}] section, or name one with --config")
        return Config()
    import tomllib

    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError("the config file is not UTF-8", where=path) from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        where = location(path, int(m.group(1)), int(m.group(2))) if m else path
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise ConfigError(f"invalid TOML: {msg}", where=where) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror}", where=path) from None

    from lamctl.schemas.config import check_config

    for problem in check_config(data):
        section, key = problem.section, problem.key
        line = (_line_of_key(text, section, key) if key else None) or (
            _line_of_section(text, section) if section else None)
        raise ConfigError(problem.message, where=location(path, line), hint=problem.hint)

    values: dict[str, Any] = dict(data.get("default", {}))
    if env:
        if env not in data:
            sections = ", ".join(f"[{s}]" for s in data) or "none"
            raise ConfigError(f"no section [{env}] in {path} (sections: {sections})",
                              hint="add the section, or choose another with --env")
        values.update(data[env])
    return Config(path=path, env=env or "default", values=values, text=text)


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper()


def _from_env(key: str, kind: type | None) -> Any:
    raw = os.environ.get(env_name(key))
    if raw is None or raw == "":
        return _MISSING
    if kind is bool:
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{env_name(key)}={raw!r} is not a boolean", hint="use true or false")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{env_name(key)}={raw!r} is not a whole number") from None
    if kind is list:
        return raw.split()
    return raw


class Settings:
    """Resolves one setting from its four sources, and says where a value came from."""

    def __init__(self, config: Config):
        self.config = config

    def get(self, key: str, flag: Any = None, default: Any = None, kind: type | None = None) -> Any:
        if flag is not None and flag != () and flag != []:
            return flag
        value = _from_env(key, kind)
        if value is not _MISSING:
            return value
        if key in self.config.values:
            return self.config.values[key]
        return default

    def source(self, key: str, flag: Any = None) -> str:
        if flag is not None and flag != () and flag != []:
            return "flag"
        if os.environ.get(env_name(key)):
            return env_name(key)
        if key in self.config.values:
            return self.config.where(key) or "lamctl.toml"
        return "default"
