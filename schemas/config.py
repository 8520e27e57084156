"""Validation of ``lamctl.toml`` against ``lamctl-config.schema.json``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache

SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "lamctl-config.schema.json")


@dataclass(frozen=True)
class ConfigProblem:
    section: str | None
    key: str | None
    message: str
    hint: str | None = None


@lru_cache(maxsize=1)
def config_schema() -> dict:
    with open(SCHEMA_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def known_keys() -> list[str]:
    return sorted(config_schema()["$defs"]["section"]["properties"])


def check_config(data: dict) -> list[ConfigProblem]:
    """Every problem in a parsed lamctl.toml, most useful first (unknown keys, then types)."""
    problems: list[ConfigProblem] = []
    keys = set(known_keys())
    for section, body in data.items():
        if not isinstance(body, dict):
            problems.append(ConfigProblem(None, section, f"{section} = ... must be a section: [{section}]",
                                          hint="put settings under [default] or a named section"))
            continue
        for key in body:
            if key not in keys:
                import difflib

                close = difflib.get_close_matches(key, keys, n=1)
                hint = f"did you mean {close[0]}?" if close else "known keys: " + ", ".join(sorted(keys))
                problems.append(ConfigProblem(section, key, f"unknown key {key!r} in [{section}]", hint=hint))
    if problems:
        return problems
    import jsonschema

    validator = jsonschema.Draft202012Validator(config_schema())
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = list(err.absolute_path)
        section = path[0] if path else None
        key = path[1] if len(path) > 1 else None
        value = err.instance
        what = f"{key} in [{section}]" if key else f"[{section}]"
        expected = _expected(err)
        problems.append(ConfigProblem(section, key, f"{what}: {value!r} is not valid ({expected})"))
    return problems


def _expected(err) -> str:
    schema = err.schema
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if "type" in schema:
        t = schema["type"]
        return "expected " + (" or ".join(t) if isinstance(t, list) else t)
    if "pattern" in schema:
        return f"expected to match {schema['pattern']}"
    return err.message
