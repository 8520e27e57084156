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

    from lamctl.schemas.config import check_config, config_schema

    schema = config_schema()
    # jsonschema costs ~200 ms to import, more than the rest of lamctl's start-up: a file that
    # plainly conforms needs no validator; any doubt, and every problem, goes to check_config.
    problems = [] if plainly_valid(data, schema, schema) is True else check_config(data)
    for problem in problems:
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


_ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples"})
_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def plainly_valid(value: Any, schema: Any, root: dict) -> bool | None:
    """JSON Schema (2020-12) validity of ``value`` for the keywords lamctl's config schema uses.

    True or False exactly as jsonschema would answer; None when the schema uses a keyword (or a
    type, or a ``$ref``) this does not know, or an enum is compared with a number, so that the
    caller asks jsonschema. It never explains a problem: check_config does."""
    if schema is True or schema == {}:
        return True
    if schema is False:
        return False
    if not isinstance(schema, dict):
        return None
    unsure = False
    for word, arg in schema.items():
        if word in _ANNOTATIONS or word == "$defs":
            continue
        if word == "$ref":
            if not isinstance(arg, str) or not arg.startswith("#/"):
                return None
            target: Any = root
            for part in arg[2:].split("/"):
                if not isinstance(target, dict) or part not in target:
                    return None
                target = target[part]
            ok = plainly_valid(value, target, root)
        elif word == "type":
            names = arg if isinstance(arg, list) else [arg]
            if any(n not in _TYPES for n in names):
                return None
            ok = any(_TYPES[n](value) for n in names)
        elif word == "enum":
            ok = any(type(e) is type(value) and e == value for e in arg) if isinstance(value, (str, bool)) else None
        elif word in ("pattern", "minLength", "maxLength"):
            if not isinstance(value, str):
                continue
            ok = (bool(re.search(arg, value)) if word == "pattern"
                  else len(value) >= arg if word == "minLength" else len(value) <= arg)
        elif word in ("minimum", "maximum"):
            if not _TYPES["number"](value):
                continue
            ok = not (value < arg) if word == "minimum" else not (value > arg)  # as jsonschema does (NaN passes)
        elif word == "items":
            if not isinstance(value, list):
                continue
            ok = _all(plainly_valid(v, arg, root) for v in value)
        elif word == "properties":
            if not isinstance(value, dict):
                continue
            ok = _all(plainly_valid(v, arg[k], root) for k, v in value.items() if k in arg)
        elif word == "additionalProperties":
            if not isinstance(value, dict):
                continue
            known = schema.get("properties", {})
            if schema.get("patternProperties"):
                return None
            ok = _all(plainly_valid(v, arg, root) for k, v in value.items() if k not in known)
        elif word == "oneOf":
            results = [plainly_valid(value, sub, root) for sub in arg]
            ok = None if None in results else results.count(True) == 1
        else:
            return None
        if ok is False:
            return False
        if ok is None:
            unsure = True
    return None if unsure else True


def _all(results) -> bool | None:
    unsure = False
    for r in results:
        if r is False:
            return False
        if r is None:
            unsure = True
    return None if unsure else True


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
